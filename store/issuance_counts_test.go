package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// office is where a generated issuance belongs: a path and its office.
type office struct {
	path, centre, representation, bank string
}

var offices = []office{
	{path: "counter", centre: "KBH"}, {path: "counter", centre: "AAR"},
	{path: "bank", bank: "1234"}, {path: "bank", bank: "5678"},
	{path: "abroad", representation: "LONDON"},
}

// journeys are status moves a workflow may record for each path; the
// last step of some is refused (the issuance is already final) or repeated.
var journeys = map[string][][]string{
	"counter": {{"awaiting_handover", "awaiting_activation", "expired"}, {"letters_posted", "cancelled"}, {"rejected", "cancelled"},
		{"awaiting_handover"}},
	"bank": {{"letters_posted", "awaiting_activation", "cancelled"}, {"expired"}, {"letters_posted", "letters_posted", "rejected"},
		{"letters_posted", "awaiting_activation"}},
	"abroad": {{"letters_posted", "awaiting_pickup", "awaiting_activation", "expired"}, {"cancelled", "expired"},
		{"letters_posted", "awaiting_pickup"}},
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// TestCountsFollowEveryWrite: goroutines accept issuances (some refused
// by the one-open-per-CPR index), move them through their statuses (with
// repeated events, moves after the end, audited cancels, activations, and
// activations that fail and roll back), all at once on the same few
// counter rows; afterwards every counter row equals the issuances counted
// directly, and so do the counts per scope.
func TestCountsFollowEveryWrite(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()
			const workers, each = 6, 25
			// NemIDs made up to their answered activation, activated below
			// beside the rest (the transition to active also activates the
			// credential, in the same transaction).
			var nemids []nemid
			for range 6 {
				nemids = append(nemids, pendingNemID(t, st, "person-"+uuid.NewString()))
			}
			var wg sync.WaitGroup
			errs := make(chan error, workers*each+len(nemids))
			for w := range workers {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(w), 1))
					for i := range each {
						if err := oneLife(ctx, st, rng, w, i); err != nil {
							errs <- err
						}
					}
				})
			}
			for _, n := range nemids {
				wg.Go(func() {
					if err := activateNemID(ctx, st, n); err != nil {
						errs <- fmt.Errorf("activate: %w", err)
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			assertCountsExact(t, st)
		})
	}
}

// oneLife accepts one issuance of worker w and moves it along a journey.
func oneLife(ctx context.Context, st *store.Store, rng *rand.Rand, w, i int) error {
	o := offices[rng.IntN(len(offices))]
	now := time.Now().UTC().Truncate(time.Microsecond)
	iss := store.Issuance{ID: uuid.Must(uuid.NewV7()).String(), Path: o.path, Status: "received",
		// Workers share a few people: a second open issuance of one of them is refused.
		CPRHash: fmt.Sprintf("person-%d", rng.IntN(40)), CPRMasked: "010190-XXXX",
		Centre: optional(o.centre), Representation: optional(o.representation), Bank: optional(o.bank),
		Reasons: "[]", CreatedAt: now, UpdatedAt: now}
	err := st.CreateIssuance(ctx, &iss, nil)
	for try := 0; try < 5 && errors.Is(err, gorm.ErrRecordNotFound); try++ {
		// The open issuance it conflicted with ended before the conflict
		// could name it; the accept activity's retry does the same.
		err = st.CreateIssuance(ctx, &iss, nil)
	}
	var open *store.OpenIssuanceError
	if errors.As(err, &open) {
		return nil // refused: nothing written, nothing counted
	}
	if err != nil {
		return fmt.Errorf("create %d/%d: %w", w, i, err)
	}
	journey := journeys[o.path][rng.IntN(len(journeys[o.path]))]
	for step, status := range journey {
		tr := store.Transition{IssuanceID: iss.ID, Status: status,
			Event: store.Event{DedupeKey: fmt.Sprintf("%d:%s", step, status), At: time.Now().UTC(), Type: status, Actor: "system"}}
		if status == "cancelled" {
			tr.Audit = &store.AuditEntry{Actor: "caseworker:KBH", Action: store.AuditIssuanceCancelled, Target: store.IssuanceTarget(iss.ID)}
		}
		if err := st.ApplyTransition(ctx, tr); err != nil {
			return fmt.Errorf("move %s to %s: %w", iss.ID, status, err)
		}
		if rng.IntN(3) == 0 { // a retried activity: the same event again changes nothing
			if err := st.ApplyTransition(ctx, tr); err != nil {
				return fmt.Errorf("repeat the move of %s to %s: %w", iss.ID, status, err)
			}
		}
	}
	if rng.IntN(4) == 0 {
		// An activation without a credential fails inside the transaction
		// that moved the status: the counters roll back with it.
		err := st.ApplyTransition(ctx, store.Transition{IssuanceID: iss.ID, Status: "active",
			Event: store.Event{DedupeKey: "activated", At: time.Now().UTC(), Type: "activated", Actor: "citizen"}})
		if ended := isFinal(journey[len(journey)-1]); (err == nil) != ended {
			return fmt.Errorf("activating %s (ended: %v) without a credential: %v", iss.ID, ended, err)
		}
	}
	return nil
}

