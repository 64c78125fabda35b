package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// nemid is a credential made through the store's own steps up to an
// answered activation: it waits for the workflow's transition to active.
type nemid struct {
	issuanceID, credentialID, activationID, letterID string
}

var seq atomic.Int64

// pendingNemID issues a NemID to cprHash whose activation was answered,
// with one queued letter, ready for ApplyTransition(active).
func pendingNemID(t *testing.T, st *store.Store, cprHash string) nemid {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	n := seq.Add(1)
	centre := "KBH"
	// The issuances' own hashes differ: one open issuance per CPR would
	// otherwise keep two pending NemIDs of one person from ever existing,
	// and the test is of the credentials' guard.
	iss := store.Issuance{ID: uuid.NewString(), Path: "counter", Status: "awaiting_activation", CPRHash: cprHash + "/" + uuid.NewString(),
		CPRMasked: "010190-XXXX", Centre: &centre, Reasons: "[]", CreatedAt: now, UpdatedAt: now}
	require.NoError(t, st.CreateIssuance(ctx, &iss, nil))
	cred := store.Credential{ID: uuid.NewString(), IssuanceID: iss.ID, UserID: fmt.Sprintf("9%08d", n), CPRHash: cprHash,
		TemporaryPasswordMAC: "x", Status: store.CredentialPending, CreatedAt: now}
	card := store.CodeCard{CardNumber: fmt.Sprintf("C%09d", n), CredentialID: cred.ID, Seq: 1, CreatedAt: now}
	codes := []store.CardCode{{CardNumber: card.CardNumber, Key: "0001", CodeMAC: "m1"}, {CardNumber: card.CardNumber, Key: "0002", CodeMAC: "m2"}}
	letter := store.Letter{ID: uuid.NewString(), IssuanceID: iss.ID, Kind: store.KindReminder, Status: store.LetterQueued,
		DedupeKey: uuid.NewString(), Recipient: "{}", PDFSHA256: "-", CreatedAt: now}
	require.NoError(t, st.SaveMinted(ctx, store.Minted{Credential: cred, Card: card, Codes: codes, Letters: []store.Letter{letter}}))
	attempt, err := st.BeginAttempt(ctx, cred.ID, now)
	require.NoError(t, err)
	ch := store.Challenge{ID: uuid.NewString(), Kind: store.ChallengeActivation, CredentialID: cred.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	ch, _, err = st.OpenChallenge(ctx, ch, attempt, func(int) (int, error) { return 0, nil })
	require.NoError(t, err)
	claim, err := st.ClaimChallenge(ctx, ch.ID, now)
	require.NoError(t, err)
	require.NoError(t, st.Succeed(ctx, store.Success{ChallengeID: ch.ID, AttemptID: claim, At: now, PasswordHash: "argon-hash"}))
	return nemid{issuanceID: iss.ID, credentialID: cred.ID, activationID: ch.ID, letterID: letter.ID}
}

func activateNemID(ctx context.Context, st *store.Store, n nemid) error {
	return st.ApplyTransition(ctx, store.Transition{IssuanceID: n.issuanceID, Status: "active", ActivationID: n.activationID,
		Event: store.Event{DedupeKey: "activated", At: time.Now().UTC(), Type: "activated", Actor: "citizen"}})
}

func addSession(t *testing.T, st *store.Store, tokenHash, credentialID string) {
	t.Helper()
	now := time.Now().UTC()
	_, err := st.ExecForTests(context.Background(), "INSERT INTO sessions (token_hash, credential_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
		tokenHash, credentialID, now, now.Add(time.Hour))
	require.NoError(t, err)
}

func credentialOf(t *testing.T, st *store.Store, id string) store.Credential {
	t.Helper()
	c, err := st.CredentialByID(context.Background(), id)
	require.NoError(t, err)
	return c
}

func activeCount(t *testing.T, st *store.Store, cprHash string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, st.ScanForTests(context.Background(), &n, "SELECT COUNT(*) FROM credentials WHERE cpr_hash = ? AND status = 'active'", cprHash))
	return n
}

