package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// MoveAppointment records an appointment's status move as its workflow
// decided it (idempotent: a retry finds the move made). A check-in also
// writes appointment_checked_in on the issuance's timeline and the
// caseworker's audit entry, in the same transaction.
func (a *Activities) MoveAppointment(ctx context.Context, in workflows.AppointmentMove) (workflows.MoveResult, error) {
	m := store.Move{AppointmentID: in.AppointmentID, From: in.From, To: in.To, At: in.At, IssuanceID: in.IssuanceID}
	if in.To == workflows.AppointmentCheckedIn {
		m.Event = &store.Event{IssuanceID: in.IssuanceID, DedupeKey: "appointment_checked_in:" + in.AppointmentID,
			At: in.At.UTC(), Type: "appointment_checked_in", Actor: in.Actor, ActorName: store.NameOrNil(in.ActorName),
			Detail: "checked in for the appointment " + in.AppointmentID}
		m.Audit = &store.AuditEntry{Actor: in.Actor, TokenID: in.ActorTokenID, Action: workflows.AuditAppointmentCheckedIn,
			Target: store.AppointmentTarget(in.AppointmentID)}
	}
	_, err := a.Store.MoveAppointment(ctx, m)
	switch {
	case err == nil:
		return workflows.MoveResult{Outcome: workflows.MoveDone}, nil
	case errors.Is(err, store.ErrAppointmentMoved):
		return workflows.MoveResult{Outcome: workflows.MoveNotAllowed}, nil
	case errors.Is(err, store.ErrOpenAppointment):
		return workflows.MoveResult{Outcome: workflows.MoveOpenAppointment}, nil
	case errors.Is(err, store.ErrNotFound):
		return workflows.MoveResult{}, permanent("move appointment "+in.AppointmentID, err)
	}
	return workflows.MoveResult{}, fmt.Errorf("move appointment %s to %s: %w", in.AppointmentID, in.To, err)
}

// RescheduleAppointment moves a booked appointment to the slot at
// req.Start, taking it and giving the old one back in one transaction:
// slot_unknown when the centre has no such slot (or it has passed),
// slot_full when every desk of it is held.
func (a *Activities) RescheduleAppointment(ctx context.Context, req workflows.RescheduleRequest) (workflows.MoveResult, error) {
	appt, err := a.Store.GetAppointment(ctx, req.AppointmentID, "")
	if err != nil {
		return workflows.MoveResult{}, fmt.Errorf("read appointment %s: %w", req.AppointmentID, err)
	}
	centre, err := a.Store.GetCentre(ctx, appt.Centre)
	if err != nil {
		return workflows.MoveResult{}, fmt.Errorf("read centre %s: %w", appt.Centre, err)
	}
	start := req.Start.UTC()
	if appt.StartAt.Equal(start) {
		return workflows.MoveResult{Outcome: workflows.MoveDone, Start: appt.StartAt.UTC(), End: appt.EndAt.UTC()}, nil
	}
	if !start.After(req.At) || !centre.IsSlotStart(start) {
		return workflows.MoveResult{Outcome: workflows.MoveSlotUnknown}, nil
	}
	moved, err := a.Store.Reschedule(ctx, req.AppointmentID, start, start.Add(centre.SlotLength()), centre.Desks, req.At)
	switch {
	case err == nil:
		return workflows.MoveResult{Outcome: workflows.MoveDone, Start: moved.StartAt.UTC(), End: moved.EndAt.UTC()}, nil
	case errors.Is(err, store.ErrSlotFull):
		return workflows.MoveResult{Outcome: workflows.MoveSlotFull}, nil
	case errors.Is(err, store.ErrAppointmentMoved):
		return workflows.MoveResult{Outcome: workflows.MoveNotAllowed}, nil
	}
	return workflows.MoveResult{}, fmt.Errorf("reschedule appointment %s: %w", req.AppointmentID, err)
}

// QueueAppointmentReminder queues the appointment_reminder notification of
// one start of an appointment, once (its dedupe key names the start).
func (a *Activities) QueueAppointmentReminder(ctx context.Context, in workflows.AppointmentReminder) error {
	appt, err := a.Store.GetAppointment(ctx, in.AppointmentID, "")
	if err != nil {
		return fmt.Errorf("read appointment %s: %w", in.AppointmentID, err)
	}
	if appt.Status != workflows.AppointmentBooked {
		return nil // cancelled or checked in meanwhile: nothing to remind of
	}
	centre, err := a.Store.GetCentre(ctx, appt.Centre)
	if err != nil {
		return fmt.Errorf("read centre %s: %w", appt.Centre, err)
	}
	text := ReminderText(centre, in.Start)
	n := store.Notification{ID: uuid.NewString(), DedupeKey: fmt.Sprintf("appointment_reminder:%s:%d", in.AppointmentID, in.Start.Unix()),
		AppointmentID: &appt.ID, Kind: NotificationReminder, ToEmail: appt.ContactEmail, ToPhone: appt.ContactPhone,
		Status: store.NotificationQueued, CreatedAt: time.Now().UTC()}
	if n.Body, err = a.LetterKeys.Seal(n.ID, []byte(text)); err != nil {
		return fmt.Errorf("seal the reminder: %w", err)
	}
	if _, queued, err := a.Store.QueueNotification(ctx, n); err != nil || !queued {
		// Not stored (an earlier attempt queued it, or the write failed): its key goes.
		a.destroyKey(ctx, n.ID)
		return err
	}
	return nil
}

// Notification kinds (DESIGN.md §7).
const (
	NotificationBookingConfirmation = "booking_confirmation"
	NotificationReminder            = "appointment_reminder"
)

// ReminderText is the reminder's message.
func ReminderText(c domain.ServiceCentre, start time.Time) string {
	at := start.In(domain.Copenhagen())
	return fmt.Sprintf("Reminder: your appointment at %s, %s, %s is on %s at %s. Bring photo ID and your booking reference.",
		c.Name, c.Address, c.City, at.Format("2006-01-02"), at.Format("15:04"))
}
