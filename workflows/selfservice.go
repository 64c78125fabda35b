package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// CardOrderInput names a card order the API recorded (a lost-card report
// or an extra card). Ids only: the activity finds the person and the
// address in the database.
type CardOrderInput struct {
	OrderID      string
	CredentialID string
}

// CardOrderResult carries identifiers only; Void means the order was
// voided before its card was made (a lost-card report came first).
type CardOrderResult struct {
	CardNumber string
	LetterID   string
	Void       bool
}

// CardOrder mints, prints and queues the card of one order. The API starts
// it under CardOrderWorkflowID with a reject-duplicate policy, so each
// order's card is made once however often the request repeats; the
// activity is idempotent by order for its own retries.
func CardOrder(ctx workflow.Context, in CardOrderInput) (CardOrderResult, error) {
	if in.OrderID == "" || in.CredentialID == "" {
		return CardOrderResult{}, temporal.NewNonRetryableApplicationError("an order id and a credential id are required", ErrTypeInvalid, nil)
	}
	var res CardOrderResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, printOptions), ActivityMintOrderedCard, in).Get(ctx, &res)
	if err != nil {
		return res, fmt.Errorf("mint the card of order %s: %w", in.OrderID, err)
	}
	return res, nil
}

// ResetInput starts a password reset's workflow once its code was
// answered. Deadline is absolute (NEMID_ACTIVATION_WINDOW from the
// request); Abroad sends the letter care of the representation, which
// hands it over after checking the document and taking the fee.
type ResetInput struct {
	ResetID      string
	CredentialID string
	Deadline     time.Time
	Abroad       bool
}

// ResetPrint asks for a reset's temporary password to be drawn, printed
// and queued.
type ResetPrint struct {
	ResetID string
	At      time.Time
}

// ResetPrinted: the letter, and the earlier resets this one replaced.
// Closed means the reset was closed before it was printed (a newer reset
// replaced it first).
type ResetPrinted struct {
	LetterID   string
	Superseded []string
	Closed     bool
}

// ResetPickupRecord is what a representation's pickup of a reset letter
// records: the actor and the fee, never the document.
type ResetPickupRecord struct {
	ResetID      string
	Actor        string
	ActorName    string `json:",omitempty"` // the token's name, for the timeline and the fees ledger
	ActorTokenID string `json:",omitempty"` // for the audit log: an id, never a name
	FeeDKK       int
	Receipt      string
	At           time.Time
}

// ResetActivation asks for a reset's activation to be recorded: the id of
// the answered activation challenge whose chosen password becomes the
// credential's.
type ResetActivation struct {
	ResetID      string
	ActivationID string
	At           time.Time
}

// ResetClose ends a reset as expired or superseded.
type ResetClose struct {
	ResetID string
	Status  string
	At      time.Time
}

// ResetState is what the reset's query and Updates answer.
type ResetState struct {
	Status   string
	Deadline time.Time
}

type resetRun struct {
	in         ResetInput
	state      ResetState
	ending     bool // a final status is being recorded
	busy       bool // an Update's activity is running
	superseded bool
}

// PasswordReset prints a new temporary password and waits, bounded by a
// durable deadline, for its activation (POST /v1/activations with it): on
// the abroad path first for the representation's pickup. A newer reset
// supersedes it (signal); an unused one expires. Secrets never enter it:
// the activities draw, print and record them.
func PasswordReset(ctx workflow.Context, in ResetInput) (ResetState, error) {
	if in.ResetID == "" || in.CredentialID == "" || in.Deadline.IsZero() {
		return ResetState{}, temporal.NewNonRetryableApplicationError("a reset id, a credential id and a deadline are required", ErrTypeInvalid, nil)
	}
	r := &resetRun{in: in, state: ResetState{Status: ResetRequestedState, Deadline: in.Deadline}}
	if err := r.setup(ctx); err != nil {
		return ResetState{}, err
	}
	if err := r.run(ctx); err != nil {
		return r.state, err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return r.state, err
	}
	return r.state, nil
}

// ResetRequestedState is a reset's state until its letter is queued.
const ResetRequestedState = "requested"

func (r *resetRun) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (ResetState, error) { return r.state, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdatePickup, r.handlePickup,
		workflow.UpdateHandlerOptions{Validator: r.validatePickup}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateActivate, r.handleActivate,
		workflow.UpdateHandlerOptions{Validator: r.validateActivate}); err != nil {
		return err
	}
	ch := workflow.GetSignalChannel(ctx, SignalResetSuperseded)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for ch.Receive(ctx, nil) {
			r.superseded = true
		}
	})
	return nil
}

