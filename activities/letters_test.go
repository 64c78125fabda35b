package activities_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/opennemid/nemid/activities"
	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/letterkeys"
	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// keyFiles lists the key directory: letter ids with a key, and anything else.
func keyFiles(t *testing.T, keys *letterkeys.Dir) []string {
	t.Helper()
	entries, err := os.ReadDir(keys.Path())
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".key"))
	}
	sort.Strings(out)
	return out
}

// storedDocument loads a letter's stored PDF, postal or handover.
func storedDocument(t *testing.T, st *store.Store, l store.Letter) []byte {
	t.Helper()
	ctx := context.Background()
	if l.Kind == store.KindHandover {
		held, err := st.HeldHandoverDocument(ctx, l.IssuanceID)
		require.NoError(t, err)
		return held.PDF
	}
	got, err := st.PostalLetter(ctx, l.ID)
	require.NoError(t, err)
	return got.PDF
}

// registeredIssuance writes Søren to the register and an issuance with his
// real lookup hash, so replacement cards find his address.
func registeredIssuance(t *testing.T, st *store.Store, acts *activities.Activities) string {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	require.NoError(t, st.UpsertPersons(ctx, []store.Person{{CPR: "0101901234", Name: soeren.Name, Address: "Nørregade 1",
		Postcode: "1165", City: "København K", Country: "DK", UpdatedAt: now}}))
	cpr, err := domain.ParseCPR("0101901234", now)
	require.NoError(t, err)
	centre := "KBH"
	iss := store.Issuance{ID: uuid.NewString(), Path: "counter", Status: "received", CPRHash: domain.CPRLookupHash(acts.HashKeys.Lookup(), cpr),
		CPRMasked: cpr.Masked(), Centre: &centre, Reasons: "[]", CreatedAt: now, UpdatedAt: now}
	require.NoError(t, st.CreateIssuance(ctx, &iss, nil))
	return iss.ID
}

// Every letter an activity stores — code card, password, handover,
// reminder, replacement card — is sealed under a key of its own in the key
// directory, and retries (racing or after success) leave exactly one key
// per stored letter: a losing attempt destroys the keys it created, and no
// stored letter is ever without its key.
func TestEveryStoredLetterIsSealedUnderAKeyOfItsOwn(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			acts := newActivities(t, st)
			ctx := context.Background()
			lettersID := registeredIssuance(t, st, acts)
			handoverID := acceptedIssuance(t, st)

			var wg sync.WaitGroup
			var minted workflows.MintResult
			for i := range 3 { // racing attempts, as a retry after a lost answer would run
				wg.Add(2)
				go func() {
					defer wg.Done()
					r, err := acts.MintCredentials(ctx, mintInput(lettersID, "letters"))
					assert.NoError(t, err)
					if i == 0 {
						minted = r
					}
				}()
				go func() {
					defer wg.Done()
					_, err := acts.MintCredentials(ctx, mintInput(handoverID, "handover"))
					assert.NoError(t, err)
				}()
			}
			wg.Wait()
			reminder := workflows.ReminderInput{IssuanceID: lettersID, Recipient: soeren, ActivateBy: time.Now().Add(72 * time.Hour), At: time.Now()}
			first, err := acts.QueueReminder(ctx, reminder)
			require.NoError(t, err)
			again, err := acts.QueueReminder(ctx, reminder)
			require.NoError(t, err)
			assert.Equal(t, first, again, "the reminder is queued once")

			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestActivityEnvironment()
			env.RegisterActivity(acts.ReplaceCard)
			for range 2 {
				_, err = env.ExecuteActivity(workflows.ActivityReplaceCard, workflows.ReplacementInput{CredentialID: minted.CredentialID, Seq: 2})
				require.NoError(t, err)
			}

			var stored []string
			kinds := map[string]int{}
			for _, id := range []string{lettersID, handoverID} {
				letters, err := st.LettersOfIssuance(ctx, id)
				require.NoError(t, err)
				for _, l := range letters {
					stored = append(stored, l.ID)
					kinds[l.Kind]++
					doc := storedDocument(t, st, l)
					require.True(t, letterkeys.IsSealed(doc), "%s letter stored sealed", l.Kind)
					pdf, err := acts.LetterKeys.Unseal(l.ID, doc)
					require.NoError(t, err, "%s letter opens with its own key", l.Kind)
					assert.True(t, bytes.HasPrefix(pdf, []byte("%PDF")), l.Kind)
					sealedSum, plainSum := sha256.Sum256(doc), sha256.Sum256(pdf)
					assert.Equal(t, hex.EncodeToString(sealedSum[:]), l.PDFSHA256, "the digest is of the sealed bytes")
					assert.NotEqual(t, hex.EncodeToString(plainSum[:]), l.PDFSHA256, "no digest of the plaintext is stored")
				}
			}
			assert.Equal(t, map[string]int{"code_card": 1, "password": 1, "reminder": 1, "replacement_card": 1, "handover": 1}, kinds)
			sort.Strings(stored)
			assert.Equal(t, stored, keyFiles(t, acts.LetterKeys), "one key per stored letter, no orphans and no unfinished files")
		})
	}
}

// Revocation (expiry, cancel) purges a handover document still held: its
// key is destroyed, and a repeat is harmless.
func TestRevocationDestroysTheHeldHandoverKey(t *testing.T) {
	st := testenv.SQLite(t)
	acts := newActivities(t, st)
	ctx := context.Background()
	id := acceptedIssuance(t, st)
	_, err := acts.MintCredentials(ctx, mintInput(id, "handover"))
	require.NoError(t, err)
	held, err := st.HeldHandoverDocument(ctx, id)
	require.NoError(t, err)
	_, err = acts.LetterKeys.Get(held.ID)
	require.NoError(t, err, "the held document has its key")

	require.NoError(t, acts.RevokeCredentials(ctx, id))
	_, err = acts.LetterKeys.Get(held.ID)
	assert.ErrorIs(t, err, letterkeys.ErrNoKey)
	_, err = st.HeldHandoverDocument(ctx, id)
	assert.ErrorIs(t, err, store.ErrGone)
	require.NoError(t, acts.RevokeCredentials(ctx, id), "revoking again changes nothing")
	assert.Empty(t, keyFiles(t, acts.LetterKeys))
}

// Without a key directory an activity refuses to print, rather than store
// a readable PDF.
func TestMintWithoutAKeyDirectoryIsRefused(t *testing.T) {
	st := testenv.SQLite(t)
	acts := newActivities(t, st)
	acts.LetterKeys = nil
	_, err := acts.MintCredentials(context.Background(), mintInput(acceptedIssuance(t, st), "letters"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "NEMID_LETTER_KEY_DIR")
}
