package activities

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/printing"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// MintOrderedCard mints the card of a lost-card or extra-card order,
// prints it and queues its letter (replacement_card or extra_card) with
// the timeline event, in one transaction. The codes exist in plaintext only
// inside this call. A retry after success finds the order minted and
// returns its card; a voided order makes nothing.
func (a *Activities) MintOrderedCard(ctx context.Context, in workflows.CardOrderInput) (workflows.CardOrderResult, error) {
	defer keepAlive(ctx)()
	order, err := a.Store.CardOrderByID(ctx, in.OrderID)
	if errors.Is(err, store.ErrNotFound) {
		return workflows.CardOrderResult{}, temporal.NewNonRetryableApplicationError("card order "+in.OrderID+" does not exist", workflows.ErrTypeInvalid, nil)
	}
	if err != nil {
		return workflows.CardOrderResult{}, fmt.Errorf("load card order: %w", err)
	}
	switch order.Status {
	case store.OrderMinted:
		return orderResult(order), nil
	case store.OrderVoid:
		return workflows.CardOrderResult{Void: true}, nil
	}
	cred, err := a.Store.CredentialByID(ctx, order.CredentialID)
	if err != nil {
		return workflows.CardOrderResult{}, fmt.Errorf("load credential: %w", err)
	}
	iss, err := a.Store.GetIssuance(ctx, cred.IssuanceID, store.Scope{})
	if err != nil {
		return workflows.CardOrderResult{}, fmt.Errorf("load issuance of credential %s: %w", cred.ID, err)
	}
	now := activity.GetInfo(ctx).StartedTime.UTC()
	to, err := a.replacementRecipient(ctx, iss, now)
	if err != nil {
		return workflows.CardOrderResult{}, err
	}
	for attempt := 0; attempt < mintAttempts; attempt++ {
		oc, err := a.newOrderedCard(order, iss.ID, to, now)
		if err != nil {
			return workflows.CardOrderResult{}, err
		}
		sealed := []store.Letter{oc.Letter}
		if err := a.sealLetters(ctx, sealed); err != nil {
			return workflows.CardOrderResult{}, err
		}
		oc.Letter = sealed[0]
		saved, err := a.Store.SaveOrderedCard(ctx, oc)
		if err != nil || saved.LetterID == nil || *saved.LetterID != oc.Letter.ID {
			a.discardUnstored(ctx, sealed)
		}
		switch {
		case err == nil:
			return orderResult(saved), nil
		case errors.Is(err, store.ErrOrderVoid):
			return workflows.CardOrderResult{Void: true}, nil
		case errors.Is(err, store.ErrCardNumberTaken):
			continue
		default:
			return workflows.CardOrderResult{}, fmt.Errorf("save the card of order %s: %w", order.ID, err)
		}
	}
	return workflows.CardOrderResult{}, fmt.Errorf("mint ordered card: %d collisions in a row", mintAttempts)
}

func orderResult(o store.CardOrder) workflows.CardOrderResult {
	var r workflows.CardOrderResult
	if o.CardNumber != nil {
		r.CardNumber = *o.CardNumber
	}
	if o.LetterID != nil {
		r.LetterID = *o.LetterID
	}
	return r
}

// newOrderedCard draws an order's card and prints its letter in memory.
func (a *Activities) newOrderedCard(o store.CardOrder, issuanceID string, to workflows.Recipient, at time.Time) (store.OrderedCard, error) {
	card, err := domain.NewCodeCard()
	if err != nil {
		return store.OrderedCard{}, err
	}
	kind, event, render := store.KindReplacementCard, "replacement_queued", printing.LostCardLetter
	what := "new code card after the loss of the cards"
	if o.Kind == store.OrderExtra {
		kind, event, render = store.KindExtraCard, "extra_card_queued", printing.ExtraCardLetter
		what = "extra code card"
	}
	pdf, err := render(printing.CodeCardLetterInput{Recipient: printRecipient(to), Date: at, CardNumber: card.Number, Pairs: printedPairs(card)})
	if err != nil {
		return store.OrderedCard{}, permanent("print the "+kind+" letter", err)
	}
	l := newLetter(issuanceID, kind, store.LetterQueued, to, pdf, at)
	l.DedupeKey = issuanceID + "/" + kind + "/" + o.ID
	n := strconv.Itoa(o.N)
	return store.OrderedCard{
		OrderID: o.ID,
		Card:    store.CodeCard{CardNumber: card.Number, CredentialID: o.CredentialID, CreatedAt: at},
		Codes:   cardCodes(a.HashKeys, card),
		Letter:  l,
		Event: store.Event{IssuanceID: issuanceID, DedupeKey: event + ":" + o.Kind + ":" + n, At: at, Type: event, Actor: "system",
			Detail: what + " " + card.Number + " (" + o.Kind + " order " + n + ") letter " + l.ID + " queued"},
	}, nil
}

