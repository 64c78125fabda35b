package domain

import (
	"strings"
	"testing"
	"time"
)

// The counter fixtures: today is 15 June 2025.
var (
	counterToday = noon(2025, 6, 15)

	applicantCPR = "010190-1234" // born 1 January 1990
	witnessCPR   = "020280-1111" // born 2 February 1980
)

func dane() *Person {
	return &Person{CPR: fixtureCPR(applicantCPR), Name: "Jens Hansen",
		AddressLines: []string{"Nørregade 1"}, Postcode: "1165", City: "København K", Country: "DK"}
}

func with(p *Person, change func(*Person)) *Person { change(p); return p }

func passport(expires string) Document {
	d := Document{Type: DocPassport, Number: "X123"}
	if expires != "" {
		d.Expires = date(expires)
	}
	return d
}

func doc(t DocumentType, showsCPR bool) Document {
	return Document{Type: t, Number: "N1", ShowsCPR: showsCPR}
}

func benefit(issued string) Document {
	d := Document{Type: DocBenefitStatement, Number: "B1"}
	if issued != "" {
		d.Issued = date(issued)
	}
	return d
}

func goodWitness() *Witness {
	pp := passport("2030-01-01")
	return &Witness{CPR: witnessCPR, PhotoID: &pp, SwornStatement: true}
}

func changeWitness(change func(*Witness)) *Witness { w := goodWitness(); change(w); return w }

