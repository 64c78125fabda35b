package activities_test

import (
	"context"
	"io/fs"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"

	"github.com/opennemid/nemid/internal/testenv"
)

// TestAddressProtectionTurnedOnRedirectsLaterLetters: once the register
// import turns address protection on, the replacement card and the
// reminder go care of the issuing centre — KBH for a NemID from a bank or
// from abroad — whatever address the workflow had; and a revoked NemID
// gets no replacement card at all.
func TestAddressProtectionTurnedOnRedirectsLaterLetters(t *testing.T) {
	aar, hel, rep, bank := "AAR", "HEL", "LONDON", "1234"
	cases := []struct {
		name   string
		path   string
		centre *string
		rep    *string
		bank   *string
		want   string
	}{
		{"counter at Aarhus", "counter", &aar, nil, nil, "c/o Borgerservice Aarhus"},
		{"counter at an imported centre", "counter", &hel, nil, nil, "c/o Borgerservice Helsingør"},
		{"bank", "bank", nil, nil, &bank, "c/o Borgerservice København"},
		{"abroad", "abroad", nil, &rep, nil, "c/o Borgerservice København"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := testenv.SQLite(t)
			acts := newActivities(t, st)
			ctx := context.Background()
			now := time.Now().UTC()
			// A centre `nemid centres import` added: the store's centres are
			// the ones in force, not only the built-in four.
			require.NoError(t, st.UpsertCentres(ctx, []domain.ServiceCentre{{Code: "HEL", Name: "Borgerservice Helsingør",
				Kind: domain.CentreCitizenService, Address: "Helsingør Rådhus, Stengade 59", Postcode: "3000", City: "Helsingør",
				Hours: [7]string{"09:00-15:00", "09:00-15:00", "09:00-15:00", "09:00-17:00", "09:00-13:00", "", ""}, SlotMinutes: 15, Desks: 2}}))
			person := store.Person{CPR: "0101901234", Name: "Søren Ærø Nielsen", Address: "Nørregade 1", Postcode: "1165", City: "København K", Country: "DK", UpdatedAt: now}
			_, err := st.ImportPersons(ctx, []store.Person{person}, now)
			require.NoError(t, err)
			cpr, err := domain.ParseCPR(person.CPR, now)
			require.NoError(t, err)
			iss := store.Issuance{ID: uuid.NewString(), Path: tc.path, Status: "awaiting_activation", CPRHash: domain.CPRLookupHash(acts.HashKeys.Lookup(), cpr),
				CPRMasked: cpr.Masked(), Centre: tc.centre, Representation: tc.rep, Bank: tc.bank, Reasons: "[]", CreatedAt: now, UpdatedAt: now}
			require.NoError(t, st.CreateIssuance(ctx, &iss, nil))
			home := workflows.Recipient{Name: person.Name, Lines: []string{"Nørregade 1"}, Postcode: "1165", City: "København K", Country: "DK"}
			minted, err := acts.MintCredentials(ctx, workflows.MintInput{IssuanceID: iss.ID, Delivery: "letters", CardRecipient: home, PasswordRecipient: home, At: now})
			require.NoError(t, err)

			person.AddressProtected = true
			changes, err := st.ImportPersons(ctx, []store.Person{person}, now)
			require.NoError(t, err)
			require.Len(t, changes, 1)

			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestActivityEnvironment()
			env.RegisterActivity(acts.ReplaceCard)
			env.RegisterActivity(acts.QueueReminder)
			_, err = env.ExecuteActivity(workflows.ActivityReplaceCard, workflows.ReplacementInput{CredentialID: minted.CredentialID, Seq: 2})
			require.NoError(t, err)
			_, err = env.ExecuteActivity(workflows.ActivityQueueReminder, workflows.ReminderInput{IssuanceID: iss.ID, Recipient: home,
				ActivateBy: now.Add(72 * time.Hour), At: now})
			require.NoError(t, err)

			letters, err := st.LettersOfIssuance(ctx, iss.ID)
			require.NoError(t, err)
			later := 0
			for _, l := range letters {
				if l.Kind != store.KindReplacementCard && l.Kind != store.KindReminder {
					continue
				}
				later++
				r, err := l.RecipientOf()
				require.NoError(t, err)
				assert.Equal(t, tc.want, r.Lines[0], "%s letter", l.Kind)
				if tc.centre == &hel {
					assert.Equal(t, []string{"Helsingør Rådhus", "Stengade 59"}, r.Lines[1:], "the imported centre's address")
					assert.Equal(t, "3000", r.Postcode)
					assert.Equal(t, "Helsingør", r.City)
				}
				assert.Equal(t, person.Name, r.Name)
			}
			assert.Equal(t, 2, later)

			queued, err := st.LettersToWithdraw(ctx, []string{iss.ID})
			require.NoError(t, err)
			require.Len(t, queued, 4)
			for _, id := range queued {
				_, err := os.Stat(acts.LetterKeys.File(id))
				require.NoError(t, err, "a queued letter has its key")
			}
			require.NoError(t, acts.RevokeCredentials(ctx, iss.ID))
			_, err = env.ExecuteActivity(workflows.ActivityReplaceCard, workflows.ReplacementInput{CredentialID: minted.CredentialID, Seq: 3})
			require.ErrorContains(t, err, "revoked", "no card for a revoked NemID")
			withdrawn, err := st.WithdrawnLetterIDs(ctx, []string{iss.ID})
			require.NoError(t, err)
			assert.Len(t, withdrawn, 4, "the queued letters were withdrawn")
			for _, id := range withdrawn {
				_, err := os.Stat(acts.LetterKeys.File(id))
				assert.ErrorIs(t, err, fs.ErrNotExist, "the key of withdrawn letter %s is destroyed", id)
			}
		})
	}
}
