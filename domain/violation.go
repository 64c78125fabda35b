package domain

import "fmt"

// Violation is one broken rule: a stable Code that clients match on and a
// human English Message. Evaluations return every broken rule, never only
// the first; the HTTP API answers them as 422 error details.
type Violation struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Rule codes (DESIGN.md §4). They are stable: clients match on them.
const (
	CodeCPRInvalid             = "cpr_invalid"
	CodeCPRUnknown             = "cpr_unknown"
	CodeDeceased               = "deceased"
	CodeUnder15                = "under_15"
	CodeAddressProtected       = "address_protected"
	CodeLivesAbroad            = "lives_abroad"
	CodeNotAbroad              = "not_abroad"
	CodeDocumentUnknown        = "document_unknown"
	CodeDocumentExpired        = "document_expired"
	CodePhotoIDOrTwoDocuments  = "photo_id_or_two_documents"
	CodeNonPhotoNeedsCPR       = "non_photo_needs_cpr"
	CodeNonPhotoNeedsPrimary   = "non_photo_needs_primary"
	CodeBenefitTooOld          = "benefit_too_old"
	CodeWitnessRequired        = "witness_required"
	CodeWitnessUnder18         = "witness_under_18"
	CodeWitnessNoPhotoID       = "witness_no_photo_id"
	CodeWitnessNotSworn        = "witness_not_sworn"
	CodeWitnessIsApplicant     = "witness_is_applicant"
	CodeWitnessLimit           = "witness_limit"
	CodeWitnessUnknown         = "witness_unknown"
	CodeDocumentDuplicate      = "document_duplicate"
	CodeBenefitInFuture        = "benefit_in_future"
	CodePersonMismatch         = "person_mismatch"
	CodeAbroadDocumentMismatch = "abroad_document_mismatch"
	CodeRepresentationUnknown  = "representation_unknown"
	CodeRepresentationCountry  = "representation_country"
	CodeFeeTooLow              = "fee_too_low"
	CodePickupDocumentMismatch = "pickup_document_mismatch"
	CodePasswordPolicy         = "password_policy"
)

func violation(code, format string, args ...any) Violation {
	return Violation{Code: code, Message: fmt.Sprintf(format, args...)}
}
