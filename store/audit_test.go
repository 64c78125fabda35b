package store_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

func entry(i int) store.AuditEntry {
	return store.AuditEntry{Actor: "caseworker:KBH", Action: store.AuditIssuanceCancelled, Target: store.IssuanceTarget(fmt.Sprintf("iss-%d", i))}
}

// appendN appends n entries, one transaction each.
func appendN(t *testing.T, st *store.Store, n int) {
	t.Helper()
	for i := range n {
		require.NoError(t, st.Audited(context.Background(), entry(i), nil))
	}
}

// TestAuditChainUnderConcurrentWriters: two database handles (two API
// processes, or an API and the worker) append at once, some of their
// transactions rolling back after appending; the chain still verifies and
// seq runs 1..N without a gap, on both databases.
func TestAuditChainUnderConcurrentWriters(t *testing.T) {
	const writers, each = 8, 25
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			handles := []*store.Store{st, testenv.Reopen(t, st)}
			ctx := context.Background()
			rollback := errors.New("the action failed after its entry was appended")
			var g errgroup.Group
			for w := range writers {
				h := handles[w%len(handles)]
				g.Go(func() error {
					for i := range each {
						if err := h.Audited(ctx, entry(w*each+i), nil); err != nil {
							return err
						}
						// An action that fails after appending leaves no entry and no gap.
						err := h.Audited(ctx, entry(-1), func(tx *gorm.DB) error { return nil })
						if err != nil {
							return err
						}
						err = h.Audited(ctx, entry(-2), func(tx *gorm.DB) error { return rollback })
						if !errors.Is(err, rollback) {
							return fmt.Errorf("want the step's error, got %v", err)
						}
					}
					return nil
				})
			}
			require.NoError(t, g.Wait())

			want := int64(writers * each * 2)
			v, err := st.VerifyAudit(ctx)
			require.NoError(t, err)
			require.True(t, v.Holds(), "broken at %d: %s", v.BrokenSeq, v.Reason)
			assert.Equal(t, want, v.Count)
			var n, lo, hi int64
			require.NoError(t, st.ScanForTests(ctx, &n, "SELECT COUNT(*) FROM audit_log"))
			require.NoError(t, st.ScanForTests(ctx, &lo, "SELECT MIN(seq) FROM audit_log"))
			require.NoError(t, st.ScanForTests(ctx, &hi, "SELECT MAX(seq) FROM audit_log"))
			assert.Equal(t, []int64{want, 1, want}, []int64{n, lo, hi}, "seq is 1..N without gaps")
			var rolledBack int64
			require.NoError(t, st.ScanForTests(ctx, &rolledBack, "SELECT COUNT(*) FROM audit_log WHERE target = ?", store.IssuanceTarget("iss--2")))
			assert.Zero(t, rolledBack, "no entry of a rolled-back action")
		})
	}
}

// TestAuditVerifyNamesTheFirstBrokenSeq: every way of tampering with
// stored rows is found, and the first broken entry named.
func TestAuditVerifyNamesTheFirstBrokenSeq(t *testing.T) {
	cases := []struct {
		name   string
		tamper []string
		broken int64
	}{
		{"a clean chain holds", nil, 0},
		{"an edited outcome", []string{"UPDATE audit_log SET outcome = 'refused' WHERE seq = 3"}, 3},
		{"an edited actor name", []string{"UPDATE audit_log SET actor_name = 'Someone Else' WHERE seq = 2"}, 2},
		{"an edited time", []string{"UPDATE audit_log SET at = at - INTERVAL '1 hour' WHERE seq = 4",
			"UPDATE audit_log SET at = datetime(at, '-1 hour') WHERE seq = 4"}, 4},
		{"an edited entry whose hash was recomputed without the key to the chain", []string{"UPDATE audit_log SET target = 'issuance:other', hash = 'ff' WHERE seq = 2"}, 2},
		{"a deleted entry", []string{"DELETE FROM audit_log WHERE seq = 3"}, 3},
		{"the deleted last entry", []string{"DELETE FROM audit_log WHERE seq = 5"}, 5},
		{"the first entry deleted", []string{"DELETE FROM audit_log WHERE seq = 1"}, 1},
		{"two swapped entries", []string{"UPDATE audit_log SET seq = -1 WHERE seq = 3", "UPDATE audit_log SET seq = 3 WHERE seq = 4",
			"UPDATE audit_log SET seq = 4 WHERE seq = -1"}, 3},
		{"an entry appended past the head", []string{"INSERT INTO audit_log (seq, at, actor, action, target, outcome, key_id, hash) " +
			"SELECT 6, at, actor, action, target, outcome, key_id, hash FROM audit_log WHERE seq = 5"}, 6},
		{"an entry's key id changed", []string{"UPDATE audit_log SET key_id = 'other' WHERE seq = 3"}, 3},
	}
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					st := b.Open(t)
					ctx := context.Background()
					appendN(t, st, 5)
					applied := 0
					for _, q := range tc.tamper {
						// Dialect-specific variants: the one the database understands applies.
						n, err := st.ExecForTests(ctx, q)
						if err == nil && n > 0 {
							applied++
						}
					}
					require.Equal(t, len(tc.tamper) > 0, applied > 0, "the tampering applied")
					v, err := st.VerifyAudit(ctx)
					require.NoError(t, err)
					assert.Equal(t, tc.broken, v.BrokenSeq, v.Reason)
					if tc.broken == 0 {
						assert.Equal(t, int64(5), v.Count)
						assert.Len(t, v.HeadHash, 64)
					}
				})
			}
		})
	}
}

