package workflows

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
)

// TestDeathWhilePending: the register's death signal, at each wait of a
// pending issuance, ends it rejected with reason deceased, its credentials
// revoked first. An activation that came first stands.
func TestDeathWhilePending(t *testing.T) {
	cases := []struct {
		name     string
		how      string
		path     string
		handover bool
		dispatch bool
		activate bool
		at       time.Duration
		statuses []string
	}{
		{"awaiting the handover", "handover", "counter", false, false, false, 2 * time.Hour,
			[]string{StatusAwaitingHandover, StatusRejected}},
		{"letters posted", "letters", "counter", false, false, false, 2 * time.Hour,
			[]string{StatusLettersPosted, StatusRejected}},
		{"awaiting activation, days in", "handover", "counter", true, false, false, 10 * 24 * time.Hour,
			[]string{StatusAwaitingHandover, StatusAwaitingActivation, StatusRejected}},
		{"awaiting the pickup", "representation", "abroad", false, true, false, 3 * time.Hour,
			[]string{StatusLettersPosted, StatusAwaitingPickup, StatusRejected}},
		{"after the activation", "handover", "counter", true, false, true, 3 * time.Hour,
			[]string{StatusAwaitingHandover, StatusAwaitingActivation, StatusActive}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, f := newEnv(t)
			in := input(env, tc.how)
			if tc.path == "abroad" {
				in.Path, in.Centre, in.Representation, in.PickupWindow = "abroad", "", "LONDON", 2160*time.Hour
				in.OrderAddress = &Recipient{Lines: []string{"10 Downing St"}, Postcode: "SW1A 2AA", City: "London", Country: "GB"}
			}
			if tc.handover {
				env.RegisterDelayedCallback(func() {
					env.UpdateWorkflow(UpdateHandover, "h", (&updateResult{}).callbacks(), HandoverRequest{Actor: "caseworker:KBH"})
				}, time.Hour)
			}
			if tc.dispatch {
				env.RegisterDelayedCallback(func() {
					env.SignalWorkflow(SignalLetterDispatched, LetterDispatched{LetterID: "card-1"})
					env.SignalWorkflow(SignalLetterDispatched, LetterDispatched{LetterID: "password-1"})
				}, time.Hour)
			}
			if tc.activate {
				env.RegisterDelayedCallback(func() {
					env.UpdateWorkflow(UpdateActivate, "a", (&updateResult{}).callbacks(), ActivationRequest{ActivationID: "act-1"})
				}, 2*time.Hour)
			}
			env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalPersonDeceased, PersonDeceased{ChangeID: 7}) }, tc.at)
			start := env.Now()
			if tc.path == "abroad" {
				env.ExecuteWorkflow(AbroadIssuance, in)
			} else {
				env.ExecuteWorkflow(CounterIssuance, in)
			}
			want := tc.statuses[len(tc.statuses)-1]
			require.Equal(t, want, result(t, env))
			require.Equal(t, tc.statuses, f.statuses())
			last := f.transitions[len(f.transitions)-1]
			if want == StatusRejected {
				require.Equal(t, []Reason{{Code: "deceased", Message: "the CPR register records the person as deceased"}}, last.Reasons)
				require.Equal(t, 1, f.revoked, "the credentials are revoked before the end is recorded")
				require.WithinDuration(t, start.Add(tc.at), last.At, time.Second, "at once, not at the deadline")
			} else {
				require.Zero(t, f.revoked, "an active NemID is the sweep's to revoke, not the workflow's")
			}
		})
	}
}

// sweepFakes stand in for the register-changes activities.
type sweepFakes struct {
	mu       sync.Mutex
	pending  []RegisterChangeRef
	open     map[int64][]string
	applied  []int64
	failures int // ApplyRegisterChange fails this many times first
}

func (f *sweepFakes) list(context.Context) ([]RegisterChangeRef, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]RegisterChangeRef(nil), f.pending...), nil
}

func (f *sweepFakes) stop(_ context.Context, c RegisterChangeRef) ([]string, error) {
	return f.open[c.ID], nil
}

func (f *sweepFakes) apply(_ context.Context, c RegisterChangeRef) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures > 0 {
		f.failures--
		return errors.New("issuances still pending")
	}
	f.applied = append(f.applied, c.ID)
	var left []RegisterChangeRef
	for _, p := range f.pending {
		if p.ID != c.ID {
			left = append(left, p)
		}
	}
	f.pending = left
	return nil
}

// TestRegisterChangesSweep: each sweep signals the deceased person's
// pending issuances and applies the change, retrying while the issuances
// are still ending; an applied change is not applied again; after its
// rounds the workflow continues as new.
func TestRegisterChangesSweep(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	f := &sweepFakes{pending: []RegisterChangeRef{{ID: 1, Kind: RegisterChangeDeceased}, {ID: 2, Kind: RegisterChangeAddressProtected}},
		open: map[int64][]string{1: {"iss-a", "iss-b"}}, failures: 2}
	env.RegisterActivityWithOptions(f.list, activity.RegisterOptions{Name: ActivityPendingRegisterChanges})
	env.RegisterActivityWithOptions(f.stop, activity.RegisterOptions{Name: ActivityStopOpenIssuances})
	env.RegisterActivityWithOptions(f.apply, activity.RegisterOptions{Name: ActivityApplyRegisterChange})
	var signalled []string
	env.OnSignalExternalWorkflow("default-test-namespace", IssuanceWorkflowID("iss-a"), "", SignalPersonDeceased, PersonDeceased{ChangeID: 1}).
		Return(func(_, id, _, _ string, _ any) error { signalled = append(signalled, id); return nil })
	env.OnSignalExternalWorkflow("default-test-namespace", IssuanceWorkflowID("iss-b"), "", SignalPersonDeceased, PersonDeceased{ChangeID: 1}).
		Return(func(_, id, _, _ string, _ any) error { signalled = append(signalled, id); return nil })

	env.ExecuteWorkflow(RegisterChanges, RegisterChangesInput{Every: 30 * time.Second})
	require.True(t, env.IsWorkflowCompleted())
	var cont interface{ Error() string }
	require.ErrorAs(t, env.GetWorkflowError(), &cont, "continues as new after its rounds")
	require.ErrorContains(t, env.GetWorkflowError(), "continue as new")
	require.Equal(t, []int64{1, 2}, f.applied, "each change once, the death after its retries")
	require.Equal(t, []string{IssuanceWorkflowID("iss-a"), IssuanceWorkflowID("iss-b")}, signalled)
}
