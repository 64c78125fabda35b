package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/opennemid/nemid/domain"
)

// fakeActivities stand in for the database and printer: they record what
// the workflow asked for, so each test asserts the decisions in order.
type fakeActivities struct {
	mu          sync.Mutex
	transitions []TransitionInput
	facts       RegisterFacts
	mints       []MintInput
	reminders   []ReminderInput
	revoked     int
	accepts     []AcceptInput
	outcome     AcceptOutcome // the accept step's answer; zero means accepted
}

func (f *fakeActivities) record(_ context.Context, in TransitionInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.transitions = append(f.transitions, in)
	return nil
}

func (f *fakeActivities) accept(_ context.Context, in AcceptInput) (AcceptOutcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accepts = append(f.accepts, in)
	if f.outcome.Outcome == "" {
		return AcceptOutcome{Outcome: AcceptAccepted}, nil
	}
	return f.outcome, nil
}

func (f *fakeActivities) check(_ context.Context, in RegisterCheck) (RegisterFacts, error) {
	return f.facts, nil
}

func (f *fakeActivities) mint(_ context.Context, in MintInput) (MintResult, error) {
	f.mints = append(f.mints, in)
	if in.Delivery == "handover" {
		return MintResult{CredentialID: "c1", CardNumber: "1000000001", LetterIDs: []string{"handover-1"}}, nil
	}
	return MintResult{CredentialID: "c1", CardNumber: "1000000001", LetterIDs: []string{"card-1", "password-1"}}, nil
}

func (f *fakeActivities) remind(_ context.Context, in ReminderInput) (string, error) {
	f.reminders = append(f.reminders, in)
	return "reminder-1", nil
}

func (f *fakeActivities) revoke(_ context.Context, issuanceID string) error { f.revoked++; return nil }

func (f *fakeActivities) statuses() []string {
	var out []string
	for _, t := range f.transitions {
		out = append(out, t.Status)
	}
	return out
}

func newEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *fakeActivities) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	f := &fakeActivities{facts: RegisterFacts{Name: "Søren Ærø", Address: Recipient{Name: "Søren Ærø", Lines: []string{"Nørregade 1"}, Postcode: "1165", City: "København K", Country: "DK"}}}
	env.RegisterActivityWithOptions(f.accept, activity.RegisterOptions{Name: ActivityAcceptIssuance})
	env.RegisterActivityWithOptions(f.record, activity.RegisterOptions{Name: ActivityRecordTransition})
	env.RegisterActivityWithOptions(f.check, activity.RegisterOptions{Name: ActivityCheckRegister})
	env.RegisterActivityWithOptions(f.mint, activity.RegisterOptions{Name: ActivityMintCredentials})
	env.RegisterActivityWithOptions(f.remind, activity.RegisterOptions{Name: ActivityQueueReminder})
	env.RegisterActivityWithOptions(f.revoke, activity.RegisterOptions{Name: ActivityRevokeCredentials})
	return env, f
}

const (
	delivery   = 336 * time.Hour
	activation = 720 * time.Hour
	reminder   = 72 * time.Hour
)

