package activities

import (
	"context"
	"fmt"

	"github.com/opennemid/nemid/printing"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// QueueReminder prints a reminder to activate before the deadline and puts
// it in the outbox, once per issuance.
func (a *Activities) QueueReminder(ctx context.Context, in workflows.ReminderInput) (string, error) {
	at := in.At.UTC()
	pdf, err := printing.ReminderLetter(printing.ReminderLetterInput{Recipient: printRecipient(in.Recipient), Date: at, ActivateBy: in.ActivateBy})
	if err != nil {
		return "", permanent("print the reminder", err)
	}
	l := newLetter(in.IssuanceID, store.KindReminder, store.LetterQueued, in.Recipient, pdf, at)
	ev := store.Event{IssuanceID: in.IssuanceID, DedupeKey: "reminder_queued", At: at, Type: "reminder_queued", Actor: "system",
		Detail: "reminder letter " + l.ID + " queued for " + in.Recipient.Name}
	sealed := []store.Letter{l}
	if err := a.sealLetters(ctx, sealed); err != nil {
		return "", err
	}
	id, err := a.Store.QueueLetter(ctx, sealed[0], ev)
	if err != nil || id != l.ID { // failed, or the reminder was already queued
		a.discardUnstored(ctx, sealed)
	}
	if err != nil {
		return "", fmt.Errorf("queue reminder: %w", err)
	}
	return id, nil
}
