package domain

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want Date
		ok   bool
	}{
		{"2025-06-15", Date{2025, time.June, 15}, true},
		{"2024-02-29", Date{2024, time.February, 29}, true},
		{"2025-02-29", Date{}, false},
		{"2025-6-15", Date{}, false},
		{"15-06-2025", Date{}, false},
		{"2025-06-15T00:00:00Z", Date{}, false},
		{"", Date{}, false},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestDateArithmetic(t *testing.T) {
	tests := []struct {
		name string
		got  Date
		want string
	}{
		{"three months back", Date{2025, time.June, 15}.AddMonths(-3), "2025-03-15"},
		{"31 May minus three months clamps to 28 February", Date{2025, time.May, 31}.AddMonths(-3), "2025-02-28"},
		{"31 May minus three months in a leap year", Date{2024, time.May, 31}.AddMonths(-3), "2024-02-29"},
		{"across a year", Date{2025, time.January, 31}.AddMonths(-3), "2024-10-31"},
		{"forward", Date{2025, time.January, 31}.AddMonths(1), "2025-02-28"},
		{"days across a month", Date{2025, time.January, 31}.AddDays(1), "2025-02-01"},
		{"days back across a year", Date{2025, time.January, 1}.AddDays(-1), "2024-12-31"},
	}
	for _, tt := range tests {
		if tt.got.String() != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, tt.got, tt.want)
		}
	}
}

func TestDateCompare(t *testing.T) {
	a, b := Date{2025, time.June, 14}, Date{2025, time.June, 15}
	if !a.Before(b) || a.After(b) || b.Before(a) || !b.After(a) || a.Before(a) || a.Compare(a) != 0 {
		t.Error("day order wrong")
	}
	if !(Date{2024, time.December, 31}).Before(Date{2025, time.January, 1}) ||
		!(Date{2025, time.January, 31}).Before(Date{2025, time.February, 1}) {
		t.Error("month or year order wrong")
	}
}

func TestDateOfUsesCopenhagen(t *testing.T) {
	if Copenhagen().String() != "Europe/Copenhagen" {
		t.Errorf("Copenhagen() = %v", Copenhagen())
	}
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2025, 6, 14, 21, 59, 0, 0, time.UTC), "2025-06-14"},
		{time.Date(2025, 6, 14, 22, 0, 0, 0, time.UTC), "2025-06-15"}, // summer time, UTC+2
		{time.Date(2025, 1, 14, 22, 59, 0, 0, time.UTC), "2025-01-14"},
		{time.Date(2025, 1, 14, 23, 0, 0, 0, time.UTC), "2025-01-15"}, // winter time, UTC+1
	}
	for _, tt := range tests {
		if got := DateOf(tt.at).String(); got != tt.want {
			t.Errorf("DateOf(%v) = %s, want %s", tt.at, got, tt.want)
		}
	}
}

func TestDateJSON(t *testing.T) {
	type doc struct {
		Expires *Date `json:"expires"`
		Issued  Date  `json:"issued"`
	}
	var d doc
	if err := json.Unmarshal([]byte(`{"expires":"2031-05-01","issued":null}`), &d); err != nil {
		t.Fatal(err)
	}
	if d.Expires == nil || *d.Expires != (Date{2031, time.May, 1}) || !d.Issued.IsZero() {
		t.Errorf("decoded %+v", d)
	}
	out, err := json.Marshal(d)
	if err != nil || string(out) != `{"expires":"2031-05-01","issued":null}` {
		t.Errorf("encoded %s, %v", out, err)
	}
	for _, bad := range []string{`{"expires":"2031-02-30"}`, `{"expires":20310501}`, `{"expires":""}`} {
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("decoded %s without error", bad)
		}
	}
	if _, err := json.Marshal(Date{2025, time.February, 30}); err == nil {
		t.Error("marshalled an impossible date")
	}
}

func TestDateText(t *testing.T) {
	var d Date
	if err := d.UnmarshalText(nil); err != nil || !d.IsZero() {
		t.Errorf("empty text: %v, %v", d, err)
	}
	if err := d.UnmarshalText([]byte("2024-03-01")); err != nil || d != (Date{2024, time.March, 1}) {
		t.Errorf("text: %v, %v", d, err)
	}
	if err := d.UnmarshalText([]byte("01-03-2024")); err == nil {
		t.Error("text in another layout was accepted")
	}
	if b, _ := (Date{}).MarshalText(); len(b) != 0 {
		t.Errorf("zero date marshals as %q", b)
	}
}
