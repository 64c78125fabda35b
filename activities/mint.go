package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/printing"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// mintAttempts bounds redraws after a NemID-number or card-number collision
// (one in 10^8 per draw at a million credentials).
const mintAttempts = 5

// MintCredentials creates the NemID number, temporary password and code
// card, keeps only their MACs, prints the documents and queues them — all
// inside this activity, so no secret enters workflow history. A retry after
// success returns the letters already made and never mints a second card.
func (a *Activities) MintCredentials(ctx context.Context, in workflows.MintInput) (workflows.MintResult, error) {
	defer keepAlive(ctx)()
	if err := validateMint(in); err != nil {
		return workflows.MintResult{}, err
	}
	for attempt := 0; attempt < mintAttempts; attempt++ {
		minted, err := a.mint(ctx, in)
		if err != nil {
			return workflows.MintResult{}, err
		}
		if err := a.sealLetters(ctx, minted.Letters); err != nil {
			return workflows.MintResult{}, err
		}
		err = a.Store.SaveMinted(ctx, minted)
		if err != nil {
			a.discardUnstored(ctx, minted.Letters)
		}
		switch {
		case err == nil:
			return resultOf(minted.Credential.ID, minted.Card.CardNumber, minted.Letters), nil
		case errors.Is(err, store.ErrAlreadyMinted):
			return a.existingMint(ctx, in.IssuanceID)
		case errors.Is(err, store.ErrUserIDTaken):
			continue
		default:
			return workflows.MintResult{}, fmt.Errorf("save minted credentials: %w", err)
		}
	}
	return workflows.MintResult{}, fmt.Errorf("mint credentials: %d number collisions in a row", mintAttempts)
}

func validateMint(in workflows.MintInput) error {
	switch {
	case in.IssuanceID == "":
		return temporal.NewNonRetryableApplicationError("issuance id is required", workflows.ErrTypeInvalid, nil)
	case in.Delivery != "handover" && in.Delivery != "letters" && in.Delivery != "representation":
		return temporal.NewNonRetryableApplicationError("unknown delivery "+in.Delivery, workflows.ErrTypeInvalid, nil)
	case in.CardRecipient.Name == "":
		return temporal.NewNonRetryableApplicationError("the recipient's name is required", workflows.ErrTypeInvalid, nil)
	}
	return nil
}

// mint draws the secrets and renders the documents in memory.
func (a *Activities) mint(ctx context.Context, in workflows.MintInput) (store.Minted, error) {
	userID, err := domain.NewNemIDNumber()
	if err != nil {
		return store.Minted{}, err
	}
	tempPassword, err := domain.NewTemporaryPassword()
	if err != nil {
		return store.Minted{}, err
	}
	card, err := domain.NewCodeCard()
	if err != nil {
		return store.Minted{}, err
	}
	at := in.At.UTC()
	cred := store.Credential{ID: uuid.NewString(), IssuanceID: in.IssuanceID, UserID: userID,
		TemporaryPasswordMAC: domain.TemporaryPasswordMAC(a.HashKeys, userID, tempPassword),
		Status:               store.CredentialPending, CreatedAt: at}
	cred.CPRHash, err = a.issuanceCPRHash(ctx, in.IssuanceID)
	if err != nil {
		return store.Minted{}, err
	}
	m := store.Minted{
		Credential: cred,
		Card:       store.CodeCard{CardNumber: card.Number, CredentialID: cred.ID, Seq: 1, CreatedAt: at},
		Codes:      cardCodes(a.HashKeys, card),
		Events: []store.Event{{IssuanceID: in.IssuanceID, DedupeKey: "credentials_minted", At: at, Type: "credentials_minted",
			Actor: "system", Detail: "NemID number and code card " + card.Number + " minted"}},
	}
	pairs := printedPairs(card)
	if in.Delivery == "handover" {
		pdf, err := printing.HandoverDocument(printing.HandoverInput{Name: in.CardRecipient.Name, Date: at, CardNumber: card.Number,
			Pairs: pairs, NemIDNumber: userID, TemporaryPassword: tempPassword, ActivateBy: in.ActivateBy})
		if err != nil {
			return store.Minted{}, permanent("print the handover document", err)
		}
		m.Letters = []store.Letter{newLetter(in.IssuanceID, store.KindHandover, store.LetterHeld, in.CardRecipient, pdf, at)}
		return m, nil
	}
	cardPDF, err := printing.CodeCardLetter(printing.CodeCardLetterInput{Recipient: printRecipient(in.CardRecipient), Date: at,
		CardNumber: card.Number, Pairs: pairs})
	if err != nil {
		return store.Minted{}, permanent("print the code card letter", err)
	}
	passwordPDF, err := printing.PasswordLetter(printing.PasswordLetterInput{Recipient: printRecipient(in.PasswordRecipient), Date: at,
		NemIDNumber: userID, TemporaryPassword: tempPassword, ActivateBy: in.ActivateBy})
	if err != nil {
		return store.Minted{}, permanent("print the password letter", err)
	}
	m.Letters = []store.Letter{
		newLetter(in.IssuanceID, store.KindCodeCard, store.LetterQueued, in.CardRecipient, cardPDF, at),
		newLetter(in.IssuanceID, store.KindPassword, store.LetterQueued, in.PasswordRecipient, passwordPDF, at),
	}
	for _, l := range m.Letters {
		to := in.CardRecipient
		if l.Kind == store.KindPassword {
			to = in.PasswordRecipient
		}
		m.Events = append(m.Events, store.Event{IssuanceID: in.IssuanceID, DedupeKey: "letter_queued:" + l.Kind, At: at,
			Type: "letter_queued", Actor: "system", Detail: l.Kind + " letter " + l.ID + " queued for " + to.Name})
	}
	return m, nil
}

