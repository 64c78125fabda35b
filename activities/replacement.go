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
	"github.com/opennemid/nemid/register"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// ReplaceCard mints card in.Seq of a credential, prints it and queues the
// replacement_card letter with its timeline event, all in one transaction.
// The codes exist in plaintext only inside this call. A retry after success
// finds the card by (credential, seq) and returns it without a second one.
func (a *Activities) ReplaceCard(ctx context.Context, in workflows.ReplacementInput) (workflows.ReplacementResult, error) {
	defer keepAlive(ctx)()
	cred, err := a.Store.CredentialByID(ctx, in.CredentialID)
	if errors.Is(err, store.ErrNotFound) {
		return workflows.ReplacementResult{}, temporal.NewNonRetryableApplicationError("credential "+in.CredentialID+" does not exist", workflows.ErrTypeInvalid, nil)
	}
	if err != nil {
		return workflows.ReplacementResult{}, fmt.Errorf("load credential: %w", err)
	}
	iss, err := a.Store.GetIssuance(ctx, cred.IssuanceID, store.Scope{})
	if err != nil {
		return workflows.ReplacementResult{}, fmt.Errorf("load issuance of credential %s: %w", cred.ID, err)
	}
	now := activity.GetInfo(ctx).StartedTime.UTC()
	to, err := a.replacementRecipient(ctx, iss, now)
	if err != nil {
		return workflows.ReplacementResult{}, err
	}
	for attempt := 0; attempt < mintAttempts; attempt++ {
		r, err := a.newReplacement(cred, iss.ID, in.Seq, to, now)
		if err != nil {
			return workflows.ReplacementResult{}, err
		}
		sealed := []store.Letter{r.Letter}
		if err := a.sealLetters(ctx, sealed); err != nil {
			return workflows.ReplacementResult{}, err
		}
		r.Letter = sealed[0]
		card, letterID, err := a.Store.SaveReplacement(ctx, r)
		if err != nil || letterID != r.Letter.ID { // failed, or an earlier attempt's card and letter stand
			a.discardUnstored(ctx, sealed)
		}
		switch {
		case errors.Is(err, store.ErrReplacementNotNeeded):
			return workflows.ReplacementResult{}, nil // a lost-card or extra card took its place
		case err == nil:
			return workflows.ReplacementResult{CardNumber: card.CardNumber, LetterID: letterID}, nil
		case errors.Is(err, store.ErrCardNumberTaken):
			continue
		case errors.Is(err, store.ErrCredentialRevoked):
			return workflows.ReplacementResult{}, temporal.NewNonRetryableApplicationError(
				"credential "+cred.ID+" was revoked: no replacement card is made for it", workflows.ErrTypeConflict, err)
		default:
			return workflows.ReplacementResult{}, err
		}
	}
	return workflows.ReplacementResult{}, fmt.Errorf("replace card: %d card number collisions in a row", mintAttempts)
}

// newReplacement draws a card and prints its letter in memory.
func (a *Activities) newReplacement(cred store.Credential, issuanceID string, seq int, to workflows.Recipient, at time.Time) (store.Replacement, error) {
	card, err := domain.NewCodeCard()
	if err != nil {
		return store.Replacement{}, err
	}
	pdf, err := printing.ReplacementCardLetter(printing.CodeCardLetterInput{Recipient: printRecipient(to), Date: at,
		CardNumber: card.Number, Pairs: printedPairs(card)})
	if err != nil {
		return store.Replacement{}, permanent("print the replacement card letter", err)
	}
	l := newLetter(issuanceID, store.KindReplacementCard, store.LetterQueued, to, pdf, at)
	l.DedupeKey = issuanceID + "/" + store.KindReplacementCard + "/" + strconv.Itoa(seq)
	return store.Replacement{
		Card:   store.CodeCard{CardNumber: card.Number, CredentialID: cred.ID, Seq: seq, CreatedAt: at},
		Codes:  cardCodes(a.HashKeys, card),
		Letter: l,
		Event: store.Event{IssuanceID: issuanceID, DedupeKey: "replacement_queued:" + strconv.Itoa(seq), At: at,
			Type: "replacement_queued", Actor: "system",
			Detail: "replacement code card " + card.Number + " (card " + strconv.Itoa(seq) + ") letter " + l.ID + " queued"},
	}, nil
}