func isFinal(status string) bool {
	switch status {
	case "rejected", "active", "expired", "cancelled":
		return true
	}
	return false
}

// assertCountsExact compares the counter rows with the issuances grouped
// the same way, row for row, and the counts of each scope with the
// issuances of that scope per status.
func assertCountsExact(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	counters, err := st.CountersForCheck(ctx)
	require.NoError(t, err)
	counted, err := st.CountedForCheck(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, counted)
	assert.Equal(t, counted, counters, "every counter row (path, office, status, shard) equals its issuances")
	for _, c := range counters {
		assert.Positive(t, c.N, "a shard counts the issuances whose id ends in it: never below zero")
	}

	scopes := map[string]store.Scope{
		"admin":          {},
		"caseworker KBH": {Centre: "KBH", BankPathToo: true},
		"caseworker AAR": {Centre: "AAR", BankPathToo: true},
		"embassy LONDON": {Representation: "LONDON"},
		"bank 1234":      {Bank: "1234"},
		"bank 9999":      {Bank: "9999"},
	}
	for name, sc := range scopes {
		want := map[string]int64{}
		for _, r := range counted {
			if inScope(sc, r) {
				want[r.Status] += r.N
			}
		}
		got, err := st.CountIssuances(ctx, store.CountFilter{Scope: sc})
		require.NoError(t, err)
		assert.Equal(t, want, got, name)
	}
	got, err := st.CountIssuances(ctx, store.CountFilter{Scope: store.Scope{Centre: "KBH", BankPathToo: true}, Path: "bank", BankID: "5678"})
	require.NoError(t, err)
	want := map[string]int64{}
	for _, r := range counted {
		if r.Path == "bank" && r.Bank == "5678" {
			want[r.Status] += r.N
		}
	}
	assert.Equal(t, want, got, "a caseworker's counts narrowed to one bank")
}

// inScope is store.Scope's rule (DESIGN.md §4) applied to a group of rows.
func inScope(sc store.Scope, r store.CountRow) bool {
	switch {
	case sc.Centre != "" && sc.BankPathToo:
		if r.Centre != sc.Centre && r.Path != "bank" {
			return false
		}
	case sc.Centre != "":
		if r.Centre != sc.Centre {
			return false
		}
	}
	return (sc.Representation == "" || r.Representation == sc.Representation) && (sc.Bank == "" || r.Bank == sc.Bank)
}

// TestMigrationCountsExistingIssuances: a database with issuances from
// before the counters gets them counted by the migration that makes them.
func TestMigrationCountsExistingIssuances(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			st := b.Empty(t)
			require.NoError(t, st.MigrateLegacyForTest(ctx, 7)) // the runner before goose could go no further
			now := time.Now().UTC()
			for i := range 30 {
				o := offices[i%len(offices)]
				status := []string{"received", "active", "cancelled", "letters_posted"}[i%4]
				_, err := st.ExecForTests(ctx, `INSERT INTO issuances (id, path, status, cpr_hash, cpr_masked, centre, representation, bank,
					reasons, created_at, updated_at) VALUES (?, ?, ?, ?, '010190-XXXX', ?, ?, ?, '[]', ?, ?)`,
					uuid.Must(uuid.NewV7()).String(), o.path, status, fmt.Sprintf("h%d", i), optional(o.centre), optional(o.representation),
					optional(o.bank), now, now)
				require.NoError(t, err)
			}
			require.NoError(t, st.Migrate(ctx))
			assertCountsExact(t, st)
			total, err := st.CountIssuances(ctx, store.CountFilter{})
			require.NoError(t, err)
			var sum int64
			for _, n := range total {
				sum += n
			}
			assert.EqualValues(t, 30, sum)
		})
	}
}

// TestRecountRebuildsTheCounters: after counters went wrong (a process
// older than them wrote), a recount makes them exact again.
func TestRecountRebuildsTheCounters(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			st := b.Open(t)
			rng := rand.New(rand.NewPCG(7, 7))
			for i := range 20 {
				require.NoError(t, oneLife(ctx, st, rng, 0, i))
			}
			_, err := st.ExecForTests(ctx, "UPDATE issuance_counts SET n = n + 5")
			require.NoError(t, err)
			_, err = st.ExecForTests(ctx, "UPDATE issuances SET status = 'expired' WHERE status = 'cancelled'")
			require.NoError(t, err)
			require.NoError(t, st.RecountIssuances(ctx))
			assertCountsExact(t, st)
		})
	}
}