// TestOneActiveNemIDPerCPR: activating a person's new NemID revokes the
// previous one in the same transaction (credential_replaced on its
// timeline, its sessions ended, its queued letters withdrawn); the
// database itself refuses a second active NemID; and activations racing
// leave exactly one active.
func TestOneActiveNemIDPerCPR(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()

			t.Run("the new NemID replaces the old one", func(t *testing.T) {
				old := pendingNemID(t, st, "person-a")
				require.NoError(t, activateNemID(ctx, st, old))
				now := time.Now().UTC()
				addSession(t, st, "old-session", old.credentialID)

				fresh := pendingNemID(t, st, "person-a")
				require.NoError(t, activateNemID(ctx, st, fresh))
				require.NoError(t, activateNemID(ctx, st, fresh), "a retried transition changes nothing")

				gone := credentialOf(t, st, old.credentialID)
				assert.Equal(t, store.CredentialRevoked, gone.Status)
				assert.Equal(t, store.RevokedReplaced, *gone.RevokedReason)
				assert.Equal(t, store.CredentialActive, credentialOf(t, st, fresh.credentialID).Status)
				assert.EqualValues(t, 1, activeCount(t, st, "person-a"))
				_, err := st.SessionByTokenHash(ctx, "old-session", now)
				assert.ErrorIs(t, err, store.ErrNotFound, "the old NemID's sessions ended")
				withdrawn, err := st.WithdrawnLetterIDs(ctx, []string{old.issuanceID})
				require.NoError(t, err)
				assert.Equal(t, []string{old.letterID}, withdrawn)
				iss, err := st.GetIssuance(ctx, old.issuanceID, store.Scope{})
				require.NoError(t, err)
				assert.Equal(t, "revoked", *iss.CredentialStatus)
				var types []string
				for _, e := range iss.Events {
					types = append(types, e.Type)
				}
				assert.Equal(t, []string{"activated", "credential_replaced"}, types)
			})

			t.Run("the database refuses two active NemIDs", func(t *testing.T) {
				a := pendingNemID(t, st, "person-b")
				b := pendingNemID(t, st, "person-b")
				require.NoError(t, activateNemID(ctx, st, a))
				_, err := st.ExecForTests(ctx, "UPDATE credentials SET status = 'active' WHERE id = ?", b.credentialID)
				require.Error(t, err, "the partial unique index")
			})

			t.Run("activations racing leave one active", func(t *testing.T) {
				for round := range 5 {
					person := fmt.Sprintf("person-race-%d", round)
					racers := []nemid{pendingNemID(t, st, person), pendingNemID(t, st, person), pendingNemID(t, st, person)}
					var wg sync.WaitGroup
					errs := make([]error, len(racers))
					for i, n := range racers {
						wg.Go(func() { errs[i] = activateNemID(ctx, st, n) })
					}
					wg.Wait()
					for i, err := range errs {
						require.NoError(t, err, "racer %d", i)
					}
					assert.EqualValues(t, 1, activeCount(t, st, person))
					revoked := 0
					for _, n := range racers {
						if credentialOf(t, st, n.credentialID).Status == store.CredentialRevoked {
							revoked++
						}
					}
					assert.Equal(t, len(racers)-1, revoked, "every other one was replaced")
				}
			})
		})
	}
}