// issuanceCPRHash copies the issuance's lookup hash onto the credential, so
// the citizen side can find the person without the CPR.
func (a *Activities) issuanceCPRHash(ctx context.Context, issuanceID string) (string, error) {
	iss, err := a.Store.GetIssuance(ctx, issuanceID, store.Scope{})
	if errors.Is(err, store.ErrNotFound) {
		return "", temporal.NewNonRetryableApplicationError("issuance "+issuanceID+" does not exist", workflows.ErrTypeInvalid, nil)
	}
	return iss.CPRHash, err
}

func (a *Activities) existingMint(ctx context.Context, issuanceID string) (workflows.MintResult, error) {
	cred, err := a.Store.CredentialOfIssuance(ctx, issuanceID)
	if err != nil {
		return workflows.MintResult{}, fmt.Errorf("load minted credential: %w", err)
	}
	cards, err := a.Store.CardsOf(ctx, cred.ID)
	if err != nil {
		return workflows.MintResult{}, fmt.Errorf("load minted card: %w", err)
	}
	if len(cards) == 0 {
		// SaveMinted stores the credential and its card together: a
		// credential without one is damage that no retry repairs.
		return workflows.MintResult{}, temporal.NewNonRetryableApplicationError(
			"credential "+cred.ID+" of issuance "+issuanceID+" has no code card", workflows.ErrTypeInvalid, nil)
	}
	letters, err := a.Store.LettersOfIssuance(ctx, issuanceID)
	if err != nil {
		return workflows.MintResult{}, fmt.Errorf("load minted letters: %w", err)
	}
	var first []store.Letter
	for _, l := range letters {
		if l.Kind == store.KindCodeCard || l.Kind == store.KindPassword || l.Kind == store.KindHandover {
			first = append(first, l)
		}
	}
	return resultOf(cred.ID, cards[0].CardNumber, first), nil
}

func resultOf(credentialID, cardNumber string, letters []store.Letter) workflows.MintResult {
	r := workflows.MintResult{CredentialID: credentialID, CardNumber: cardNumber}
	for _, l := range letters {
		r.LetterIDs = append(r.LetterIDs, l.ID)
	}
	return r
}

func cardCodes(keys domain.HashKeys, card domain.CodeCard) []store.CardCode {
	codes := make([]store.CardCode, len(card.Pairs))
	for i, p := range card.Pairs {
		codes[i] = store.CardCode{CardNumber: card.Number, Key: p.Key, CodeMAC: domain.CodeMAC(keys, card.Number, p.Key, p.Code)}
	}
	return codes
}

func printedPairs(card domain.CodeCard) []printing.CodePair {
	pairs := make([]printing.CodePair, len(card.Pairs))
	for i, p := range card.Pairs {
		pairs[i] = printing.CodePair{Key: p.Key, Code: p.Code}
	}
	return pairs
}

func printRecipient(r workflows.Recipient) printing.Recipient {
	return printing.Recipient{Name: r.Name, Lines: r.Lines, Postcode: r.Postcode, City: r.City, Country: r.Country}
}

// newLetter holds the plaintext PDF in memory only: sealLetters replaces it
// (and sets the digest) before the letter is stored.
func newLetter(issuanceID, kind, status string, to workflows.Recipient, pdf []byte, at time.Time) store.Letter {
	recipient, _ := json.Marshal(store.Recipient{Name: to.Name, Lines: to.Lines, Postcode: to.Postcode, City: to.City, Country: to.Country})
	return store.Letter{ID: uuid.Must(uuid.NewV7()).String(), IssuanceID: issuanceID, Kind: kind, Status: status,
		DedupeKey: issuanceID + "/" + kind, Recipient: string(recipient), PDF: pdf, CreatedAt: at}
}

// permanent marks a failure that a retry cannot fix (bad input to a renderer).
func permanent(what string, err error) error {
	return temporal.NewNonRetryableApplicationError(what+": "+err.Error(), workflows.ErrTypeInvalid, err)
}
