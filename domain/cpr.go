package domain

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Copenhagen even where the OS has no zoneinfo
)

// CPR is a parsed, validated Danish personal identification number.
// The zero value is not a valid CPR.
//
// String returns all ten digits; logs and lists must use Masked. A CPR
// logged through log/slog or printed with %#v shows only the masked form.
type CPR struct {
	digits string
	birth  Date
}

// ErrCPRInvalid is returned (wrapped) for every malformed CPR number.
var ErrCPRInvalid = errors.New("invalid CPR number")

// ParseCPR accepts "DDMMYY-SSSS" or "DDMMYYSSSS" (surrounding spaces are
// ignored), resolves the century from the 7th digit and YY (DESIGN.md §2),
// and rejects impossible dates and birth dates after today's Copenhagen date.
// It never rejects a number for failing the modulus-11 check (see Mod11Valid).
// Error messages never contain the number itself.
func ParseCPR(s string, today time.Time) (CPR, error) {
	digits := strings.TrimSpace(s)
	if len(digits) == 11 && digits[6] == '-' {
		digits = digits[:6] + digits[7:]
	}
	if len(digits) != 10 {
		return CPR{}, fmt.Errorf("%w: want 10 digits as DDMMYY-SSSS or DDMMYYSSSS", ErrCPRInvalid)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return CPR{}, fmt.Errorf("%w: only digits and one dash after the 6th digit are allowed", ErrCPRInvalid)
		}
	}
	day, month, yy := num(digits[0:2]), num(digits[2:4]), num(digits[4:6])
	birth := Date{Year: centuryOf(digits[6], yy) + yy, Month: time.Month(month), Day: day}
	if !birth.Valid() {
		return CPR{}, fmt.Errorf("%w: %02d-%02d-%d is not a real date", ErrCPRInvalid, day, month, birth.Year)
	}
	if birth.After(DateOf(today)) {
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
		if yy <= 57 {
			return 2000
		}
		return 1800
	}
}

func num(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
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

// GoString keeps %#v from printing the full number.
func (c CPR) GoString() string { return "domain.CPR(" + c.Masked() + ")" }

// LogValue makes log/slog print the masked form.
func (c CPR) LogValue() slog.Value { return slog.StringValue(c.Masked()) }

// BirthDate is the birth date (UTC midnight of the civil date).
func (c CPR) BirthDate() time.Time { return c.birth.utc() }

// IsZero reports whether c is the zero value.
func (c CPR) IsZero() bool { return c.digits == "" }

// AgeOn returns the completed years of life on the Copenhagen calendar date
// of day (0 for the zero CPR). Someone born on 29 February turns a year older
// on 1 March in years without a 29 February.
func (c CPR) AgeOn(day time.Time) int {
	if c.IsZero() {
		return 0
	}
	return c.birth.yearsUntil(DateOf(day))
}

// Mod11Valid reports whether the number passes the old modulus-11 check.
// It is for the record only: numbers issued since 1 October 2007 may fail it
// and are valid, so no rule may act on it.
func (c CPR) Mod11Valid() bool {
	if c.IsZero() {
		return false
	}
	weights := [10]int{4, 3, 2, 7, 6, 5, 4, 3, 2, 1}
	sum := 0
	for i, w := range weights {
		sum += w * int(c.digits[i]-'0')
	}
	return sum%11 == 0
}

// CPRLookupHash is the keyed HMAC-SHA256 (hex) of the ten digits, the column
// that finds a person's rows without storing the full number outside the
// register. key must be a secret of at least 32 random bytes; changing it
// orphans every stored hash.
func CPRLookupHash(key []byte, c CPR) string {
	return macHex(key, labelCPRLookup, c.digits)
}

// copenhagen is loaded once; the tzdata import keeps minimal images working.
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
