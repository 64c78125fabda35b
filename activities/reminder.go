package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/opennemid/nemid/printing"
	"github.com/opennemid/nemid/register"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// QueueReminder prints a reminder to activate before the deadline and puts
// it in the outbox, once per issuance.
func (a *Activities) QueueReminder(ctx context.Context, in workflows.ReminderInput) (string, error) {
	defer keepAlive(ctx)()
	at := in.At.UTC()
	to, err := a.reminderRecipient(ctx, in)
	if err != nil {
		return "", err
	}
	in.Recipient = to
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

// reminderRecipient is where the workflow addressed the reminder, unless
// address protection was turned on since (a register change): then care of
// the centre that issued, KBH for a NemID from a bank or from abroad. A
// person gone from the register keeps the workflow's address.
func (a *Activities) reminderRecipient(ctx context.Context, in workflows.ReminderInput) (workflows.Recipient, error) {
	iss, err := a.Store.GetIssuance(ctx, in.IssuanceID, store.Scope{})
	if err != nil {
		return workflows.Recipient{}, fmt.Errorf("load issuance %s: %w", in.IssuanceID, err)
	}
	row, err := a.Store.PersonByCPRHash(ctx, iss.CPRHash, register.CPRHasher(a.HashKeys.Lookup(), in.At))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !row.AddressProtected) {
		return in.Recipient, nil
	}
	if err != nil {
		return workflows.Recipient{}, fmt.Errorf("look up the person: %w", err)
	}
	if len(in.Recipient.Lines) > 0 && strings.HasPrefix(in.Recipient.Lines[0], "c/o ") {
		return in.Recipient, nil // already care of a centre
	}
	return a.careOfIssuingCentre(ctx, in.Recipient.Name, iss)
}