func TestEvaluateCounter(t *testing.T) {
	validPassport := passport("2030-01-01")
	recent := func(p *Person) { p.ArrivedDK = date("2025-03-01") }
	tests := []struct {
		name   string
		app    CounterApplication
		person *Person
		prior  int       // witness's earlier statements
		today  time.Time // counterToday when zero
		// witness is the register's record of the witness; a living
		// person when nil (and the application has a witness).
		witness  *Person
		want     []string
		delivery Delivery
		note     string // part of the outcome's note, "" for none
	}{
		// Delivery.
		{name: "valid photo ID and check questions passed: handover",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}, CheckQuestionsPassed: true},
			person: dane(), delivery: DeliveryHandover},
		{name: "valid photo ID and a valid witness: handover",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}, Witness: goodWitness()},
			person: dane(), delivery: DeliveryHandover},
		{name: "valid photo ID without check questions or witness: letters",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}},
			person: dane(), delivery: DeliveryLetters},
		{name: "two documents instead of photo ID: letters, never handover, even with questions and witness",
			app: CounterApplication{CPR: applicantCPR, CheckQuestionsPassed: true, Witness: goodWitness(),
				Documents: []Document{doc(DocHealthInsuranceCard, true), doc(DocTaxStatement, false)}},
			person: dane(), delivery: DeliveryLetters},

		// Photo ID validity.
		{name: "a passport expiring today is valid today",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{passport("2025-06-15")}, CheckQuestionsPassed: true},
			person: dane(), delivery: DeliveryHandover},
		{name: "an expired passport beside two documents that qualify is set aside and noted",
			app: CounterApplication{CPR: applicantCPR, CheckQuestionsPassed: true, Documents: []Document{
				passport("2025-06-14"), doc(DocHealthInsuranceCard, true), doc(DocTaxStatement, false)}},
			person: dane(), delivery: DeliveryLetters, note: "document 1 (passport) expired on 2025-06-14"},
		{name: "an undated photo ID beside two documents that qualify is set aside and noted",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				doc(DocHealthInsuranceCard, true), {Type: DocEUDrivingLicence}, doc(DocBirthCertificate, false)}},
			person: dane(), delivery: DeliveryLetters, note: "document 2 (driving licence) has no expiry date"},
		{name: "an expired passport beside two documents that do not qualify is document_expired",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				passport("2025-06-14"), doc(DocHealthInsuranceCard, false), doc(DocTaxStatement, false)}},
			person: dane(), want: []string{CodeDocumentExpired, CodeNonPhotoNeedsCPR}},
		{name: "an expired passport beside one document is document_expired",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				passport("2025-06-14"), doc(DocHealthInsuranceCard, true)}},
			person: dane(), want: []string{CodeDocumentExpired, CodePhotoIDOrTwoDocuments}},
		{name: "an expired passport beside an expired health card is no qualifying pair",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{passport("2025-06-14"),
				{Type: DocHealthInsuranceCard, ShowsCPR: true, Expires: date("2025-06-14")}, doc(DocTaxStatement, false)}},
			person: dane(), want: []string{CodeDocumentExpired, CodeDocumentExpired}},
		{name: "a passport that expired yesterday is not a photo ID",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{passport("2025-06-14")}, CheckQuestionsPassed: true},
			person: dane(), want: []string{CodeDocumentExpired, CodePhotoIDOrTwoDocuments}},
		{name: "a photo ID without an expiry date cannot be shown to be valid",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{passport("")}, CheckQuestionsPassed: true},
			person: dane(), want: []string{CodeDocumentExpired, CodePhotoIDOrTwoDocuments}},
		{name: "every photo ID type counts",
			app: CounterApplication{CPR: applicantCPR, CheckQuestionsPassed: true, Documents: []Document{
				{Type: DocNationalIDCard, Expires: date("2030-01-01")}}},
			person: dane(), delivery: DeliveryHandover},
		{name: "a Danish passport is a passport at the counter too",
			app: CounterApplication{CPR: applicantCPR, CheckQuestionsPassed: true, Documents: []Document{
				{Type: DocDanishPassport, Expires: date("2030-01-01")}}},
			person: dane(), delivery: DeliveryHandover},
		{name: "an expired licence beside a valid passport does not matter",
			app: CounterApplication{CPR: applicantCPR, CheckQuestionsPassed: true, Documents: []Document{
				{Type: DocEUDrivingLicence, Expires: date("2020-01-01")}, validPassport}},
			person: dane(), delivery: DeliveryHandover},
		{name: "an unknown document type is reported even beside a valid passport",
			app: CounterApplication{CPR: applicantCPR, CheckQuestionsPassed: true, Documents: []Document{
				{Type: "library_card"}, validPassport}},
			person: dane(), want: []string{CodeDocumentUnknown}},
		{name: "no documents at all",
			app:    CounterApplication{CPR: applicantCPR, CheckQuestionsPassed: true},
			person: dane(), want: []string{CodePhotoIDOrTwoDocuments}},

		// The same document counts once.
		{name: "the same passport twice",
			app:    CounterApplication{CPR: applicantCPR, CheckQuestionsPassed: true, Documents: []Document{validPassport, validPassport}},
			person: dane(), want: []string{CodeDocumentDuplicate}},
		{name: "the same number typed differently is the same document",
			app: CounterApplication{CPR: applicantCPR, CheckQuestionsPassed: true, Documents: []Document{validPassport,
				{Type: DocPassport, Number: " x1-2 3", Expires: date("2031-01-01")}}},
			person: dane(), want: []string{CodeDocumentDuplicate}},
		{name: "the same number on another type is another document",
			app: CounterApplication{CPR: applicantCPR, CheckQuestionsPassed: true, Documents: []Document{validPassport,
				{Type: DocNationalIDCard, Number: "X123", Expires: date("2030-01-01")}}},
			person: dane(), delivery: DeliveryHandover},
		{name: "an unnumbered document twice",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				doc(DocHealthInsuranceCard, true), {Type: DocTaxStatement}, {Type: DocTaxStatement}}},
			person: dane(), want: []string{CodeDocumentDuplicate}},
		{name: "a repeat does not make up the second document",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				doc(DocHealthInsuranceCard, true), doc(DocHealthInsuranceCard, true)}},
			person: dane(), want: []string{CodeDocumentDuplicate, CodePhotoIDOrTwoDocuments}},
		{name: "two health cards with different numbers are two documents",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				doc(DocHealthInsuranceCard, true), {Type: DocHealthInsuranceCard, Number: "N2"}}},
			person: dane(), delivery: DeliveryLetters},

		// Two documents without photo ID.
		{name: "one document is not enough",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{doc(DocHealthInsuranceCard, true)}},
			person: dane(), want: []string{CodePhotoIDOrTwoDocuments}},
		{name: "three documents are not exactly two",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				doc(DocHealthInsuranceCard, true), doc(DocTaxStatement, false), doc(DocBirthCertificate, false)}},
			person: dane(), want: []string{CodePhotoIDOrTwoDocuments}},
		{name: "at least one of the two must show the CPR number",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				doc(DocHealthInsuranceCard, false), doc(DocTaxStatement, false)}},
			person: dane(), want: []string{CodeNonPhotoNeedsCPR}},
		{name: "at least one must be a health card, residence certificate, or birth or name certificate",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				doc(DocTaxStatement, true), benefit("2025-06-01")}},
			person: dane(), want: []string{CodeNonPhotoNeedsPrimary}},
		{name: "a residence certificate is primary",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				doc(DocResidenceCertificate, false), doc(DocTaxStatement, true)}},
			person: dane(), delivery: DeliveryLetters},
		{name: "a name certificate is primary",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				doc(DocNameCertificate, false), doc(DocTaxStatement, true)}},
			person: dane(), delivery: DeliveryLetters},
		{name: "a benefit statement issued exactly three months ago is recent enough",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				doc(DocHealthInsuranceCard, true), benefit("2025-03-15")}},
			person: dane(), delivery: DeliveryLetters},
		{name: "a benefit statement issued three months and one day ago is too old",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				doc(DocHealthInsuranceCard, true), benefit("2025-03-14")}},
			person: dane(), want: []string{CodeBenefitTooOld}},
		{name: "on 31 May the three months reach back to 28 February",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				doc(DocHealthInsuranceCard, true), benefit("2025-02-28")}},
			today: noon(2025, 5, 31), person: dane(), delivery: DeliveryLetters},
		{name: "on 31 May a statement from 27 February is too old",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				doc(DocHealthInsuranceCard, true), benefit("2025-02-27")}},
			today: noon(2025, 5, 31), person: dane(), want: []string{CodeBenefitTooOld}},
		{name: "a benefit statement dated today",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				doc(DocHealthInsuranceCard, true), benefit("2025-06-15")}},
			person: dane(), delivery: DeliveryLetters},
		{name: "a benefit statement dated tomorrow is in the future",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				doc(DocHealthInsuranceCard, true), benefit("2025-06-16")}},
			person: dane(), want: []string{CodeBenefitInFuture}},
		{name: "a future benefit statement does not qualify the pair, so an expired passport is reported",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				passport("2025-06-01"), doc(DocHealthInsuranceCard, true), benefit("2026-01-01")}},
			person: dane(), want: []string{CodeDocumentExpired, CodeBenefitInFuture}},
		{name: "a benefit statement without an issue date is too old",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				doc(DocHealthInsuranceCard, true), benefit("")}},
			person: dane(), want: []string{CodeBenefitTooOld}},
		{name: "an expired non-photo document",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				{Type: DocHealthInsuranceCard, ShowsCPR: true, Expires: date("2025-06-14")}, doc(DocTaxStatement, false)}},
			person: dane(), want: []string{CodeDocumentExpired}},
		{name: "every document rule at once",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				{Type: "library_card"}, passport("2025-01-01"), doc(DocTaxStatement, false), benefit("2024-01-01"),
				doc(DocTaxStatement, false), {Type: DocBenefitStatement, Number: "B2", Issued: date("2025-07-01")}}},
			person: dane(), want: []string{CodeDocumentUnknown, CodeDocumentDuplicate, CodeDocumentExpired, CodePhotoIDOrTwoDocuments,
				CodeBenefitTooOld, CodeBenefitInFuture, CodeNonPhotoNeedsCPR, CodeNonPhotoNeedsPrimary}},

		// Eligibility.
		{name: "a malformed CPR number is reported with the other broken rules",
			app:  CounterApplication{CPR: "3102901234", CheckQuestionsPassed: true},
			want: []string{CodeCPRInvalid, CodePhotoIDOrTwoDocuments}},
		{name: "not in the register",
			app:  CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}, CheckQuestionsPassed: true},
			want: []string{CodeCPRUnknown}},
		{name: "deceased",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}, CheckQuestionsPassed: true},
			person: with(dane(), func(p *Person) { p.Deceased = true }), want: []string{CodeDeceased}},
		{name: "the day before the 15th birthday",
			app:    CounterApplication{CPR: "160610-4000", Documents: []Document{validPassport}, CheckQuestionsPassed: true},
			person: dane(), want: []string{CodeUnder15}},
		{name: "on the 15th birthday",
			app:    CounterApplication{CPR: "150610-4000", Documents: []Document{validPassport}, CheckQuestionsPassed: true},
			person: dane(), delivery: DeliveryHandover},
		{name: "age is judged even when the register has no record",
			app:  CounterApplication{CPR: "160610-4000", Documents: []Document{validPassport}, CheckQuestionsPassed: true},
			want: []string{CodeCPRUnknown, CodeUnder15}},

		// Short stay.
		{name: "short stay: check questions alone do not allow handover, so letters",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}, CheckQuestionsPassed: true},
			person: with(dane(), recent), delivery: DeliveryLetters},
		{name: "short stay with a witness: handover",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}, Witness: goodWitness()},
			person: with(dane(), recent), delivery: DeliveryHandover},
		{name: "arrived exactly 180 days ago: no longer a short stay",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}, CheckQuestionsPassed: true},
			person: with(dane(), func(p *Person) { p.ArrivedDK = date("2024-12-17") }), delivery: DeliveryHandover},
		{name: "short stay and address protected without witness: witness required, no letters",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}, CheckQuestionsPassed: true},
			person: with(dane(), func(p *Person) { recent(p); p.AddressProtected = true }),
			want:   []string{CodeWitnessRequired, CodeAddressProtected}},
		{name: "short stay and living abroad without witness: witness required, no letters",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}, CheckQuestionsPassed: true},
			person: with(dane(), func(p *Person) { recent(p); p.Country = "SE" }),
			want:   []string{CodeWitnessRequired, CodeLivesAbroad}},

		// No letters to the registered address.
		{name: "address protected with a full handover",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}, CheckQuestionsPassed: true},
			person: with(dane(), func(p *Person) { p.AddressProtected = true }), delivery: DeliveryHandover},
		{name: "address protected without check questions or witness: refused",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}},
			person: with(dane(), func(p *Person) { p.AddressProtected = true }), want: []string{CodeAddressProtected}},
		{name: "address protected without photo ID: refused",
			app: CounterApplication{CPR: applicantCPR, CheckQuestionsPassed: true, Documents: []Document{
				doc(DocHealthInsuranceCard, true), doc(DocTaxStatement, false)}},
			person: with(dane(), func(p *Person) { p.AddressProtected = true }), want: []string{CodeAddressProtected}},
		{name: "living abroad with a full handover",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}, Witness: goodWitness()},
			person: with(dane(), func(p *Person) { p.Country = "GB" }), delivery: DeliveryHandover},
		{name: "living abroad and address protected without handover: both reasons",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}},
			person: with(dane(), func(p *Person) { p.Country = "GB"; p.AddressProtected = true }),
			want:   []string{CodeAddressProtected, CodeLivesAbroad}},

		// Witness.
		{name: "witness the day before the 18th birthday",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport},
				Witness: changeWitness(func(w *Witness) { w.CPR = "160607-4000" })},
			person: dane(), want: []string{CodeWitnessUnder18}},
		{name: "witness on the 18th birthday",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport},
				Witness: changeWitness(func(w *Witness) { w.CPR = "150607-4000" })},
			person: dane(), delivery: DeliveryHandover},
		{name: "witness without photo ID",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport},
				Witness: changeWitness(func(w *Witness) { w.PhotoID = nil })},
			person: dane(), want: []string{CodeWitnessNoPhotoID}},
		{name: "witness with an expired photo ID",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport},
				Witness: changeWitness(func(w *Witness) { pp := passport("2025-06-14"); w.PhotoID = &pp })},
			person: dane(), want: []string{CodeWitnessNoPhotoID}},
		{name: "witness with a photo ID expiring today",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport},
				Witness: changeWitness(func(w *Witness) { pp := passport("2025-06-15"); w.PhotoID = &pp })},
			person: dane(), delivery: DeliveryHandover},
		{name: "witness showing a health card, which is no photo ID",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport},
				Witness: changeWitness(func(w *Witness) { hc := doc(DocHealthInsuranceCard, true); w.PhotoID = &hc })},
			person: dane(), want: []string{CodeWitnessNoPhotoID}},
		{name: "witness without sworn statement",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport},
				Witness: changeWitness(func(w *Witness) { w.SwornStatement = false })},
			person: dane(), want: []string{CodeWitnessNotSworn}},
		{name: "the applicant cannot witness for themself, whatever the spelling",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport},
				Witness: changeWitness(func(w *Witness) { w.CPR = "0101901234" })},
			person: dane(), want: []string{CodeWitnessIsApplicant}},
		{name: "witness with two earlier statements",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}, Witness: goodWitness()},
			person: dane(), prior: 2, delivery: DeliveryHandover},
		{name: "witness with three earlier statements",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}, Witness: goodWitness()},
			person: dane(), prior: 3, want: []string{CodeWitnessLimit}},
		{name: "a witness the register does not hold",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}, Witness: goodWitness()},
			person: dane(), witness: unregistered, want: []string{CodeWitnessUnknown}},
		{name: "a deceased witness",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}, Witness: goodWitness()},
			person: dane(), witness: &Person{CPR: fixtureCPR(witnessCPR), Deceased: true}, want: []string{CodeWitnessUnknown}},
		{name: "an unknown witness beside passed check questions is still refused",
			app:    CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}, CheckQuestionsPassed: true, Witness: goodWitness()},
			person: dane(), witness: unregistered, want: []string{CodeWitnessUnknown}},
		{name: "witness with a malformed CPR number",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport},
				Witness: changeWitness(func(w *Witness) { w.CPR = "12345" })},
			person: dane(), want: []string{CodeCPRInvalid}},
		{name: "an invalid witness is refused even when the check questions were passed",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{validPassport}, CheckQuestionsPassed: true,
				Witness: changeWitness(func(w *Witness) { w.SwornStatement = false })},
			person: dane(), want: []string{CodeWitnessNotSworn}},
		{name: "an invalid witness is refused, not a silent fallback to letters",
			app: CounterApplication{CPR: applicantCPR, Documents: []Document{
				doc(DocHealthInsuranceCard, true), doc(DocTaxStatement, false)},
				Witness: changeWitness(func(w *Witness) { w.PhotoID = nil })},
			person: dane(), want: []string{CodeWitnessNoPhotoID}},
		{name: "every witness rule at once",
			app: CounterApplication{CPR: "160610-4000", Documents: []Document{validPassport},
				Witness: &Witness{CPR: "160610-4000"}},
			person: dane(), prior: 5, witness: unregistered,
			want: []string{CodeUnder15, CodeWitnessUnknown, CodeWitnessUnder18, CodeWitnessIsApplicant, CodeWitnessNoPhotoID,
				CodeWitnessNotSworn, CodeWitnessLimit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			today := tt.today
			if today.IsZero() {
				today = counterToday
			}
			witness := tt.witness
			if witness == nil && tt.app.Witness != nil {
				witness = &Person{Name: "Karen Vidne", Country: "DK"}
			} else if witness == unregistered {
				witness = nil
			}
			out, vs := EvaluateCounter(tt.app, CounterFacts{Person: tt.person, Today: today, ShortStay: DefaultShortStay,
				Witness: witness, WitnessStatements: tt.prior})
			checkViolations(t, vs, tt.want, "0101901234", "1234")
			if len(tt.want) > 0 {
				if out != (Outcome{}) {
					t.Errorf("a refused application has an outcome: %+v", out)
				}
				return
			}
			if out.Delivery != tt.delivery || out.Reason == "" {
				t.Errorf("outcome %+v, want delivery %s with a reason", out, tt.delivery)
			}
			if tt.note == "" && out.Note != "" || !strings.Contains(out.Note, tt.note) {
				t.Errorf("note %q, want one containing %q", out.Note, tt.note)
			}
			photo := false
			for _, d := range tt.app.Documents {
				photo = photo || validPhotoID(d, DateOf(today))
			}
			if out.PublicSignature != photo {
				t.Errorf("PublicSignature = %v, want %v (photo ID shown)", out.PublicSignature, photo)
			}
			if out.WitnessStatement != (tt.app.Witness != nil) {
				t.Errorf("WitnessStatement = %v with witness %v", out.WitnessStatement, tt.app.Witness)
			}
			if out.Representation != nil {
				t.Errorf("a counter outcome names a representation")
			}
		})
	}
}

