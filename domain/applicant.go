package domain

import (
	"strings"
	"time"
)

// MinimumAge is the applicant's least age in completed years on the day of
// application.
const MinimumAge = 15

// applicant is the applicant's CPR number as far as it could be parsed.
type applicant struct {
	cpr        CPR
	violations []Violation
}

// checkApplicant applies the eligibility rules every path shares: a valid
// CPR number, present in the register, not deceased, at least 15. Age is
// judged from the CPR number even when the register has no record.
func checkApplicant(rawCPR string, person *Person, today time.Time) applicant {
	c, err := ParseCPR(rawCPR, today)
	if err != nil {
		return applicant{violations: []Violation{cprViolation("The CPR number", err)}}
	}
	a := applicant{cpr: c}
	if person == nil {
		a.violations = append(a.violations, violation(CodeCPRUnknown, "The CPR number is not in the CPR register."))
	} else if person.Deceased {
		a.violations = append(a.violations, violation(CodeDeceased, "The CPR register records the person as deceased."))
	}
	if age := c.AgeOn(today); age < MinimumAge {
		a.violations = append(a.violations, violation(CodeUnder15,
			"The applicant is %d; a NemID needs at least %d completed years on the day of application.", age, MinimumAge))
	}
	return a
}

// cprViolation turns a ParseCPR error into a message about whose number it
// was, without repeating the number.
func cprViolation(whose string, err error) Violation {
	reason := strings.TrimPrefix(err.Error(), ErrCPRInvalid.Error()+": ")
	return violation(CodeCPRInvalid, "%s is invalid: %s.", whose, reason)
}
