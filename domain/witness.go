package domain

import (
	"strings"
	"time"
)

// Witness is a person vouching for the applicant at a counter.
type Witness struct {
	CPR            string    `json:"cpr"`
	PhotoID        *Document `json:"photo_id"`
	SwornStatement bool      `json:"sworn_statement"`
}

// Witness limits: at least WitnessMinimumAge, and fewer than
// WitnessStatementLimit statements counting against the application (so at
// most three in any 120 days). The caller counts the statements; a
// statement counts from the moment its application is accepted.
const (
	WitnessMinimumAge      = 18
	WitnessStatementLimit  = 3
	WitnessStatementWindow = 120 * 24 * time.Hour
)

// The witness window's boundary, exactly: a statement accepted at instant
// t counts against applications made before t + WitnessStatementWindow
// (120 × 24 hours, not calendar days), and no longer against one made at
// that instant or later. Seen from an application made at instant a, the
// statements that count are those accepted strictly after
// WitnessWindowStart(a) = a − 120 × 24 h.

// WitnessWindowStart is the instant after which a statement must have been
// accepted to count against an application made at applicationAt; a
// statement accepted exactly then no longer counts.
func WitnessWindowStart(applicationAt time.Time) time.Time {
	return applicationAt.Add(-WitnessStatementWindow)
}

// WitnessStatementCounts reports whether a statement accepted at acceptedAt
// counts against an application made at applicationAt.
func WitnessStatementCounts(acceptedAt, applicationAt time.Time) bool {
	return applicationAt.Before(acceptedAt.Add(WitnessStatementWindow))
}

// witnessViolations applies every witness rule. A malformed witness CPR
// number is reported as cpr_invalid with a message naming the witness; the
// rules that need the number (register, age, not the applicant) are then
// not judged. registered is the register's record of the witness (nil when
// it holds none): a witness must be a living person in the register, so an
// invented number cannot stand in for a witness, nor a second number for
// one who reached the limit.
func witnessViolations(w Witness, applicant CPR, registered *Person, today time.Time, priorStatements int) []Violation {
	var vs []Violation
	c, err := ParseCPR(w.CPR, today)
	if err != nil {
		vs = append(vs, cprViolation("The witness's CPR number", err))
	} else {
		if registered == nil || registered.Deceased {
			vs = append(vs, violation(CodeWitnessUnknown,
				"The CPR register holds no living person with the witness's CPR number; check the number on the witness's ID."))
		}
		if age := c.AgeOn(today); age < WitnessMinimumAge {
			vs = append(vs, violation(CodeWitnessUnder18,
				"The witness is %d; a witness must be at least %d.", age, WitnessMinimumAge))
		}
		if !applicant.IsZero() && c == applicant {
			vs = append(vs, violation(CodeWitnessIsApplicant, "The witness cannot be the applicant."))
		}
	}
	if v, ok := witnessPhotoIDViolation(w.PhotoID, today); !ok {
		vs = append(vs, v)
	}
	if !w.SwornStatement {
		vs = append(vs, violation(CodeWitnessNotSworn, "The witness has not signed the sworn statement."))
	}
	if priorStatements >= WitnessStatementLimit {
		vs = append(vs, violation(CodeWitnessLimit,
			"The witness already has %d accepted statements in the last 120 days; at most %d are allowed.",
			priorStatements, WitnessStatementLimit))
	}
	return vs
}

func witnessPhotoIDViolation(d *Document, today time.Time) (Violation, bool) {
	if d == nil {
		return violation(CodeWitnessNoPhotoID, "The witness showed no photo ID."), false
	}
	if pv := PhotoIDViolations(*d, today); len(pv) > 0 {
		return violation(CodeWitnessNoPhotoID, "The witness showed no valid photo ID: %s", lowerFirst(pv[0].Message)), false
	}
	return Violation{}, true
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
