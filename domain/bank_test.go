package domain

import "testing"

func TestEvaluateBank(t *testing.T) {
	tests := []struct {
		name      string
		app       BankApplication
		person    *Person
		want      []string
		publicSig bool
	}{
		{"photo ID shown: letters with public signature",
			BankApplication{CPR: applicantCPR, PhotoIDShown: true}, dane(), nil, true},
		{"no photo ID shown: letters without public signature",
			BankApplication{CPR: applicantCPR}, dane(), nil, false},
		{"malformed CPR number", BankApplication{CPR: "01019-01234"}, nil, []string{CodeCPRInvalid}, false},
		{"not in the register", BankApplication{CPR: applicantCPR}, nil, []string{CodeCPRUnknown}, false},
		{"deceased", BankApplication{CPR: applicantCPR},
			with(dane(), func(p *Person) { p.Deceased = true }), []string{CodeDeceased}, false},
		{"the day before the 15th birthday", BankApplication{CPR: "160610-4000"}, dane(), []string{CodeUnder15}, false},
		{"on the 15th birthday", BankApplication{CPR: "150610-4000", PhotoIDShown: true}, dane(), nil, true},
		{"address protected: nothing may be posted", BankApplication{CPR: applicantCPR, PhotoIDShown: true},
			with(dane(), func(p *Person) { p.AddressProtected = true }), []string{CodeAddressProtected}, false},
		{"living abroad: nothing may be posted", BankApplication{CPR: applicantCPR, PhotoIDShown: true},
			with(dane(), func(p *Person) { p.Country = "NO" }), []string{CodeLivesAbroad}, false},
		{"every rule at once", BankApplication{CPR: "160610-4000"},
			with(dane(), func(p *Person) { p.Deceased, p.AddressProtected, p.Country = true, true, "NO" }),
			[]string{CodeDeceased, CodeUnder15, CodeAddressProtected, CodeLivesAbroad}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, vs := EvaluateBank(tt.app, BankFacts{Person: tt.person, Today: counterToday})
			checkViolations(t, vs, tt.want, "0101901234")
			if len(tt.want) > 0 {
				return
			}
			if out.Delivery != DeliveryLetters || out.Reason == "" || out.PublicSignature != tt.publicSig {
				t.Errorf("outcome %+v, want letters with public signature %v", out, tt.publicSig)
			}
		})
	}
}
