package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// runOn runs a subcommand against st's database, configured the way an
// operator would: DATABASE_URL for Postgres, NEMID_DATA_DIR for SQLite.
func runOn(t *testing.T, st *store.Store, args ...string) (string, error) {
	t.Helper()
	return runOnWithKey(t, st, testenv.HashKeyEnv, args...)
}

// runOnWithKey is runOn with NEMID_HASH_KEY set to key ("": unset).
func runOnWithKey(t *testing.T, st *store.Store, key string, args ...string) (string, error) {
	t.Helper()
	t.Setenv("NEMID_HASH_KEY", key)
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

// TestAuditVerifyWithTheKey: the chain is keyed, so `nemid audit verify`
// reads NEMID_HASH_KEY (in dev the key `nemid dev` generated into
// NEMID_DATA_DIR). An entry edited with every later hash and the head
// recomputed the way an attacker without the key can (plain SHA-256, key
// ids cleared or not) is named; after a rotation (new key first, old
// second) old and new entries verify, and without the old key the first
// entry it linked is named. Both databases.
func TestAuditVerifyWithTheKey(t *testing.T) {
	ctx := context.Background()
	newKey := "k2:" + base64.StdEncoding.EncodeToString([]byte("a-new-hash-key-for-the-rotation-test"))
	fill := func(t *testing.T, st *store.Store, n int) {
		for i := range n {
			require.NoError(t, st.Audited(ctx, store.AuditEntry{Actor: "post:post", Action: store.AuditLetterDispatched,
				Target: store.LetterTarget(string(rune('a' + i)))}, nil))
		}
	}
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			for _, clear := range []bool{false, true} {
				name := "an entry edited and the chain recomputed without the key"
				if clear {
					name += ", key ids cleared"
				}
				t.Run(name, func(t *testing.T) {
					st := b.Open(t)
					fill(t, st, 4)
					if clear {
						_, err := st.ExecForTests(ctx, "UPDATE audit_log SET key_id = '' WHERE seq >= 2")
						require.NoError(t, err)
					}
					testenv.RewriteAuditWithoutKey(t, st, 2, "actor = 'admin:all'", func(e *store.AuditEntry) { e.Actor = "admin:all" })
					_, err := runOn(t, st, "audit", "verify")
					require.Error(t, err)
					assert.Contains(t, err.Error(), "broken at seq 2:")
				})
			}
			t.Run("no key", func(t *testing.T) {
				st := b.Open(t)
				fill(t, st, 1)
				_, err := runOnWithKey(t, st, "", "audit", "verify")
				require.ErrorContains(t, err, "NEMID_HASH_KEY")
			})
			t.Run("a rotated key", func(t *testing.T) {
				st := b.Open(t)
				fill(t, st, 2)
				rotated, err := domain.ParseHashKeys(newKey + "," + testenv.HashKeyEnv)
				require.NoError(t, err)
				st.UseHashKeys(rotated)
				fill(t, st, 2)
				out, err := runOnWithKey(t, st, newKey+","+testenv.HashKeyEnv, "audit", "verify")
				require.NoError(t, err)
				assert.Contains(t, out, "the chain holds: 4 entries")
				_, err = runOnWithKey(t, st, newKey, "audit", "verify")
				require.Error(t, err)
				assert.Contains(t, err.Error(), "broken at seq 1:")
			})
		})
	}
	t.Run("the dev key", func(t *testing.T) {
		st := testenv.SQLite(t)
		fill(t, st, 2)
		dir := testenv.Location(t, st)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "hash.key"), []byte(testenv.HashKeyEnv+"\n"), 0o600))
		out, err := runOnWithKey(t, st, "", "audit", "verify")
		require.NoError(t, err)
		assert.Contains(t, out, "the chain holds: 2 entries")
	})
}

// TestAuditVerifyAgainstAnAnchor: entries cut from the end with the head
// moved back leave a chain that holds by itself; `nemid audit verify
// --anchor` names the cut, because the anchor, kept outside the database,
// saw a later head. A clean run moves the anchor on. Both databases.
func TestAuditVerifyAgainstAnAnchor(t *testing.T) {
	ctx := context.Background()
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			appendEntries := func(n int) {
				for i := range n {
					require.NoError(t, st.Audited(ctx, store.AuditEntry{Actor: "post:post", Action: store.AuditLetterDispatched,
						Target: store.LetterTarget(string(rune('a' + i)))}, nil))
				}
			}
			anchor := filepath.Join(t.TempDir(), "audit.anchor")
			appendEntries(4)
			out, err := runOn(t, st, "audit", "verify", "--anchor", anchor)
			require.NoError(t, err)
			assert.Contains(t, out, "anchor: none yet")
			hash4, err := st.AuditHashAt(ctx, 4)
			require.NoError(t, err)
			saved, err := os.ReadFile(anchor)
			require.NoError(t, err)
			assert.Equal(t, "4 "+hash4+"\n", string(saved))

			appendEntries(2)
			out, err = runOn(t, st, "audit", "verify", "--anchor", anchor)
			require.NoError(t, err)
			assert.Contains(t, out, "anchor: entry 4 is as the last verify saw it")
			assert.Contains(t, out, "the chain holds: 6 entries")

			// Cut the newest two and move the head back to entry 4.
			for _, q := range []string{"DELETE FROM audit_log WHERE seq > 4", "UPDATE audit_head SET seq = 4, hash = '" + hash4 + "' WHERE id = 1"} {
				_, err := st.ExecForTests(ctx, q)
				require.NoError(t, err)
			}
			out, err = runOn(t, st, "audit", "verify")
			require.NoError(t, err, "without the anchor the cut chain holds by itself")
			assert.Contains(t, out, "the chain holds: 4 entries")
			_, err = runOn(t, st, "audit", "verify", "--anchor", anchor)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "broken at seq 6: the anchor saw entry 6, the log now ends at 4")
			kept, err := os.ReadFile(anchor)
			require.NoError(t, err)
			assert.Contains(t, string(kept), "6 ", "a failed verify keeps the anchor")

			require.NoError(t, os.WriteFile(anchor, []byte("3 0000\n"), 0o600))
			_, err = runOn(t, st, "audit", "verify", "--anchor", anchor)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "broken at seq 3: entry 3's hash is not the one the anchor saw")
		})
	}
}
