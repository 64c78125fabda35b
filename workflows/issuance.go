package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/opennemid/nemid/domain"
)

// issuanceRun is one run of an issuance on any path: setup registers the
// handlers, run performs the steps top-down.
type issuanceRun struct {
	in             IssuanceInput
	state          State
	cancel         *CancelRequest
	deceased       *PersonDeceased // the register recorded the person's death (a register change)
	handover       *HandoverRequest
	pickup         *PickupRequest
	activationOpen bool // the move to awaiting_activation (after a handover or pickup) is recorded
	activation     *ActivationRequest
	letters        []string
	dispatched     map[string]bool
	ending         bool          // a final status is being recorded; nothing else is accepted
	accepted       *AcceptResult // the accept step's decision (runs that record their own row)
	acceptFailed   bool          // the accept step failed for good
	db             dbSteps       // how the database steps run (changeLocalDBSteps)
}

// CounterIssuance runs an issuance started at a Citizen Service centre: it
// re-checks the register, mints and prints, then waits for the handover or
// for both letters to be dispatched, and finally for the activation, each
// wait bounded by a durable deadline.
func CounterIssuance(ctx workflow.Context, in IssuanceInput) (IssuanceResult, error) {
	return runIssuance(ctx, in, domain.DeliveryHandover, domain.DeliveryLetters)
}

// AbroadIssuance runs an order from a person living abroad: the code card
// by letter to the order's address, the temporary password in a sealed
// letter care of the chosen representation; once both are dispatched the
// representation's pickup (document checked, fee paid) opens the activation.
func AbroadIssuance(ctx workflow.Context, in IssuanceInput) (IssuanceResult, error) {
	return runIssuance(ctx, in, domain.DeliveryRepresentation)
}

// BankIssuance runs an issuance a bank started for a customer with an
// online banking agreement. It takes the counter's letters branch: register
// re-check, mint and print, two letters to the registered address, then the
// activation wait. A bank never hands anything over, so there is no handover
// Update to call.
func BankIssuance(ctx workflow.Context, in IssuanceInput) (IssuanceResult, error) {
	return runIssuance(ctx, in, domain.DeliveryLetters)
}

// runIssuance runs the steps for an input whose delivery is one of those the
// path allows.
func runIssuance(ctx workflow.Context, in IssuanceInput, deliveries ...domain.Delivery) (IssuanceResult, error) {
	w := &issuanceRun{in: in, state: State{Status: StatusReceived, Deadline: &in.DeliveryDeadline}, dispatched: map[string]bool{}}
	if err := w.setup(ctx, deliveries); err != nil {
		return IssuanceResult{}, err
	}
	w.db = dbSteps{local: workflow.GetVersion(ctx, changeLocalDBSteps, workflow.DefaultVersion, 1) >= 1}
	status := StatusRefused
	accepted, err := w.accept(ctx)
	if accepted {
		status, err = w.run(ctx)
	}
	if err != nil {
		// Let the accept Update answer the failure before the run ends.
		_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
		return IssuanceResult{}, err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return IssuanceResult{}, err
	}
	return IssuanceResult{Status: status}, nil
}

func (w *issuanceRun) setup(ctx workflow.Context, deliveries []domain.Delivery) error {
	if w.in.IssuanceID == "" || w.in.CPR == "" {
		return temporal.NewNonRetryableApplicationError("issuance id and CPR are required", ErrTypeInvalid, nil)
	}
	if !slices.Contains(deliveries, domain.Delivery(w.in.Delivery)) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("the %s path cannot deliver by %q (only %v)",
			w.in.Path, w.in.Delivery, deliveries), ErrTypeInvalid, nil)
	}
	if w.in.Delivery == string(domain.DeliveryRepresentation) && !w.orderComplete() {
		return temporal.NewNonRetryableApplicationError("an abroad order needs its address and a known representation", ErrTypeInvalid, nil)
	}
	if _, known := w.issuingCentre(); w.in.Path == domain.PathCounter && !known {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("a counter issuance needs a known centre, not %q", w.in.Centre), ErrTypeInvalid, nil)
	}
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (State, error) { return w.state, nil }); err != nil {
		return err
	}
	if w.in.Acceptance != nil {
		err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateAccept, w.handleAccept,
			workflow.UpdateHandlerOptions{Validator: w.validateAccept})
		if err != nil {
			return err
		}
	}
	if err := setCancelHandler(ctx, &w.state, &w.ending, &w.cancel); err != nil {
		return err
	}
	if slices.Contains(deliveries, domain.DeliveryHandover) {
		err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateHandover, w.handleHandover,
			workflow.UpdateHandlerOptions{Validator: w.validateHandover})
		if err != nil {
			return err
		}
	}
	if slices.Contains(deliveries, domain.DeliveryRepresentation) {
		err := workflow.SetUpdateHandlerWithOptions(ctx, UpdatePickup, w.handlePickup,
			workflow.UpdateHandlerOptions{Validator: w.validatePickup})
		if err != nil {
			return err
		}
	}
	if err := setActivateHandler(ctx, &w.state, &w.ending, &w.activation); err != nil {
		return err
	}
	listenForDispatches(ctx, w.dispatched)
	listenForDeath(ctx, &w.deceased)
	return nil
}

