package store

import (
	"context"
	"fmt"
	"strings"
)

// DumpForTests renders every table as text. Tests use it to prove that no
// secret reaches the database; it is not meant for production data volumes.
func (s *Store) DumpForTests(ctx context.Context) (string, error) {
	var b strings.Builder
	for _, table := range []string{"persons", "api_tokens", "issuances", "issuance_events", "idempotency_keys",
		"witness_statements", "credentials", "code_cards", "card_codes", "letters", "challenges", "sessions"} {
		var rows []map[string]any
		q := s.db.WithContext(ctx).Table(table)
		if table == "letters" {
			q = q.Omit("pdf") // a queued letter's PDF legitimately holds its secret until dispatch
		}
		if err := q.Find(&rows).Error; err != nil {
			return "", fmt.Errorf("dump %s: %w", table, err)
		}
		for _, r := range rows {
			fmt.Fprintf(&b, "%s %v\n", table, r)
		}
	}
	return b.String(), nil
}
