package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/testenv"
)

// TestWitnessWindowBoundaryInTheDatabase: a statement accepted at instant t
// counts against applications made before t + 120 × 24 h and not against
// one made at that instant or a second later, on both databases, with the
// sub-second part of t kept (and whatever zone the instant is given in).
func TestWitnessWindowBoundaryInTheDatabase(t *testing.T) {
	accepted := time.Date(2025, 3, 30, 0, 30, 0, 123456000, time.UTC)
	boundary := accepted.Add(domain.WitnessStatementWindow)
	copenhagen, err := time.LoadLocation("Europe/Copenhagen")
	require.NoError(t, err)
	cases := []struct {
		name        string
		application time.Time
		want        int
	}{
		{"one second before the boundary", boundary.Add(-time.Second), 1},
		{"one microsecond before the boundary", boundary.Add(-time.Microsecond), 1},
		{"exactly at the boundary", boundary, 0},
		{"exactly at the boundary, on the Copenhagen clock", boundary.In(copenhagen), 0},
		{"one second after the boundary", boundary.Add(time.Second), 0},
	}
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()
			_, err := st.ExecForTests(ctx, "INSERT INTO witness_statements (witness_cpr_hash, issuance_id, accepted_at) VALUES (?, ?, ?)",
				"w", "iss-1", accepted)
			require.NoError(t, err)
			for _, tc := range cases {
				n, err := st.CountWitnessStatements(ctx, "w", domain.WitnessWindowStart(tc.application), "")
				require.NoError(t, err)
				assert.Equal(t, tc.want, n, tc.name)
				assert.Equal(t, tc.want == 1, domain.WitnessStatementCounts(accepted, tc.application), "the domain agrees: %s", tc.name)
			}
		})
	}
}
