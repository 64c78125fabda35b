package domain

import (
	"slices"
	"testing"
)

func briton() *Person {
	return &Person{CPR: fixtureCPR(applicantCPR), Name: "Karen Jensen", AddressLines: []string{"1 High Street"},
		Postcode: "OX1 1AA", City: "Oxford", Country: "GB", DanishPassport: "207123456", DanishDrivingLicence: "12345678"}
}

func TestEvaluateAbroad(t *testing.T) {
	london := Address{Lines: []string{"10 Downing St"}, Postcode: "SW1A 2AA", City: "London", Country: "GB"}
	order := func(change func(*AbroadApplication)) AbroadApplication {
		a := AbroadApplication{CPR: applicantCPR, Address: london, Representation: "LONDON",
			Document: Document{Type: DocDanishPassport, Number: "207123456"}}
		if change != nil {
			change(&a)
		}
		return a
	}
	tests := []struct {
		name   string
		app    AbroadApplication
		person *Person
		want   []string
	}{
		{"Danish passport matching the register, representation in the country of residence",
			order(nil), briton(), nil},
		{"Danish driving licence matching the register",
			order(func(a *AbroadApplication) { a.Document = Document{Type: DocDanishDrivingLicence, Number: "12345678"} }),
			briton(), nil},
		{"document numbers compare without case, spaces and dashes",
			order(func(a *AbroadApplication) { a.Document.Number = " 207-123 456" }), briton(), nil},
		{"a passport expiring today is valid",
			order(func(a *AbroadApplication) { a.Document.Expires = date("2025-06-15") }), briton(), nil},
		{"address protection does not matter abroad", order(nil),
			with(briton(), func(p *Person) { p.AddressProtected = true }), nil},
		{"the register gives an address in Denmark", order(nil),
			with(briton(), func(p *Person) { p.Country = "DK" }), []string{CodeNotAbroad, CodeRepresentationCountry}},
		{"the order's address is in Denmark",
			order(func(a *AbroadApplication) { a.Address.Country = "DK" }), briton(), []string{CodeNotAbroad}},
		{"the order's address has no country",
			order(func(a *AbroadApplication) { a.Address.Country = "" }), briton(), []string{CodeNotAbroad}},
		{"the passport number differs from the register's",
			order(func(a *AbroadApplication) { a.Document.Number = "207000000" }), briton(),
			[]string{CodeAbroadDocumentMismatch}},
		{"the register holds no driving licence",
			order(func(a *AbroadApplication) { a.Document = Document{Type: DocDanishDrivingLicence, Number: ""} }),
			with(briton(), func(p *Person) { p.DanishDrivingLicence = "" }), []string{CodeAbroadDocumentMismatch}},
		{"a foreign passport is not a Danish one",
			order(func(a *AbroadApplication) { a.Document.Type = DocPassport }), briton(),
			[]string{CodeAbroadDocumentMismatch}},
		{"an unknown document type",
			order(func(a *AbroadApplication) { a.Document.Type = "danish_library_card" }), briton(),
			[]string{CodeDocumentUnknown}},
		{"an expired Danish passport",
			order(func(a *AbroadApplication) { a.Document.Expires = date("2025-06-14") }), briton(),
			[]string{CodeDocumentExpired}},
		{"an unknown representation",
			order(func(a *AbroadApplication) { a.Representation = "OSLO" }), briton(), []string{CodeRepresentationUnknown}},
		{"a representation in another country",
			order(func(a *AbroadApplication) { a.Representation = "PARIS" }), briton(), []string{CodeRepresentationCountry}},
		{"not in the register", order(nil), nil, []string{CodeCPRUnknown}},
		{"every rule at once",
			order(func(a *AbroadApplication) {
				a.CPR = "160610-4000"
				a.Address.Country = "DK"
				a.Document = Document{Type: DocDanishPassport, Number: "1", Expires: date("2020-01-01")}
				a.Representation = "PARIS"
			}),
			with(briton(), func(p *Person) { p.Deceased = true }),
			[]string{CodeDeceased, CodeUnder15, CodeNotAbroad, CodeDocumentExpired, CodeAbroadDocumentMismatch,
				CodeRepresentationCountry}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, vs := EvaluateAbroad(tt.app, AbroadFacts{
				Person: tt.person, Today: counterToday, Representations: BuiltinRepresentations()})
			checkViolations(t, vs, tt.want, "0101901234", "207123456")
			if len(tt.want) > 0 {
				return
			}
			if out.Delivery != DeliveryRepresentation || out.Representation == nil ||
				out.Representation.Code != tt.app.Representation || out.Reason == "" {
				t.Errorf("outcome %+v", out)
			}
		})
	}
}

