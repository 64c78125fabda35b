package domain

import (
	"strings"
	"time"
)

// AbroadApplication is an online order from a person living abroad.
type AbroadApplication struct {
	CPR            string   `json:"cpr"`
	Document       Document `json:"document"`
	Address        Address  `json:"address"`        // where the code card goes
	Representation string   `json:"representation"` // where the password is collected
}

// AbroadFacts are what the system knows besides the application.
type AbroadFacts struct {
	Person *Person // nil when the CPR number is not in the register
	Today  time.Time
	// Representations is the configured list (BuiltinRepresentations by
	// default); the chosen code must be among them.
	Representations []Representation
}

// EvaluateAbroad applies every rule of the abroad path: the person lives
// abroad per the register, the order's address is abroad, the document is
// a Danish passport or driving licence whose number the register holds (an
// expiry date, when given, must not have passed), and the representation is
// known and in the register's country of residence. Address protection does
// not apply: nothing goes to the registered address.
func EvaluateAbroad(app AbroadApplication, f AbroadFacts) (Outcome, []Violation) {
	today := DateOf(f.Today)
	vs := checkApplicant(app.CPR, f.Person, f.Today).violations
	if f.Person != nil && !f.Person.LivesAbroad() {
		vs = append(vs, violation(CodeNotAbroad,
			"The CPR register gives an address in Denmark; ordering NemID from abroad needs an address abroad in the register."))
	}
	if c := app.Address.Country; isDenmark(c) || !isCountryCode(c) {
		vs = append(vs, violation(CodeNotAbroad,
			"The code card goes to the address in the order, so its country must be an ISO 3166-1 alpha-2 code other than DK."))
	}
	vs = append(vs, abroadDocumentViolations(app.Document, f.Person, today)...)
	rep, known := FindRepresentation(f.Representations, app.Representation)
	switch {
	case !known:
		vs = append(vs, violation(CodeRepresentationUnknown,
			"There is no Danish representation with the code %q.", app.Representation))
	case f.Person != nil && !strings.EqualFold(rep.Address.Country, strings.TrimSpace(f.Person.Country)):
		vs = append(vs, violation(CodeRepresentationCountry,
			"%s is in %s, but the person lives in %s per the CPR register; choose a representation in that country.",
			rep.Name, rep.Address.Country, f.Person.Country))
	}
	if len(vs) > 0 {
		return Outcome{}, vs
	}
	return Outcome{
		Delivery: DeliveryRepresentation,
		Reason: "The code card goes by letter to the address in the order; the temporary password is collected at " +
			rep.Name + " on showing the same document and paying the fee.",
		PublicSignature: true,
		Representation:  &rep,
	}, nil
}

func abroadDocumentViolations(d Document, person *Person, today Date) []Violation {
	info, known := documentTypes[d.Type]
	switch {
	case !known:
		return []Violation{unknownDocument(0, d)}
	case !info.abroad:
		return []Violation{violation(CodeAbroadDocumentMismatch,
			"Ordering from abroad needs a Danish passport or a Danish driving licence, not a %s.", info.name)}
	}
	var vs []Violation
	if d.ExpiredOn(today) {
		vs = append(vs, violation(CodeDocumentExpired, "The %s expired on %s.", info.name, d.Expires))
	}
	if person != nil {
		registered := person.DanishPassport
		if d.Type == DocDanishDrivingLicence {
			registered = person.DanishDrivingLicence
		}
		if registered == "" || !SameDocumentNumber(d.Number, registered) {
			vs = append(vs, violation(CodeAbroadDocumentMismatch,
				"The %s number does not match the one the CPR register holds for this person.", info.name))
		}
	}
	return vs
}

// SameDocumentNumber compares document numbers as people type them: case,
// spaces and dashes do not matter.
func SameDocumentNumber(a, b string) bool {
	return normalizeDocumentNumber(a) == normalizeDocumentNumber(b)
}

var documentNumberNoise = strings.NewReplacer(" ", "", "-", "")

func normalizeDocumentNumber(s string) string {
	return strings.ToUpper(documentNumberNoise.Replace(s))
}

// isCountryCode reports whether s has the form of an ISO 3166-1 alpha-2
// code, in either case.
func isCountryCode(s string) bool {
	s = strings.ToUpper(s)
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}
