package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
)

// recorder stands in for the database activity and keeps what it was asked
// to record, so a test can assert the transitions in order.
type recorder struct{ got []TransitionInput }

func (r *recorder) record(_ context.Context, in TransitionInput) error {
	r.got = append(r.got, in)
	return nil
}

func newEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *recorder) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	rec := &recorder{}
	env.RegisterActivityWithOptions(rec.record, activity.RegisterOptions{Name: ActivityRecordTransition})
	return env, rec
}

func input(env *testsuite.TestWorkflowEnvironment) IssuanceInput {
	return IssuanceInput{IssuanceID: "iss-1", Path: "counter", CPR: "0101901234", Centre: "KBH",
		DeliveryDeadline: env.Now().Add(336 * time.Hour)}
}

type updateResult struct {
	accepted bool
	rejected error
	state    State
	err      error
}

func (u *updateResult) callbacks() *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnAccept: func() { u.accepted = true },
		OnReject: func(err error) { u.rejected = err },
		OnComplete: func(v interface{}, err error) {
			u.err = err
			if s, ok := v.(State); ok {
				u.state = s
			}
		},
	}
}

func TestCounterIssuanceCancelUpdateEndsCancelled(t *testing.T) {
	env, rec := newEnv(t)
	var res updateResult
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateCancel, "u1", res.callbacks(), CancelRequest{Reason: "applicant withdrew", Actor: "caseworker:KBH"})
	}, time.Hour)
	env.ExecuteWorkflow(CounterIssuance, input(env))

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.True(t, res.accepted)
	require.NoError(t, res.err)
	require.Equal(t, StatusCancelled, res.state.Status, "the Update answers the recorded status")
	var out IssuanceResult
	require.NoError(t, env.GetWorkflowResult(&out))
	require.Equal(t, StatusCancelled, out.Status)
	require.Len(t, rec.got, 1)
	require.Equal(t, "cancelled", rec.got[0].EventType)
	require.Equal(t, "caseworker:KBH", rec.got[0].Actor)
	require.Equal(t, "applicant withdrew", rec.got[0].Detail)
}

func TestCounterIssuanceExpiresAtTheDeliveryDeadline(t *testing.T) {
	env, rec := newEnv(t)
	in := input(env)
	env.ExecuteWorkflow(CounterIssuance, in)

	require.NoError(t, env.GetWorkflowError())
	require.Len(t, rec.got, 1)
	require.Equal(t, StatusExpired, rec.got[0].Status)
	require.False(t, rec.got[0].At.Before(in.DeliveryDeadline), "expired before its deadline: %v < %v", rec.got[0].At, in.DeliveryDeadline)
}

func TestCounterIssuanceCancelValidator(t *testing.T) {
	cases := []struct {
		name    string
		second  *CancelRequest // sent right after a valid cancel, before it is recorded
		req     CancelRequest
		wantErr string
	}{
		{name: "a reason is required", req: CancelRequest{Actor: "admin:all"}, wantErr: "a reason is required"},
		{name: "a second cancel conflicts", req: CancelRequest{Reason: "first", Actor: "admin:all"},
			second: &CancelRequest{Reason: "second", Actor: "admin:all"}, wantErr: "already"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, rec := newEnv(t)
			var first, second updateResult
			env.RegisterDelayedCallback(func() {
				env.UpdateWorkflow(UpdateCancel, "u1", first.callbacks(), tc.req)
				if tc.second != nil {
					env.UpdateWorkflow(UpdateCancel, "u2", second.callbacks(), *tc.second)
				}
			}, time.Hour)
			env.ExecuteWorkflow(CounterIssuance, input(env))
			require.NoError(t, env.GetWorkflowError())
			rejected := first.rejected
			if tc.second != nil {
				require.True(t, first.accepted)
				rejected = second.rejected
			}
			require.ErrorContains(t, rejected, tc.wantErr)
			require.Len(t, rec.got, 1, "a rejected cancel records nothing")
		})
	}
}
