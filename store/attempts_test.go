package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// credentialWithCard stores an active credential with one card of three
// codes and a session, as minting and a logon would.
func credentialWithCard(t *testing.T, st *store.Store, id string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	iss := store.Issuance{ID: "iss-" + id, Path: "bank", Status: "active", CPRHash: "h-" + id, CPRMasked: "010190-XXXX",
		Reasons: "[]", CreatedAt: now, UpdatedAt: now}
	require.NoError(t, st.CreateIssuance(ctx, &iss, nil))
	hash := "$nemid-argon2id$k=0$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$dGFndGFndGFndGFndGFn"
	m := store.Minted{
		Credential: store.Credential{ID: id, IssuanceID: iss.ID, UserID: "9" + id, CPRHash: iss.CPRHash, TemporaryPasswordMAC: "0:x",
			PasswordHash: &hash, Status: store.CredentialActive, CreatedAt: now},
		Card: store.CodeCard{CardNumber: "c-" + id, CredentialID: id, Seq: 1, CreatedAt: now},
	}
	for i := range 3 {
		m.Codes = append(m.Codes, store.CardCode{CardNumber: "c-" + id, Key: fmt.Sprintf("%04d", i), CodeMAC: "0:x"})
	}
	require.NoError(t, st.SaveMinted(ctx, m))
}

func first(int) (int, error) { return 0, nil }

// TestAttemptBudget: failures counted plus attempts in flight never exceed
// three, however many begin at once; a stale attempt stops counting.
func TestAttemptBudget(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Microsecond)
			credentialWithCard(t, st, "1", now)

			var mu sync.Mutex
			var began []string
			var wg sync.WaitGroup
			for range 12 {
				wg.Go(func() {
					id, err := st.BeginAttempt(ctx, "1", now)
					if err == nil {
						mu.Lock()
						began = append(began, id)
						mu.Unlock()
						return
					}
					assert.ErrorIs(t, err, store.ErrAttemptsInFlight)
				})
			}
			wg.Wait()
			require.Len(t, began, store.MaxFailedAttempts, "at most three attempts in flight")

			// One is right, two are wrong: one place frees, the count is 2.
			require.NoError(t, st.PassAttempt(ctx, began[0]))
			for _, id := range began[1:] {
				cred, err := st.FailAttempt(ctx, id, "1", now)
				require.NoError(t, err)
				assert.False(t, cred.Locked())
			}
			last, err := st.BeginAttempt(ctx, "1", now)
			require.NoError(t, err)
			_, err = st.BeginAttempt(ctx, "1", now)
			assert.ErrorIs(t, err, store.ErrAttemptsInFlight, "two failures and one in flight fill the budget")
			_, err = st.BeginAttempt(ctx, "1", now.Add(store.AttemptLease+time.Second))
			require.NoError(t, err, "an attempt whose process died stops counting after the lease")
			cred, err := st.FailAttempt(ctx, last, "1", now)
			require.NoError(t, err)
			assert.True(t, cred.Locked(), "the third failure locks")
			_, err = st.BeginAttempt(ctx, "1", now.Add(time.Hour))
			assert.ErrorIs(t, err, store.ErrLocked)
		})
	}
}

// TestLockAndRevocationEndSessions: the failure that locks, and a
// revocation, end the credential's sessions and open challenges.
func TestLockAndRevocationEndSessions(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Microsecond)
			for _, id := range []string{"1", "2"} {
				credentialWithCard(t, st, id, now)
				_, err := st.ExecForTests(ctx, "INSERT INTO sessions (token_hash, credential_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
					"tok-"+id, id, now, now.Add(time.Hour))
				require.NoError(t, err)
			}
			ch := store.Challenge{ID: "ch-1", Kind: store.ChallengeLogon, CredentialID: "1", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
			attempt, err := st.BeginAttempt(ctx, "1", now)
			require.NoError(t, err)
			_, _, err = st.OpenChallenge(ctx, ch, attempt, first)
			require.NoError(t, err)

			for range store.MaxFailedAttempts {
				a, err := st.BeginAttempt(ctx, "1", now)
				require.NoError(t, err)
				_, err = st.FailAttempt(ctx, a, "1", now)
				require.NoError(t, err)
			}
			_, err = st.SessionByTokenHash(ctx, "tok-1", now)
			assert.ErrorIs(t, err, store.ErrNotFound, "the lock ended the session")
			got, err := st.ChallengeByID(ctx, "ch-1", store.ChallengeLogon)
			require.NoError(t, err)
			assert.Equal(t, store.ChallengeSuperseded, got.Status, "the lock closed the open challenge")
			_, err = st.SessionByTokenHash(ctx, "tok-2", now)
			require.NoError(t, err, "another credential's session stays")

			_, err = st.ExecForTests(ctx, "UPDATE credentials SET status = ? WHERE id = ?", store.CredentialPending, "2")
			require.NoError(t, err)
			require.NoError(t, st.RevokeCredential(ctx, "iss-2"))
			_, err = st.SessionByTokenHash(ctx, "tok-2", now)
			assert.ErrorIs(t, err, store.ErrNotFound, "revocation ended the session")
		})
	}
}

// TestOneClaimPerChallenge: of many answers to one challenge, one claims
// it; the others are told it is closed before any code is compared.
func TestOneClaimPerChallenge(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Microsecond)
			credentialWithCard(t, st, "1", now)
			attempt, err := st.BeginAttempt(ctx, "1", now)
			require.NoError(t, err)
			ch := store.Challenge{ID: "ch-1", Kind: store.ChallengeLogon, CredentialID: "1", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
			_, _, err = st.OpenChallenge(ctx, ch, attempt, first)
			require.NoError(t, err)

			claims, closed := 0, 0
			var mu sync.Mutex
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					_, err := st.ClaimChallenge(ctx, "ch-1", now)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						claims++
					case assert.ErrorIs(t, err, store.ErrChallengeClosed):
						closed++
					}
				})
			}
			wg.Wait()
			assert.Equal(t, 1, claims)
			assert.Equal(t, 7, closed)
			_, err = st.ClaimChallenge(ctx, "ch-1", now.Add(2*time.Minute))
			assert.ErrorIs(t, err, store.ErrChallengeExpired, "past its TTL a challenge says so, claimed or not")
		})
	}
}
