package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length bounds of a password that is not a 4-digit PIN.
const (
	PasswordMinLength = 6
	PasswordMaxLength = 40
)

// PasswordViolations applies the password policy to a new password and
// returns one password_policy violation per broken rule, each with its own
// message. A password is either
//   - 4 digits: not all equal, not an ascending or descending run (1234,
//     4321; runs do not wrap, so 8901 is allowed), not part of the CPR
//     number's digits; or
//   - 6–40 characters, only the ASCII letters a–z, A–Z and the digits 0–9
//     (so no æ, ø, å), at least one letter and at least one digit, no
//     character four times in a row (case-insensitive: aAaA is a run), not
//     containing the CPR number's ten digits or the NemID number.
//
// A zero cpr or an empty nemID skips the rules that need them.
func PasswordViolations(pw string, cpr CPR, nemID string) []Violation {
	if len(pw) == 4 && allDigits(pw) {
		return pinViolations(pw, cpr)
	}
	var vs []Violation
	add := func(format string, args ...any) { vs = append(vs, violation(CodePasswordPolicy, format, args...)) }
	if n := utf8.RuneCountInString(pw); n < PasswordMinLength || n > PasswordMaxLength {
		add("The password must be 4 digits, or %d to %d letters and digits; it has %d characters.",
			PasswordMinLength, PasswordMaxLength, n)
	}
	if !asciiAlphanumeric(pw) {
		add("The password may contain only the letters a-z and A-Z (not æ, ø or å) and the digits 0-9.")
	}
	if !strings.ContainsFunc(pw, isASCIILetter) {
		add("The password must contain at least one letter (a-z or A-Z).")
	}
	if !strings.ContainsFunc(pw, isASCIIDigit) {
		add("The password must contain at least one digit (0-9).")
	}
	if repeatsFourTimes(pw) {
		add("The password must not repeat a character four times in a row (upper and lower case count as the same).")
	}
	if !cpr.IsZero() && strings.Contains(pw, cpr.String()) {
		add("The password must not contain your CPR number.")
	}
	if nemID != "" && strings.Contains(pw, nemID) {
		add("The password must not contain your NemID number.")
	}
	return vs
}

func pinViolations(pin string, cpr CPR) []Violation {
	var vs []Violation
	add := func(msg string) { vs = append(vs, violation(CodePasswordPolicy, "%s", msg)) }
	if strings.Count(pin, pin[:1]) == len(pin) {
		add("A 4-digit password must not be the same digit four times.")
	}
	if isRun(pin, 1) || isRun(pin, -1) {
		add("A 4-digit password must not be an ascending or descending run such as 1234 or 4321.")
	}
	if !cpr.IsZero() && strings.Contains(cpr.String(), pin) {
		add("A 4-digit password must not be part of your CPR number.")
	}
	return vs
}

func isRun(s string, step int) bool {
	for i := 1; i < len(s); i++ {
		if int(s[i])-int(s[i-1]) != step {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func asciiAlphanumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func isASCIILetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }

func isASCIIDigit(r rune) bool { return '0' <= r && r <= '9' }

// repeatsFourTimes reports a run of four equal characters, ignoring case.
func repeatsFourTimes(s string) bool {
	run, prev := 0, rune(-1)
	for _, r := range s {
		r = unicode.ToLower(r)
		if r == prev {
			run++
		} else {
			run, prev = 1, r
		}
		if run == 4 {
			return true
		}
	}
	return false
}
