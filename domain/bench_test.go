package domain

import (
	"crypto/rand"
	"strconv"
	"testing"
)

// Each benchmark has a baseline beside it so that figures read as ratios on
// any machine.

func BenchmarkParseCPR(b *testing.B) {
	today := noon(2025, 6, 15)
	for _, in := range []string{"0101901234", "010190-1234"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseCPR(in, today); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBaselineStrconvAtoi parses the same ten digits as an integer.
func BenchmarkBaselineStrconvAtoi(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := strconv.Atoi("0101901234"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewCodeCard(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewCodeCard(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineRandRead reads as many random bytes as NewCodeCard
// asks for on a card without repeated keys.
func BenchmarkBaselineRandRead(b *testing.B) {
	buf := make([]byte, 4*(2+2*CodeCardPairs+8))
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rand.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword(testKeys, "Hemmelig42"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCodeMAC(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		CodeMAC(testKeys, "1000000001", "0042", "012345")
	}
}
