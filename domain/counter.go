package domain

import (
	"strings"
	"time"
)

// CounterApplication is what a caseworker records at a Citizen Service or
// tax centre. The centre code and the caseworker's scope are the API's to
// check.
type CounterApplication struct {
	CPR                  string     `json:"cpr"`
	Documents            []Document `json:"documents"`
	CheckQuestionsPassed bool       `json:"check_questions_passed"`
	Witness              *Witness   `json:"witness,omitempty"`
}

// CounterFacts are what the system knows besides the application.
type CounterFacts struct {
	// Person is the register record, nil when the CPR number is not there.
	Person *Person
	// Today is any instant of the day of application; rules use its
	// Copenhagen date.
	Today time.Time
	// ShortStay is NEMID_SHORT_STAY (DefaultShortStay): people who arrived
	// in Denmark less than this ago need a witness for a handover.
	ShortStay time.Duration
	// Witness is the register's record of the witness's CPR number, nil
	// when the register holds none; ignored without a witness.
	Witness *Person
	// WitnessStatements counts the witness's statements that count against
	// this application (accepted after WitnessWindowStart(Today)); ignored
	// without a witness.
	WitnessStatements int
}

// EvaluateCounter applies every rule of the counter path and returns every
// broken one.
//
// The card is handed over when a valid photo ID was shown and either the
// check questions were passed or a valid witness vouched; for a short-stay
// person the check questions alone are not enough. Otherwise both letters go
// to the registered address, which is refused (address_protected,
// lives_abroad) for people who may not receive post there; when the missing
// piece is the witness a short-stay person must bring, witness_required is
// reported as well. A witness who breaks a rule is always a violation, never
// a silent fallback to letters.
func EvaluateCounter(app CounterApplication, f CounterFacts) (Outcome, []Violation) {
	today := DateOf(f.Today)
	a := checkApplicant(app.CPR, f.Person, f.Today)
	vs := a.violations
	docs := checkCounterDocuments(app.Documents, today)
	vs = append(vs, docs.violations...)
	witnessOK := false
	if app.Witness != nil {
		wv := witnessViolations(*app.Witness, a.cpr, f.Witness, f.Today, f.WitnessStatements)
		vs = append(vs, wv...)
		witnessOK = len(wv) == 0
	}
	shortStay := f.Person != nil && f.Person.ShortStay(f.Today, f.ShortStay)
	questionsSuffice := app.CheckQuestionsPassed && !shortStay
	handover := docs.validPhotoID && (witnessOK || questionsSuffice)

	if !handover {
		if docs.validPhotoID && shortStay && app.Witness == nil && f.Person != nil && f.Person.CannotReceivePost() {
			vs = append(vs, violation(CodeWitnessRequired,
				"The person arrived in Denmark recently, so a handover at the counter needs a witness; "+
					"the check questions alone are not enough, and letters cannot be posted to this person."))
		}
		vs = append(vs, RegisteredAddressViolations(f.Person,
			"the code card can only be handed over at the counter, which needs a valid photo ID and "+
				"either the check questions passed or a witness")...)
	}
	if len(vs) > 0 {
		return Outcome{}, vs
	}
	delivery := DeliveryLetters
	if handover {
		delivery = DeliveryHandover
	}
	return Outcome{
		Delivery:         delivery,
		Reason:           counterReason(docs.validPhotoID, witnessOK, app.CheckQuestionsPassed, shortStay),
		Note:             ignoredNote(docs.ignored),
		PublicSignature:  docs.validPhotoID,
		WitnessStatement: witnessOK,
	}, nil
}

func counterReason(photoID, witness, questions, shortStay bool) string {
	switch {
	case !photoID:
		return "Identity was shown without a valid photo ID, so the code card is never handed over: " +
			"both letters go to the registered address."
	case witness:
		return "A valid photo ID was shown and a witness vouched: hand over at the counter."
	case questions && shortStay:
		return "The person arrived in Denmark recently and brought no witness, so the check questions " +
			"alone do not allow a handover: both letters go to the registered address."
	case questions:
		return "A valid photo ID was shown and the check questions were passed: hand over at the counter."
	default:
		return "A valid photo ID was shown but the check questions were not passed and there was no witness: " +
			"both letters go to the registered address."
	}
}

// ignoredNote is the timeline's note of the photo IDs set aside.
func ignoredNote(ignored []string) string {
	if len(ignored) == 0 {
		return ""
	}
	return "Set aside because the two other documents suffice: " + lowerFirst(strings.Join(ignored, " "))
}
