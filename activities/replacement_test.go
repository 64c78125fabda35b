package activities_test

import (
	"context"
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

// An abroad-path person gets the replacement card at the order's address,
// not care of a centre (there is none) nor at the register's address.
func TestReplacementForAnAbroadOrderGoesToTheOrdersAddress(t *testing.T) {
	st := testenv.SQLite(t)
	acts := newActivities(t, st)
	ctx := context.Background()
	now := time.Now().UTC()
	require.NoError(t, st.UpsertPersons(ctx, []store.Person{{CPR: "2007884112", Name: "Jens Udlandsdansker",
		Address: "10 Downing Street, Flat 2", Postcode: "SW1A 2AA", City: "London", Country: "GB", DanishPassport: "DP1234567", UpdatedAt: now}}))
	cpr, err := domain.ParseCPR("2007884112", now)
	require.NoError(t, err)
	rep := "LONDON"
	iss := store.Issuance{ID: uuid.NewString(), Path: "abroad", Status: "awaiting_activation", CPRHash: domain.CPRLookupHash(acts.HashKeys.Lookup(), cpr),
		CPRMasked: cpr.Masked(), Representation: &rep, Reasons: "[]", CreatedAt: now, UpdatedAt: now}
	require.NoError(t, st.CreateIssuance(ctx, &iss, nil))
	order := workflows.Recipient{Name: "Jens Udlandsdansker", Lines: []string{"221B Baker Street"}, Postcode: "NW1 6XE", City: "London", Country: "GB"}
	minted, err := acts.MintCredentials(ctx, workflows.MintInput{IssuanceID: iss.ID, Delivery: "representation", CardRecipient: order,
		PasswordRecipient: workflows.CareOfRepresentation(order.Name, rep), At: now})
	require.NoError(t, err)

	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts.ReplaceCard)
	_, err = env.ExecuteActivity(workflows.ActivityReplaceCard, workflows.ReplacementInput{CredentialID: minted.CredentialID, Seq: 2})
	require.NoError(t, err)

	letters, err := st.LettersOfIssuance(ctx, iss.ID)
	require.NoError(t, err)
	var replacement *store.Recipient
	for _, l := range letters {
		if l.Kind == store.KindReplacementCard {
			r, err := l.RecipientOf()
			require.NoError(t, err)
			replacement = &r
		}
	}
	require.NotNil(t, replacement, "a replacement letter is queued")
	assert.Equal(t, []string{"221B Baker Street"}, replacement.Lines)
	assert.Equal(t, "GB", replacement.Country)
	assert.Equal(t, "Jens Udlandsdansker", replacement.Name)
}