// replacementRecipient: care of the issuing centre for a person under
// address protection, as the register says now (it may have been turned on
// since the issuance); an abroad order's address for abroad-path people;
// otherwise the registered address, except for people who may not receive
// post there (living abroad after a counter issuance): they collect the
// card at the centre that issued, as the reminder does.
func (a *Activities) replacementRecipient(ctx context.Context, iss store.Issuance, now time.Time) (workflows.Recipient, error) {
	person, err := a.personByHash(ctx, iss.CPRHash, now)
	if err != nil {
		return workflows.Recipient{}, err
	}
	if person.AddressProtected {
		return a.careOfIssuingCentre(ctx, person.Name, iss)
	}
	if iss.Path == domain.PathAbroad {
		return a.orderAddress(ctx, iss.ID, person.Name)
	}
	if !person.CannotReceivePost() {
		addr := person.RegisteredAddress()
		return workflows.Recipient{Name: person.Name, Lines: addr.Lines, Postcode: addr.Postcode, City: addr.City, Country: addr.Country}, nil
	}
	return a.careOfIssuingCentre(ctx, person.Name, iss)
}

// careOfIssuingCentre addresses a later letter to the person care of the
// centre that issued the NemID, as the store has it (centres imported with
// `nemid centres import` too); a NemID issued by a bank or from abroad has
// no centre, and its letters wait at KBH (DESIGN.md §6).
func (a *Activities) careOfIssuingCentre(ctx context.Context, name string, iss store.Issuance) (workflows.Recipient, error) {
	code := domain.DefaultCareOfCentre
	if iss.Centre != nil && *iss.Centre != "" {
		code = *iss.Centre
	}
	centre, err := a.Store.GetCentre(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return workflows.Recipient{}, permanent("the person may not receive post at the registered address",
			fmt.Errorf("no centre %q to address a letter care of", code))
	}
	if err != nil {
		return workflows.Recipient{}, fmt.Errorf("load centre %s: %w", code, err)
	}
	return workflows.CareOf(name, centre.Centre()), nil
}

// orderAddress is where an abroad order sent the first code card: the
// address later cards go to.
func (a *Activities) orderAddress(ctx context.Context, issuanceID, name string) (workflows.Recipient, error) {
	letters, err := a.Store.LettersOfIssuance(ctx, issuanceID)
	if err != nil {
		return workflows.Recipient{}, fmt.Errorf("load the order's letters: %w", err)
	}
	for _, l := range letters {
		if l.Kind == store.KindCodeCard {
			r, err := l.RecipientOf()
			if err != nil {
				return workflows.Recipient{}, permanent("take the abroad order's address", err)
			}
			return workflows.Recipient{Name: name, Lines: r.Lines, Postcode: r.Postcode, City: r.City, Country: r.Country}, nil
		}
	}
	return workflows.Recipient{}, temporal.NewNonRetryableApplicationError(
		"the abroad order "+issuanceID+" has no code card letter to take the address from", workflows.ErrTypeInvalid, nil)
}

// personByHash finds the register's record from the keyed CPR hash a
// credential carries.
func (a *Activities) personByHash(ctx context.Context, cprHash string, now time.Time) (*domain.Person, error) {
	row, err := a.Store.PersonByCPRHash(ctx, cprHash, register.CPRHasher(a.HashKeys.Lookup(), now))
	if errors.Is(err, store.ErrNotFound) {
		return nil, temporal.NewNonRetryableApplicationError("the person is no longer in the CPR register", workflows.ErrTypeInvalid, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("look up the person: %w", err)
	}
	cpr, err := domain.ParseCPR(row.CPR, now)
	if err != nil {
		return nil, permanent("parse the register's CPR", err)
	}
	return register.ToDomain(row, cpr)
}
