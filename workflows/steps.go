package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/opennemid/nemid/domain"
)

// Steps shared by the issuance workflows.

// dbOptions: database writes are quick and idempotent, so retry them
// patiently; a database outage delays an issuance, never fails it.
var dbOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
		NonRetryableErrorTypes: []string{ErrTypeInvalid},
	},
}

// printOptions: minting renders PDFs, which takes longer than a write. The
// activities heartbeat (activities.keepAlive), so a worker killed while
// printing is noticed within HeartbeatTimeout and the print retried on
// another at once, not after the start-to-close bound.
var printOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 2 * time.Minute,
	HeartbeatTimeout:    10 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
		NonRetryableErrorTypes: []string{ErrTypeInvalid},
	},
}

// localDBOptions run the issuance's read-model steps as local activities:
// in the worker that runs the workflow task, recorded as one marker event,
// with no activity task to schedule, poll and report. A database write of
// a few milliseconds otherwise costs three history events and a second
// workflow task. The retry policy is dbOptions' (a database outage delays
// an issuance, never fails it); retries whose backoff outlasts a workflow
// task become durable timers (the SDK's rule), and the schedule-to-close
// bound is a year because the SDK would otherwise cap the retries at the
// start-to-close timeout.
var localDBOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout:    dbOptions.StartToCloseTimeout,
	ScheduleToCloseTimeout: 365 * 24 * time.Hour,
	RetryPolicy:            dbOptions.RetryPolicy,
}

// changeLocalDBSteps names the GetVersion change that runs an issuance's
// database steps (accept, register check, transitions, revoke) as local
// activities. Version 1 implies changeAcceptInWorkflow's and
// changeAbroadRemindersCareOfCentre's version 1, so a new run records one
// version marker (and one search-attribute upsert), not three.
const changeLocalDBSteps = "local-db-steps"

// dbSteps runs the issuance's database steps, as local activities from
// changeLocalDBSteps on and as activities in runs recorded before it.
type dbSteps struct{ local bool }

func (s dbSteps) execute(ctx workflow.Context, activity string, arg any) workflow.Future {
	if s.local {
		return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, localDBOptions), activity, arg)
	}
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, dbOptions), activity, arg)
}

func (s dbSteps) record(ctx workflow.Context, t TransitionInput) error {
	t.At = workflow.Now(ctx)
	if err := s.execute(ctx, ActivityRecordTransition, t).Get(ctx, nil); err != nil {
		return fmt.Errorf("record %s: %w", t.Status, err)
	}
	return nil
}

func (s dbSteps) checkRegister(ctx workflow.Context, in IssuanceInput) (RegisterFacts, error) {
	var facts RegisterFacts
	err := s.execute(ctx, ActivityCheckRegister, RegisterCheck{IssuanceID: in.IssuanceID, CPR: in.CPR, Delivery: in.Delivery}).Get(ctx, &facts)
	if err != nil {
		return facts, fmt.Errorf("check the register: %w", err)
	}
	return facts, nil
}

func (s dbSteps) revoke(ctx workflow.Context, issuanceID string) error {
	if err := s.execute(ctx, ActivityRevokeCredentials, issuanceID).Get(ctx, nil); err != nil {
		return fmt.Errorf("revoke credentials: %w", err)
	}
	return nil
}

func mint(ctx workflow.Context, in MintInput) (MintResult, error) {
	in.At = workflow.Now(ctx)
	var res MintResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, printOptions), ActivityMintCredentials, in).Get(ctx, &res); err != nil {
		return res, fmt.Errorf("mint credentials: %w", err)
	}
	return res, nil
}

// remindBefore sleeps until ReminderBefore ahead of the deadline and queues
// a reminder letter, unless done() turns true first or reminders are off.
func remindBefore(ctx workflow.Context, deadline time.Time, in IssuanceInput, to Recipient, done func() bool) error {
	if in.ReminderBefore <= 0 {
		return nil
	}
	at := deadline.Add(-in.ReminderBefore)
	if !at.After(workflow.Now(ctx)) {
		return nil
	}
	finished, err := awaitUntil(ctx, at, done)
	if err != nil || finished {
		return err
	}
	r := ReminderInput{IssuanceID: in.IssuanceID, Recipient: to, ActivateBy: deadline, At: workflow.Now(ctx)}
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, printOptions), ActivityQueueReminder, r).Get(ctx, nil); err != nil {
		return fmt.Errorf("queue reminder: %w", err)
	}
	return nil
}

