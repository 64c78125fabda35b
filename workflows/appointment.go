package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// AppointmentInput starts an appointment's workflow. The API has recorded
// the booking (unconfirmed, its slot taken) before starting it.
type AppointmentInput struct {
	AppointmentID string
	Centre        string
	CPR           string // encrypted in history by the payload codec
	Start, End    time.Time
	ConfirmBy     time.Time     // the confirmation window ends
	RemindBefore  time.Duration // the reminder goes this long before the start
}

// AppointmentState is what the workflow knows (QueryAppointment).
type AppointmentState struct {
	Status     string
	Start, End time.Time
	IssuanceID string
}

// Outcomes of the appointment's Updates.
const (
	MoveDone            = "done"
	MoveNotAllowed      = "not_allowed"      // the appointment is no longer in a status that allows it
	MoveOpenAppointment = "open_appointment" // confirming would give the person a second confirmed booking
	MoveSlotFull        = "slot_full"
	MoveSlotUnknown     = "slot_unknown"
)

// AppointmentMove asks the MoveAppointment activity to record a move.
type AppointmentMove struct {
	AppointmentID string
	From          []string
	To            string
	At            time.Time
	IssuanceID    string // check-in
	Actor         string // check-in: the caseworker
	ActorName     string
	ActorTokenID  string
}

// MoveResult is what a move or a reschedule recorded.
type MoveResult struct {
	Outcome    string
	Start, End time.Time
}

// RescheduleRequest moves a booked appointment to the slot at Start.
type RescheduleRequest struct {
	AppointmentID string
	Start         time.Time
	At            time.Time
}

// CheckInRequest records the person's arrival with the issuance the
// counter application started.
type CheckInRequest struct {
	IssuanceID   string
	Actor        string
	ActorName    string
	ActorTokenID string
}

// AppointmentReminder queues the reminder of one start of an appointment.
type AppointmentReminder struct {
	AppointmentID string
	Start         time.Time
}

type appointmentRun struct {
	in       AppointmentInput
	state    AppointmentState
	mu       workflow.Mutex // one status move at a time: handlers and timers alike
	reminded bool
	rev      int // bumped by every reschedule, so the timers start again
}

// Appointment runs one booking (DESIGN.md §7): the confirmation window, the
// reminder 24 hours before the start, and, unless the person is checked in
// or cancels, the no-show at the end of the slot. The person's and the
// caseworker's actions are Updates with validators: a late or wrong action
// is refused to its caller and never fails the workflow.
func Appointment(ctx workflow.Context, in AppointmentInput) (AppointmentState, error) {
	r := &appointmentRun{in: in, state: AppointmentState{Status: AppointmentUnconfirmed, Start: in.Start, End: in.End},
		mu: workflow.NewMutex(ctx)}
	if err := r.setup(ctx); err != nil {
		return r.state, err
	}
	err := r.run(ctx)
	if werr := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err == nil {
		err = werr
	}
	return r.state, err
}

func (r *appointmentRun) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryAppointment, func() (AppointmentState, error) { return r.state, nil }); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, QueryAppointmentCPR, func() (string, error) { return r.in.CPR, nil }); err != nil {
		return err
	}
	updates := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateConfirm, r.confirm, r.validateConfirm},
		{UpdateExpire, r.expireNow, r.validateConfirm},
		{UpdateCancel, r.cancel, r.validateBooked},
		{UpdateReschedule, r.reschedule, r.validateReschedule},
		{UpdateCheckIn, r.checkIn, r.validateCheckIn},
	}
	for _, u := range updates {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, u.handler,
			workflow.UpdateHandlerOptions{Validator: u.validator}); err != nil {
			return fmt.Errorf("set %s handler: %w", u.name, err)
		}
	}
	return nil
}

func (r *appointmentRun) run(ctx workflow.Context) error {
	// The confirmation window.
	wait := r.in.ConfirmBy.Sub(workflow.Now(ctx))
	if _, err := workflow.AwaitWithTimeout(ctx, max(wait, 0), func() bool { return r.state.Status != AppointmentUnconfirmed }); err != nil {
		return err
	}
	if _, err := r.moveLocked(ctx, AppointmentExpired, CheckInRequest{}, AppointmentUnconfirmed); err != nil {
		return err
	}
	for r.state.Status == AppointmentBooked {
		if err := r.nextTimer(ctx); err != nil {
			return err
		}
	}
	return nil
}

// nextTimer waits for the reminder or the end of the slot, whichever is
// first, or for an Update that changes the appointment.
func (r *appointmentRun) nextTimer(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	remindAt := r.state.Start.Add(-r.in.RemindBefore)
	if !r.reminded && !now.Before(remindAt) {
		// Booked (or moved) less than a day ahead: remind at once.
		return r.remind(ctx)
	}
	next := r.state.End
	if !r.reminded {
		next = remindAt
	}
	rev := r.rev
	changed, err := workflow.AwaitWithTimeout(ctx, max(next.Sub(now), 0), func() bool {
		return r.rev != rev || r.state.Status != AppointmentBooked
	})
	if err != nil || changed {
		return err
	}
	if !workflow.Now(ctx).Before(r.state.End) {
		_, err := r.moveLocked(ctx, AppointmentNoShow, CheckInRequest{}, AppointmentBooked)
		return err
	}
	return nil // the reminder's time: the next round sends it
}

