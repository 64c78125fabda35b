package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"

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
		{"an entry appended past the head", []string{"INSERT INTO audit_log (seq, at, actor, action, target, outcome, hash) " +
			"SELECT 6, at, actor, action, target, outcome, hash FROM audit_log WHERE seq = 5"}, 6},
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
