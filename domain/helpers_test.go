package domain

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// at is a Copenhagen wall-clock instant.
func at(year int, month time.Month, day, hour, minute int) time.Time {
	return time.Date(year, month, day, hour, minute, 0, 0, copenhagen)
}

// noon is the usual "today" of a test: midday in Copenhagen.
func noon(year int, month time.Month, day int) time.Time { return at(year, month, day, 12, 0) }

func date(s string) *Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return &d
}

// fixtureCPR parses a CPR number for a fixture, judged on 15 June 2025.
func fixtureCPR(s string) CPR {
	c, err := ParseCPR(s, noon(2025, 6, 15))
	if err != nil {
		panic(err)
	}
	return c
}

func mustCPR(t testing.TB, s string) CPR {
	t.Helper()
	c, err := ParseCPR(s, noon(2025, 6, 15))
	if err != nil {
		t.Fatalf("ParseCPR(%q): %v", s, err)
	}
	return c
}

func codes(vs []Violation) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.Code)
	}
	return out
}

// checkViolations compares codes in order and checks that every message is
// a readable sentence that does not leak a full CPR number.
func checkViolations(t *testing.T, got []Violation, want []string, secrets ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(codes(got), want) {
		t.Errorf("violations = %v, want %v\n%v", codes(got), want, got)
	}
	for _, v := range got {
		if v.Message == "" || strings.ToUpper(v.Message[:1]) != v.Message[:1] || !strings.HasSuffix(v.Message, ".") {
			t.Errorf("message for %s is not a sentence: %q", v.Code, v.Message)
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(v.Message, s) {
				t.Errorf("message for %s leaks %q: %q", v.Code, s, v.Message)
			}
		}
	}
}
