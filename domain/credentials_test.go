package domain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"regexp"
	"testing"
)

var (
	nineDigits = regexp.MustCompile(`^[1-9][0-9]{8}$`)
	sixDigits  = regexp.MustCompile(`^[0-9]{6}$`)
	tenDigits  = regexp.MustCompile(`^[1-9][0-9]{9}$`)
	fourDigits = regexp.MustCompile(`^[0-9]{4}$`)
)

func TestCredentialShapes(t *testing.T) {
	leadingZero := false
	for range 2000 {
		n, err := NewNemIDNumber()
		if err != nil || !nineDigits.MatchString(n) {
			t.Fatalf("NewNemIDNumber() = %q, %v", n, err)
		}
		p, err := NewTemporaryPassword()
		if err != nil || !sixDigits.MatchString(p) {
			t.Fatalf("NewTemporaryPassword() = %q, %v", p, err)
		}
		leadingZero = leadingZero || p[0] == '0'
		c, err := NewCardNumber()
		if err != nil || !tenDigits.MatchString(c) {
			t.Fatalf("NewCardNumber() = %q, %v", c, err)
		}
	}
	if !leadingZero {
		t.Error("no temporary password in 2000 starts with 0: leading zeros are lost")
	}
}

func TestNewCodeCard(t *testing.T) {
	codeLeadingZero := false
	for range 200 {
		card, err := NewCodeCard()
		if err != nil {
			t.Fatal(err)
		}
		if !tenDigits.MatchString(card.Number) {
			t.Errorf("card number %q", card.Number)
		}
		if len(card.Pairs) != CodeCardPairs {
			t.Fatalf("%d pairs, want %d", len(card.Pairs), CodeCardPairs)
		}
		keys := map[string]bool{}
		for _, p := range card.Pairs {
			if !fourDigits.MatchString(p.Key) || !sixDigits.MatchString(p.Code) {
				t.Fatalf("pair %q %q", p.Key, p.Code)
			}
			if keys[p.Key] {
				t.Fatalf("key %s twice on one card", p.Key)
			}
			keys[p.Key] = true
			codeLeadingZero = codeLeadingZero || p.Code[0] == '0'
		}
	}
	if !codeLeadingZero {
		t.Error("no code on 200 cards starts with 0")
	}
}

// A repeated key is drawn again, not printed twice: after the first pair
// every key draw repeats 0007 once before a fresh key comes.
func TestNewCodeCardSkipsRepeatedKeys(t *testing.T) {
	var stream bytes.Buffer
	word := func(v uint32) { binary.Write(&stream, binary.LittleEndian, v) }
	word(0)   // card number: first digit 1
	word(0)   // card number: the other nine digits
	word(7)   // pair 0: key 0007
	word(123) // pair 0: code 000123
	for i := 1; i < CodeCardPairs; i++ {
		word(7)                // a repeat, skipped
		word(uint32(1000 + i)) // pair i: key 1000+i
		word(uint32(i))        // pair i: code i
	}
	stream.Write(make([]byte, 4096)) // the source reads in whole batches
	card, err := newCodeCard(&stream)
	if err != nil {
		t.Fatal(err)
	}
	if card.Number != "1000000000" || card.Pairs[0] != (CodePair{Key: "0007", Code: "000123"}) {
		t.Errorf("card %s, first pair %+v", card.Number, card.Pairs[0])
	}
	for i := 1; i < CodeCardPairs; i++ {
		want := CodePair{Key: string(appendPadded(nil, uint32(1000+i), 4)), Code: string(appendPadded(nil, uint32(i), 6))}
		if card.Pairs[i] != want {
			t.Fatalf("pair %d = %+v, want %+v", i, card.Pairs[i], want)
		}
	}
}

func TestBelowRejectsTheBiasedTop(t *testing.T) {
	var stream bytes.Buffer
	binary.Write(&stream, binary.LittleEndian, uint32(4294960000)) // first value of the biased top for n=10000
	binary.Write(&stream, binary.LittleEndian, uint32(4294959999)) // last unbiased value
	src := newDigitSource(&stream, 1)
	v, err := src.below(10000)
	if err != nil || v != 9999 {
		t.Errorf("below(10000) = %d, %v; want 9999 after one rejection", v, err)
	}
}

type failingReader struct{ after int }

var errNoEntropy = errors.New("no entropy")

func (r *failingReader) Read(p []byte) (int, error) {
	if r.after <= 0 {
		return 0, errNoEntropy
	}
	n := min(len(p), r.after)
	r.after -= n
	return n, nil
}

func TestCredentialsReturnRandomSourceErrors(t *testing.T) {
	tests := []struct {
		name string
		draw func(io.Reader) error
	}{
		{"NemID number", func(r io.Reader) error { _, err := newNemIDNumber(r); return err }},
		{"temporary password", func(r io.Reader) error { _, err := newTemporaryPassword(r); return err }},
		{"card number", func(r io.Reader) error { _, err := newCardNumber(r); return err }},
		{"code card, at once", func(r io.Reader) error { _, err := newCodeCard(r); return err }},
		{"password salt", func(r io.Reader) error { _, err := hashPassword(r, testKeys, "secret12", passwordParams); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.draw(&failingReader{}); !errors.Is(err, errNoEntropy) {
				t.Errorf("error = %v, want the source's error", err)
			}
		})
	}
	// A card needs more than its first batch when keys repeat: a source that
	// dries up then is an error too.
	var stream bytes.Buffer
	for range 2 + 2*CodeCardPairs + 8 {
		binary.Write(&stream, binary.LittleEndian, uint32(7))
	}
	if _, err := newCodeCard(io.MultiReader(&stream, &failingReader{})); !errors.Is(err, errNoEntropy) {
		t.Errorf("code card with a source that dries up: %v", err)
	}
}
