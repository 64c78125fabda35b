package activities_test

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/opennemid/nemid/activities"
	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/letterkeys"
	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

func newActivities(t testing.TB, st *store.Store) *activities.Activities {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	keys, err := letterkeys.OpenDir(filepath.Join(t.TempDir(), "letter-keys"))
	require.NoError(t, err)
	return &activities.Activities{Store: st, HashKeys: domain.NewHashKeys("test", key), LetterKeys: keys}
}

// acceptedIssuance writes the row the API would have written.
func acceptedIssuance(t testing.TB, st *store.Store) string {
	now := time.Now().UTC()
	iss := store.Issuance{ID: uuid.NewString(), Path: "counter", Status: "received", CPRHash: uuid.NewString(),
		CPRMasked: "010190-XXXX", Reasons: "[]", CreatedAt: now, UpdatedAt: now}
	require.NoError(t, st.CreateIssuance(context.Background(), &iss, nil))
	return iss.ID
}

var soeren = workflows.Recipient{Name: "Søren Ærø Nielsen", Lines: []string{"Nørregade 1"}, Postcode: "1165", City: "København K", Country: "DK"}

func mintInput(issuanceID, delivery string) workflows.MintInput {
	return workflows.MintInput{IssuanceID: issuanceID, Delivery: delivery, CardRecipient: soeren, PasswordRecipient: soeren, At: time.Now()}
}

func TestMintIsIdempotent(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			acts := newActivities(t, st)
			id := acceptedIssuance(t, st)
			ctx := context.Background()

			// A retry racing the first attempt, and a retry after it.
			var wg sync.WaitGroup
			results := make([]workflows.MintResult, 3)
			errs := make([]error, 3)
			for i := range 2 {
				wg.Add(1)
				go func() { defer wg.Done(); results[i], errs[i] = acts.MintCredentials(ctx, mintInput(id, "letters")) }()
			}
			wg.Wait()
			results[2], errs[2] = acts.MintCredentials(ctx, mintInput(id, "letters"))
			for _, err := range errs {
				require.NoError(t, err)
			}
			for _, r := range results[1:] {
				assert.Equal(t, results[0], r, "every attempt answers the same letters and card")
			}
			letters, err := st.LettersOfIssuance(ctx, id)
			require.NoError(t, err)
			require.Len(t, letters, 2, "one code card letter and one password letter, never more")
			kinds := map[string]bool{}
			for _, l := range letters {
				kinds[l.Kind] = true
				assert.Equal(t, "queued", l.Status)
				assert.NotEmpty(t, l.PDFSHA256)
			}
			assert.Equal(t, map[string]bool{"code_card": true, "password": true}, kinds)
			cred, err := st.CredentialOfIssuance(ctx, id)
			require.NoError(t, err)
			cards, err := st.CardsOf(ctx, cred.ID)
			require.NoError(t, err)
			require.Len(t, cards, 1, "one card minted")
			assert.Len(t, cred.UserID, 9)
		})
	}
}

func TestMintRefusesWhatARetryCannotFix(t *testing.T) {
	st := testenv.SQLite(t)
	acts := newActivities(t, st)
	cases := []struct {
		name string
		in   workflows.MintInput
	}{
		{"no issuance id", workflows.MintInput{Delivery: "letters", CardRecipient: soeren}},
		{"an unknown delivery", workflows.MintInput{IssuanceID: "x", Delivery: "pigeon", CardRecipient: soeren}},
		{"no recipient", workflows.MintInput{IssuanceID: "x", Delivery: "letters"}},
		{"an unknown issuance", mintInput("does-not-exist", "letters")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := acts.MintCredentials(context.Background(), tc.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), workflows.ErrTypeInvalid, "marked non-retryable: %v", err)
		})
	}
}

// TestARetriedMintOfACredentialWithoutACardStops: a retry finds the
// credential already minted but no card (damage: SaveMinted stores them
// together). The activity must say so, not retry forever on a formatted
// nil error.
func TestARetriedMintOfACredentialWithoutACardStops(t *testing.T) {
	st := testenv.SQLite(t)
	acts := newActivities(t, st)
	ctx := context.Background()
	id := acceptedIssuance(t, st)
	_, err := acts.MintCredentials(ctx, mintInput(id, "letters"))
	require.NoError(t, err)
	cred, err := st.CredentialOfIssuance(ctx, id)
	require.NoError(t, err)
	for _, q := range []string{ // the damage: the credential without its card
		`DELETE FROM card_codes WHERE card_number IN (SELECT card_number FROM code_cards WHERE credential_id = ?)`,
		`DELETE FROM code_cards WHERE credential_id = ?`,
	} {
		_, err := st.ExecForTests(ctx, q, cred.ID)
		require.NoError(t, err)
	}

	_, err = acts.MintCredentials(ctx, mintInput(id, "letters"))
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "an application error: %v", err)
	assert.True(t, appErr.NonRetryable(), "a retry cannot add the card: %v", err)
	assert.Contains(t, err.Error(), "has no code card")
	assert.NotContains(t, err.Error(), "<nil>")
}

// BenchmarkMintAndPrint measures the whole activity (draw, MAC 148 codes,
// render two PDFs, one transaction on SQLite) against rendering a one-line
// fpdf page in the same run.
func BenchmarkMintAndPrint(b *testing.B) {
	st, err := store.OpenSQLite(b.TempDir() + "/bench.db")
	require.NoError(b, err)
	require.NoError(b, st.Migrate(context.Background()))
	acts := newActivities(b, st)
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = acceptedIssuance(b, st)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := acts.MintCredentials(context.Background(), mintInput(ids[i], "letters")); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineOneLinePage(b *testing.B) {
	for i := 0; i < b.N; i++ {
		pdf := fpdf.New("P", "mm", "A4", "")
		pdf.AddPage()
		pdf.SetFont("Helvetica", "", 12)
		pdf.Cell(40, 10, "NemID")
		var buf nopWriter
		if err := pdf.Output(&buf); err != nil {
			b.Fatal(err)
		}
	}
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
