package store

import (
	"context"
	"fmt"
	"strings"
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
// docs/readmodel-scale.md) because each query it runs walks one index
// whose leading columns are the page's equalities, followed by id, and
// stops after Limit+1 rows (migration 00015):
//
//   - no equality: the primary key; a status: (status, id);
//   - an office (centre, representation, bank): (office, id), and with a
//     status (office, status, id); a path with a status: (path, status, id).
//     Without those, a walk filtered by the second equality reads the whole
//     table when no row matches (a status only another path has) and, when
//     few match, more the rarer they are;
//   - a caseworker's scope, their centre OR every bank-path issuance, is
//     two walks merged: an OR of two columns has no index to walk;
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