func TestAppendAuditRefuses(t *testing.T) {
	st := testenv.SQLite(t)
	ctx := context.Background()
	cases := []struct {
		name string
		e    store.AuditEntry
	}{
		{"no actor", store.AuditEntry{Action: store.AuditLetterDispatched, Target: store.LetterTarget("l1")}},
		{"no action", store.AuditEntry{Actor: "post:post", Target: store.LetterTarget("l1")}},
		{"an untyped target", store.AuditEntry{Actor: "post:post", Action: store.AuditLetterDispatched, Target: "0101901234"}},
		{"a target without an id", store.AuditEntry{Actor: "post:post", Action: store.AuditLetterDispatched, Target: "letter:"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Error(t, st.Audited(ctx, tc.e, nil))
		})
	}
	v, err := st.VerifyAudit(ctx)
	require.NoError(t, err)
	assert.True(t, v.Holds())
	assert.Zero(t, v.Count, "nothing refused was appended")
}

// TestListAuditFilters: newest first, by action and by time, keyset paged.
func TestListAuditFilters(t *testing.T) {
	st := testenv.SQLite(t)
	ctx := context.Background()
	appendN(t, st, 3)
	mid := time.Now().UTC()
	time.Sleep(5 * time.Millisecond)
	require.NoError(t, st.Audited(ctx, store.AuditEntry{Actor: "post:post", Action: store.AuditLetterDispatched, Target: store.LetterTarget("l1")}, nil))
	require.NoError(t, st.Audited(ctx, store.AuditEntry{Actor: "post:post", Action: store.AuditLetterDispatched, Target: store.LetterTarget("l2")}, nil))

	seqs := func(f store.AuditFilter) []int64 {
		t.Helper()
		if f.Limit == 0 {
			f.Limit = 50
		}
		rows, _, err := st.ListAudit(ctx, f)
		require.NoError(t, err)
		out := []int64{}
		for _, r := range rows {
			out = append(out, r.Seq)
		}
		return out
	}
	assert.Equal(t, []int64{5, 4, 3, 2, 1}, seqs(store.AuditFilter{}))
	assert.Equal(t, []int64{5, 4}, seqs(store.AuditFilter{Action: store.AuditLetterDispatched}))
	assert.Equal(t, []int64{5, 4}, seqs(store.AuditFilter{From: &mid}))
	assert.Equal(t, []int64{3, 2, 1}, seqs(store.AuditFilter{To: &mid}))
	assert.Equal(t, []int64{2, 1}, seqs(store.AuditFilter{Before: 3}))
	rows, more, err := st.ListAudit(ctx, store.AuditFilter{Limit: 2})
	require.NoError(t, err)
	assert.True(t, more)
	assert.Len(t, rows, 2)
}