func input(env *testsuite.TestWorkflowEnvironment, how string) IssuanceInput {
	return IssuanceInput{IssuanceID: "iss-1", Path: "counter", CPR: "0101901234", Centre: "KBH", Delivery: how,
		DeliveryDeadline: env.Now().Add(delivery), ActivationWindow: activation, ReminderBefore: reminder}
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

func result(t *testing.T, env *testsuite.TestWorkflowEnvironment) string {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var out IssuanceResult
	require.NoError(t, env.GetWorkflowResult(&out))
	return out.Status
}

func TestHandoverThenActivation(t *testing.T) {
	env, f := newEnv(t)
	var handover, activate updateResult
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateHandover, "h", handover.callbacks(), HandoverRequest{Actor: "caseworker:KBH"})
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateActivate, "a", activate.callbacks(), ActivationRequest{ActivationID: "act-1"})
	}, 2*time.Hour)
	env.ExecuteWorkflow(CounterIssuance, input(env, "handover"))

	require.Equal(t, StatusActive, result(t, env))
	require.Equal(t, []string{StatusAwaitingHandover, StatusAwaitingActivation, StatusActive}, f.statuses())
	require.Equal(t, "handover_printed", f.transitions[1].EventType)
	require.Equal(t, "caseworker:KBH", f.transitions[1].Actor)
	require.NoError(t, handover.err)
	require.Equal(t, StatusAwaitingActivation, handover.state.Status, "the handover answers once recorded")
	require.Equal(t, StatusActive, activate.state.Status)
	require.Equal(t, "act-1", f.transitions[2].ActivationID, "the move to active names the activation whose password it records")
	require.Empty(t, f.transitions[1].ActivationID)
	require.Empty(t, f.reminders, "activated before the reminder was due")
	require.Zero(t, f.revoked, "active credentials are not revoked")
	require.Len(t, f.mints, 1)
	require.Equal(t, "handover", f.mints[0].Delivery)
}

func TestLettersWaitForEveryDispatch(t *testing.T) {
	env, f := newEnv(t)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalLetterDispatched, LetterDispatched{LetterID: "card-1"}) }, time.Hour)
	var early updateResult
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateActivate, "early", early.callbacks(), ActivationRequest{ActivationID: "act-0"})
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalLetterDispatched, LetterDispatched{LetterID: "password-1"})
	}, 3*time.Hour)
	var activate updateResult
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateActivate, "a", activate.callbacks(), ActivationRequest{ActivationID: "act-1"})
	}, 4*time.Hour)
	env.ExecuteWorkflow(CounterIssuance, input(env, "letters"))

	require.Equal(t, StatusActive, result(t, env))
	require.Equal(t, []string{StatusLettersPosted, StatusAwaitingActivation, StatusActive}, f.statuses())
	require.ErrorContains(t, early.rejected, "not awaiting activation", "one letter out is not enough")
	require.Equal(t, "Nørregade 1", f.mints[0].PasswordRecipient.Lines[0], "letters go to the registered address")
}

func TestDeadlines(t *testing.T) {
	cases := []struct {
		name     string
		how      string
		dispatch bool
		handover bool
		statuses []string
		reminded bool
	}{
		{"no handover within the delivery window", "handover", false, false, []string{StatusAwaitingHandover, StatusExpired}, false},
		{"letters never dispatched", "letters", false, false, []string{StatusLettersPosted, StatusExpired}, false},
		{"never activated after a handover", "handover", false, true, []string{StatusAwaitingHandover, StatusAwaitingActivation, StatusExpired}, true},
		{"never activated after letters", "letters", true, false, []string{StatusLettersPosted, StatusAwaitingActivation, StatusExpired}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, f := newEnv(t)
			start := env.Now()
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
			env.ExecuteWorkflow(CounterIssuance, input(env, tc.how))
			require.Equal(t, StatusExpired, result(t, env))
			require.Equal(t, tc.statuses, f.statuses())
			require.Equal(t, 1, f.revoked, "expired credentials are revoked")
			expiredAt := f.transitions[len(f.transitions)-1].At
			if tc.reminded {
				require.Len(t, f.reminders, 1)
				wantDeadline := start.Add(time.Hour + activation)
				require.WithinDuration(t, wantDeadline, f.reminders[0].ActivateBy, time.Second)
				require.WithinDuration(t, wantDeadline.Add(-reminder), f.reminders[0].At, time.Second, "reminder sent NEMID_REMINDER_BEFORE ahead")
				require.WithinDuration(t, wantDeadline, expiredAt, time.Second)
			} else {
				require.Empty(t, f.reminders)
				require.WithinDuration(t, start.Add(delivery), expiredAt, time.Second)
			}
		})
	}
}