func (w *issuanceRun) run(ctx workflow.Context) (string, error) {
	facts, err := w.db.checkRegister(ctx, w.in)
	if err != nil {
		return "", err
	}
	if len(facts.Violations) > 0 {
		return w.end(ctx, StatusRejected, "rejected", "system", "a fact in the CPR register changed after acceptance", facts.Violations)
	}
	if w.stopped() {
		return w.endStopped(ctx)
	}
	minted, err := mint(ctx, w.mintInput(facts))
	if err != nil {
		return "", err
	}
	w.letters = minted.LetterIDs
	delivered, err := w.deliver(ctx)
	if err != nil || !delivered {
		return w.state.Status, err
	}
	if w.in.Delivery == string(domain.DeliveryRepresentation) {
		collected, err := w.awaitPickup(ctx)
		if err != nil || !collected {
			return w.state.Status, err
		}
	}
	return w.awaitActivation(ctx, facts)
}

// deliver waits for the handover or for every letter to be dispatched. It
// reports false when the issuance ended meanwhile (cancelled or expired).
func (w *issuanceRun) deliver(ctx workflow.Context) (bool, error) {
	waiting, arrived := StatusLettersPosted, func() bool { return allDispatched(w.letters, w.dispatched) }
	if w.in.Delivery == string(domain.DeliveryHandover) {
		waiting, arrived = StatusAwaitingHandover, func() bool { return w.handover != nil }
	}
	// The workflow's state leads and the read model follows, so a caller who
	// sees the new status in the database always finds the workflow ready.
	w.setState(waiting, &w.in.DeliveryDeadline)
	if err := w.db.record(ctx, w.move(waiting, &w.in.DeliveryDeadline, "", "", "")); err != nil {
		return false, err
	}
	ok, err := awaitUntil(ctx, w.in.DeliveryDeadline, func() bool { return arrived() || w.stopped() })
	if err != nil {
		return false, err
	}
	switch {
	case w.stopped():
		_, err = w.endStopped(ctx)
		return false, err
	case !ok:
		_, err = w.endExpired(ctx, "the delivery deadline passed")
		return false, err
	}
	return true, nil
}

// awaitActivation opens the activation window, sends the reminder ahead of
// its end, and ends the issuance active, expired or cancelled.
func (w *issuanceRun) awaitActivation(ctx workflow.Context, facts RegisterFacts) (string, error) {
	deadline := workflow.Now(ctx).Add(w.in.ActivationWindow)
	t := w.move(StatusAwaitingActivation, &deadline, "", "", "")
	switch {
	case w.handover != nil:
		t.EventKey, t.EventType, t.Actor, t.Detail = "handover_printed", "handover_printed", w.handover.Actor, "the handover document was printed at the counter"
		t.ActorName = w.handover.ActorName
		t.Audit = &AuditStep{Action: AuditHandoverConfirmed, Actor: w.handover.Actor, ActorTokenID: w.handover.ActorTokenID}
	case w.pickup != nil:
		t = w.pickupTransition(deadline)
	}
	w.setState(StatusAwaitingActivation, &deadline)
	if err := w.db.record(ctx, t); err != nil {
		return "", err
	}
	w.activationOpen = true
	activated := func() bool { return w.activation != nil || w.stopped() }
	to, err := w.laterLettersTo(ctx, facts)
	if err != nil {
		return "", err
	}
	if err := remindBefore(ctx, deadline, w.in, to, activated); err != nil {
		return "", err
	}
	ok, err := awaitUntil(ctx, deadline, activated)
	switch {
	case err != nil:
		return "", err
	case w.cancel != nil:
		return w.endCancelled(ctx)
	case w.activation == nil && w.deceased != nil: // an activation that came first stands; the death then revokes it
		return w.endStopped(ctx)
	case !ok:
		return w.endExpired(ctx, "the credentials were not activated before the deadline")
	}
	return w.end(ctx, StatusActive, "activated", "citizen", "activated with challenge "+w.activation.ActivationID, nil)
}

func (w *issuanceRun) mintInput(facts RegisterFacts) MintInput {
	to := Recipient{Name: facts.Name, Lines: facts.Address.Lines, Postcode: facts.Address.Postcode,
		City: facts.Address.City, Country: facts.Address.Country}
	in := MintInput{IssuanceID: w.in.IssuanceID, Delivery: w.in.Delivery, CardRecipient: to, PasswordRecipient: to}
	if w.in.Delivery == string(domain.DeliveryRepresentation) {
		in.CardRecipient, in.PasswordRecipient = w.orderRecipient(facts.Name), CareOfRepresentation(facts.Name, w.in.Representation)
	}
	return in
}

