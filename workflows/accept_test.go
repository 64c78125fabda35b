package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

// acceptingInput is an input as the API sends it since acceptance moved
// into the workflow: the row to record comes with it.
func acceptingInput(env *testsuite.TestWorkflowEnvironment, witness bool) IssuanceInput {
	in := input(env, "handover")
	in.DeliveryDeadline = in.DeliveryDeadline.UTC() // as it comes back from a payload
	kbh := "KBH"
	in.Acceptance = &Acceptance{CPRHash: "h:cpr", CPRMasked: "010190-XXXX", Centre: &kbh, PublicSignature: true,
		At: env.Now().UTC(), Actor: "caseworker:KBH", Detail: "application accepted at centre KBH"}
	if witness {
		in.Acceptance.Witness = &WitnessStatement{WitnessCPRHash: "h:witness", Since: env.Now().UTC().Add(-120 * 24 * time.Hour), Limit: 3}
	}
	return in
}

type acceptAnswer struct {
	rejected error
	result   AcceptResult
	err      error
}

// sendAccept sends the accept Update the way Update-with-Start does: in the
// workflow's first task.
func sendAccept(env *testsuite.TestWorkflowEnvironment, issuanceID string, a *acceptAnswer) {
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateAccept, AcceptUpdateID(issuanceID), &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { a.rejected = err },
			OnComplete: func(v interface{}, err error) {
				a.err = err
				if r, ok := v.(AcceptResult); ok {
					a.result = r
				}
			},
		}, AcceptRequest{IssuanceID: issuanceID})
	}, 0)
}

func TestTheAcceptUpdateAnswersTheAcceptStep(t *testing.T) {
	cases := []struct {
		name    string
		outcome AcceptOutcome
		witness bool
	}{
		{"accepted", AcceptOutcome{Outcome: AcceptAccepted}, true},
		{"another open issuance", AcceptOutcome{Outcome: AcceptOpenIssuance, OpenIssuanceID: "iss-0"}, false},
		{"the witness limit reached meanwhile", AcceptOutcome{Outcome: AcceptWitnessLimit}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, f := newEnv(t)
			f.outcome = tc.outcome
			in := acceptingInput(env, tc.witness)
			var answer acceptAnswer
			sendAccept(env, in.IssuanceID, &answer)
			var cancel updateResult
			env.RegisterDelayedCallback(func() {
				env.UpdateWorkflow(UpdateCancel, "c", cancel.callbacks(), CancelRequest{Reason: "test", Actor: "caseworker:KBH"})
			}, time.Hour)
			env.ExecuteWorkflow(CounterIssuance, in)

			require.NoError(t, answer.rejected)
			require.NoError(t, answer.err)
			require.Equal(t, tc.outcome, answer.result.AcceptOutcome)
			require.Len(t, f.accepts, 1, "the accept step runs once, first")
			require.Equal(t, AcceptInput{IssuanceID: in.IssuanceID, Path: "counter", Deadline: in.DeliveryDeadline, Acceptance: *in.Acceptance}, f.accepts[0])
			require.Equal(t, f.accepts[0], answer.result.Application, "the answer carries the application as recorded")
			if tc.outcome.Outcome == AcceptAccepted {
				require.Equal(t, StatusCancelled, result(t, env))
				require.Equal(t, []string{StatusAwaitingHandover, StatusCancelled}, f.statuses())
				require.Len(t, f.mints, 1)
				return
			}
			require.Equal(t, StatusRefused, result(t, env), "a refused application ends the workflow")
			require.Empty(t, f.transitions, "and it leaves nothing behind: no status, no event")
			require.Empty(t, f.mints)
			require.Zero(t, f.revoked)
			require.False(t, cancel.accepted, "nothing is left to cancel")
		})
	}
}

func TestTheAcceptUpdateRefusesAnotherIssuance(t *testing.T) {
	env, _ := newEnv(t)
	in := acceptingInput(env, false)
	var answer acceptAnswer
	sendAccept(env, "someone-else", &answer)
	var cancel updateResult
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateCancel, "c", cancel.callbacks(), CancelRequest{Reason: "test", Actor: "caseworker:KBH"})
	}, time.Hour)
	env.ExecuteWorkflow(CounterIssuance, in)
	require.Error(t, answer.rejected, "the validator refuses an Update for another issuance")
	require.Equal(t, StatusCancelled, result(t, env))
}

// A workflow started by an API that wrote the row itself (no Acceptance)
// runs no accept step and has no accept Update.
func TestAWorkflowWhoseRowTheAPIWroteSkipsTheAcceptStep(t *testing.T) {
	env, f := newEnv(t)
	in := input(env, "handover")
	var answer acceptAnswer
	sendAccept(env, in.IssuanceID, &answer)
	var cancel updateResult
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateCancel, "c", cancel.callbacks(), CancelRequest{Reason: "test", Actor: "caseworker:KBH"})
	}, time.Hour)
	env.ExecuteWorkflow(CounterIssuance, in)
	require.Error(t, answer.rejected, "no accept Update without an acceptance")
	require.Empty(t, f.accepts)
	require.Equal(t, StatusCancelled, result(t, env))
}
