package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
)

// The console's header shows how many issuances a principal's scope holds
// per status. A GROUP BY over the issuances answers that in time
// proportional to the table (seconds at 10 M rows for an admin), so the
// counts are kept as counters in issuance_counts, one row per (path,
// centre, representation, bank, status, shard), changed in the same
// transaction as every write that inserts an issuance (createIssuance) or
// moves its status (applyTransition); nothing else writes either. A read
// sums at most a few thousand rows, whatever the size of the table.
//
// Hot rows: many transitions a second move issuances of one centre between
// the same two statuses. Each counter row is locked from its upsert until
// the commit, so the upsert is the last write of its transaction (only the
// audit entry, whose chain head is locked last by house rule, comes after)
// and the rows are spread over 16 shards: the last character of the
// issuance's id, a random hex digit of its UUIDv7. Two transitions wait for
// each other only when their issuances share that digit, and a shard row
// counts exactly the issuances whose ids end in it, so every row stays
// non-negative and can be checked on its own. A transition changes two rows
// (its old status down, its new one up) in one statement, in key order, so
// two transitions can never hold them in opposite orders (no deadlock).

// countKey is one counter row's key; empty strings stand for "none".
type countKey struct {
	Path, Centre, Representation, Bank, Status, Shard string
}

func (k countKey) less(o countKey) bool {
	a := []string{k.Path, k.Centre, k.Representation, k.Bank, k.Status, k.Shard}
	b := []string{o.Path, o.Centre, o.Representation, o.Bank, o.Status, o.Shard}
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// countKeyOf is the counter row an issuance with this id, office and
// status is counted in.
func countKeyOf(id, path string, centre, representation, bank *string, status string) countKey {
	return countKey{Path: path, Centre: deref(centre), Representation: deref(representation), Bank: deref(bank),
		Status: status, Shard: shardOf(id)}
}

// shardOf picks an issuance's counter shard: countShard, except in the
// benchmark that measures what the shards are for (one shard per key).
var shardOf = countShard

// countShard is the last character of an id, as the migration's backfill
// computes it in SQL (substr(id, length(id), 1) counts characters).
func countShard(id string) string {
	r, _ := utf8.DecodeLastRuneInString(id)
	if r == utf8.RuneError {
		return ""
	}
	return string(r)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

type countDelta struct {
	key countKey
	n   int64
}

// bumpCounts adds the deltas to their counter rows inside tx, in one
// statement with the rows in key order.
func bumpCounts(tx *gorm.DB, deltas ...countDelta) error {
	sort.Slice(deltas, func(i, j int) bool { return deltas[i].key.less(deltas[j].key) })
	values := make([]string, 0, len(deltas))
	args := make([]any, 0, 7*len(deltas))
	for _, d := range deltas {
		if d.n == 0 {
			continue
		}
		values = append(values, "(?, ?, ?, ?, ?, ?, ?)")
		k := d.key
		args = append(args, k.Path, k.Centre, k.Representation, k.Bank, k.Status, k.Shard, d.n)
	}
	if len(values) == 0 {
		return nil
	}
	q := "INSERT INTO issuance_counts (path, centre, representation, bank, status, shard, n) VALUES " +
		strings.Join(values, ", ") +
		" ON CONFLICT (path, centre, representation, bank, status, shard) DO UPDATE SET n = issuance_counts.n + excluded.n"
	if err := tx.Exec(q, args...).Error; err != nil {
		return fmt.Errorf("count issuances: %w", err)
	}
	return nil
}

// CountFilter selects the issuances to count: a principal's scope and the
// list's filters other than status (the counts are per status).
type CountFilter struct {
	Scope
	Path, Centre, Rep, BankID string
}

// CountRow is one counter row, or one group of the issuances counted
// directly, for comparing the two.
type CountRow struct {
	Path, Centre, Representation, Bank, Status, Shard string
	N                                                 int64
}

// CountersForCheck lists every non-zero counter row in key order.
func (s *Store) CountersForCheck(ctx context.Context) ([]CountRow, error) {
	var rows []CountRow
	err := s.db.WithContext(ctx).Table("issuance_counts").Where("n <> 0").
		Order("path, centre, representation, bank, status, shard").Scan(&rows).Error
	return rows, err
}

// countedSQL groups the issuances the way issuance_counts keys them.
const countedSQL = `SELECT path, COALESCE(centre, '') AS centre, COALESCE(representation, '') AS representation,
	COALESCE(bank, '') AS bank, status, substr(id, length(id), 1) AS shard, COUNT(*) AS n
	FROM issuances
	GROUP BY path, COALESCE(centre, ''), COALESCE(representation, ''), COALESCE(bank, ''), status, substr(id, length(id), 1)`

// CountedForCheck is what the counters should hold: the issuances grouped
// the same way (a full scan: for tests and checks, not for requests).
func (s *Store) CountedForCheck(ctx context.Context) ([]CountRow, error) {
	var rows []CountRow
	err := s.db.WithContext(ctx).Raw(countedSQL + " ORDER BY path, centre, representation, bank, status, shard").Scan(&rows).Error
	return rows, err
}

// RecountIssuances rebuilds the counters from the issuances. Writers wait
// meanwhile (Postgres: a SHARE lock on issuances; SQLite: the one write
// transaction), so the counts match the rows they were taken from. Needed
// only when processes older than the counters wrote issuances after the
// migration that made them (a rolling upgrade).
func (s *Store) RecountIssuances(ctx context.Context) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.dialect == "postgres" {
			if err := tx.Exec("LOCK TABLE issuances IN SHARE MODE").Error; err != nil {
				return fmt.Errorf("lock issuances: %w", err)
			}
		}
		if err := tx.Exec("DELETE FROM issuance_counts").Error; err != nil {
			return fmt.Errorf("clear the counters: %w", err)
		}
		if err := tx.Exec("INSERT INTO issuance_counts (path, centre, representation, bank, status, shard, n) " + countedSQL).Error; err != nil {
			return fmt.Errorf("recount issuances: %w", err)
		}
		return nil
	})
}

