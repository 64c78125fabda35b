package domain

import (
	"strconv"
	"strings"
	"time"
	"unicode"
)

// DocumentType names an identity document (DESIGN.md §4).
type DocumentType string

// Photo IDs.
const (
	DocEUDrivingLicence DocumentType = "eu_driving_licence" // EU/EEA, Greenland, Faroe Islands
	DocPassport         DocumentType = "passport"
	DocMilitaryID       DocumentType = "military_id"
	DocNATOPassport     DocumentType = "nato_passport"
	DocPoliceID         DocumentType = "police_id"
	DocResidencePermit  DocumentType = "residence_permit" // with photo, issued in Denmark
	DocBankIDCard       DocumentType = "bank_id_card"
	DocNationalIDCard   DocumentType = "national_id_card" // with photo, a Schengen travel document
)

// Documents without a photo; two of them replace a photo ID.
const (
	DocBirthCertificate     DocumentType = "birth_certificate"
	DocNameCertificate      DocumentType = "name_certificate"
	DocHealthInsuranceCard  DocumentType = "health_insurance_card"
	DocResidenceCertificate DocumentType = "residence_certificate"
	DocTaxStatement         DocumentType = "tax_statement"
	DocBenefitStatement     DocumentType = "benefit_statement" // needs Issued, at most three months old
)

// Documents of the abroad path. At a counter they are photo IDs too: a
// Danish passport is a passport and a Danish driving licence an EU one.
const (
	DocDanishPassport       DocumentType = "danish_passport"
	DocDanishDrivingLicence DocumentType = "danish_driving_licence"
)

// Document is an identity document as shown by a person.
type Document struct {
	Type     DocumentType `json:"type"`
	Number   string       `json:"number"`
	Expires  *Date        `json:"expires,omitempty"`
	Issued   *Date        `json:"issued,omitempty"`
	ShowsCPR bool         `json:"shows_cpr"`
}

type documentInfo struct {
	name    string // for messages
	photo   bool
	primary bool // a non-photo document that satisfies non_photo_needs_primary
	abroad  bool // accepted on the abroad path
}

var documentTypes = map[DocumentType]documentInfo{
	DocEUDrivingLicence:     {name: "driving licence", photo: true},
	DocPassport:             {name: "passport", photo: true},
	DocMilitaryID:           {name: "military ID card", photo: true},
	DocNATOPassport:         {name: "NATO passport", photo: true},
	DocPoliceID:             {name: "police ID card", photo: true},
	DocResidencePermit:      {name: "residence permit", photo: true},
	DocBankIDCard:           {name: "bank ID card", photo: true},
	DocNationalIDCard:       {name: "national ID card", photo: true},
	DocDanishPassport:       {name: "Danish passport", photo: true, abroad: true},
	DocDanishDrivingLicence: {name: "Danish driving licence", photo: true, abroad: true},
	DocBirthCertificate:     {name: "birth certificate", primary: true},
	DocNameCertificate:      {name: "name certificate", primary: true},
	DocHealthInsuranceCard:  {name: "health insurance card", primary: true},
	DocResidenceCertificate: {name: "certificate of residential address", primary: true},
	DocTaxStatement:         {name: "tax statement"},
	DocBenefitStatement:     {name: "benefit statement"},
}

// Known reports whether t is one of the document types of DESIGN.md §4.
func (t DocumentType) Known() bool { _, ok := documentTypes[t]; return ok }

// IsPhotoID reports whether t is a photo ID.
func (t DocumentType) IsPhotoID() bool { return documentTypes[t].photo }

// ExpiredOn reports whether the document's expiry date lies before today's
// date: a document that expires today is still valid today.
func (d Document) ExpiredOn(today Date) bool {
	return d.Expires != nil && d.Expires.Before(today)
}

// BenefitMaxAgeMonths bounds the age of a benefit statement: one issued on or
// after today minus three calendar months (clamped to the month's end, see
// Date.AddMonths) is recent enough; one issued the day before is too old.
const BenefitMaxAgeMonths = 3

func benefitTooOld(d Document, today Date) bool {
	return d.Issued == nil || d.Issued.Before(today.AddMonths(-BenefitMaxAgeMonths))
}

// validPhotoID reports whether d is a photo ID that is valid today. A photo
// ID without an expiry date cannot be shown to be valid, so it is not one.
func validPhotoID(d Document, today Date) bool {
	return d.Type.IsPhotoID() && d.Expires != nil && !d.ExpiredOn(today)
}

// PhotoIDViolations checks one document that must be a valid photo ID, as
// for upgrading a bank-issued NemID to a public digital signature.
func PhotoIDViolations(d Document, today time.Time) []Violation {
	day := DateOf(today)
	info, known := documentTypes[d.Type]
	switch {
	case !known:
		return []Violation{unknownDocument(0, d)}
	case !info.photo:
		return []Violation{violation(CodePhotoIDOrTwoDocuments, "A %s is not a photo ID; show a valid photo ID.", info.name)}
	case !validPhotoID(d, day):
		return []Violation{expiredPhotoID(0, d, info)}
	}
	return nil
}

// documentCheck is what the documents shown at a counter prove.
type documentCheck struct {
	validPhotoID bool
	violations   []Violation
	// ignored says, one sentence each, which photo IDs were set aside:
	// expired or undated ones shown beside two documents that qualify on
	// their own. They are noted on the timeline, not refused.
	ignored []string
}

