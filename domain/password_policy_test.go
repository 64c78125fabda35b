package domain

import (
	"strings"
	"testing"
)

func TestPasswordViolations(t *testing.T) {
	cpr := fixtureCPR("0101901234")
	const nemID = "123456789"
	p := CodePasswordPolicy
	tests := []struct {
		name, pw string
		want     int // number of password_policy violations
	}{
		// Four digits.
		{"four mixed digits", "1357", 0},
		{"runs do not wrap around", "8901", 0},
		{"four equal digits", "7777", 1},
		{"ascending run", "2345", 1},
		{"ascending run to 9", "6789", 1},
		{"descending run", "4321", 1},
		{"descending run to 0", "3210", 1},
		{"part of the CPR number", "0190", 1},
		{"end of the CPR number and a run", "1234", 2},
		{"start of the CPR number", "0101", 1},
		{"digits the CPR number holds, but not in a row", "0911", 0},
		// Six to forty letters and digits.
		{"letters and digits", "Hemmelig42", 0},
		{"six characters", "abc123", 0},
		{"forty characters", strings.Repeat("ab1", 13) + "c", 0},
		{"forty-one characters", strings.Repeat("ab1", 13) + "cd", 1},
		{"five characters", "abc12", 1},
		{"five digits: too short and no letter", "13579", 2},
		{"four letters: too short and no digit", "abcd", 2},
		{"empty: too short, no letter, no digit", "", 3},
		{"æ, ø and å are not allowed", "blåbærgrød1", 1},
		{"a space is not allowed", "hemme lig42", 1},
		{"punctuation is not allowed", "hemmelig42!", 1},
		{"a character three times in a row", "haaal1234x", 0},
		{"a character four times in a row", "haaaa1234x", 1},
		{"six digits and no letter", "123456", 1},
		{"six letters and no digit", "abcdef", 1},
		{"forty digits and no letter", strings.Repeat("9876543210", 4), 1},
		{"one letter is enough", "12345a", 0},
		{"one digit is enough", "abcde1", 0},
		{"case does not make characters different", "aAaA1b", 1},
		{"aAaA inside a longer password", "x1aAaA12345", 1},
		{"three of a letter in mixed case", "aAa1b2", 0},
		{"a run broken by another letter", "aAabA1", 0},
		{"four digits in a row", "abc1111xyz", 1},
		{"containing the CPR number", "x0101901234", 1},
		{"containing the NemID number", "nemid123456789", 1},
		{"every rule at once", "ææææ", 5},
		{"no letter, no digit and a run", "!!!!!!", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := PasswordViolations(tt.pw, cpr, nemID)
			want := make([]string, tt.want)
			for i := range want {
				want[i] = p
			}
			checkViolations(t, vs, want, "0101901234", nemID)
			seen := map[string]bool{}
			for _, v := range vs {
				if seen[v.Message] {
					t.Errorf("two violations share the message %q", v.Message)
				}
				seen[v.Message] = true
			}
		})
	}
}

func TestPasswordViolationsWithoutIdentity(t *testing.T) {
	if vs := PasswordViolations("0190", CPR{}, ""); len(vs) != 0 {
		t.Errorf("without a CPR number the CPR rule cannot apply: %v", vs)
	}
	if vs := PasswordViolations("abc123456789", CPR{}, ""); len(vs) != 0 {
		t.Errorf("without a NemID number the NemID rule cannot apply: %v", vs)
	}
}
