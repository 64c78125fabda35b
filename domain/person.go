package domain

import (
	"strings"
	"time"
)

// Person is a CPR register record.
type Person struct {
	CPR              CPR
	Name             string
	AddressLines     []string
	Postcode         string
	City             string
	Country          string // ISO 3166-1 alpha-2
	AddressProtected bool
	Deceased         bool
	// Document numbers the register holds; empty when the person has none.
	DanishPassport       string
	DanishDrivingLicence string
	// ArrivedDK is when the person came to live in Denmark; nil for people
	// born here.
	ArrivedDK *Date
}

// Address is a postal address: a person's registered one, an abroad order's,
// a centre's or a representation's.
type Address struct {
	Lines    []string `json:"lines"`
	Postcode string   `json:"postcode"`
	City     string   `json:"city"`
	Country  string   `json:"country"` // ISO 3166-1 alpha-2
}

// RegisteredAddress is the person's address in the register.
func (p Person) RegisteredAddress() Address {
	return Address{Lines: p.AddressLines, Postcode: p.Postcode, City: p.City, Country: p.Country}
}

// LivesAbroad reports whether the register's country is not DK.
func (p Person) LivesAbroad() bool { return !isDenmark(p.Country) }

// PostForbidden is the rule "cannot receive post at the registered
// address": nothing is posted there to a person with address protection or
// living abroad (DESIGN.md §2). Callers that hold only the two facts (a
// workflow) apply it through here too.
func PostForbidden(addressProtected, livesAbroad bool) bool { return addressProtected || livesAbroad }

// CannotReceivePost applies PostForbidden to the person's register record.
func (p Person) CannotReceivePost() bool { return PostForbidden(p.AddressProtected, p.LivesAbroad()) }

// RegisteredAddressViolations names each reason why nothing may be posted to
// the person's registered address (address_protected, lives_abroad); why
// ends each message with what that means for the caller. A person not in
// the register has none.
func RegisteredAddressViolations(person *Person, why string) []Violation {
	if person == nil || !person.CannotReceivePost() {
		return nil
	}
	var vs []Violation
	if person.AddressProtected {
		vs = append(vs, violation(CodeAddressProtected,
			"The person has address protection, so nothing may be posted to the registered address; %s.", why))
	}
	if person.LivesAbroad() {
		vs = append(vs, violation(CodeLivesAbroad,
			"The person lives abroad (%s) per the CPR register, so nothing may be posted to the registered address; %s.",
			person.Country, why))
	}
	return vs
}

func isDenmark(country string) bool { return strings.EqualFold(strings.TrimSpace(country), "DK") }

// DefaultShortStay is NEMID_SHORT_STAY's default: 180 days.
const DefaultShortStay = 180 * 24 * time.Hour

// ShortStay reports whether the person arrived in Denmark less than
// shortStay before today. It counts whole calendar days in Copenhagen: with
// the default 180 days, someone who arrived on 1 January 2025 is a short-stay
// person up to and including 29 June and not from 30 June. People born in
// Denmark (ArrivedDK nil) never are.
func (p Person) ShortStay(today time.Time, shortStay time.Duration) bool {
	if p.ArrivedDK == nil || p.ArrivedDK.IsZero() {
		return false
	}
	elapsed := DateOf(today).utc().Sub(p.ArrivedDK.utc())
	return elapsed < shortStay
}