// PrintResetLetter draws a password reset's temporary password, keeps its
// MAC on the reset, prints it and queues the temporary_password letter,
// in one transaction that also supersedes earlier resets. The letter goes
// where later letters go (replacementRecipient), or on the abroad path care
// of the order's representation, which hands it over. The password exists
// in plaintext only inside this call; a retry returns the letter stored.
func (a *Activities) PrintResetLetter(ctx context.Context, in workflows.ResetPrint) (workflows.ResetPrinted, error) {
	defer keepAlive(ctx)()
	reset, err := a.Store.ResetByID(ctx, in.ResetID)
	if errors.Is(err, store.ErrNotFound) {
		return workflows.ResetPrinted{}, temporal.NewNonRetryableApplicationError("password reset "+in.ResetID+" does not exist", workflows.ErrTypeInvalid, nil)
	}
	if err != nil {
		return workflows.ResetPrinted{}, fmt.Errorf("load password reset: %w", err)
	}
	cred, err := a.Store.CredentialByID(ctx, reset.CredentialID)
	if err != nil {
		return workflows.ResetPrinted{}, fmt.Errorf("load credential: %w", err)
	}
	iss, err := a.Store.GetIssuance(ctx, cred.IssuanceID, store.Scope{})
	if err != nil {
		return workflows.ResetPrinted{}, fmt.Errorf("load issuance of credential %s: %w", cred.ID, err)
	}
	at := in.At.UTC()
	to, status, err := a.resetRecipient(ctx, iss, at)
	if err != nil {
		return workflows.ResetPrinted{}, err
	}
	password, err := domain.NewTemporaryPassword()
	if err != nil {
		return workflows.ResetPrinted{}, err
	}
	pdf, err := printing.TemporaryPasswordLetter(printing.PasswordLetterInput{Recipient: printRecipient(to), Date: at,
		NemIDNumber: cred.UserID, TemporaryPassword: password, ActivateBy: reset.ExpiresAt})
	if err != nil {
		return workflows.ResetPrinted{}, permanent("print the temporary password letter", err)
	}
	l := newLetter(iss.ID, store.KindTemporaryPassword, store.LetterQueued, to, pdf, at)
	l.DedupeKey = iss.ID + "/" + store.KindTemporaryPassword + "/" + reset.ID
	sealed := []store.Letter{l}
	if err := a.sealLetters(ctx, sealed); err != nil {
		return workflows.ResetPrinted{}, err
	}
	letterID, superseded, err := a.Store.SaveResetLetter(ctx, store.ResetLetter{ResetID: reset.ID,
		MAC: domain.TemporaryPasswordMAC(a.HashKeys, cred.UserID, password), Status: status, Letter: sealed[0],
		Event: store.Event{IssuanceID: iss.ID, DedupeKey: "password_reset_requested:" + reset.ID, At: at, Type: "password_reset_requested",
			Actor: "citizen", Detail: "password reset " + reset.ID + ": temporary password letter " + sealed[0].ID + " queued for " + to.Name}})
	if err != nil || letterID != sealed[0].ID {
		a.discardUnstored(ctx, sealed)
	}
	switch {
	case errors.Is(err, store.ErrResetClosed):
		return workflows.ResetPrinted{Closed: true}, nil
	case err != nil:
		return workflows.ResetPrinted{}, fmt.Errorf("save the temporary password of reset %s: %w", reset.ID, err)
	}
	return workflows.ResetPrinted{LetterID: letterID, Superseded: superseded}, nil
}