func TestCancelAtEachWait(t *testing.T) {
	cases := []struct {
		name     string
		how      string
		before   func(env *testsuite.TestWorkflowEnvironment)
		statuses []string
	}{
		{"awaiting handover", "handover", nil, []string{StatusAwaitingHandover, StatusCancelled}},
		{"letters posted", "letters", nil, []string{StatusLettersPosted, StatusCancelled}},
		{"awaiting activation", "handover", func(env *testsuite.TestWorkflowEnvironment) {
			env.UpdateWorkflow(UpdateHandover, "h", (&updateResult{}).callbacks(), HandoverRequest{Actor: "caseworker:KBH"})
		}, []string{StatusAwaitingHandover, StatusAwaitingActivation, StatusCancelled}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, f := newEnv(t)
			if tc.before != nil {
				env.RegisterDelayedCallback(func() { tc.before(env) }, time.Hour)
			}
			var cancel, again updateResult
			env.RegisterDelayedCallback(func() {
				env.UpdateWorkflow(UpdateCancel, "c", cancel.callbacks(), CancelRequest{Reason: "applicant withdrew", Actor: "admin:all"})
				env.UpdateWorkflow(UpdateCancel, "c2", again.callbacks(), CancelRequest{Reason: "twice", Actor: "admin:all"})
			}, 2*time.Hour)
			env.ExecuteWorkflow(CounterIssuance, input(env, tc.how))
			require.Equal(t, StatusCancelled, result(t, env))
			require.Equal(t, tc.statuses, f.statuses())
			require.Equal(t, StatusCancelled, cancel.state.Status)
			last := f.transitions[len(f.transitions)-1]
			require.Equal(t, "admin:all", last.Actor)
			require.Equal(t, "applicant withdrew", last.Detail)
			require.ErrorContains(t, again.rejected, "already", "a second cancel conflicts")
			require.Equal(t, 1, f.revoked)
		})
	}
}

func TestARegisterChangeAfterAcceptanceRejects(t *testing.T) {
	env, f := newEnv(t)
	f.facts.Violations = []Reason{{Code: "deceased", Message: "the register records the person as deceased"}}
	env.ExecuteWorkflow(CounterIssuance, input(env, "letters"))
	require.Equal(t, StatusRejected, result(t, env))
	require.Empty(t, f.mints, "nothing is minted for a rejected issuance")
	require.Equal(t, []Reason{{Code: "deceased", Message: "the register records the person as deceased"}}, f.transitions[0].Reasons)
}

func TestUpdateValidators(t *testing.T) {
	cases := []struct {
		name    string
		update  string
		arg     any
		wantErr string
	}{
		{"cancel needs a reason", UpdateCancel, CancelRequest{Actor: "admin:all"}, "a reason is required"},
		{"activation while awaiting a handover", UpdateActivate, ActivationRequest{ActivationID: "a"}, "not awaiting activation"},
		{"handover of a letters issuance", UpdateHandover, HandoverRequest{Actor: "caseworker:KBH"}, "not awaiting a handover"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, f := newEnv(t)
			how := "handover"
			if tc.update == UpdateHandover {
				how = "letters"
			}
			var res updateResult
			env.RegisterDelayedCallback(func() { env.UpdateWorkflow(tc.update, "u", res.callbacks(), tc.arg) }, time.Hour)
			env.ExecuteWorkflow(CounterIssuance, input(env, how))
			require.NoError(t, env.GetWorkflowError())
			require.False(t, res.accepted)
			require.ErrorContains(t, res.rejected, tc.wantErr)
			require.Equal(t, StatusExpired, f.statuses()[len(f.transitions)-1], "a rejected update changes nothing")
		})
	}
}