// unregistered marks a test row whose witness the register does not hold.
var unregistered = &Person{Name: "unregistered"}

// TestWitnessWindowBoundary: a statement accepted at instant t counts
// against applications made before t + 120 × 24 h, and not against one made
// at that instant or later.
func TestWitnessWindowBoundary(t *testing.T) {
	accepted := time.Date(2025, 3, 30, 0, 30, 0, 0, time.UTC) // the night summer time begins in Copenhagen
	boundary := accepted.Add(120 * 24 * time.Hour)
	tests := []struct {
		name        string
		application time.Time
		counts      bool
	}{
		{"at the moment of acceptance", accepted, true},
		{"one second before the boundary", boundary.Add(-time.Second), true},
		{"exactly at the boundary", boundary, false},
		{"one second after the boundary", boundary.Add(time.Second), false},
		// Summer time began in between: 120 calendar days on the Copenhagen
		// clock are an hour short of 120 × 24 h, so the statement still counts.
		{"120 calendar days later on the Copenhagen clock", accepted.In(copenhagen).AddDate(0, 0, 120), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WitnessStatementCounts(accepted, tt.application); got != tt.counts {
				t.Errorf("WitnessStatementCounts = %v, want %v", got, tt.counts)
			}
			// The store counts statements accepted strictly after the window's start.
			if got := accepted.After(WitnessWindowStart(tt.application)); got != tt.counts {
				t.Errorf("accepted after WitnessWindowStart = %v, want %v", got, tt.counts)
			}
		})
	}
}

