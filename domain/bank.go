package domain

import "time"

// BankApplication is what a bank sends for a customer with an online
// banking agreement. The bank code and agreement id are the API's to check
// and record.
type BankApplication struct {
	CPR          string `json:"cpr"`
	PhotoIDShown bool   `json:"photo_id_shown"`
}

// BankFacts are what the system knows besides the application.
type BankFacts struct {
	Person *Person // nil when the CPR number is not in the register
	Today  time.Time
}

// EvaluateBank applies every rule of the bank path. A bank NemID always
// travels as two letters to the registered address, so address-protected
// people and people living abroad are refused; without photo ID shown it is
// issued without public digital signature.
func EvaluateBank(app BankApplication, f BankFacts) (Outcome, []Violation) {
	vs := checkApplicant(app.CPR, f.Person, f.Today).violations
	vs = append(vs, RegisteredAddressViolations(f.Person,
		"a NemID from a bank is always posted there; apply at a Citizen Service centre instead")...)
	if len(vs) > 0 {
		return Outcome{}, vs
	}
	reason := "The bank checked photo ID: both letters go to the registered address."
	if !app.PhotoIDShown {
		reason = "The bank saw no photo ID: both letters go to the registered address, and the NemID cannot be " +
			"used as a public digital signature until the person shows photo ID at a Citizen Service centre."
	}
	return Outcome{Delivery: DeliveryLetters, Reason: reason, PublicSignature: app.PhotoIDShown}, nil
}