// TestAuditChainResistsARewriteWithoutTheKey: someone who can write the
// database edits an entry and recomputes every later hash and the head the
// way the chain was computed before it was keyed (what they can do without
// the key); verify still names the edited entry, whether they leave the
// key ids or clear them (pretending the entries predate the keying), on
// both databases.
func TestAuditChainResistsARewriteWithoutTheKey(t *testing.T) {
	cases := []struct {
		name string
		from int64
		set  string
		edit func(*store.AuditEntry)
	}{
		{"a field edited, later hashes recomputed", 2, "target = 'issuance:other'", func(e *store.AuditEntry) { e.Target = "issuance:other" }},
		{"a field edited, later hashes recomputed and their key ids cleared", 2, "target = 'issuance:other'", func(e *store.AuditEntry) { e.Target = "issuance:other" }},
		{"the last entry edited and rehashed", 5, "outcome = 'refused'", func(e *store.AuditEntry) { e.Outcome = "refused" }},
		{"the first entry edited, everything rehashed without key ids", 1, "actor = 'admin:all'", func(e *store.AuditEntry) { e.Actor = "admin:all" }},
	}
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					st := b.Open(t)
					ctx := context.Background()
					appendN(t, st, 5)
					if strings.Contains(tc.name, "key ids") {
						_, err := st.ExecForTests(ctx, "UPDATE audit_log SET key_id = '' WHERE seq >= ?", tc.from)
						require.NoError(t, err)
					}
					testenv.RewriteAuditWithoutKey(t, st, tc.from, tc.set, tc.edit)
					v, err := st.VerifyAudit(ctx)
					require.NoError(t, err)
					assert.Equal(t, tc.from, v.BrokenSeq, "the edited entry is named: %s", v.Reason)
				})
			}
		})
	}
}

// unkeyedEntries writes n entries the way the log was written before the
// chain was keyed (plain SHA-256 links, no key id) into st, migrated up to
// the version before the keying: the database an upgrade starts from.
func unkeyedEntries(t *testing.T, st *store.Store, n int) {
	t.Helper()
	ctx := context.Background()
	prev := ""
	at := time.Now().UTC().Truncate(time.Microsecond)
	for i := 1; i <= n; i++ {
		e := entry(i)
		e.Seq, e.At, e.Outcome = int64(i), at.Add(time.Duration(i)*time.Millisecond), store.AuditOK
		e.Hash = testenv.UnkeyedAuditHash(prev, e)
		_, err := st.ExecForTests(ctx, "INSERT INTO audit_log (seq, at, actor, actor_name, action, target, outcome, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			e.Seq, e.At, e.Actor, e.ActorName, e.Action, e.Target, e.Outcome, e.Hash)
		require.NoError(t, err)
		prev = e.Hash
	}
	_, err := st.ExecForTests(ctx, "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", n, prev)
	require.NoError(t, err)
}

// keyIDs are the entries' key ids in seq order.
func keyIDs(t *testing.T, st *store.Store) []string {
	t.Helper()
	rows, _, err := st.ListAudit(context.Background(), store.AuditFilter{Limit: 1000})
	require.NoError(t, err)
	slices.Reverse(rows)
	out := []string{}
	for _, e := range rows {
		out = append(out, e.KeyID)
	}
	return out
}

// TestAuditChainAcrossTheKeying: a database with entries written before
// the chain was keyed, upgraded, then appended to, verifies whole: the old
// entries by their plain links, the new ones under the key, the first new
// one linked to the last old hash. A rewrite of the new part without the
// key, or an unkeyed entry past the boundary, is still found; an old entry
// edited and rehashed is found at the first keyed entry, whose link covers
// its predecessor's hash. Both databases.
func TestAuditChainAcrossTheKeying(t *testing.T) {
	upgraded := func(t *testing.T, b testenv.Backend) *store.Store {
		st := b.Empty(t)
		ctx := context.Background()
		require.NoError(t, st.MigrateBeforeForTest(ctx, 17))
		unkeyedEntries(t, st, 3)
		require.NoError(t, st.Migrate(ctx))
		st.UseHashKeys(testenv.HashKeys())
		for i := range 3 {
			require.NoError(t, st.Audited(ctx, entry(10+i), nil))
		}
		return st
	}
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			t.Run("whole", func(t *testing.T) {
				st := upgraded(t, b)
				v, err := st.VerifyAudit(ctx)
				require.NoError(t, err)
				require.True(t, v.Holds(), "broken at %d: %s", v.BrokenSeq, v.Reason)
				assert.Equal(t, int64(6), v.Count)
				assert.Equal(t, int64(3), v.Unkeyed)
				assert.Equal(t, []string{"", "", "", "test", "test", "test"}, keyIDs(t, st))
			})
			t.Run("a keyed entry rewritten without the key", func(t *testing.T) {
				st := upgraded(t, b)
				_, err := st.ExecForTests(ctx, "UPDATE audit_log SET key_id = '' WHERE seq >= 5")
				require.NoError(t, err)
				testenv.RewriteAuditWithoutKey(t, st, 5, "target = 'issuance:other'", func(e *store.AuditEntry) { e.Target = "issuance:other" })
				v, err := st.VerifyAudit(ctx)
				require.NoError(t, err)
				assert.Equal(t, int64(5), v.BrokenSeq, v.Reason)
			})
			t.Run("every keyed entry rewritten without the key", func(t *testing.T) {
				st := upgraded(t, b)
				_, err := st.ExecForTests(ctx, "UPDATE audit_log SET key_id = ''")
				require.NoError(t, err)
				testenv.RewriteAuditWithoutKey(t, st, 4, "target = 'issuance:other'", func(e *store.AuditEntry) { e.Target = "issuance:other" })
				v, err := st.VerifyAudit(ctx)
				require.NoError(t, err)
				assert.Equal(t, int64(4), v.BrokenSeq, v.Reason)
			})
			t.Run("an old entry edited and the rest rehashed", func(t *testing.T) {
				st := upgraded(t, b)
				testenv.RewriteAuditWithoutKey(t, st, 2, "outcome = 'refused'", func(e *store.AuditEntry) { e.Outcome = "refused" })
				v, err := st.VerifyAudit(ctx)
				require.NoError(t, err)
				assert.Equal(t, int64(4), v.BrokenSeq, "the first keyed entry no longer links: %s", v.Reason)
			})
			t.Run("a process of the previous version cannot append", func(t *testing.T) {
				st := upgraded(t, b)
				// Its insert names no key id: refused, so its action rolls back
				// rather than leaving an unkeyed entry past the boundary.
				_, err := st.ExecForTests(ctx, "INSERT INTO audit_log (seq, at, actor, actor_name, action, target, outcome, hash) "+
					"SELECT 7, at, actor, actor_name, action, target, outcome, hash FROM audit_log WHERE seq = 6")
				require.Error(t, err)
			})
			t.Run("an old entry edited", func(t *testing.T) {
				st := upgraded(t, b)
				_, err := st.ExecForTests(ctx, "UPDATE audit_log SET actor = 'admin:all' WHERE seq = 2")
				require.NoError(t, err)
				v, err := st.VerifyAudit(ctx)
				require.NoError(t, err)
				assert.Equal(t, int64(2), v.BrokenSeq, v.Reason)
			})
		})
	}
}