func TestPhotoIDViolations(t *testing.T) {
	today := counterToday
	tests := []struct {
		name string
		doc  Document
		want []string
	}{
		{"valid passport", passport("2025-06-15"), nil},
		{"expired passport", passport("2025-06-14"), []string{CodeDocumentExpired}},
		{"health card is no photo ID", doc(DocHealthInsuranceCard, true), []string{CodePhotoIDOrTwoDocuments}},
		{"unknown type", Document{Type: "selfie"}, []string{CodeDocumentUnknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkViolations(t, PhotoIDViolations(tt.doc, today), tt.want) })
	}
}

func TestDocumentTypes(t *testing.T) {
	photo := []DocumentType{DocEUDrivingLicence, DocPassport, DocMilitaryID, DocNATOPassport, DocPoliceID,
		DocResidencePermit, DocBankIDCard, DocNationalIDCard, DocDanishPassport, DocDanishDrivingLicence}
	nonPhoto := []DocumentType{DocBirthCertificate, DocNameCertificate, DocHealthInsuranceCard,
		DocResidenceCertificate, DocTaxStatement, DocBenefitStatement}
	for _, d := range photo {
		if !d.Known() || !d.IsPhotoID() {
			t.Errorf("%s should be a known photo ID", d)
		}
	}
	for _, d := range nonPhoto {
		if !d.Known() || d.IsPhotoID() {
			t.Errorf("%s should be a known document without photo", d)
		}
	}
	if len(documentTypes) != len(photo)+len(nonPhoto) {
		t.Errorf("%d document types, the design lists %d", len(documentTypes), len(photo)+len(nonPhoto))
	}
	if DocumentType("selfie").Known() {
		t.Error("an unknown type is known")
	}
}