// CountIssuances answers how many issuances match f, per status (statuses
// without any are absent), from the counters.
func (s *Store) CountIssuances(ctx context.Context, f CountFilter) (map[string]int64, error) {
	out, err := groupByStatus(f.Scope.apply(s.db.WithContext(ctx).Table("issuance_counts")), f, "SUM(n)")
	if err != nil {
		return nil, fmt.Errorf("count issuances: %w", err)
	}
	return out, nil
}

// CountIssuancesByScan answers what CountIssuances does by grouping the
// issuances themselves: the cost the counters avoid, for comparison in
// `nemid bench readmodel` and for checks.
func (s *Store) CountIssuancesByScan(ctx context.Context, f CountFilter) (map[string]int64, error) {
	out, err := groupByStatus(f.Scope.apply(s.db.WithContext(ctx).Model(&Issuance{})), f, "COUNT(*)")
	if err != nil {
		return nil, fmt.Errorf("count issuances by scan: %w", err)
	}
	return out, nil
}

// groupByStatus sums agg per status over q narrowed by f's filters; a
// status whose sum is zero (a counter brought back down) is absent.
func groupByStatus(q *gorm.DB, f CountFilter, agg string) (map[string]int64, error) {
	for _, eq := range []struct{ col, v string }{{"path", f.Path}, {"centre", f.Centre}, {"representation", f.Rep}, {"bank", f.BankID}} {
		if eq.v != "" {
			q = q.Where(eq.col+" = ?", eq.v)
		}
	}
	var rows []struct {
		Status string
		N      int64
	}
	if err := q.Select("status, " + agg + " AS n").Group("status").Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		if r.N != 0 {
			out[r.Status] = r.N
		}
	}
	return out, nil
}
