package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/store"
)

// UnkeyedAuditHash is the audit chain's link before it was keyed, as
// docs/security.md describes it: SHA-256 over the previous hash, a newline
// and the JSON array of the entry's seq and fields. Someone with write
// access to the database and no key can compute exactly this.
func UnkeyedAuditHash(prev string, e store.AuditEntry) string {
	b, err := json.Marshal([]any{e.Seq, e.At.UTC().Format("2006-01-02T15:04:05.000000Z"), e.Actor, e.ActorName, e.Action, e.Target, e.Outcome})
	if err != nil {
		panic(err) // strings, an int and a nil-able string always marshal
	}
	sum := sha256.Sum256(append([]byte(prev+"\n"), b...))
	return hex.EncodeToString(sum[:])
}

// RewriteAuditWithoutKey is the attack on the audit chain by someone who
// can write the database but holds no key: edit entry seq (edit changes it
// in memory, set is the SQL that stores the change), recompute its hash and
// every later one with UnkeyedAuditHash, and move the head to the new last
// hash, so that every link of the plain chain follows again.
func RewriteAuditWithoutKey(t testing.TB, st *store.Store, seq int64, set string, edit func(*store.AuditEntry)) {
	t.Helper()
	ctx := context.Background()
	rows, _, err := st.ListAudit(ctx, store.AuditFilter{Limit: 1000})
	require.NoError(t, err)
	slices.Reverse(rows) // oldest first
	prev := ""
	for _, e := range rows {
		if e.Seq == seq {
			edit(&e)
			_, err := st.ExecForTests(ctx, "UPDATE audit_log SET "+set+" WHERE seq = ?", seq)
			require.NoError(t, err)
		}
		if e.Seq >= seq {
			e.Hash = UnkeyedAuditHash(prev, e)
			_, err := st.ExecForTests(ctx, "UPDATE audit_log SET hash = ? WHERE seq = ?", e.Hash, e.Seq)
			require.NoError(t, err)
		}
		prev = e.Hash
	}
	_, err = st.ExecForTests(ctx, "UPDATE audit_head SET hash = ? WHERE id = 1", prev)
	require.NoError(t, err)
}
