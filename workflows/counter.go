package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Activity names, registered explicitly by worker.Register.
const ActivityRecordTransition = "RecordTransition"

// counterIssuance is one run of the counter path: setup registers the
// handlers, run performs the steps.
type counterIssuance struct {
	in     IssuanceInput
	state  State
	cancel *CancelRequest
	ending bool // a final transition is being recorded; no more changes accepted
}

// CounterIssuance runs an issuance started at a Citizen Service centre.
func CounterIssuance(ctx workflow.Context, in IssuanceInput) (IssuanceResult, error) {
	w := &counterIssuance{in: in, state: State{Status: StatusReceived}}
	if err := w.setup(ctx); err != nil {
		return IssuanceResult{}, err
	}
	return w.run(ctx)
}

func (w *counterIssuance) setup(ctx workflow.Context) error {
	if w.in.IssuanceID == "" {
		return temporal.NewNonRetryableApplicationError("issuance id is required", ErrTypeInvalid, nil)
	}
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (State, error) { return w.state, nil }); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancel, w.handleCancel,
		workflow.UpdateHandlerOptions{Validator: w.validateCancel})
}

func (w *counterIssuance) validateCancel(ctx workflow.Context, req CancelRequest) error {
	if w.ending || isFinal(w.state.Status) {
		return temporal.NewApplicationError("the issuance is already "+w.state.Status, ErrTypeConflict)
	}
	if req.Reason == "" {
		return temporal.NewApplicationError("a reason is required", ErrTypeInvalid)
	}
	return nil
}

// handleCancel asks the main loop to stop and answers once the cancellation
// is recorded, so the caller's next read already shows it.
func (w *counterIssuance) handleCancel(ctx workflow.Context, req CancelRequest) (State, error) {
	w.cancel = &req
	w.ending = true
	if err := workflow.Await(ctx, func() bool { return isFinal(w.state.Status) }); err != nil {
		return State{}, err
	}
	return w.state, nil
}

func (w *counterIssuance) run(ctx workflow.Context) (IssuanceResult, error) {
	w.state.Deadline = &w.in.DeliveryDeadline
	wait := w.in.DeliveryDeadline.Sub(workflow.Now(ctx))
	cancelled, err := workflow.AwaitWithTimeout(ctx, maxDuration(wait, 0), func() bool { return w.cancel != nil })
	if err != nil {
		return IssuanceResult{}, err
	}
	w.ending = true
	if cancelled {
		err = w.finish(ctx, StatusCancelled, "cancelled", w.cancel.Actor, w.cancel.Reason)
	} else {
		err = w.finish(ctx, StatusExpired, "expired", "system", "the delivery deadline passed")
	}
	if err != nil {
		return IssuanceResult{}, err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return IssuanceResult{}, err
	}
	return IssuanceResult{Status: w.state.Status}, nil
}

// finish records a final status; the state changes only once it is stored.
func (w *counterIssuance) finish(ctx workflow.Context, status, eventType, actor, detail string) error {
	in := TransitionInput{
		IssuanceID: w.in.IssuanceID, Status: status, EventKey: eventType, EventType: eventType,
		Actor: actor, Detail: detail, At: workflow.Now(ctx),
	}
	if err := workflow.ExecuteActivity(withRecordOptions(ctx), ActivityRecordTransition, in).Get(ctx, nil); err != nil {
		return errors.Join(errors.New("record "+status), err)
	}
	w.state = State{Status: status}
	return nil
}

// withRecordOptions: database writes are quick and idempotent, so retry
// them patiently; an outage of the database delays the issuance, never fails it.
func withRecordOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{ErrTypeInvalid},
		},
	})
}

func isFinal(status string) bool {
	switch status {
	case StatusRejected, StatusActive, StatusExpired, StatusCancelled:
		return true
	}
	return false
}

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}
