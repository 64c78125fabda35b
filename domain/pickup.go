package domain

// Pickup is what a representation confirms when the person collects the
// temporary password.
type Pickup struct {
	DocumentNumber string `json:"document_number"`
	FeePaidDKK     int    `json:"fee_paid_dkk"`
	Receipt        string `json:"receipt"` // recorded with the fee, not judged here
}

// PickupViolations checks a pickup against the document number of the abroad
// order (the person must show the same document) and the configured fee
// (NEMID_ABROAD_FEE_DKK).
func PickupViolations(p Pickup, orderDocumentNumber string, feeDKK int) []Violation {
	var vs []Violation
	if p.FeePaidDKK < feeDKK {
		vs = append(vs, violation(CodeFeeTooLow, "The fee is DKK %d; DKK %d was paid.", feeDKK, p.FeePaidDKK))
	}
	if orderDocumentNumber == "" || !SameDocumentNumber(p.DocumentNumber, orderDocumentNumber) {
		vs = append(vs, violation(CodePickupDocumentMismatch,
			"The document shown is not the one given in the order; the person must show the same document."))
	}
	return vs
}