func TestRemindersGoCareOfTheCentreForProtectedAndAbroad(t *testing.T) {
	registered := Recipient{Lines: []string{"Hemmelig Vej 3"}, Postcode: "8000", City: "Aarhus C", Country: "DK"}
	cases := []struct {
		name     string
		facts    RegisterFacts
		careOfAt bool
	}{
		{"an ordinary address", RegisterFacts{Name: "Søren", Address: registered}, false},
		{"address protected", RegisterFacts{Name: "Mette", Address: registered, AddressProtected: true}, true},
		{"living abroad", RegisterFacts{Name: "Jens", Address: Recipient{Lines: []string{"10 Downing St"}, Country: "GB"}, LivesAbroad: true}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, f := newEnv(t)
			f.facts = tc.facts
			env.RegisterDelayedCallback(func() {
				env.UpdateWorkflow(UpdateHandover, "h", (&updateResult{}).callbacks(), HandoverRequest{Actor: "caseworker:AAR"})
			}, time.Hour)
			in := input(env, "handover")
			in.Centre = "AAR"
			env.ExecuteWorkflow(CounterIssuance, in)
			require.Equal(t, StatusExpired, result(t, env))
			require.Len(t, f.reminders, 1)
			r := f.reminders[0].Recipient
			require.Equal(t, tc.facts.Name, r.Name)
			if tc.careOfAt {
				require.Equal(t, "c/o Borgerservice Aarhus", r.Lines[0])
				require.NotContains(t, r.Lines, tc.facts.Address.Lines[0], "never the registered address")
			} else {
				require.Equal(t, registered.Lines, r.Lines)
			}
		})
	}
}

// TestAnImportedCentreIssuesAndLettersGoCareOfIt: a centre the store has
// but the built-in list does not (imported with `nemid centres import`)
// travels in the input: the workflow issues there, and an address-protected
// person's reminder goes care of it, with the address the input carries.
func TestAnImportedCentreIssuesAndLettersGoCareOfIt(t *testing.T) {
	env, f := newEnv(t)
	registered := Recipient{Lines: []string{"Hemmelig Vej 3"}, Postcode: "3000", City: "Helsingør", Country: "DK"}
	f.facts = RegisterFacts{Name: "Mette", Address: registered, AddressProtected: true}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateHandover, "h", (&updateResult{}).callbacks(), HandoverRequest{Actor: "caseworker:HEL"})
	}, time.Hour)
	in := input(env, "handover")
	in.Centre = "HEL"
	in.IssuingCentre = &domain.Centre{Code: "HEL", Name: "Borgerservice Helsingør", Address: domain.Address{
		Lines: []string{"Helsingør Rådhus", "Stengade 59"}, Postcode: "3000", City: "Helsingør", Country: "DK"}}
	env.ExecuteWorkflow(CounterIssuance, in)
	require.Equal(t, StatusExpired, result(t, env))
	require.Len(t, f.mints, 1, "issued at the imported centre")
	require.Len(t, f.reminders, 1)
	r := f.reminders[0].Recipient
	require.Equal(t, []string{"c/o Borgerservice Helsingør", "Helsingør Rådhus", "Stengade 59"}, r.Lines)
	require.Equal(t, "3000", r.Postcode)
	require.Equal(t, "Mette", r.Name)
}

// TestCareOfCentreNeedsAKnownCentre: a letter care of a centre carries the
// centre's name and address; an unknown centre is an error, never a letter
// "c/o " with nothing after it.
func TestCareOfCentreNeedsAKnownCentre(t *testing.T) {
	cases := []struct {
		centre    string
		wantFirst string
	}{
		{"KBH", "c/o Borgerservice København"},
		{"AAR", "c/o Borgerservice Aarhus"},
		{"", ""},
		{"XYZ", ""},
	}
	for _, tc := range cases {
		t.Run("centre "+tc.centre, func(t *testing.T) {
			r, err := CareOfCentre("Mette", tc.centre)
			if tc.wantFirst == "" {
				require.ErrorContains(t, err, "no centre")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantFirst, r.Lines[0])
			require.Greater(t, len(r.Lines), 1, "the centre's street follows")
			require.NotEmpty(t, r.Postcode)
		})
	}
}

// TestACounterIssuanceNeedsAKnownCentre: the workflow refuses an unknown
// centre at its start, before anything is minted.
func TestACounterIssuanceNeedsAKnownCentre(t *testing.T) {
	env, f := newEnv(t)
	in := input(env, "handover")
	in.Centre = "XYZ"
	env.ExecuteWorkflow(CounterIssuance, in)
	require.ErrorContains(t, env.GetWorkflowError(), "known centre")
	require.Empty(t, f.mints)
}
