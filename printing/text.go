package printing

import (
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // letters are dated in Europe/Copenhagen even where the host has no zoneinfo
	"unicode"

	"github.com/go-pdf/fpdf"
	"golang.org/x/text/unicode/norm"
)

// cp1252 is the rune → byte table of Windows code page 1252, the encoding of
// fpdf's core fonts. It is taken once from fpdf's own translator
// (UnicodeTranslatorFromDescriptor("")) by probing it, because that
// translator's closure shares a buffer and so cannot be used by concurrent
// renderers, and rebuilding it for every document costs more than the rest
// of a small letter.
var cp1252 = sync.OnceValue(func() map[rune]byte {
	tr := fpdf.New("P", "mm", "A4", "").UnicodeTranslatorFromDescriptor("")
	m := make(map[rune]byte, 128)
	for r := rune(0x80); r <= 0x2122; r++ { // U+2122 TRADE MARK SIGN is cp1252's highest rune
		if s := tr(string(r)); len(s) == 1 && s != "." {
			m[r] = s[0]
		}
	}
	return m
})

// fold maps letters that have no cp1252 form and no canonical decomposition
// to their usual transliteration.
var fold = map[rune]string{
	'Ł': "L", 'ł': "l", 'Đ': "D", 'đ': "d", 'Ħ': "H", 'ħ': "h", 'ı': "i",
	'Ŀ': "L", 'ŀ': "l", 'Ŧ': "T", 'ŧ': "t", 'ĸ': "k", 'Ŋ': "N", 'ŋ': "n",
	'Ĳ': "IJ", 'ĳ': "ij", 'ŉ': "'n", 'ſ': "s", 'Ǆ': "DZ", 'ǅ': "Dz", 'ǆ': "dz",
	'\u2212': "-", '\u2010': "-", '\u2011': "-", '\u2032': "'", '\u2033': "\"",
}

// enc turns a UTF-8 string into the cp1252 bytes the core fonts expect. Danish
// æ ø å and the rest of Western European Latin map exactly; other letters
// (a Polish ł, a Czech ř) lose their diacritics rather than turn into dots,
// so that a name from the CPR register always prints readably. Control
// characters become spaces; anything else without a form becomes '?'.
func enc(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || c < 0x20 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	m := cp1252()
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFC.String(s) {
		b.WriteString(encRune(m, r))
	}
	return b.String()
}

func encRune(m map[rune]byte, r rune) string {
	switch {
	case r < 0x20 || r == 0x7f:
		return " "
	case r < 0x80:
		return string(byte(r))
	}
	if c, ok := m[r]; ok {
		return string([]byte{c})
	}
	if f, ok := fold[r]; ok {
		return f
	}
	if unicode.IsSpace(r) {
		return " "
	}
	// Decompose and keep what the code page has, dropping combining marks:
	// ř → r, ș → s, ő → o (ö is in cp1252, ő is not).
	var out []byte
	for _, d := range norm.NFD.String(string(r)) {
		if unicode.Is(unicode.Mn, d) {
			continue
		}
		if d < 0x80 {
			out = append(out, byte(d))
		} else if c, ok := m[d]; ok {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// copenhagen is where letters are dated.
var copenhagen = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil { // cannot happen with time/tzdata linked in
		return time.UTC
	}
	return loc
})

// formatDate prints the calendar date of t in Danish time, as "2 January 2006".
func formatDate(t time.Time) string {
	return t.In(copenhagen()).Format("2 January 2006")
}
