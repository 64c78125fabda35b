package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Copenhagen even where the OS has no zoneinfo
)

// CPR is a parsed, validated Danish personal identification number.
// The zero value is not a valid CPR.
type CPR struct {
	digits string
	birth  time.Time
}

// ErrCPRInvalid is returned (wrapped) for every malformed CPR number.
var ErrCPRInvalid = errors.New("invalid CPR number")

// ParseCPR accepts "DDMMYY-SSSS" or "DDMMYYSSSS", resolves the century from
// the 7th digit and rejects impossible or future birth dates. It never
// rejects a number for failing the modulus-11 check (see Mod11Valid).
func ParseCPR(s string, today time.Time) (CPR, error) {
	digits := strings.TrimSpace(s)
	if len(digits) == 11 && digits[6] == '-' {
		digits = digits[:6] + digits[7:]
	}
	if len(digits) != 10 {
		return CPR{}, fmt.Errorf("%w: want 10 digits as DDMMYY-SSSS or DDMMYYSSSS", ErrCPRInvalid)
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return CPR{}, fmt.Errorf("%w: only digits and one dash are allowed", ErrCPRInvalid)
		}
	}
	day, month, yy := num(digits[0:2]), num(digits[2:4]), num(digits[4:6])
	year := centuryOf(digits[6], yy) + yy
	birth := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if month < 1 || month > 12 || birth.Day() != day || int(birth.Month()) != month {
		return CPR{}, fmt.Errorf("%w: %02d-%02d-%d is not a real date", ErrCPRInvalid, day, month, year)
	}
	if birth.After(civilDay(today)) {
		return CPR{}, fmt.Errorf("%w: birth date lies in the future", ErrCPRInvalid)
	}
	return CPR{digits: digits, birth: birth}, nil
}

// centuryOf applies the century table of DESIGN.md §2.
func centuryOf(seventh byte, yy int) int {
	switch {
	case seventh <= '3':
		return 1900
	case seventh == '4' || seventh == '9':
		if yy <= 36 {
			return 2000
		}
		return 1900
	default: // 5–8
		switch {
		case yy <= 57:
			return 2000
		default:
			return 1800
		}
	}
}

func num(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// String returns the ten digits without a dash.
func (c CPR) String() string { return c.digits }

// Masked returns "DDMMYY-XXXX", the only form allowed in logs and lists.
func (c CPR) Masked() string {
	if c.digits == "" {
		return ""
	}
	return c.digits[:6] + "-XXXX"
}

// BirthDate is the birth date (UTC midnight of the civil date).
func (c CPR) BirthDate() time.Time { return c.birth }

// IsZero reports whether c is the zero value.
func (c CPR) IsZero() bool { return c.digits == "" }

// copenhagen is loaded once; the tzdata fallback keeps minimal images working.
var copenhagen = mustLoadCopenhagen()

func mustLoadCopenhagen() *time.Location {
	loc, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil {
		panic(fmt.Sprintf("load Europe/Copenhagen: %v", err))
	}
	return loc
}

// Copenhagen is the time zone every calendar rule is judged in.
func Copenhagen() *time.Location { return copenhagen }

// civilDay returns the Copenhagen calendar date of t as UTC midnight.
func civilDay(t time.Time) time.Time {
	y, m, d := t.In(copenhagen).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
