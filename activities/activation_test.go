package activities_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/opennemid/nemid/activities"
	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// awaitingActivation mints an issuance's credentials and records it
// awaiting activation, as its workflow would.
func awaitingActivation(t *testing.T, st *store.Store, acts *activities.Activities) (string, store.Credential) {
	t.Helper()
	ctx := context.Background()
	id := acceptedIssuance(t, st)
	_, err := acts.MintCredentials(ctx, mintInput(id, "letters"))
	require.NoError(t, err)
	require.NoError(t, acts.RecordTransition(ctx, workflows.TransitionInput{IssuanceID: id, Status: workflows.StatusAwaitingActivation,
		EventKey: "letters_dispatched", EventType: "letter_dispatched", Actor: "system", At: time.Now()}))
	cred, err := st.CredentialOfIssuance(ctx, id)
	require.NoError(t, err)
	return id, cred
}

// answerActivation does what the API does for a right code and a new
// password: open, claim and succeed an activation challenge. It answers
// the challenge's id (the activation_id of the Update).
func answerActivation(t *testing.T, st *store.Store, cred store.Credential, passwordHash string) (string, error) {
	t.Helper()
	ctx, now := context.Background(), time.Now().UTC()
	attempt, err := st.BeginAttempt(ctx, cred.ID, now)
	require.NoError(t, err)
	ch, _, err := st.OpenChallenge(ctx, store.Challenge{ID: uuid.NewString(), Kind: store.ChallengeActivation, CredentialID: cred.ID,
		CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}, attempt, func(int) (int, error) { return 0, nil })
	require.NoError(t, err)
	claim, err := st.ClaimChallenge(ctx, ch.ID, now)
	require.NoError(t, err)
	return ch.ID, st.Succeed(ctx, store.Success{ChallengeID: ch.ID, AttemptID: claim, At: now, PasswordHash: passwordHash})
}

func recordActive(acts *activities.Activities, issuanceID, activationID string) error {
	return acts.RecordTransition(context.Background(), workflows.TransitionInput{IssuanceID: issuanceID, Status: workflows.StatusActive,
		EventKey: "activated", EventType: "activated", Actor: "citizen", ActivationID: activationID, At: time.Now()})
}

func waitingPasswords(t *testing.T, st *store.Store, credentialID string) int {
	var n int
	require.NoError(t, st.ScanForTests(context.Background(), &n,
		"SELECT COUNT(*) FROM challenges WHERE credential_id = ? AND new_password_hash IS NOT NULL", credentialID))
	return n
}

// TestOnlyTheWorkflowActivates: the API's answer (store.Succeed) spends the
// code and keeps the new password's hash on the challenge; the activity
// that records the issuance active moves it into the credential in the
// same transaction. Each row is one case of DESIGN.md §10's "one writer".
func TestOnlyTheWorkflowActivates(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, st *store.Store, acts *activities.Activities, issuanceID string, cred store.Credential)
	}{
		{"the API's answer leaves the credential pending, its password on the challenge", func(t *testing.T, st *store.Store, acts *activities.Activities, _ string, cred store.Credential) {
			_, err := answerActivation(t, st, cred, "hash-1")
			require.NoError(t, err)
			got, err := st.CredentialByID(context.Background(), cred.ID)
			require.NoError(t, err)
			assert.Equal(t, store.CredentialPending, got.Status)
			assert.Nil(t, got.PasswordHash)
			assert.Equal(t, 1, waitingPasswords(t, st, cred.ID))
		}},
		{"recording active activates the credential with the chosen password, and a retry changes nothing", func(t *testing.T, st *store.Store, acts *activities.Activities, issuanceID string, cred store.Credential) {
			activationID, err := answerActivation(t, st, cred, "hash-1")
			require.NoError(t, err)
			require.NoError(t, recordActive(acts, issuanceID, activationID))
			require.NoError(t, recordActive(acts, issuanceID, activationID), "a retried activity")
			got, err := st.CredentialByID(context.Background(), cred.ID)
			require.NoError(t, err)
			assert.Equal(t, store.CredentialActive, got.Status)
			require.NotNil(t, got.PasswordHash)
			assert.Equal(t, "hash-1", *got.PasswordHash)
			assert.NotNil(t, got.ActivatedAt)
			assert.Zero(t, waitingPasswords(t, st, cred.ID), "the hash is kept once, in the credential")
			iss, err := st.GetIssuance(context.Background(), issuanceID, store.Scope{})
			require.NoError(t, err)
			assert.Equal(t, workflows.StatusActive, iss.Status)
		}},
		{"an answer whose Update never came is superseded by the next activation", func(t *testing.T, st *store.Store, acts *activities.Activities, issuanceID string, cred store.Credential) {
			_, err := answerActivation(t, st, cred, "hash-lost") // the API died before the Update
			require.NoError(t, err)
			activationID, err := answerActivation(t, st, cred, "hash-2")
			require.NoError(t, err)
			require.NoError(t, recordActive(acts, issuanceID, activationID))
			got, err := st.CredentialByID(context.Background(), cred.ID)
			require.NoError(t, err)
			assert.Equal(t, "hash-2", *got.PasswordHash)
			assert.Zero(t, waitingPasswords(t, st, cred.ID))
		}},
		{"an unknown activation records nothing and is not retried", func(t *testing.T, st *store.Store, acts *activities.Activities, issuanceID string, cred store.Credential) {
			err := recordActive(acts, issuanceID, "no-such-challenge")
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "%v", err)
			assert.True(t, appErr.NonRetryable())
			iss, err := st.GetIssuance(context.Background(), issuanceID, store.Scope{})
			require.NoError(t, err)
			assert.Equal(t, workflows.StatusAwaitingActivation, iss.Status, "the status waits with the credential")
			for _, e := range iss.Events {
				assert.NotEqual(t, "activated", e.Type)
			}
		}},
		{"a revocation forgets the waiting password and refuses a later answer", func(t *testing.T, st *store.Store, acts *activities.Activities, issuanceID string, cred store.Credential) {
			_, err := answerActivation(t, st, cred, "hash-1")
			require.NoError(t, err)
			require.NoError(t, acts.RevokeCredentials(context.Background(), issuanceID))
			assert.Zero(t, waitingPasswords(t, st, cred.ID))
			_, err = answerActivation(t, st, cred, "hash-2")
			assert.ErrorIs(t, err, store.ErrChallengeClosed)
			assert.Zero(t, waitingPasswords(t, st, cred.ID))
		}},
	}
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			acts := newActivities(t, st)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					issuanceID, cred := awaitingActivation(t, st, acts)
					tc.run(t, st, acts, issuanceID, cred)
				})
			}
		})
	}
}
