package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

// TestActorNamesReachTheTimeline: the name of the token behind a person's
// Update travels with the transition it causes (and the pickup's fee); the
// workflow's own moves and the citizen's activation carry none.
func TestActorNamesReachTheTimeline(t *testing.T) {
	cases := []struct {
		name     string
		workflow any
		run      func(env *testsuite.TestWorkflowEnvironment)
		in       func(env *testsuite.TestWorkflowEnvironment) IssuanceInput
		events   map[string]string // event type → actor name ("" for none)
	}{
		{"handover then cancel", CounterIssuance, func(env *testsuite.TestWorkflowEnvironment) {
			env.RegisterDelayedCallback(func() {
				env.UpdateWorkflow(UpdateHandover, "h", (&updateResult{}).callbacks(),
					HandoverRequest{Actor: "caseworker:KBH", ActorName: "Mette Jensen"})
			}, time.Hour)
			env.RegisterDelayedCallback(func() {
				env.UpdateWorkflow(UpdateCancel, "c", (&updateResult{}).callbacks(),
					CancelRequest{Reason: "withdrawn", Actor: "admin:all", ActorName: "Ole Admin"})
			}, 2*time.Hour)
		}, func(env *testsuite.TestWorkflowEnvironment) IssuanceInput { return input(env, "handover") },
			map[string]string{"": "", "handover_printed": "Mette Jensen", "cancelled": "Ole Admin"}},
		{"pickup then activation", AbroadIssuance, func(env *testsuite.TestWorkflowEnvironment) {
			dispatchBoth(env, time.Hour)
			env.RegisterDelayedCallback(func() {
				req := pickupBy("embassy:LONDON")
				req.ActorName = "Consul Hansen"
				env.UpdateWorkflow(UpdatePickup, "p", (&updateResult{}).callbacks(), req)
			}, 2*time.Hour)
			env.RegisterDelayedCallback(func() {
				env.UpdateWorkflow(UpdateActivate, "a", (&updateResult{}).callbacks(), ActivationRequest{ActivationID: "act-1"})
			}, 3*time.Hour)
		}, abroadInput, map[string]string{"": "", "pickup_confirmed": "Consul Hansen", "activated": ""}},
		{"no handover: expired by the system", CounterIssuance, func(env *testsuite.TestWorkflowEnvironment) {},
			func(env *testsuite.TestWorkflowEnvironment) IssuanceInput { return input(env, "handover") },
			map[string]string{"": "", "expired": ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, f := newEnv(t)
			c.run(env)
			env.ExecuteWorkflow(c.workflow, c.in(env))
			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())
			got := map[string]string{}
			for _, tr := range f.transitions {
				got[tr.EventType] = tr.ActorName
				if tr.Fee != nil {
					require.Equal(t, "Consul Hansen", tr.ActorName, "the fee is recorded with the same transition")
				}
			}
			require.Equal(t, c.events, got)
		})
	}
}
