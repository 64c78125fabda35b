package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
)

// resetActivities records what a reset's workflow asked of its activities.
type resetActivities struct {
	printed    ResetPrinted
	closed     []ResetClose
	pickups    []ResetPickupRecord
	activation []ResetActivation
}

func (a *resetActivities) register(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivityWithOptions(func(_ context.Context, in ResetPrint) (ResetPrinted, error) { return a.printed, nil },
		activity.RegisterOptions{Name: ActivityPrintResetLetter})
	env.RegisterActivityWithOptions(func(_ context.Context, in ResetClose) error { a.closed = append(a.closed, in); return nil },
		activity.RegisterOptions{Name: ActivityCloseReset})
	env.RegisterActivityWithOptions(func(_ context.Context, in ResetPickupRecord) error { a.pickups = append(a.pickups, in); return nil },
		activity.RegisterOptions{Name: ActivityRecordResetPickup})
	env.RegisterActivityWithOptions(func(_ context.Context, in ResetActivation) error { a.activation = append(a.activation, in); return nil },
		activity.RegisterOptions{Name: ActivityActivateReset})
}

type updateOutcome struct {
	err   error
	state ResetState
}

func (u *updateOutcome) callbacks() *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnAccept:   func() {},
		OnReject:   func(err error) { u.err = err },
		OnComplete: func(v any, err error) { u.err = err; u.state, _ = v.(ResetState) },
	}
}

func TestPasswordReset(t *testing.T) {
	const window = 720 * time.Hour
	tests := []struct {
		name       string
		abroad     bool
		printed    ResetPrinted
		steps      func(env *testsuite.TestWorkflowEnvironment, pickup, activate *updateOutcome)
		wantStatus string
		wantClosed []string // statuses CloseReset was called with
		wantPickup int
		wantActive int
		activateOK bool
	}{
		{
			name:       "an unused reset expires at its deadline",
			printed:    ResetPrinted{LetterID: "l1"},
			wantStatus: ResetExpired, wantClosed: []string{ResetExpired},
		},
		{
			name:    "activated before the deadline",
			printed: ResetPrinted{LetterID: "l1"},
			steps: func(env *testsuite.TestWorkflowEnvironment, _, activate *updateOutcome) {
				env.RegisterDelayedCallback(func() {
					env.UpdateWorkflow(UpdateActivate, "a1", activate.callbacks(), ActivationRequest{ActivationID: "ch-1"})
				}, 48*time.Hour)
			},
			wantStatus: ResetActivated, wantActive: 1, activateOK: true,
		},
		{
			name:    "activation after the deadline records nothing",
			printed: ResetPrinted{LetterID: "l1"},
			steps: func(env *testsuite.TestWorkflowEnvironment, _, activate *updateOutcome) {
				env.RegisterDelayedCallback(func() {
					env.UpdateWorkflow(UpdateActivate, "a1", activate.callbacks(), ActivationRequest{ActivationID: "ch-1"})
				}, window+time.Hour)
			},
			wantStatus: ResetExpired, wantClosed: []string{ResetExpired},
		},
		{
			name:    "a newer reset replaces it",
			printed: ResetPrinted{LetterID: "l1"},
			steps: func(env *testsuite.TestWorkflowEnvironment, _, activate *updateOutcome) {
				env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalResetSuperseded, nil) }, 24*time.Hour)
				env.RegisterDelayedCallback(func() {
					env.UpdateWorkflow(UpdateActivate, "a1", activate.callbacks(), ActivationRequest{ActivationID: "ch-1"})
				}, 25*time.Hour)
			},
			wantStatus: ResetSuperseded, wantClosed: []string{ResetSuperseded},
		},
		{
			name:       "a reset superseded before its letter was printed ends at once",
			printed:    ResetPrinted{Closed: true},
			wantStatus: ResetSuperseded,
		},
		{
			name:    "abroad: the activation waits for the representation's pickup",
			abroad:  true,
			printed: ResetPrinted{LetterID: "l1"},
			steps: func(env *testsuite.TestWorkflowEnvironment, pickup, activate *updateOutcome) {
				early := &updateOutcome{}
				env.RegisterDelayedCallback(func() {
					env.UpdateWorkflow(UpdateActivate, "a0", early.callbacks(), ActivationRequest{ActivationID: "ch-0"})
				}, time.Hour)
				env.RegisterDelayedCallback(func() {
					require.Error(t, early.err, "no activation before the pickup")
					env.UpdateWorkflow(UpdatePickup, "p1", pickup.callbacks(), ResetPickupRecord{Actor: "embassy:LONDON", FeeDKK: 200, Receipt: "R-1"})
				}, 10*24*time.Hour)
				env.RegisterDelayedCallback(func() {
					env.UpdateWorkflow(UpdateActivate, "a1", activate.callbacks(), ActivationRequest{ActivationID: "ch-1"})
				}, 11*24*time.Hour)
			},
			wantStatus: ResetActivated, wantPickup: 1, wantActive: 1, activateOK: true,
		},
		{
			name:       "abroad: an uncollected reset expires",
			abroad:     true,
			printed:    ResetPrinted{LetterID: "l1"},
			wantStatus: ResetExpired, wantClosed: []string{ResetExpired},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestWorkflowEnvironment()
			acts := &resetActivities{printed: tt.printed}
			acts.register(env)
			pickup, activate := &updateOutcome{}, &updateOutcome{}
			if tt.steps != nil {
				tt.steps(env, pickup, activate)
			}
			start := env.Now()
			env.ExecuteWorkflow(PasswordReset, ResetInput{ResetID: "r1", CredentialID: "c1", Deadline: start.Add(window), Abroad: tt.abroad})
			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())
			var state ResetState
			require.NoError(t, env.GetWorkflowResult(&state))
			require.Equal(t, tt.wantStatus, state.Status)
			var closed []string
			for _, c := range acts.closed {
				require.Equal(t, "r1", c.ResetID)
				closed = append(closed, c.Status)
			}
			require.Equal(t, tt.wantClosed, closed)
			require.Len(t, acts.pickups, tt.wantPickup)
			require.Len(t, acts.activation, tt.wantActive)
			if tt.activateOK {
				require.NoError(t, activate.err)
				require.Equal(t, ResetActivated, activate.state.Status)
				require.Equal(t, "ch-1", acts.activation[0].ActivationID)
			}
		})
	}
}