// TestBlockAndUnblock: a block refuses every attempt (before the lock,
// which is independent), ends sessions and open challenges; unlock leaves
// the block; unblock lifts both and the failure count.
func TestBlockAndUnblock(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()
			n := pendingNemID(t, st, "person-block")
			require.NoError(t, activateNemID(ctx, st, n))
			now := time.Now().UTC()
			addSession(t, st, "s1", n.credentialID)
			ev := func(typ string) store.Event {
				return store.Event{DedupeKey: typ + uuid.NewString(), At: time.Now().UTC(), Type: typ, Actor: "caseworker:KBH"}
			}

			steps := []struct {
				name  string
				do    func() error
				state string
			}{
				{"two failures", func() error {
					for range 2 {
						if _, err := st.RecordFailure(ctx, n.credentialID, now); err != nil {
							return err
						}
					}
					return nil
				}, "active"},
				{"block", func() error {
					_, err := st.Block(ctx, n.credentialID, ev("blocked"), staffAudit(store.AuditCredentialBlocked))
					return err
				}, "blocked"},
				{"block again", func() error {
					again, err := st.Block(ctx, n.credentialID, ev("blocked"), staffAudit(store.AuditCredentialBlocked))
					if again {
						return errors.New("a second block recorded")
					}
					return err
				}, "blocked"},
				{"a third failure locks beneath the block", func() error { _, err := st.RecordFailure(ctx, n.credentialID, now); return err }, "blocked"},
				{"unlock leaves the block", func() error {
					_, err := st.Unlock(ctx, n.credentialID, ev("unlocked"), staffAudit(store.AuditCredentialUnlocked))
					return err
				}, "blocked"},
				{"unblock lifts everything", func() error {
					_, err := st.Unblock(ctx, n.credentialID, ev("unblocked"), staffAudit(store.AuditCredentialUnblocked))
					return err
				}, "active"},
			}
			for _, s := range steps {
				require.NoError(t, s.do(), s.name)
				c := credentialOf(t, st, n.credentialID)
				assert.Equal(t, s.state, c.State(), s.name)
				if s.state == "blocked" {
					_, err := st.BeginAttempt(ctx, n.credentialID, time.Now().UTC())
					assert.ErrorIs(t, err, store.ErrBlocked, "%s: no secret is checked", s.name)
					_, err = st.SessionByTokenHash(ctx, "s1", now)
					assert.ErrorIs(t, err, store.ErrNotFound, "%s: sessions ended", s.name)
				}
			}
			c := credentialOf(t, st, n.credentialID)
			assert.Zero(t, c.FailedAttempts)
			assert.False(t, c.Locked())
			iss, err := st.GetIssuance(ctx, n.issuanceID, store.Scope{})
			require.NoError(t, err)
			counts := map[string]int{}
			for _, e := range iss.Events {
				counts[e.Type]++
			}
			assert.Equal(t, map[string]int{"activated": 1, "blocked": 1, "unlocked": 1, "unblocked": 1}, counts)
		})
	}
}

// TestRegisterImportRecordsChanges: the import records a known person's
// death or new address protection once, in its own transaction, and
// nothing for people new to the register or for unchanged rows.
func TestRegisterImportRecordsChanges(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()
			now := time.Now().UTC()
			person := func(cpr string, protected, deceased bool) store.Person {
				return store.Person{CPR: cpr, Name: "P " + cpr, Country: "DK", AddressProtected: protected, Deceased: deceased, UpdatedAt: now}
			}
			cases := []struct {
				name string
				rows []store.Person
				want []string
			}{
				{"new people record nothing", []store.Person{person("0101901111", false, false), person("0101902222", false, true)}, nil},
				{"unchanged rows record nothing", []store.Person{person("0101901111", false, false)}, nil},
				{"a death and a protection", []store.Person{person("0101901111", true, true), person("0101902222", false, true)},
					[]string{"deceased", "address_protected"}},
				{"the same file again", []store.Person{person("0101901111", true, true)}, nil},
			}
			for _, tc := range cases {
				changes, err := st.ImportPersons(ctx, tc.rows, now)
				require.NoError(t, err, tc.name)
				var kinds []string
				for _, c := range changes {
					kinds = append(kinds, c.Kind)
					assert.Equal(t, "0101901111", c.CPR, tc.name)
				}
				assert.Equal(t, tc.want, kinds, tc.name)
			}
			pending, err := st.PendingRegisterChanges(ctx, 10)
			require.NoError(t, err)
			require.Len(t, pending, 2)
			require.NoError(t, st.MarkRegisterChangeApplied(ctx, pending[0].ID, now))
			require.NoError(t, st.MarkRegisterChangeApplied(ctx, pending[0].ID, now), "again is a no-op")
			pending, err = st.PendingRegisterChanges(ctx, 10)
			require.NoError(t, err)
			assert.Len(t, pending, 1)
		})
	}
}

// staffAudit is the audit entry of a support action in these tests.
func staffAudit(action string) store.AuditEntry {
	return store.AuditEntry{Actor: "caseworker:KBH", Action: action, Target: store.CredentialTarget("123456789")}
}
