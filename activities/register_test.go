package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// TestCheckRegisterReportsFactsThatChangedSinceAcceptance runs the activity
// as the worker would, against a real register.
func TestCheckRegisterReportsFactsThatChangedSinceAcceptance(t *testing.T) {
	st := testenv.SQLite(t)
	person := func(cpr string, mutate func(*store.Person)) store.Person {
		p := store.Person{CPR: cpr, Name: "Søren", Address: "Nørregade 1", Postcode: "1165", City: "København K", Country: "DK", UpdatedAt: time.Now()}
		if mutate != nil {
			mutate(&p)
		}
		return p
	}
	require.NoError(t, st.UpsertPersons(context.Background(), []store.Person{
		person("0101901234", nil),
		person("0202851234", func(p *store.Person) { p.Deceased = true }),
		person("0303851234", func(p *store.Person) { p.AddressProtected = true }),
		person("0404851234", func(p *store.Person) { p.Country = "GB" }),
	}))
	cases := []struct {
		name      string
		cpr       string
		delivery  string
		codes     []string
		protected bool
		abroad    bool
	}{
		{"nothing changed", "0101901234", "letters", nil, false, false},
		{"left the register", "0505851234", "letters", []string{"cpr_unknown"}, false, false},
		{"died", "0202851234", "handover", []string{"deceased"}, false, false},
		{"protected, letters may not be posted", "0303851234", "letters", []string{"address_protected"}, true, false},
		{"protected, a handover is fine", "0303851234", "handover", nil, true, false},
		{"moved abroad, letters may not be posted", "0404851234", "letters", []string{"lives_abroad"}, false, true},
		{"moved abroad, a handover is fine", "0404851234", "handover", nil, false, true},
		{"an abroad order from someone still abroad", "0404851234", "representation", nil, false, true},
		{"an abroad order from someone who moved to Denmark", "0101901234", "representation", []string{"not_abroad"}, false, false},
		{"an abroad order from a protected person in Denmark", "0303851234", "representation", []string{"not_abroad"}, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestActivityEnvironment()
			env.RegisterActivity(newActivities(t, st).CheckRegister)
			val, err := env.ExecuteActivity(workflows.ActivityCheckRegister, workflows.RegisterCheck{IssuanceID: "i", CPR: tc.cpr, Delivery: tc.delivery})
			require.NoError(t, err)
			var facts workflows.RegisterFacts
			require.NoError(t, val.Get(&facts))
			var codes []string
			for _, v := range facts.Violations {
				codes = append(codes, v.Code)
			}
			assert.Equal(t, tc.codes, codes)
			assert.Equal(t, tc.protected, facts.AddressProtected)
			assert.Equal(t, tc.abroad, facts.LivesAbroad)
		})
	}
}