// resetRecipient: care of the representation of an abroad order (handed
// over there, so the reset waits for the pickup); otherwise where later
// letters go.
func (a *Activities) resetRecipient(ctx context.Context, iss store.Issuance, now time.Time) (workflows.Recipient, string, error) {
	if iss.Path != domain.PathAbroad {
		to, err := a.replacementRecipient(ctx, iss, now)
		return to, store.ResetOpen, err
	}
	person, err := a.personByHash(ctx, iss.CPRHash, now)
	if err != nil {
		return workflows.Recipient{}, "", err
	}
	if iss.Representation == nil {
		return workflows.Recipient{}, "", temporal.NewNonRetryableApplicationError(
			"the abroad order "+iss.ID+" has no representation", workflows.ErrTypeInvalid, nil)
	}
	return workflows.CareOfRepresentation(person.Name, *iss.Representation), store.ResetAwaitingPickup, nil
}

// RecordResetPickup records a representation's handover of a reset letter
// and the fee, once, with pickup_confirmed on the issuance's timeline.
func (a *Activities) RecordResetPickup(ctx context.Context, in workflows.ResetPickupRecord) error {
	issuanceID, err := a.resetIssuance(ctx, in.ResetID)
	if err != nil {
		return err
	}
	at := in.At.UTC()
	p := store.ResetPickup{ResetID: in.ResetID, Actor: in.Actor, ActorName: store.NameOrNil(in.ActorName), FeeDKK: in.FeeDKK, Receipt: in.Receipt, At: at,
		Event: store.Event{IssuanceID: issuanceID, DedupeKey: "pickup_confirmed:" + in.ResetID, At: at, Type: "pickup_confirmed", Actor: in.Actor,
			ActorName: store.NameOrNil(in.ActorName),
			Detail:    fmt.Sprintf("temporary password of password reset %s handed over; fee DKK %d, receipt %s", in.ResetID, in.FeeDKK, in.Receipt)}}
	if in.ActorTokenID != "" {
		// A staff action (DESIGN.md §8); records from before the token id
		// travelled with it are not audited.
		p.Audit = store.AuditEntry{Actor: in.Actor, TokenID: in.ActorTokenID, Action: store.AuditPickupConfirmed, Target: store.IssuanceTarget(issuanceID)}
	}
	err = a.Store.RecordResetPickup(ctx, p)
	if errors.Is(err, store.ErrResetClosed) {
		return temporal.NewNonRetryableApplicationError("the password reset "+in.ResetID+" is not awaiting a pickup", workflows.ErrTypeConflict, err)
	}
	return err
}

// ActivateReset records a reset's activation: the new password, the lock
// lifted, every session ended, password_changed on the timeline.
func (a *Activities) ActivateReset(ctx context.Context, in workflows.ResetActivation) error {
	issuanceID, err := a.resetIssuance(ctx, in.ResetID)
	if err != nil {
		return err
	}
	at := in.At.UTC()
	err = a.Store.ActivateReset(ctx, in.ResetID, in.ActivationID, store.Event{IssuanceID: issuanceID, DedupeKey: "password_changed:" + in.ResetID,
		At: at, Type: "password_changed", Actor: "citizen", Detail: "new password chosen with the temporary password of password reset " + in.ResetID})
	switch {
	case errors.Is(err, store.ErrResetClosed):
		return temporal.NewNonRetryableApplicationError("the password reset "+in.ResetID+" is closed", workflows.ErrTypeConflict, err)
	case errors.Is(err, store.ErrActivationUnknown):
		return permanent("activate reset "+in.ResetID, err)
	}
	return err
}

// CloseReset ends a waiting reset as expired or superseded.
func (a *Activities) CloseReset(ctx context.Context, in workflows.ResetClose) error {
	return a.Store.CloseReset(ctx, in.ResetID, in.Status, in.At.UTC())
}

func (a *Activities) resetIssuance(ctx context.Context, resetID string) (string, error) {
	reset, err := a.Store.ResetByID(ctx, resetID)
	if errors.Is(err, store.ErrNotFound) {
		return "", temporal.NewNonRetryableApplicationError("password reset "+resetID+" does not exist", workflows.ErrTypeInvalid, nil)
	}
	if err != nil {
		return "", fmt.Errorf("load password reset: %w", err)
	}
	cred, err := a.Store.CredentialByID(ctx, reset.CredentialID)
	if err != nil {
		return "", fmt.Errorf("load credential: %w", err)
	}
	return cred.IssuanceID, nil
}