func TestPickupViolations(t *testing.T) {
	tests := []struct {
		name   string
		pickup Pickup
		want   []string
	}{
		{"same document, full fee", Pickup{DocumentNumber: "207123456", FeePaidDKK: 200, Receipt: "R1"}, nil},
		{"more than the fee", Pickup{DocumentNumber: "207123456", FeePaidDKK: 250}, nil},
		{"same number typed differently", Pickup{DocumentNumber: "207 123-456", FeePaidDKK: 200}, nil},
		{"one krone short", Pickup{DocumentNumber: "207123456", FeePaidDKK: 199}, []string{CodeFeeTooLow}},
		{"another document", Pickup{DocumentNumber: "207123457", FeePaidDKK: 200}, []string{CodePickupDocumentMismatch}},
		{"no document", Pickup{FeePaidDKK: 200}, []string{CodePickupDocumentMismatch}},
		{"both", Pickup{DocumentNumber: "X", FeePaidDKK: 0}, []string{CodeFeeTooLow, CodePickupDocumentMismatch}},
		{"lower case and spaces", Pickup{DocumentNumber: " 207123456 ", FeePaidDKK: 200}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := NewHashKeys("k1", []byte("pickup-test-key, pickup-test-key!"))
			order := DocumentNumberHash(key, "207123456")
			checkViolations(t, PickupViolations(tt.pickup, key, order, 200), tt.want, "207123456")
		})
	}
}

func TestReferenceData(t *testing.T) {
	for _, code := range []string{"KBH", "AAR", "ODE", "AAL"} {
		c, ok := LookupCentre(code)
		if !ok || c.Name == "" || len(c.Address.Lines) == 0 || c.Address.Country != "DK" {
			t.Errorf("centre %s: %+v, %v", code, c, ok)
		}
	}
	if _, ok := LookupCentre("XYZ"); ok {
		t.Error("unknown centre found")
	}
	want := map[string]string{"LONDON": "GB", "PARIS": "FR", "BERLIN": "DE", "WASHINGTON": "US", "BANGKOK": "TH"}
	reps := BuiltinRepresentations()
	if len(reps) != len(want) {
		t.Errorf("%d representations, want %d", len(reps), len(want))
	}
	for code, country := range want {
		r, ok := FindRepresentation(reps, code)
		if !ok || r.Address.Country != country || r.Name == "" || len(r.Address.Lines) == 0 || r.Address.City == "" {
			t.Errorf("representation %s: %+v, %v", code, r, ok)
		}
	}
	reps[0].Address.Lines[0] = "changed"
	if BuiltinRepresentations()[0].Address.Lines[0] == "changed" {
		t.Error("callers can change the built-in data")
	}
}

