package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// runOn runs a subcommand against st's database, configured the way an
// operator would: DATABASE_URL for Postgres, NEMID_DATA_DIR for SQLite.
func runOn(t *testing.T, st *store.Store, args ...string) (string, error) {
	t.Helper()
	loc := testenv.Location(t, st)
	if st.Dialect() == "postgres" {
		t.Setenv("DATABASE_URL", loc)
		t.Setenv("NEMID_DATA_DIR", t.TempDir())
	} else {
		t.Setenv("DATABASE_URL", "")
		t.Setenv("NEMID_DATA_DIR", loc)
	}
	r, w, err := os.Pipe()
	require.NoError(t, err)
	stdout := os.Stdout
	os.Stdout = w
	runErr := run(context.Background(), args)
	os.Stdout = stdout
	require.NoError(t, w.Close())
	var out bytes.Buffer
	_, _ = io.Copy(&out, r)
	return out.String(), runErr
}

// TestAuditVerify: `nemid audit verify` says a whole chain holds, with its
// count, and fails naming the first broken seq after an entry was edited,
// deleted or two were swapped, on both databases.
func TestAuditVerify(t *testing.T) {
	cases := []struct {
		name   string
		tamper []string
		broken string
	}{
		{"a clean chain", nil, ""},
		{"an edited entry", []string{"UPDATE audit_log SET actor = 'admin:all' WHERE seq = 2"}, "seq 2"},
		{"a deleted entry", []string{"DELETE FROM audit_log WHERE seq = 3"}, "seq 3"},
		{"two swapped entries", []string{"UPDATE audit_log SET seq = 0 WHERE seq = 3", "UPDATE audit_log SET seq = 3 WHERE seq = 4",
			"UPDATE audit_log SET seq = 4 WHERE seq = 0"}, "seq 3"},
	}
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					st := b.Open(t)
					ctx := context.Background()
					for _, action := range []string{store.AuditLetterPDFFetched, store.AuditLetterDispatched} {
						for _, id := range []string{"l1", "l2"} {
							require.NoError(t, st.Audited(ctx, store.AuditEntry{Actor: "post:post", Action: action, Target: store.LetterTarget(id)}, nil))
						}
					}
					for _, q := range tc.tamper {
						_, err := st.ExecForTests(ctx, q)
						require.NoError(t, err)
					}
					out, err := runOn(t, st, "audit", "verify")
					if tc.broken == "" {
						require.NoError(t, err)
						assert.Contains(t, out, "the chain holds: 4 entries")
						return
					}
					require.Error(t, err)
					assert.Contains(t, err.Error(), "broken at "+tc.broken+":")
				})
			}
		})
	}
}
