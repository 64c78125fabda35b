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
