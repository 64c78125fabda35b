package domain

import (
	"testing"
	"time"
)

func TestLivesAbroad(t *testing.T) {
	tests := []struct {
		country string
		abroad  bool
	}{{"DK", false}, {"dk", false}, {"GB", true}, {"GL", true}, {"", true}}
	for _, tt := range tests {
		if got := (Person{Country: tt.country}).LivesAbroad(); got != tt.abroad {
			t.Errorf("LivesAbroad(%q) = %v, want %v", tt.country, got, tt.abroad)
		}
	}
}

func TestShortStay(t *testing.T) {
	arrived := date("2025-01-01") // winter time; 180 days later is summer time
	tests := []struct {
		name      string
		arrived   *Date
		today     time.Time
		shortStay time.Duration
		want      bool
	}{
		{"born in Denmark", nil, noon(2025, 1, 2), DefaultShortStay, false},
		{"arrived today", arrived, noon(2025, 1, 1), DefaultShortStay, true},
		{"179 days ago", arrived, noon(2025, 6, 29), DefaultShortStay, true},
		{"179 days ago, last minute of the day", arrived, at(2025, 6, 29, 23, 59), DefaultShortStay, true},
		{"exactly 180 days ago is no longer short", arrived, at(2025, 6, 30, 0, 0), DefaultShortStay, false},
		{"a shorter setting", arrived, noon(2025, 1, 31), 30 * 24 * time.Hour, false},
		{"zero setting: nobody", arrived, noon(2025, 1, 1), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Person{ArrivedDK: tt.arrived}
			if got := p.ShortStay(tt.today, tt.shortStay); got != tt.want {
				t.Errorf("ShortStay = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRegisteredAddress(t *testing.T) {
	p := dane()
	a := p.RegisteredAddress()
	if len(a.Lines) != 1 || a.Lines[0] != "Nørregade 1" || a.Postcode != "1165" || a.City != "København K" || a.Country != "DK" {
		t.Errorf("RegisteredAddress() = %+v", a)
	}
}

// TestCannotReceivePost is the one rule "nothing is posted to the
// registered address" that acceptance, the register re-check, reminders and
// replacement cards all apply.
func TestCannotReceivePost(t *testing.T) {
	tests := []struct {
		name      string
		person    Person
		forbidden bool
		codes     []string
	}{
		{"in Denmark", Person{Country: "DK"}, false, nil},
		{"address protected", Person{Country: "DK", AddressProtected: true}, true, []string{CodeAddressProtected}},
		{"living abroad", Person{Country: "GB"}, true, []string{CodeLivesAbroad}},
		{"both", Person{Country: "GB", AddressProtected: true}, true, []string{CodeAddressProtected, CodeLivesAbroad}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.person.CannotReceivePost(); got != tc.forbidden {
				t.Errorf("CannotReceivePost() = %v, want %v", got, tc.forbidden)
			}
			if got := PostForbidden(tc.person.AddressProtected, tc.person.LivesAbroad()); got != tc.forbidden {
				t.Errorf("PostForbidden = %v, want %v", got, tc.forbidden)
			}
			var codes []string
			for _, v := range RegisteredAddressViolations(&tc.person, "why") {
				codes = append(codes, v.Code)
			}
			if len(codes) != len(tc.codes) || (len(codes) > 0 && codes[0] != tc.codes[0]) || (len(codes) > 1 && codes[1] != tc.codes[1]) {
				t.Errorf("violations %v, want %v", codes, tc.codes)
			}
		})
	}
	if vs := RegisteredAddressViolations(nil, "why"); vs != nil {
		t.Errorf("a person not in the register has no address to refuse: %v", vs)
	}
}

// TestPaths: the accepted issuance paths of DESIGN.md §1.
func TestPaths(t *testing.T) {
	got := Paths()
	want := []string{"counter", "bank", "abroad"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("Paths() = %v, want %v", got, want)
	}
}