// laterLettersTo is where a reminder goes: an abroad order's address, or
// what reminderRecipient decides for the paths that deliver in Denmark.
func (w *issuanceRun) laterLettersTo(ctx workflow.Context, facts RegisterFacts) (Recipient, error) {
	if w.in.Delivery == string(domain.DeliveryRepresentation) {
		return w.orderRecipient(facts.Name), nil
	}
	return reminderRecipient(ctx, w.db, facts, w.in.Centre, w.in.IssuingCentre)
}

// issuingCentre is the counter path's centre: the one the input carries
// (the store's, imported centres too), or for inputs from before it was
// carried the built-in one of that code.
func (w *issuanceRun) issuingCentre() (domain.Centre, bool) {
	if c := w.in.IssuingCentre; c != nil && c.Code == w.in.Centre {
		return *c, true
	}
	return domain.LookupCentre(w.in.Centre)
}

func (w *issuanceRun) validateHandover(ctx workflow.Context, req HandoverRequest) error {
	if w.ending || w.handover != nil || w.state.Status != StatusAwaitingHandover {
		return temporal.NewApplicationError("the issuance is "+w.state.Status+", not awaiting a handover", ErrTypeConflict)
	}
	return nil
}

// handleHandover answers once the move to awaiting_activation is recorded,
// so the caller prints only what the workflow has accepted.
func (w *issuanceRun) handleHandover(ctx workflow.Context, req HandoverRequest) (State, error) {
	w.handover = &req
	if err := workflow.Await(ctx, func() bool { return w.activationOpen || isFinal(w.state.Status) }); err != nil {
		return State{}, err
	}
	if !w.activationOpen {
		return w.state, temporal.NewApplicationError("the issuance became "+w.state.Status, ErrTypeConflict)
	}
	return w.state, nil
}

func (w *issuanceRun) move(status string, deadline *time.Time, eventType, actor, detail string) TransitionInput {
	return TransitionInput{IssuanceID: w.in.IssuanceID, Status: status, Deadline: deadline,
		EventKey: eventType, EventType: eventType, Actor: actor, Detail: detail}
}

func (w *issuanceRun) setState(status string, deadline *time.Time) {
	w.state = State{Status: status, Deadline: deadline}
}

// stopped reports whether the issuance must end before its next step: a
// cancel, or the person's death.
func (w *issuanceRun) stopped() bool { return w.cancel != nil || w.deceased != nil }

// endStopped ends a stopped issuance: rejected (reason deceased) when the
// register recorded the person's death, otherwise cancelled. Version 1 of
// changePersonDeceased added the death; only runs that received its signal
// reach the GetVersion, so histories from before it replay unchanged.
func (w *issuanceRun) endStopped(ctx workflow.Context) (string, error) {
	if w.deceased != nil && workflow.GetVersion(ctx, changePersonDeceased, workflow.DefaultVersion, 1) >= 1 {
		reason := Reason{Code: "deceased", Message: "the CPR register records the person as deceased"}
		return w.end(ctx, StatusRejected, "rejected", "system", "the person died (CPR register change)", []Reason{reason})
	}
	if w.cancel == nil { // a death signal reaching a run from before version 1
		return "", temporal.NewNonRetryableApplicationError("stopped without a cancel", ErrTypeInvalid, nil)
	}
	return w.endCancelled(ctx)
}

func (w *issuanceRun) endCancelled(ctx workflow.Context) (string, error) {
	audit := &AuditStep{Action: AuditIssuanceCancelled, Actor: w.cancel.Actor, ActorTokenID: w.cancel.ActorTokenID}
	return w.endBy(ctx, StatusCancelled, "cancelled", w.cancel.Actor, w.cancel.ActorName, w.cancel.Reason, nil, audit)
}

func (w *issuanceRun) endExpired(ctx workflow.Context, why string) (string, error) {
	return w.end(ctx, StatusExpired, "expired", "system", why, nil)
}

// end records a final status the system decided; credentials of an
// issuance that did not end active are revoked first, so they can never be
// used.
func (w *issuanceRun) end(ctx workflow.Context, status, eventType, actor, detail string, reasons []Reason) (string, error) {
	return w.endBy(ctx, status, eventType, actor, "", detail, reasons, nil)
}

// endBy is end for a staff action: actorName is the token's name, and
// audit the entry appended in the transition's transaction.
func (w *issuanceRun) endBy(ctx workflow.Context, status, eventType, actor, actorName, detail string, reasons []Reason, audit *AuditStep) (string, error) {
	w.ending = true
	if status != StatusActive {
		if err := w.db.revoke(ctx, w.in.IssuanceID); err != nil {
			return "", err
		}
	}
	t := w.move(status, nil, eventType, actor, detail)
	t.ActorName = actorName
	t.Reasons, t.Audit = reasons, audit
	if status == StatusActive {
		t.ActivationID = w.activation.ActivationID
	}
	if err := w.db.record(ctx, t); err != nil {
		return "", err
	}
	w.setState(status, nil)
	return status, nil
}
