package printing

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// PairsPerCard is how many key/code pairs a code card carries.
const PairsPerCard = 148

// maxCardNumber is the longest card number the card's header has room for.
const maxCardNumber = 32

// ErrInvalidInput is wrapped by every error a renderer returns for input it
// refuses to print (a wrong number of pairs, a malformed code, a missing
// date). Nothing is printed in that case.
var ErrInvalidInput = errors.New("printing: invalid input")

// Recipient is the postal address printed in the envelope window.
type Recipient struct {
	Name     string   // first address line, the person (or "person c/o …")
	Lines    []string // street, building, c/o lines, in print order
	Postcode string
	City     string
	// Country is an ISO 3166-1 alpha-2 code. Empty or "DK" prints no
	// country line; any other known code prints the country's name in
	// capitals as the last line.
	Country string
}

// CodePair is one key and its code: a 4-digit key and a 6-digit code.
type CodePair struct {
	Key, Code string
}

// CodeCardLetterInput is what the code card letter and the replacement card
// letter print. The NemID number and the password are deliberately absent:
// they travel in a separate letter.
type CodeCardLetterInput struct {
	Recipient  Recipient
	Date       time.Time // the letter's date; also the PDF's creation date
	CardNumber string
	Pairs      []CodePair // exactly PairsPerCard pairs
}

// PasswordLetterInput is what the password letter prints.
type PasswordLetterInput struct {
	Recipient         Recipient // may be "person c/o a representation"
	Date              time.Time
	NemIDNumber       string    // 9 digits
	TemporaryPassword string    // 6 digits
	ActivateBy        time.Time // the activation deadline; zero leaves it out
}

// ReminderLetterInput is what the reminder letter prints. It carries no
// credential at all.
type ReminderLetterInput struct {
	Recipient  Recipient
	Date       time.Time
	ActivateBy time.Time // the activation deadline; required
}

// HandoverInput is what the counter handover document prints: the code card
// on page 1 and the NemID number with the temporary password on page 2.
type HandoverInput struct {
	Name              string // the person; printed in the window position of both pages
	Date              time.Time
	CardNumber        string
	Pairs             []CodePair // exactly PairsPerCard pairs
	NemIDNumber       string     // 9 digits
	TemporaryPassword string     // 6 digits
	ActivateBy        time.Time  // zero leaves it out
}

// CodeCardLetter renders the letter that carries a new code card.
func CodeCardLetter(in CodeCardLetterInput) ([]byte, error) {
	if err := checkCardLetter(in); err != nil {
		return nil, err
	}
	d := newDoc(in.Date, "NemID code card")
	d.codeCardPage(in.Recipient, "Your NemID code card", codeCardBody, in.CardNumber, in.Pairs)
	return d.bytes()
}

// ReplacementCardLetter renders the letter that carries a replacement code
// card, sent when the current card is running out of codes.
func ReplacementCardLetter(in CodeCardLetterInput) ([]byte, error) {
	if err := checkCardLetter(in); err != nil {
		return nil, err
	}
	d := newDoc(in.Date, "NemID replacement code card")
	d.codeCardPage(in.Recipient, "Your replacement NemID code card", replacementBody, in.CardNumber, in.Pairs)
	return d.bytes()
}

// LostCardLetter renders the letter that carries the new code card after
// the person reported the cards lost (letter kind replacement_card).
func LostCardLetter(in CodeCardLetterInput) ([]byte, error) {
	if err := checkCardLetter(in); err != nil {
		return nil, err
	}
	d := newDoc(in.Date, "NemID replacement code card")
	d.codeCardPage(in.Recipient, "Your new NemID code card", lostCardBody, in.CardNumber, in.Pairs)
	return d.bytes()
}

// ExtraCardLetter renders the letter that carries an extra code card.
func ExtraCardLetter(in CodeCardLetterInput) ([]byte, error) {
	if err := checkCardLetter(in); err != nil {
		return nil, err
	}
	d := newDoc(in.Date, "NemID extra code card")
	d.codeCardPage(in.Recipient, "Your extra NemID code card", extraCardBody, in.CardNumber, in.Pairs)
	return d.bytes()
}

// TemporaryPasswordLetter renders a password reset's letter: the NemID
// number and the new temporary password.
func TemporaryPasswordLetter(in PasswordLetterInput) ([]byte, error) {
	var errs []error
	errs = append(errs, checkDate(in.Date), checkRecipient(in.Recipient))
	errs = append(errs, checkSecrets(in.NemIDNumber, in.TemporaryPassword)...)
	if err := joinInvalid(errs); err != nil {
		return nil, err
	}
	d := newDoc(in.Date, "NemID temporary password")
	d.passwordPage(in.Recipient, resetPasswordBody, in.NemIDNumber, in.TemporaryPassword, in.ActivateBy)
	return d.bytes()
}

