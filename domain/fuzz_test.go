package domain

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

var maskedForm = regexp.MustCompile(`^[0-9]{6}-XXXX$`)

// FuzzParseCPR checks that ParseCPR never panics, that an accepted input is
// ten digits (with at most the one dash) that round-trip through String, and
// that Masked has its form. The seed corpus is testdata/fuzz/FuzzParseCPR.
func FuzzParseCPR(f *testing.F) {
	today := noon(2025, 6, 15)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCPR(s, today)
		if err != nil {
			if !errors.Is(err, ErrCPRInvalid) || !c.IsZero() {
				t.Fatalf("ParseCPR(%q) = %#v, %v", s, c, err)
			}
			return
		}
		digits := c.String()
		if want := strings.Replace(strings.TrimSpace(s), "-", "", 1); digits != want || len(digits) != 10 {
			t.Fatalf("ParseCPR(%q).String() = %q, want %q", s, digits, want)
		}
		again, err := ParseCPR(digits, today)
		if err != nil || again != c {
			t.Fatalf("String() %q does not round-trip: %#v, %v", digits, again, err)
		}
		dashed, err := ParseCPR(digits[:6]+"-"+digits[6:], today)
		if err != nil || dashed != c {
			t.Fatalf("dashed form of %q does not parse alike: %v", digits, err)
		}
		if m := c.Masked(); !maskedForm.MatchString(m) || m[:6] != digits[:6] {
			t.Fatalf("Masked() = %q", m)
		}
		if c.BirthDate().After(today) || c.AgeOn(today) < 0 {
			t.Fatalf("%s born %v, after today", c.Masked(), c.BirthDate())
		}
		c.Mod11Valid() // recorded, never a reason to reject
	})
}
