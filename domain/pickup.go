package domain

import (
	"strings"
)

// Pickup is what a representation confirms when the person collects the
// temporary password.
type Pickup struct {
	DocumentNumber string `json:"document_number"`
	FeePaidDKK     int    `json:"fee_paid_dkk"`
	Receipt        string `json:"receipt"` // recorded with the fee, not judged here
}

// DocumentNumberHash is the keyed MAC ("<key id>:<hex>") of a document
// number as people type it (case, spaces and dashes do not matter). An
// abroad order keeps only this, so the number is never stored, yet the
// pickup can be compared, also after the key rotated.
func DocumentNumberHash(keys HashKeys, number string) string {
	return keys.sealMAC(labelDocumentNumber, normalizeDocumentNumber(number))
}

// labelDocumentNumber predates the versioned labels; it stays, so stored
// MACs keep verifying.
const labelDocumentNumber = "document-number"

// PickupViolations checks a pickup against the abroad order (the person must
// show the same document: orderDocumentHash is its DocumentNumberHash) and
// the configured fee (NEMID_ABROAD_FEE_DKK).
func PickupViolations(p Pickup, keys HashKeys, orderDocumentHash string, feeDKK int) []Violation {
	var vs []Violation
	if p.FeePaidDKK < feeDKK {
		vs = append(vs, violation(CodeFeeTooLow, "The fee is DKK %d; DKK %d was paid.", feeDKK, p.FeePaidDKK))
	}
	same := keys.verifyMAC(orderDocumentHash, labelDocumentNumber, normalizeDocumentNumber(p.DocumentNumber))
	if orderDocumentHash == "" || strings.TrimSpace(p.DocumentNumber) == "" || !same {
		vs = append(vs, violation(CodePickupDocumentMismatch,
			"The document shown is not the one given in the order; the person must show the same document."))
	}
	return vs
}
