package domain

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseCPRForms(t *testing.T) {
	today := noon(2025, 6, 15)
	tests := []struct {
		name, in string
		want     string // digits; empty means rejected
	}{
		{"with dash", "010190-1234", "0101901234"},
		{"without dash", "0101901234", "0101901234"},
		{"surrounding spaces are ignored", " 010190-1234\n", "0101901234"},
		{"dash in the wrong place", "01019-01234", ""},
		{"two dashes", "010190--1234", ""},
		{"nine digits", "010190123", ""},
		{"eleven digits", "01019012345", ""},
		{"letters", "01019O1234", ""},
		{"empty", "", ""},
		{"unicode digits", "٠١٠١٩٠١٢٣٤", ""},
		{"day 00", "000190-1234", ""},
		{"day 32", "320190-1234", ""},
		{"month 13", "011390-1234", ""},
		{"31 April does not exist", "310490-1234", ""},
		{"29 February in a leap year", "290292-1234", "2902921234"},
		{"29 February in a common year", "290291-1234", ""},
		{"29 February 1900 was no leap day", "290200-1234", ""},
		{"29 February 2000 was a leap day", "290200-4234", "2902004234"},
		{"born today is not in the future", "150625-4000", "1506254000"},
		{"born tomorrow is in the future", "160625-4000", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCPR(tt.in, today)
			if tt.want == "" {
				if !errors.Is(err, ErrCPRInvalid) {
					t.Fatalf("ParseCPR(%q) = %v, %v; want ErrCPRInvalid", tt.in, c.Masked(), err)
				}
				if !c.IsZero() {
					t.Errorf("rejected CPR is not zero")
				}
				if strings.Contains(err.Error(), strings.ReplaceAll(tt.in, "-", "")) && len(tt.in) >= 10 {
					t.Errorf("error %q repeats the number", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCPR(%q): %v", tt.in, err)
			}
			if c.String() != tt.want {
				t.Errorf("String() = %q, want %q", c.String(), tt.want)
			}
		})
	}
}

// Every cell of the century table of DESIGN.md §2, at both ends of each YY
// range and for every 7th digit of the row.
func TestParseCPRCenturyTable(t *testing.T) {
	tests := []struct {
		name    string
		seventh string
		yy      []int
		century int
	}{
		{"7th digit 0–3, YY 00–36: 1900s", "0123", []int{0, 36}, 1900},
		{"7th digit 0–3, YY 37–57: 1900s", "0123", []int{37, 57}, 1900},
		{"7th digit 0–3, YY 58–99: 1900s", "0123", []int{58, 99}, 1900},
		{"7th digit 4 or 9, YY 00–36: 2000s", "49", []int{0, 24}, 2000}, // 25–36 lie in the future
		{"7th digit 4 or 9, YY 37–57: 1900s", "49", []int{37, 57}, 1900},
		{"7th digit 4 or 9, YY 58–99: 1900s", "49", []int{58, 99}, 1900},
		{"7th digit 5–8, YY 00–36: 2000s", "5678", []int{0, 24}, 2000},
		{"7th digit 5–8, YY 37–57: 2000s", "5678", []int{37, 57}, 2000},
		{"7th digit 5–8, YY 58–99: 1800s", "5678", []int{58, 99}, 1800},
	}
	today := noon(2025, 6, 15)
	for _, tt := range tests {
		for _, d := range tt.seventh {
			for _, yy := range tt.yy {
				in := fmt.Sprintf("0101%02d-%c123", yy, d)
				c, err := ParseCPR(in, today)
				wantYear := tt.century + yy
				if wantYear > 2025 {
					if err == nil {
						t.Errorf("%s: %s accepted with a birth year %d in the future", tt.name, in, wantYear)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: ParseCPR(%q): %v", tt.name, in, err)
					continue
				}
				if got := c.BirthDate().Year(); got != wantYear {
					t.Errorf("%s: %s born %d, want %d", tt.name, in, got, wantYear)
				}
			}
		}
	}
}

// 7th digit 4/9 or 5–8 with YY 25–36 is a 2000s birth year still to come.
func TestParseCPRFutureCenturyYears(t *testing.T) {
	for _, in := range []string{"010126-4000", "010136-9000", "010157-5000"} {
		if _, err := ParseCPR(in, noon(2025, 6, 15)); !errors.Is(err, ErrCPRInvalid) {
			t.Errorf("ParseCPR(%q) = %v, want a future-date rejection", in, err)
		}
	}
}

func TestParseCPRJudgesTheFutureInCopenhagen(t *testing.T) {
	// 22:30 UTC on 14 June is already 15 June in Copenhagen.
	if _, err := ParseCPR("150625-4000", time.Date(2025, 6, 14, 22, 30, 0, 0, time.UTC)); err != nil {
		t.Errorf("born on the Copenhagen date of today: %v", err)
	}
	if _, err := ParseCPR("150625-4000", time.Date(2025, 6, 14, 21, 30, 0, 0, time.UTC)); err == nil {
		t.Errorf("born on the day after the Copenhagen date of today was accepted")
	}
}

func TestMod11IsRecordedNotEnforced(t *testing.T) {
	tests := []struct {
		name, in string
		mod11    bool
	}{
		{"passes modulus 11", "070761-4285", true},
		{"fails modulus 11 and is still a valid number", "070761-4286", false},
		{"a post-2007 style number that fails", "010190-1234", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCPR(tt.in, noon(2025, 6, 15))
			if err != nil {
				t.Fatalf("a number that fails modulus 11 must be accepted: %v", err)
			}
			if c.Mod11Valid() != tt.mod11 {
				t.Errorf("Mod11Valid() = %v, want %v", c.Mod11Valid(), tt.mod11)
			}
		})
	}
	if (CPR{}).Mod11Valid() {
		t.Error("zero CPR passes modulus 11")
	}
}

func TestAgeOn(t *testing.T) {
	born2010 := mustCPR(t, "150610-4000") // 15 June 2010
	leapling := mustCPR(t, "290208-4000") // 29 February 2008
	tests := []struct {
		name string
		cpr  CPR
		on   time.Time
		want int
	}{
		{"day before the 15th birthday", born2010, noon(2025, 6, 14), 14},
		{"on the 15th birthday", born2010, noon(2025, 6, 15), 15},
		{"last minute before the birthday, Copenhagen time", born2010, time.Date(2025, 6, 14, 21, 59, 0, 0, time.UTC), 14},
		{"first minute of the birthday, Copenhagen time", born2010, time.Date(2025, 6, 14, 22, 0, 0, 0, time.UTC), 15},
		{"on the day of birth", born2010, noon(2010, 6, 15), 0},
		{"leapling on 28 February of a common year", leapling, noon(2023, 2, 28), 14},
		{"leapling turns older on 1 March of a common year", leapling, noon(2023, 3, 1), 15},
		{"leapling on 28 February of a leap year", leapling, noon(2024, 2, 28), 15},
		{"leapling on 29 February of a leap year", leapling, noon(2024, 2, 29), 16},
		{"zero CPR", CPR{}, noon(2025, 6, 15), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cpr.AgeOn(tt.on); got != tt.want {
				t.Errorf("AgeOn(%v) = %d, want %d", tt.on, got, tt.want)
			}
		})
	}
}