func (r *appointmentRun) remind(ctx workflow.Context) error {
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, dbOptions), ActivityQueueAppointmentReminder,
		AppointmentReminder{AppointmentID: r.in.AppointmentID, Start: r.state.Start}).Get(ctx, nil)
	if err != nil {
		return fmt.Errorf("queue the reminder: %w", err)
	}
	r.reminded = true
	return nil
}

// moveLocked records a move to `to` if the appointment is still in `from`
// once the lock is held; otherwise it does nothing and says so.
func (r *appointmentRun) moveLocked(ctx workflow.Context, to string, by CheckInRequest, from string) (string, error) {
	if err := r.mu.Lock(ctx); err != nil {
		return "", err
	}
	defer r.mu.Unlock()
	if r.state.Status != from {
		return MoveNotAllowed, nil
	}
	in := AppointmentMove{AppointmentID: r.in.AppointmentID, From: []string{from}, To: to, At: workflow.Now(ctx),
		IssuanceID: by.IssuanceID, Actor: by.Actor, ActorName: by.ActorName, ActorTokenID: by.ActorTokenID}
	var res MoveResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, dbOptions), ActivityMoveAppointment, in).Get(ctx, &res); err != nil {
		return "", fmt.Errorf("record the appointment %s: %w", to, err)
	}
	if res.Outcome == MoveDone {
		r.state.Status = to
		if by.IssuanceID != "" {
			r.state.IssuanceID = by.IssuanceID
		}
	}
	return res.Outcome, nil
}

func conflict(format string, args ...any) error {
	return temporal.NewApplicationError(fmt.Sprintf(format, args...), ErrTypeConflict)
}

func (r *appointmentRun) validateConfirm(ctx workflow.Context) error {
	if r.state.Status != AppointmentUnconfirmed {
		return conflict("the booking is %s", r.state.Status)
	}
	if !workflow.Now(ctx).Before(r.in.ConfirmBy) {
		return conflict("the confirmation window has passed")
	}
	return nil
}

func (r *appointmentRun) confirm(ctx workflow.Context) (string, error) {
	return r.moveLocked(ctx, AppointmentBooked, CheckInRequest{}, AppointmentUnconfirmed)
}

func (r *appointmentRun) expireNow(ctx workflow.Context) (string, error) {
	return r.moveLocked(ctx, AppointmentExpired, CheckInRequest{}, AppointmentUnconfirmed)
}

func (r *appointmentRun) validateBooked(ctx workflow.Context) error {
	if r.state.Status != AppointmentBooked {
		return conflict("the appointment is %s", r.state.Status)
	}
	return nil
}

func (r *appointmentRun) cancel(ctx workflow.Context) (string, error) {
	return r.moveLocked(ctx, AppointmentCancelled, CheckInRequest{}, AppointmentBooked)
}

func (r *appointmentRun) validateCheckIn(ctx workflow.Context, req CheckInRequest) error {
	if err := r.validateBooked(ctx); err != nil {
		return err
	}
	if req.IssuanceID == "" {
		return temporal.NewApplicationError("a check-in names the issuance it started", ErrTypeInvalid)
	}
	if !workflow.Now(ctx).Before(r.state.End) {
		return conflict("the slot has ended")
	}
	return nil
}

func (r *appointmentRun) checkIn(ctx workflow.Context, req CheckInRequest) (string, error) {
	return r.moveLocked(ctx, AppointmentCheckedIn, req, AppointmentBooked)
}

func (r *appointmentRun) validateReschedule(ctx workflow.Context, req RescheduleRequest) error {
	if err := r.validateBooked(ctx); err != nil {
		return err
	}
	if req.Start.Equal(r.state.Start) {
		return conflict("the appointment is already at that time")
	}
	if !req.Start.After(workflow.Now(ctx)) {
		return temporal.NewApplicationError("the new start has passed", ErrTypeInvalid)
	}
	return nil
}

func (r *appointmentRun) reschedule(ctx workflow.Context, req RescheduleRequest) (MoveResult, error) {
	if err := r.mu.Lock(ctx); err != nil {
		return MoveResult{}, err
	}
	defer r.mu.Unlock()
	if r.state.Status != AppointmentBooked {
		return MoveResult{Outcome: MoveNotAllowed}, nil
	}
	req.AppointmentID, req.At = r.in.AppointmentID, workflow.Now(ctx)
	var res MoveResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, dbOptions), ActivityRescheduleAppointment, req).Get(ctx, &res); err != nil {
		return res, fmt.Errorf("reschedule the appointment: %w", err)
	}
	if res.Outcome == MoveDone {
		r.state.Start, r.state.End = res.Start, res.End
		r.reminded = false
		r.rev++
	}
	return res, nil
}
