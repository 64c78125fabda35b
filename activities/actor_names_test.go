package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// TestTransitionsKeepTheActorsName: a transition's actor name lands on its
// timeline event and on the fee recorded with it; none is stored as null.
func TestTransitionsKeepTheActorsName(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			acts := newActivities(t, st)
			id := registeredIssuance(t, st, acts)
			ctx := context.Background()
			now := time.Now().UTC()
			deadline := now.Add(time.Hour)
			require.NoError(t, acts.RecordTransition(ctx, workflows.TransitionInput{IssuanceID: id, Status: workflows.StatusLettersPosted,
				Deadline: &deadline, At: now}))
			require.NoError(t, acts.RecordTransition(ctx, workflows.TransitionInput{IssuanceID: id, Status: workflows.StatusAwaitingActivation,
				Deadline: &deadline, EventKey: "pickup_confirmed", EventType: "pickup_confirmed", Actor: "embassy:LONDON",
				ActorName: "Consul Hansen", Detail: "collected", At: now,
				Fee: &workflows.FeePaid{Representation: "LONDON", AmountDKK: 200, Receipt: "R-1"}}))
			require.NoError(t, acts.RecordTransition(ctx, workflows.TransitionInput{IssuanceID: id, Status: workflows.StatusExpired,
				EventKey: "expired", EventType: "expired", Actor: "system", Detail: "deadline", At: now}))

			iss, err := st.GetIssuance(ctx, id, store.Scope{})
			require.NoError(t, err)
			names := map[string]*string{}
			for _, e := range iss.Events {
				names[e.Type] = e.ActorName
			}
			require.NotNil(t, names["pickup_confirmed"])
			assert.Equal(t, "Consul Hansen", *names["pickup_confirmed"])
			assert.Nil(t, names["expired"], "the system has no name")
			fee, err := st.FeeOf(ctx, id)
			require.NoError(t, err)
			require.NotNil(t, fee.ActorName)
			assert.Equal(t, "Consul Hansen", *fee.ActorName)
		})
	}
}