// A new reset tells the workflows of the resets it replaced; one that has
// already ended is no failure.
func TestPasswordResetTellsTheResetsItReplaced(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	acts := &resetActivities{printed: ResetPrinted{LetterID: "l2", Superseded: []string{"r0", "r1"}}}
	acts.register(env)
	var told []string
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", SignalResetSuperseded, mock.Anything).
		Return(func(_, workflowID, _, _ string, _ any) error {
			told = append(told, workflowID)
			if workflowID == PasswordResetWorkflowID("r0") {
				return &testError{"workflow not found"}
			}
			return nil
		})
	env.ExecuteWorkflow(PasswordReset, ResetInput{ResetID: "r2", CredentialID: "c1", Deadline: env.Now().Add(time.Hour)})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []string{"password-reset/r0", "password-reset/r1"}, told)
}

type testError struct{ msg string }

func (e *testError) Error() string { return e.msg }

func TestCardOrder(t *testing.T) {
	tests := []struct {
		name    string
		in      CardOrderInput
		result  CardOrderResult
		wantErr bool
	}{
		{name: "mints the order's card", in: CardOrderInput{OrderID: "o1", CredentialID: "c1"}, result: CardOrderResult{CardNumber: "2000000003", LetterID: "l1"}},
		{name: "a voided order makes nothing", in: CardOrderInput{OrderID: "o2", CredentialID: "c1"}, result: CardOrderResult{Void: true}},
		{name: "an order id is required", in: CardOrderInput{CredentialID: "c1"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestWorkflowEnvironment()
			var calls []CardOrderInput
			env.RegisterActivityWithOptions(func(_ context.Context, in CardOrderInput) (CardOrderResult, error) {
				calls = append(calls, in)
				return tt.result, nil
			}, activity.RegisterOptions{Name: ActivityMintOrderedCard})
			env.ExecuteWorkflow(CardOrder, tt.in)
			require.True(t, env.IsWorkflowCompleted())
			if tt.wantErr {
				require.Error(t, env.GetWorkflowError())
				require.Empty(t, calls)
				return
			}
			require.NoError(t, env.GetWorkflowError())
			var res CardOrderResult
			require.NoError(t, env.GetWorkflowResult(&res))
			require.Equal(t, tt.result, res)
			require.Equal(t, []CardOrderInput{tt.in}, calls, "ids only, once")
		})
	}
}

func TestSelfServiceWorkflowIDsCarryNoPersonalData(t *testing.T) {
	require.Equal(t, "card-order/c1/lost/2", CardOrderWorkflowID("c1", "lost", 2))
	require.Equal(t, "password-reset/r1", PasswordResetWorkflowID("r1"))
}