// TestAuditChainAcrossAKeyRotation: a new key put first in NEMID_HASH_KEY,
// the old one kept second: new entries are linked under the new key, the
// old ones still verify under theirs, and the chain is whole across the
// rotation; without the old key the first entry it linked is named.
func TestAuditChainAcrossAKeyRotation(t *testing.T) {
	newKey := base64.StdEncoding.EncodeToString([]byte("the-rotated-in-hash-key-32-bytes-long"))
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()
			appendN(t, st, 3)
			rotated, err := domain.ParseHashKeys("k2:" + newKey + "," + testenv.HashKeyEnv)
			require.NoError(t, err)
			st.UseHashKeys(rotated)
			appendN(t, st, 2)
			assert.Equal(t, []string{"test", "test", "test", "k2", "k2"}, keyIDs(t, st))
			v, err := st.VerifyAudit(ctx)
			require.NoError(t, err)
			require.True(t, v.Holds(), "broken at %d: %s", v.BrokenSeq, v.Reason)
			assert.Equal(t, int64(5), v.Count)

			onlyNew, err := domain.ParseHashKeys("k2:" + newKey)
			require.NoError(t, err)
			st.UseHashKeys(onlyNew)
			v, err = st.VerifyAudit(ctx)
			require.NoError(t, err)
			assert.Equal(t, int64(1), v.BrokenSeq, v.Reason)
			assert.Contains(t, v.Reason, `key "test"`)

			// A rewrite under the old key's id, without the old key, fails too.
			st.UseHashKeys(rotated)
			testenv.RewriteAuditWithoutKey(t, st, 4, "target = 'issuance:other'", func(e *store.AuditEntry) { e.Target = "issuance:other" })
			v, err = st.VerifyAudit(ctx)
			require.NoError(t, err)
			assert.Equal(t, int64(4), v.BrokenSeq, v.Reason)
		})
	}
}

// TestAppendAuditNeedsTheKey: a Store without NEMID_HASH_KEY appends
// nothing (the action rolls back) and does not verify.
func TestAppendAuditNeedsTheKey(t *testing.T) {
	st := testenv.SQLite(t)
	ctx := context.Background()
	st.UseHashKeys(domain.HashKeys{})
	err := st.Audited(ctx, entry(1), nil)
	require.ErrorIs(t, err, store.ErrNoAuditKey)
	_, err = st.VerifyAudit(ctx)
	require.ErrorIs(t, err, store.ErrNoAuditKey)
	var n int64
	require.NoError(t, st.ScanForTests(ctx, &n, "SELECT COUNT(*) FROM audit_log"))
	assert.Zero(t, n)
}