// reminderRecipient: later letters never go to the registered address of a
// person with address protection or living abroad; they collect them at the
// centre that issued. Version 1 added "living abroad": workflows that started
// before it keep the address they would have used. Runs from
// changeLocalDBSteps on (db.local) have it without a marker of its own.
func reminderRecipient(ctx workflow.Context, db dbSteps, facts RegisterFacts, centreCode string, centre *domain.Centre) (Recipient, error) {
	careOfCentre := facts.AddressProtected
	if db.local || workflow.GetVersion(ctx, changeAbroadRemindersCareOfCentre, workflow.DefaultVersion, 1) >= 1 {
		careOfCentre = domain.PostForbidden(facts.AddressProtected, facts.LivesAbroad)
	}
	if !careOfCentre {
		a := facts.Address
		return Recipient{Name: facts.Name, Lines: a.Lines, Postcode: a.Postcode, City: a.City, Country: a.Country}, nil
	}
	if centre != nil && centre.Code == centreCode {
		return CareOf(facts.Name, *centre), nil
	}
	return CareOfCentre(facts.Name, centreCode)
}

// changeAbroadRemindersCareOfCentre names the GetVersion change above.
const changeAbroadRemindersCareOfCentre = "reminder-abroad-care-of-centre"

// CareOfCentre addresses a letter to a person care of the built-in centre
// of that code (for workflows whose input does not carry the centre; the
// activities look centres up in the store). An unknown centre is an
// error: a letter "c/o" nobody cannot be delivered.
func CareOfCentre(name, centreCode string) (Recipient, error) {
	centre, ok := domain.LookupCentre(centreCode)
	if !ok {
		return Recipient{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("no centre %q to address a letter care of", centreCode), ErrTypeInvalid, nil)
	}
	return CareOf(name, centre), nil
}

// CareOf addresses a letter to a person care of a centre.
func CareOf(name string, centre domain.Centre) Recipient {
	lines := append([]string{"c/o " + centre.Name}, centre.Address.Lines...)
	return Recipient{Name: name, Lines: lines, Postcode: centre.Address.Postcode, City: centre.Address.City, Country: centre.Address.Country}
}

// awaitUntil waits for cond or the durable deadline; true means cond held.
func awaitUntil(ctx workflow.Context, deadline time.Time, cond func() bool) (bool, error) {
	wait := deadline.Sub(workflow.Now(ctx))
	if wait < 0 {
		wait = 0
	}
	return workflow.AwaitWithTimeout(ctx, wait, cond)
}

// listenForDispatches collects the post API's signals for the whole run.
func listenForDispatches(ctx workflow.Context, dispatched map[string]bool) {
	ch := workflow.GetSignalChannel(ctx, SignalLetterDispatched)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var s LetterDispatched
			if !ch.Receive(ctx, &s) {
				return
			}
			dispatched[s.LetterID] = true
		}
	})
}

func allDispatched(letters []string, dispatched map[string]bool) bool {
	for _, id := range letters {
		if !dispatched[id] {
			return false
		}
	}
	return len(letters) > 0
}

// setCancelHandler registers the cancel Update: valid at any pending point;
// it answers once the cancellation is recorded.
func setCancelHandler(ctx workflow.Context, state *State, ending *bool, cancel **CancelRequest) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancel,
		func(ctx workflow.Context, req CancelRequest) (State, error) {
			*cancel = &req
			if err := workflow.Await(ctx, func() bool { return isFinal(state.Status) }); err != nil {
				return State{}, err
			}
			return *state, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req CancelRequest) error {
			if *ending || *cancel != nil || isFinal(state.Status) {
				return temporal.NewApplicationError("the issuance is already "+state.Status, ErrTypeConflict)
			}
			if req.Reason == "" {
				return temporal.NewApplicationError("a reason is required", ErrTypeInvalid)
			}
			return nil
		}})
}

// setActivateHandler registers the activation Update, accepted only while
// awaiting activation; it answers once the issuance is recorded active.
func setActivateHandler(ctx workflow.Context, state *State, ending *bool, activation **ActivationRequest) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateActivate,
		func(ctx workflow.Context, req ActivationRequest) (State, error) {
			*activation = &req
			if err := workflow.Await(ctx, func() bool { return isFinal(state.Status) }); err != nil {
				return State{}, err
			}
			if state.Status != StatusActive {
				return *state, temporal.NewApplicationError("the issuance became "+state.Status, ErrTypeConflict)
			}
			return *state, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req ActivationRequest) error {
			if *ending || *activation != nil || state.Status != StatusAwaitingActivation {
				return temporal.NewApplicationError("the issuance is "+state.Status+", not awaiting activation", ErrTypeConflict)
			}
			if req.ActivationID == "" {
				return temporal.NewApplicationError("an activation id is required", ErrTypeInvalid)
			}
			return nil
		}})
}

// isFinal is IsFinal plus the workflow-only end of a refused application.
func isFinal(status string) bool { return IsFinal(status) || status == StatusRefused }
