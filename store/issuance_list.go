package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/opennemid/nemid/workflows"
)

// ListFilter selects issuances for a list page.
type ListFilter struct {
	Scope
	Status, Path        string
	Centre, Rep, BankID string
	// CPRHash finds one person's issuances (the keyed lookup hash).
	CPRHash string
	After   string // keyset cursor: the last id of the previous page
	Limit   int
}

// ListIssuances returns up to Limit issuances newest first (ids are UUIDv7,
// so id order is creation order) and whether more follow.
//
// A page costs the same at ten thousand rows as at ten million (see
// docs/readmodel-scale.md) because every query it runs is a walk down one
// index whose columns are the page's equalities followed by id, stopping
// after Limit+1 rows:
//
//   - no equality: the primary key; status alone: (status, id);
//   - an office (centre, representation, bank) or a path, with or without
//     a status: (office, status, id) or (path, status, id). Without a
//     status the page is the newest Limit+1 of each status's walk, merged
//     (nine short walks), because a walk of the office's rows in id order
//     would need an index of its own (one more to write on every
//     transition) and a walk of the whole table filtered by the office
//     reads more the rarer the office is;
//   - a caseworker's scope, their centre OR every bank-path issuance, is
//     two such walks merged: an OR of two columns has no index to walk,
//     and filtering one walk by it reads the whole table when few rows
//     match (a status that only another path has);
//   - a person (cpr_hash): the person's few rows by (cpr_hash, status).
func (s *Store) ListIssuances(ctx context.Context, f ListFilter) ([]Issuance, bool, error) {
	q, args := listQuery(f)
	var rows []Issuance
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, false, err
	}
	more := len(rows) > f.Limit
	if more {
		rows = rows[:f.Limit]
	}
	return rows, more, s.fillCredentialStates(ctx, rows)
}

// listCond is one equality of a list query.
type listCond struct{ col, v string }

// listBranch is one index walk: its equalities, and conditions that only
// filter what the walk finds.
type listBranch struct {
	eq     []listCond
	filter []string
	args   []any
}

// lead is the first index column of the walk that serves this branch:
// the column whose equality it starts from, before status and id.
var leadColumns = []string{"cpr_hash", "bank", "representation", "centre", "path"}

// listQuery builds the page's SQL: one walk per branch (see ListIssuances),
// merged newest first.
func listQuery(f ListFilter) (string, []any) {
	shared := []listCond{}
	for _, c := range []listCond{{"status", f.Status}, {"path", f.Path}, {"centre", f.Centre},
		{"representation", f.Rep}, {"bank", f.BankID}, {"cpr_hash", f.CPRHash}} {
		if c.v != "" {
			shared = append(shared, c)
		}
	}
	var branches []listBranch
	sc := f.Scope
	switch {
	case sc.Centre != "" && sc.BankPathToo:
		// The two halves of the OR; the second leaves out what the first
		// finds, so no row comes twice.
		branches = []listBranch{
			{eq: []listCond{{"centre", sc.Centre}}},
			{eq: []listCond{{"path", "bank"}}, filter: []string{"(centre IS NULL OR centre <> ?)"}, args: []any{sc.Centre}},
		}
	default:
		b := listBranch{}
		for _, c := range []listCond{{"centre", sc.Centre}, {"representation", sc.Representation}, {"bank", sc.Bank}} {
			if c.v != "" {
				b.eq = append(b.eq, c)
			}
		}
		branches = []listBranch{b}
	}
	for i := range branches {
		branches[i].eq = append(branches[i].eq, shared...)
	}
	branches = expandStatuses(branches)

	limit := f.Limit + 1
	parts := make([]string, 0, len(branches))
	var args []any
	for _, b := range branches {
		where := make([]string, 0, len(b.eq)+len(b.filter)+1)
		for _, c := range b.eq {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
		where = append(where, b.filter...)
		args = append(args, b.args...)
		if f.After != "" {
			where = append(where, "id < ?")
			args = append(args, f.After)
		}
		q := "SELECT * FROM issuances"
		if len(where) > 0 {
			q += " WHERE " + strings.Join(where, " AND ")
		}
		parts = append(parts, q+" ORDER BY id DESC LIMIT ?")
		args = append(args, limit)
	}
	if len(parts) == 1 {
		return parts[0], args
	}
	for i, p := range parts {
		parts[i] = fmt.Sprintf("SELECT * FROM (%s) AS walk%d", p, i)
	}
	return "SELECT * FROM (" + strings.Join(parts, " UNION ALL ") + ") AS page ORDER BY id DESC LIMIT ?", append(args, limit)
}

// expandStatuses splits a branch that starts from an office or a path but
// names no status into one branch per status, so each walks
// (office, status, id) in id order. A branch without such an equality
// (the primary key, or (status, id)) or with a person's hash stays whole.
func expandStatuses(branches []listBranch) []listBranch {
	var out []listBranch
	for _, b := range branches {
		if !needsStatusSplit(b) {
			out = append(out, b)
			continue
		}
		for _, st := range allStatuses {
			split := b
			split.eq = append(append([]listCond{}, b.eq...), listCond{"status", st})
			out = append(out, split)
		}
	}
	return out
}

func needsStatusSplit(b listBranch) bool {
	has := map[string]bool{}
	for _, c := range b.eq {
		has[c.col] = true
	}
	if has["status"] || has["cpr_hash"] {
		return false
	}
	for _, col := range leadColumns {
		if has[col] {
			return true
		}
	}
	return false
}

// allStatuses are the statuses the read model holds.
var allStatuses = workflows.Statuses()

// ExplainList is Postgres's plan of the list query for f, as run (EXPLAIN
// ANALYZE, with buffers), for `nemid bench readmodel --explain`.
func (s *Store) ExplainList(ctx context.Context, f ListFilter) (string, error) {
	if s.dialect != "postgres" {
		return "", fmt.Errorf("plans are read on Postgres only")
	}
	q, args := listQuery(f)
	var lines []string
	if err := s.db.WithContext(ctx).Raw("EXPLAIN (ANALYZE, BUFFERS) "+q, args...).Scan(&lines).Error; err != nil {
		return "", fmt.Errorf("explain the list query: %w", err)
	}
	return strings.Join(lines, "\n"), nil
}
