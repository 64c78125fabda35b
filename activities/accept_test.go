package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// TestAcceptIssuanceIsIdempotentAndGuarded: a retried accept step writes
// nothing more; another open issuance, a spent witness and a witness the
// register does not hold (or holds as deceased) are refusals that write
// nothing, and a broken witness rule is reported before the open issuance.
func TestAcceptIssuanceIsIdempotentAndGuarded(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			a := newActivities(t, st)
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Millisecond)
			const karen, poul = "1210701234", "0303504321"
			require.NoError(t, st.UpsertPersons(ctx, []store.Person{
				{CPR: karen, Name: "Karen Vidne", Country: "DK"},
				{CPR: poul, Name: "Poul Afdød", Country: "DK", Deceased: true},
			}))
			hash := func(cpr string) string {
				c, err := domain.ParseCPR(cpr, now)
				require.NoError(t, err)
				return domain.CPRLookupHash(a.HashKeys.Lookup(), c)
			}
			w := hash(karen)
			in := func(cpr, witness string) workflows.AcceptInput {
				return workflows.AcceptInput{IssuanceID: uuid.Must(uuid.NewV7()).String(), Path: "counter", Deadline: now.Add(time.Hour),
					Acceptance: workflows.Acceptance{CPRHash: cpr, CPRMasked: "010190-XXXX", At: now, Actor: "caseworker:KBH",
						Witness: &workflows.WitnessStatement{WitnessCPRHash: witness, Since: now.Add(-time.Hour), Limit: 2}}}
			}
			first := in("h1", w)
			for range 2 {
				out, err := a.AcceptIssuance(ctx, first)
				require.NoError(t, err)
				require.Equal(t, workflows.AcceptAccepted, out.Outcome, "a retry finds its own row")
			}
			n, err := st.CountWitnessStatements(ctx, w, now.Add(-time.Hour), "")
			require.NoError(t, err)
			require.Equal(t, 1, n, "the retry recorded no second statement")

			for name, witness := range map[string]string{"not in the register": hash("0101400000"), "deceased": hash(poul)} {
				refused := in("h1", witness)
				out, err := a.AcceptIssuance(ctx, refused)
				require.NoError(t, err)
				require.Equal(t, workflows.AcceptOutcome{Outcome: workflows.AcceptWitnessUnknown}, out,
					"%s: the witness rule (422) comes before the open issuance (409)", name)
				_, err = st.GetIssuance(ctx, refused.IssuanceID, store.Scope{})
				require.ErrorIs(t, err, store.ErrNotFound, "a refusal writes no row")
			}

			out, err := a.AcceptIssuance(ctx, in("h1", w))
			require.NoError(t, err)
			require.Equal(t, workflows.AcceptOutcome{Outcome: workflows.AcceptOpenIssuance, OpenIssuanceID: first.IssuanceID}, out)
			n, err = st.CountWitnessStatements(ctx, w, now.Add(-time.Hour), "")
			require.NoError(t, err)
			require.Equal(t, 1, n, "the conflict rolled its statement back")

			second := in("h2", w)
			out, err = a.AcceptIssuance(ctx, second)
			require.NoError(t, err)
			require.Equal(t, workflows.AcceptAccepted, out.Outcome)
			third := in("h3", w)
			out, err = a.AcceptIssuance(ctx, third)
			require.NoError(t, err)
			require.Equal(t, workflows.AcceptWitnessLimit, out.Outcome)
			_, err = st.GetIssuance(ctx, third.IssuanceID, store.Scope{})
			require.Error(t, err, "a refusal writes no row")
			n, err = st.CountWitnessStatements(ctx, w, now.Add(-time.Hour), "")
			require.NoError(t, err)
			require.Equal(t, 2, n)
			limitBeforeConflict, err := a.AcceptIssuance(ctx, in("h1", w))
			require.NoError(t, err)
			require.Equal(t, workflows.AcceptWitnessLimit, limitBeforeConflict.Outcome, "the 422 comes before the 409")
		})
	}
}