func (r *resetRun) run(ctx workflow.Context) error {
	var printed ResetPrinted
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, printOptions), ActivityPrintResetLetter,
		ResetPrint{ResetID: r.in.ResetID, At: workflow.Now(ctx)}).Get(ctx, &printed)
	if err != nil {
		return fmt.Errorf("print the temporary password of reset %s: %w", r.in.ResetID, err)
	}
	if printed.Closed {
		r.ending = true
		r.state.Status = ResetSuperseded
		return nil
	}
	r.tellSuperseded(ctx, printed.Superseded)
	if r.in.Abroad {
		r.state.Status = ResetAwaitingPickup
		if done, err := r.wait(ctx, func() bool { return r.state.Status != ResetAwaitingPickup }); done || err != nil {
			return err
		}
	}
	r.state.Status = ResetOpen
	_, err = r.wait(ctx, func() bool { return r.state.Status == ResetActivated })
	return err
}

// wait waits for cond, a newer reset or the deadline; done means the reset
// ended (activated, superseded or expired) and nothing more is to be done.
func (r *resetRun) wait(ctx workflow.Context, cond func() bool) (bool, error) {
	_, err := awaitUntil(ctx, r.in.Deadline, func() bool { return (cond() || r.superseded) && !r.busy })
	if err != nil {
		return true, err
	}
	// An Update's activity running at the deadline finishes first.
	if err := workflow.Await(ctx, func() bool { return !r.busy }); err != nil {
		return true, err
	}
	switch {
	case r.state.Status == ResetActivated:
		return true, nil
	case r.superseded:
		return true, r.close(ctx, ResetSuperseded)
	case cond():
		return false, nil
	}
	return true, r.close(ctx, ResetExpired)
}

func (r *resetRun) close(ctx workflow.Context, status string) error {
	r.ending = true
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, dbOptions), ActivityCloseReset,
		ResetClose{ResetID: r.in.ResetID, Status: status, At: workflow.Now(ctx)}).Get(ctx, nil)
	if err != nil {
		return fmt.Errorf("close reset %s %s: %w", r.in.ResetID, status, err)
	}
	r.state.Status = status
	return nil
}

// tellSuperseded ends the workflows of the resets this one replaced. Their
// rows are already closed (their temporary passwords no longer verify),
// so a workflow that has ended meanwhile needs nothing: the signal only
// spares the others their wait until the deadline.
func (r *resetRun) tellSuperseded(ctx workflow.Context, ids []string) {
	for _, id := range ids {
		err := workflow.SignalExternalWorkflow(ctx, PasswordResetWorkflowID(id), "", SignalResetSuperseded, nil).Get(ctx, nil)
		if err != nil {
			workflow.GetLogger(ctx).Info("superseded reset's workflow not told (it has ended)", "reset_id", id, "error", err.Error())
		}
	}
}

func (r *resetRun) validatePickup(ctx workflow.Context, req ResetPickupRecord) error {
	if r.ending || r.busy || r.superseded || r.state.Status != ResetAwaitingPickup {
		return temporal.NewApplicationError("the password reset is "+r.state.Status+", not awaiting a pickup", ErrTypeConflict)
	}
	if req.Actor == "" || req.Receipt == "" {
		return temporal.NewApplicationError("the actor and the receipt are required", ErrTypeInvalid)
	}
	return nil
}

// handlePickup records the pickup and the fee, then opens the reset.
func (r *resetRun) handlePickup(ctx workflow.Context, req ResetPickupRecord) (ResetState, error) {
	r.busy = true
	defer func() { r.busy = false }()
	req.ResetID, req.At = r.in.ResetID, workflow.Now(ctx)
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, dbOptions), ActivityRecordResetPickup, req).Get(ctx, nil); err != nil {
		return r.state, fmt.Errorf("record the pickup of reset %s: %w", r.in.ResetID, err)
	}
	r.state.Status = ResetOpen
	return r.state, nil
}

func (r *resetRun) validateActivate(ctx workflow.Context, req ActivationRequest) error {
	if r.ending || r.busy || r.superseded || r.state.Status != ResetOpen {
		return temporal.NewApplicationError("the password reset is "+r.state.Status+", not awaiting activation", ErrTypeConflict)
	}
	if req.ActivationID == "" {
		return temporal.NewApplicationError("an activation id is required", ErrTypeInvalid)
	}
	return nil
}

// handleActivate records the new password, the lifted lock and the ended
// sessions in one activity, and answers once they are recorded.
func (r *resetRun) handleActivate(ctx workflow.Context, req ActivationRequest) (ResetState, error) {
	r.busy = true
	defer func() { r.busy = false }()
	in := ResetActivation{ResetID: r.in.ResetID, ActivationID: req.ActivationID, At: workflow.Now(ctx)}
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, dbOptions), ActivityActivateReset, in).Get(ctx, nil); err != nil {
		return r.state, fmt.Errorf("activate reset %s: %w", r.in.ResetID, err)
	}
	r.state.Status = ResetActivated
	return r.state, nil
}