// PasswordLetter renders the letter that carries the NemID number and the
// temporary password.
func PasswordLetter(in PasswordLetterInput) ([]byte, error) {
	var errs []error
	errs = append(errs, checkDate(in.Date), checkRecipient(in.Recipient))
	errs = append(errs, checkSecrets(in.NemIDNumber, in.TemporaryPassword)...)
	if err := joinInvalid(errs); err != nil {
		return nil, err
	}
	d := newDoc(in.Date, "NemID number and temporary password")
	d.passwordPage(in.Recipient, passwordBody, in.NemIDNumber, in.TemporaryPassword, in.ActivateBy)
	return d.bytes()
}

// ReminderLetter renders the reminder to activate NemID before the deadline.
func ReminderLetter(in ReminderLetterInput) ([]byte, error) {
	errs := []error{checkDate(in.Date), checkRecipient(in.Recipient)}
	if in.ActivateBy.IsZero() {
		errs = append(errs, errors.New("the activation deadline is missing"))
	}
	if err := joinInvalid(errs); err != nil {
		return nil, err
	}
	d := newDoc(in.Date, "NemID reminder")
	d.reminderPage(in.Recipient, in.ActivateBy)
	return d.bytes()
}

// HandoverDocument renders the two-page document printed at the counter: the
// code card on page 1 and the NemID number with the temporary password on
// page 2, so that the pages can be sealed in separate envelopes.
func HandoverDocument(in HandoverInput) ([]byte, error) {
	r := Recipient{Name: in.Name}
	errs := []error{checkDate(in.Date), checkRecipient(r)}
	errs = append(errs, checkCard(in.CardNumber, in.Pairs)...)
	errs = append(errs, checkSecrets(in.NemIDNumber, in.TemporaryPassword)...)
	if err := joinInvalid(errs); err != nil {
		return nil, err
	}
	d := newDoc(in.Date, "NemID handed over at the counter")
	d.pageLabel = func(n int) string { return fmt.Sprintf("Page %d of 2 – sealed separately", n) }
	d.codeCardPage(r, "Your NemID code card", handoverCardBody, in.CardNumber, in.Pairs)
	d.passwordPage(r, handoverPasswordBody, in.NemIDNumber, in.TemporaryPassword, in.ActivateBy)
	return d.bytes()
}

func checkCardLetter(in CodeCardLetterInput) error {
	errs := []error{checkDate(in.Date), checkRecipient(in.Recipient)}
	errs = append(errs, checkCard(in.CardNumber, in.Pairs)...)
	return joinInvalid(errs)
}

func checkDate(t time.Time) error {
	if t.IsZero() {
		return errors.New("the letter date is missing")
	}
	return nil
}

func checkRecipient(r Recipient) error {
	if strings.TrimSpace(r.Name) == "" {
		return errors.New("the recipient's name is missing")
	}
	if c := strings.ToUpper(strings.TrimSpace(r.Country)); c != "" {
		if _, ok := countryNames[c]; !ok {
			return fmt.Errorf("unknown country code %q", r.Country)
		}
	}
	return nil
}

func checkCard(cardNumber string, pairs []CodePair) []error {
	var errs []error
	switch n := strings.TrimSpace(cardNumber); {
	case n == "":
		errs = append(errs, errors.New("the card number is missing"))
	case len(n) > maxCardNumber:
		errs = append(errs, fmt.Errorf("the card number is longer than %d characters", maxCardNumber))
	}
	if len(pairs) != PairsPerCard {
		return append(errs, fmt.Errorf("a code card has %d pairs, got %d", PairsPerCard, len(pairs)))
	}
	seen := make(map[string]bool, len(pairs))
	for i, p := range pairs {
		if !digits(p.Key, 4) {
			errs = append(errs, fmt.Errorf("pair %d: key is not 4 digits", i))
		} else if seen[p.Key] {
			errs = append(errs, fmt.Errorf("pair %d: key %s is not unique on the card", i, p.Key))
		}
		seen[p.Key] = true
		if !digits(p.Code, 6) { // the code itself is never put in an error
			errs = append(errs, fmt.Errorf("pair %d: code is not 6 digits", i))
		}
	}
	return errs
}

func checkSecrets(nemID, password string) []error {
	var errs []error
	if !digits(nemID, 9) {
		errs = append(errs, errors.New("the NemID number is not 9 digits"))
	}
	if !digits(password, 6) {
		errs = append(errs, errors.New("the temporary password is not 6 digits"))
	}
	return errs
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// joinInvalid joins the non-nil errors under ErrInvalidInput.
func joinInvalid(errs []error) error {
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	return nil
}