// checkCounterDocuments applies the document rules of the counter path. An
// unknown type and a repeated document are always reported. A valid photo
// ID settles identity: other documents shown beside it are then not judged.
// Without one, the two-document rule applies; an expired or undated photo
// ID does not block it but is set aside (ignored), and is document_expired
// only when the two documents do not qualify either.
func checkCounterDocuments(docs []Document, today Date) documentCheck {
	var c documentCheck
	var expired []Violation
	var nonPhoto []Document
	nonPhotoExpired := false
	seen := map[string]int{} // document identity -> its 1-based position
	for i, d := range docs {
		info, known := documentTypes[d.Type]
		if !known {
			c.violations = append(c.violations, unknownDocument(i+1, d))
			continue
		}
		if first, repeated := seen[d.identity()]; repeated {
			c.violations = append(c.violations, duplicateDocument(i+1, first, info))
			continue
		}
		seen[d.identity()] = i + 1
		switch {
		case info.photo && validPhotoID(d, today):
			c.validPhotoID = true
		case info.photo:
			expired = append(expired, expiredPhotoID(i+1, d, info))
		default:
			nonPhoto = append(nonPhoto, d)
			if d.ExpiredOn(today) {
				nonPhotoExpired = true
				expired = append(expired, violation(CodeDocumentExpired,
					"Document %d (%s) expired on %s.", i+1, info.name, d.Expires))
			}
		}
	}
	if c.validPhotoID {
		return c
	}
	two := twoDocumentViolations(nonPhoto, today)
	if len(two) == 0 && !nonPhotoExpired {
		// The two documents qualify: every expired entry is a photo ID.
		for _, v := range expired {
			c.ignored = append(c.ignored, v.Message)
		}
		return c
	}
	c.violations = append(c.violations, expired...)
	c.violations = append(c.violations, two...)
	return c
}

// identity is what makes two entries the same document: the type and the
// number (compared without case, spaces or hyphens), or the type alone for
// a document without a number.
func (d Document) identity() string {
	number := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' {
			return -1
		}
		return unicode.ToUpper(r)
	}, d.Number)
	return string(d.Type) + "\x00" + number
}

func duplicateDocument(position, first int, info documentInfo) Violation {
	return violation(CodeDocumentDuplicate,
		"Document %d (%s) repeats document %d: the same document counts once.", position, info.name, first)
}

// twoDocumentViolations applies the rule for identity without photo ID to
// the non-photo documents shown. The content rules are judged whenever at
// least one such document was shown, so the caseworker learns everything
// that is missing at once.
func twoDocumentViolations(docs []Document, today Date) []Violation {
	const choices = "a birth or name certificate, a health insurance card, a certificate of residential address, " +
		"the latest tax statement, or a public benefit statement at most three months old"
	if len(docs) == 0 {
		return []Violation{violation(CodePhotoIDOrTwoDocuments,
			"No valid photo ID was shown: show a valid photo ID, or exactly two of these documents: %s.", choices)}
	}
	var vs []Violation
	if len(docs) != 2 {
		vs = append(vs, violation(CodePhotoIDOrTwoDocuments,
			"Without a valid photo ID exactly two documents are needed, but %d were shown; choose two of: %s.", len(docs), choices))
	}
	var showsCPR, primary bool
	for _, d := range docs {
		showsCPR = showsCPR || d.ShowsCPR
		primary = primary || documentTypes[d.Type].primary
		if d.Type == DocBenefitStatement {
			vs = append(vs, benefitViolations(d, today)...)
		}
	}
	if !showsCPR {
		vs = append(vs, violation(CodeNonPhotoNeedsCPR,
			"Without a valid photo ID at least one of the two documents must show the CPR number."))
	}
	if !primary {
		vs = append(vs, violation(CodeNonPhotoNeedsPrimary,
			"Without a valid photo ID at least one of the two documents must be a health insurance card, "+
				"a certificate of residential address, or a birth or name certificate."))
	}
	return vs
}

// benefitViolations judges a benefit statement's issue date: not in the
// future (benefit_in_future), and at most three months old
// (benefit_too_old; a statement without a date cannot be shown to be
// recent).
func benefitViolations(d Document, today Date) []Violation {
	oldest := today.AddMonths(-BenefitMaxAgeMonths)
	switch {
	case d.Issued == nil:
		return []Violation{violation(CodeBenefitTooOld,
			"The benefit statement has no issue date; it must have been issued on or after %s.", oldest)}
	case d.Issued.After(today):
		return []Violation{violation(CodeBenefitInFuture,
			"The benefit statement is dated %s, which is after today (%s); check the date on the statement.", d.Issued, today)}
	case benefitTooOld(d, today):
		return []Violation{violation(CodeBenefitTooOld,
			"The benefit statement was issued on %s; it must have been issued on or after %s (at most three months ago).",
			d.Issued, oldest)}
	}
	return nil
}

// unknownDocument reports an unknown type; position is 1-based, 0 for a
// single document.
func unknownDocument(position int, d Document) Violation {
	return violation(CodeDocumentUnknown, "%s has the unknown type %q.", documentLabel(position, "unknown"), d.Type)
}

func expiredPhotoID(position int, d Document, info documentInfo) Violation {
	label := documentLabel(position, info.name)
	if d.Expires == nil {
		return violation(CodeDocumentExpired, "%s has no expiry date, so it cannot be shown to be valid.", label)
	}
	return violation(CodeDocumentExpired, "%s expired on %s.", label, d.Expires)
}

func documentLabel(position int, name string) string {
	if position == 0 {
		return "The document (" + name + ")"
	}
	return "Document " + strconv.Itoa(position) + " (" + name + ")"
}
