package domain

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
)

// Credential shapes (DESIGN.md §2). Uniqueness of NemID and card numbers is
// the database's to guard: these functions only draw them.
const (
	NemIDNumberDigits       = 9
	TemporaryPasswordDigits = 6
	CardNumberDigits        = 10
	CodeCardPairs           = 148
	CodeKeyDigits           = 4
	CodeDigits              = 6
)

// CodePair is one printed key and its code, both strings of digits.
type CodePair struct {
	Key  string
	Code string
}

// CodeCard is a freshly minted code card. It holds the codes in plaintext:
// print it, store only CodeMACs, and let it go.
type CodeCard struct {
	Number string
	Pairs  []CodePair // CodeCardPairs pairs, keys unique on the card
}

// NewNemIDNumber draws a 9-digit NemID number whose first digit is not 0.
func NewNemIDNumber() (string, error) { return newNemIDNumber(rand.Reader) }

// NewTemporaryPassword draws a 6-digit temporary password (leading zeros
// allowed).
func NewTemporaryPassword() (string, error) { return newTemporaryPassword(rand.Reader) }

// NewCardNumber draws a 10-digit card number whose first digit is not 0, so
// that no client can lose a digit by treating it as a number.
func NewCardNumber() (string, error) { return newCardNumber(rand.Reader) }

// NewCodeCard draws a card number and 148 pairs of a 4-digit key, unique on
// the card, and a 6-digit code (leading zeros allowed).
func NewCodeCard() (CodeCard, error) { return newCodeCard(rand.Reader) }

func newNemIDNumber(r io.Reader) (string, error) {
	src := newDigitSource(r, 2)
	b, err := src.appendLeadingNonZero(nil, NemIDNumberDigits)
	if err != nil {
		return "", fmt.Errorf("draw NemID number: %w", err)
	}
	return string(b), nil
}

func newTemporaryPassword(r io.Reader) (string, error) {
	src := newDigitSource(r, 1)
	b, err := src.appendDigits(nil, TemporaryPasswordDigits)
	if err != nil {
		return "", fmt.Errorf("draw temporary password: %w", err)
	}
	return string(b), nil
}

func newCardNumber(r io.Reader) (string, error) {
	src := newDigitSource(r, 2)
	b, err := src.appendLeadingNonZero(nil, CardNumberDigits)
	if err != nil {
		return "", fmt.Errorf("draw card number: %w", err)
	}
	return string(b), nil
}

func newCodeCard(r io.Reader) (CodeCard, error) {
	const pairLen = CodeKeyDigits + CodeDigits
	// Card number (2 draws), then a key and a code per pair, plus a few
	// spare draws for repeated keys and rejected samples.
	src := newDigitSource(r, 2+2*CodeCardPairs+8)
	number, err := src.appendLeadingNonZero(nil, CardNumberDigits)
	if err != nil {
		return CodeCard{}, fmt.Errorf("draw code card: %w", err)
	}
	var used [10000/64 + 1]uint64 // keys already on the card
	buf := make([]byte, 0, CodeCardPairs*pairLen)
	for len(buf) < cap(buf) {
		key, err := src.below(10000)
		if err != nil {
			return CodeCard{}, fmt.Errorf("draw code card: %w", err)
		}
		if used[key/64]&(1<<(key%64)) != 0 {
			continue
		}
		used[key/64] |= 1 << (key % 64)
		buf = appendPadded(buf, key, CodeKeyDigits)
		if buf, err = src.appendDigits(buf, CodeDigits); err != nil {
			return CodeCard{}, fmt.Errorf("draw code card: %w", err)
		}
	}
	// One string backs every key and code: two allocations, not 296.
	all := string(buf)
	pairs := make([]CodePair, CodeCardPairs)
	for i := range pairs {
		p := all[i*pairLen:]
		pairs[i] = CodePair{Key: p[:CodeKeyDigits], Code: p[CodeKeyDigits:pairLen]}
	}
	return CodeCard{Number: string(number), Pairs: pairs}, nil
}

// digitSource draws uniform numbers from a cryptographic random source,
// reading it in batches of 4 bytes per expected draw.
type digitSource struct {
	r   io.Reader
	buf []byte
	pos int
}

func newDigitSource(r io.Reader, expectedDraws int) *digitSource {
	buf := make([]byte, 4*expectedDraws)
	return &digitSource{r: r, buf: buf, pos: len(buf)}
}

// below returns a uniform number in [0, n), n ≤ 10^9, rejecting the top
// (2^32 mod n) values so that no residue is favoured.
func (s *digitSource) below(n uint32) (uint32, error) {
	limit := uint64(1<<32) - uint64(1<<32)%uint64(n)
	for {
		if s.pos == len(s.buf) {
			if _, err := io.ReadFull(s.r, s.buf); err != nil {
				return 0, fmt.Errorf("read random source: %w", err)
			}
			s.pos = 0
		}
		v := binary.LittleEndian.Uint32(s.buf[s.pos:])
		s.pos += 4
		if uint64(v) < limit {
			return v % n, nil
		}
	}
}

// appendDigits appends width uniform decimal digits, width ≤ 9.
func (s *digitSource) appendDigits(dst []byte, width int) ([]byte, error) {
	v, err := s.below(pow10[width])
	if err != nil {
		return dst, err
	}
	return appendPadded(dst, v, width), nil
}

// appendLeadingNonZero appends width digits, the first not 0, width ≤ 10.
func (s *digitSource) appendLeadingNonZero(dst []byte, width int) ([]byte, error) {
	first, err := s.below(9)
	if err != nil {
		return dst, err
	}
	dst = append(dst, byte('1'+first))
	return s.appendDigits(dst, width-1)
}

var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}

func appendPadded(dst []byte, v uint32, width int) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, width)...)
	for i := start + width - 1; i >= start; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
	return dst
}
