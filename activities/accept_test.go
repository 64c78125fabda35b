package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// TestAcceptIssuanceIsIdempotentAndGuarded: a retried accept step writes
// nothing more; another open issuance and a spent witness are refusals
// that write nothing.
func TestAcceptIssuanceIsIdempotentAndGuarded(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			a := newActivities(t, st)
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Millisecond)
			in := func(cpr string) workflows.AcceptInput {
				return workflows.AcceptInput{IssuanceID: uuid.Must(uuid.NewV7()).String(), Path: "counter", Deadline: now.Add(time.Hour),
					Acceptance: workflows.Acceptance{CPRHash: cpr, CPRMasked: "010190-XXXX", At: now, Actor: "caseworker:KBH",
						Witness: &workflows.WitnessStatement{WitnessCPRHash: "w", Since: now.Add(-time.Hour), Limit: 2}}}
			}
			first := in("h1")
			for range 2 {
				out, err := a.AcceptIssuance(ctx, first)
				require.NoError(t, err)
				require.Equal(t, workflows.AcceptAccepted, out.Outcome, "a retry finds its own row")
			}
			n, err := st.CountWitnessStatements(ctx, "w", now.Add(-time.Hour), "")
			require.NoError(t, err)
			require.Equal(t, 1, n, "the retry recorded no second statement")

			out, err := a.AcceptIssuance(ctx, in("h1"))
			require.NoError(t, err)
			require.Equal(t, workflows.AcceptOutcome{Outcome: workflows.AcceptOpenIssuance, OpenIssuanceID: first.IssuanceID}, out)

			second := in("h2")
			out, err = a.AcceptIssuance(ctx, second)
			require.NoError(t, err)
			require.Equal(t, workflows.AcceptAccepted, out.Outcome)
			third := in("h3")
			out, err = a.AcceptIssuance(ctx, third)
			require.NoError(t, err)
			require.Equal(t, workflows.AcceptWitnessLimit, out.Outcome)
			_, err = st.GetIssuance(ctx, third.IssuanceID, store.Scope{})
			require.Error(t, err, "a refusal writes no row")
			n, err = st.CountWitnessStatements(ctx, "w", now.Add(-time.Hour), "")
			require.NoError(t, err)
			require.Equal(t, 2, n)
		})
	}
}
