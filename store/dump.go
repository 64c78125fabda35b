package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// DumpForTests renders every table as text. Tests use it to prove that no
// secret reaches the database; it is not meant for production data volumes.
func (s *Store) DumpForTests(ctx context.Context) (string, error) {
	var b strings.Builder
	for _, table := range []string{"persons", "api_tokens", "issuances", "issuance_events", "idempotency_keys", "audit_log",
		"witness_statements", "credentials", "code_cards", "card_codes", "letters", "challenges", "sessions", "fees"} {
		var rows []map[string]any
		q := s.db.WithContext(ctx).Table(table)
		if table == "letters" {
			q = q.Omit("pdf") // a queued letter's PDF is sealed binary (its key is outside the database)
		}
		if err := q.Find(&rows).Error; err != nil {
			return "", fmt.Errorf("dump %s: %w", table, err)
		}
		for _, r := range rows {
			fmt.Fprintf(&b, "%s %v\n", table, dumpRow(r))
		}
	}
	return b.String(), nil
}

// dumpRow writes times as RFC 3339 ("…T08:02:17.123456Z"). Go's default
// form ("08:02:17.123456 +0000 UTC") leaves the microseconds standing alone
// as six digits, which a search for a six-digit code would take for a leak.
func dumpRow(row map[string]any) map[string]any {
	for k, v := range row {
		switch t := v.(type) {
		case time.Time:
			row[k] = t.UTC().Format(time.RFC3339Nano)
		case *time.Time:
			if t != nil {
				row[k] = t.UTC().Format(time.RFC3339Nano)
			}
		}
	}
	return row
}

// ExecForTests runs a statement that arranges what a test needs and the
// API cannot do, such as ageing a row. It is not meant for production code.
func (s *Store) ExecForTests(ctx context.Context, query string, args ...any) (int64, error) {
	res := s.db.WithContext(ctx).Exec(query, args...)
	return res.RowsAffected, res.Error
}

// ScanForTests reads one value for a test's assertion.
func (s *Store) ScanForTests(ctx context.Context, into any, query string, args ...any) error {
	return s.db.WithContext(ctx).Raw(query, args...).Row().Scan(into)
}