// TestAnonymousAbroadOrderIsNoRegisterOracle: without a token, an order
// whose document does not match learns nothing the register says
// (DESIGN.md §9). Unknown, deceased, living in Denmark and another number
// answer the very same violations; what the request alone decides is still
// reported; a matching document reveals the register-derived codes.
func TestAnonymousAbroadOrderIsNoRegisterOracle(t *testing.T) {
	london := Address{Lines: []string{"10 Downing St"}, Postcode: "SW1A 2AA", City: "London", Country: "GB"}
	order := func(change func(*AbroadApplication)) AbroadApplication {
		a := AbroadApplication{CPR: applicantCPR, Address: london, Representation: "LONDON",
			Document: Document{Type: DocDanishPassport, Number: "207999999"}}
		if change != nil {
			change(&a)
		}
		return a
	}
	evaluate := func(app AbroadApplication, p *Person) []Violation {
		_, vs := EvaluateAbroad(app, AbroadFacts{Person: p, Today: counterToday,
			Representations: BuiltinRepresentations(), Anonymous: true})
		return vs
	}
	inDenmark := func(p *Person) { p.Country = "DK" }
	dead := func(p *Person) { p.Deceased = true }

	mismatch := evaluate(order(nil), briton())
	checkViolations(t, mismatch, []string{CodeAbroadDocumentMismatch}, "0101901234", "207123456")
	for name, p := range map[string]*Person{
		"unknown CPR":      nil,
		"deceased":         with(briton(), dead),
		"lives in Denmark": with(briton(), inDenmark),
		"all of it":        with(briton(), func(p *Person) { dead(p); inDenmark(p); p.DanishPassport = "" }),
	} {
		if got := evaluate(order(nil), p); !slices.Equal(got, mismatch) {
			t.Errorf("%s: %v, want exactly %v", name, got, mismatch)
		}
	}

	requestOnly := []struct {
		name   string
		app    AbroadApplication
		person *Person
		want   []string
	}{
		{"an invalid CPR number", order(func(a *AbroadApplication) { a.CPR = "320190-1234" }), nil,
			[]string{CodeCPRInvalid, CodeAbroadDocumentMismatch}},
		{"under 15 by the number, unknown", order(func(a *AbroadApplication) { a.CPR = "160615-4000" }), nil,
			[]string{CodeUnder15, CodeAbroadDocumentMismatch}},
		{"under 15 by the number, known and deceased", order(func(a *AbroadApplication) { a.CPR = "160615-4000" }),
			with(briton(), dead), []string{CodeUnder15, CodeAbroadDocumentMismatch}},
		{"an unknown representation", order(func(a *AbroadApplication) { a.Representation = "OSLO" }), nil,
			[]string{CodeAbroadDocumentMismatch, CodeRepresentationUnknown}},
		{"the order's address in Denmark", order(func(a *AbroadApplication) { a.Address.Country = "DK" }),
			with(briton(), inDenmark), []string{CodeNotAbroad, CodeAbroadDocumentMismatch}},
		{"an expired passport", order(func(a *AbroadApplication) { a.Document.Expires = date("2020-01-01") }), nil,
			[]string{CodeDocumentExpired, CodeAbroadDocumentMismatch}},
		{"a foreign passport", order(func(a *AbroadApplication) { a.Document.Type = DocPassport }),
			with(briton(), inDenmark), []string{CodeAbroadDocumentMismatch}},
		{"an unknown document type", order(func(a *AbroadApplication) { a.Document.Type = "library_card" }),
			with(briton(), dead), []string{CodeDocumentUnknown}},
	}
	for _, tt := range requestOnly {
		t.Run(tt.name, func(t *testing.T) {
			checkViolations(t, evaluate(tt.app, tt.person), tt.want, "0101901234", "207123456")
		})
	}

	matching := func(a *AbroadApplication) { a.Document.Number = "207-123 456" }
	revealed := []struct {
		name   string
		app    AbroadApplication
		person *Person
		want   []string
	}{
		{"accepted", order(matching), briton(), nil},
		{"deceased", order(matching), with(briton(), dead), []string{CodeDeceased}},
		{"lives in Denmark", order(matching), with(briton(), inDenmark), []string{CodeNotAbroad, CodeRepresentationCountry}},
		{"another country's representation", order(func(a *AbroadApplication) { matching(a); a.Representation = "PARIS" }),
			briton(), []string{CodeRepresentationCountry}},
	}
	for _, tt := range revealed {
		t.Run("matching document: "+tt.name, func(t *testing.T) {
			checkViolations(t, evaluate(tt.app, tt.person), tt.want, "0101901234", "207123456")
		})
	}
}