func TestCPRNeverPrintsInFullWhereItShouldNot(t *testing.T) {
	c := mustCPR(t, "010190-1234")
	if got := c.Masked(); got != "010190-XXXX" {
		t.Errorf("Masked() = %q", got)
	}
	if got := fmt.Sprintf("%#v", c); strings.Contains(got, "1234") {
		t.Errorf("%%#v = %q leaks the number", got)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("applied", "cpr", c)
	if strings.Contains(b.String(), "0101901234") || !strings.Contains(b.String(), "010190-XXXX") {
		t.Errorf("slog output %q", b.String())
	}
	if got := c.BirthDate(); !got.Equal(time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("BirthDate() = %v", got)
	}
	if (CPR{}).Masked() != "" || !(CPR{}).IsZero() || c.IsZero() {
		t.Error("zero value misbehaves")
	}
}

func TestCPRLookupHash(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	a, b := mustCPR(t, "0101901234"), mustCPR(t, "010190-1235")
	h := CPRLookupHash(key, a)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(h) {
		t.Fatalf("hash %q is not 64 hex digits", h)
	}
	if h != CPRLookupHash(key, mustCPR(t, "010190-1234")) {
		t.Error("the same number with and without dash hashes differently")
	}
	if h == CPRLookupHash(key, b) {
		t.Error("two numbers share a hash")
	}
	if h == CPRLookupHash([]byte("another key, another key, another"), a) {
		t.Error("the hash does not depend on the key")
	}
}
