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
	// Anonymous is an order made without a token. Such an order must not
	// be a register oracle (DESIGN.md §9): until its document number matches
	// the register for the CPR, it learns nothing the register says.
	Anonymous bool
}

// EvaluateAbroad applies every rule of the abroad path: the person lives
// abroad per the register, the order's address is abroad, the document is
// a Danish passport or driving licence whose number the register holds (an
// expiry date, when given, must not have passed), and the representation is
// known and in the register's country of residence. Address protection does
// not apply: nothing goes to the registered address.
//
// For an anonymous order whose document number does not match the register
// (a CPR the register does not know, a deceased person, a person living in
// Denmark, or simply another number), the only register-derived code is
// abroad_document_mismatch, with the same message in every case; codes that
// the request alone decides (cpr_invalid, under_15, the order's address,
// the document's type and expiry, representation_unknown) are reported all
// the same. Known and unknown CPR numbers take the same path through here.
func EvaluateAbroad(app AbroadApplication, f AbroadFacts) (Outcome, []Violation) {
	today := DateOf(f.Today)
	person := f.Person
	var found []finding
	request := func(v Violation) { found = append(found, finding{v, fromRequest}) }
	register := func(v Violation) { found = append(found, finding{v, fromRegister}) }

	cpr, err := ParseCPR(app.CPR, f.Today)
	if err != nil {
		request(cprViolation("The CPR number", err))
		person = nil // no register record belongs to a number that is not one
	} else {
		switch {
		case person == nil:
			register(violation(CodeCPRUnknown, "The CPR number is not in the CPR register."))
		case person.Deceased:
			register(violation(CodeDeceased, "The CPR register records the person as deceased."))
		}
		if age := cpr.AgeOn(f.Today); age < MinimumAge {
			request(violation(CodeUnder15,
				"The applicant is %d; a NemID needs at least %d completed years on the day of application.", age, MinimumAge))
		}
	}
	if person != nil && !person.LivesAbroad() {
		register(violation(CodeNotAbroad,
			"The CPR register gives an address in Denmark; ordering NemID from abroad needs an address abroad in the register."))
	}
	if c := app.Address.Country; isDenmark(c) || !isCountryCode(c) {
		request(violation(CodeNotAbroad,
			"The code card goes to the address in the order, so its country must be an ISO 3166-1 alpha-2 code other than DK."))
	}

	matches := false
	d := app.Document
	info, known := documentTypes[d.Type]
	switch {
	case !known:
		request(unknownDocument(0, d))
	case !info.abroad:
		request(violation(CodeAbroadDocumentMismatch,
			"Ordering from abroad needs a Danish passport or a Danish driving licence, not a %s.", info.name))
	default:
		if d.ExpiredOn(today) {
			request(violation(CodeDocumentExpired, "The %s expired on %s.", info.name, d.Expires))
		}
		matches = registeredDocumentMatches(d, person)
		// Computed for every order, so that an unknown CPR number and a
		// known one with another document take the same path.
		mismatch := finding{violation(CodeAbroadDocumentMismatch,
			"The %s number does not match the one the CPR register holds for this person.", info.name), documentMismatch}
		if !matches && (person != nil || f.Anonymous) {
			found = append(found, mismatch)
		}
	}

	rep, knownRep := FindRepresentation(f.Representations, app.Representation)
	switch {
	case !knownRep:
		request(violation(CodeRepresentationUnknown,
			"There is no Danish representation with the code %q.", app.Representation))
	case person != nil && !strings.EqualFold(rep.Address.Country, strings.TrimSpace(person.Country)):
		register(violation(CodeRepresentationCountry,
			"%s is in %s, but the person lives in %s per the CPR register; choose a representation in that country.",
			rep.Name, rep.Address.Country, person.Country))
	}

	hideRegister := f.Anonymous && !matches
	var vs []Violation
	for _, fd := range found {
		if hideRegister && fd.source == fromRegister {
			continue
		}
		vs = append(vs, fd.v)
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

// finding is a broken rule with what decided it: the request alone, the
// register, or the comparison of the document number with the register's.
type finding struct {
	v      Violation
	source int
}

const (
	fromRequest = iota
	fromRegister
	documentMismatch
)

// registeredDocumentMatches reports whether the register holds d's number
// for the person, as the document of d's type. The comparison runs on a
// number either way, the empty one when there is no person, so an unknown
// CPR number costs what a wrong document does.
func registeredDocumentMatches(d Document, person *Person) bool {
	registered := ""
	if person != nil {
		registered = person.DanishPassport
		if d.Type == DocDanishDrivingLicence {
			registered = person.DanishDrivingLicence
		}
	}
	same := SameDocumentNumber(d.Number, registered)
	return person != nil && registered != "" && same
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
