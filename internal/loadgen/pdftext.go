package loadgen

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// PDFText is the text of one of our own PDFs (printing/: fpdf with core
// fonts, cp1252, compressed content streams), one text run per line. It is
// a reader for what we print, not for PDFs at large: it inflates the
// FlateDecode streams in file order and reads the strings shown by Tj, ',
// " and TJ. That is enough because every secret a person reads is printed
// as one run (DESIGN.md §4: "NemID number: …", "Temporary password: …",
// "Card number: …" and each pair "KKKK CCCCCC").
func PDFText(pdf []byte) (string, error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return "", errors.New("pdf text: not a PDF")
	}
	var out strings.Builder
	streams := 0
	for rest := pdf; ; {
		body, filtered, next, ok, err := nextStream(rest)
		if err != nil {
			return "", err
		}
		if !ok {
			break
		}
		rest = next
		streams++
		if filtered {
			if body, err = inflate(body); err != nil {
				return "", err
			}
		}
		for _, run := range textRuns(body) {
			out.WriteString(decodeCP1252(run))
			out.WriteByte('\n')
		}
	}
	if streams == 0 {
		return "", errors.New("pdf text: no content stream")
	}
	return out.String(), nil
}

var (
	streamKeyword = []byte("stream")
	lengthPattern = regexp.MustCompile(`/Length\s+(\d+)(\s+\d+\s+R)?`)
)

// nextStream finds the next stream of pdf: its raw bytes, whether its
// dictionary names FlateDecode, and what follows it.
func nextStream(pdf []byte) (body []byte, flate bool, rest []byte, ok bool, err error) {
	for from := 0; ; {
		i := bytes.Index(pdf[from:], streamKeyword)
		if i < 0 {
			return nil, false, nil, false, nil
		}
		i += from
		from = i + len(streamKeyword)
		if bytes.HasSuffix(pdf[:i], []byte("end")) { // "endstream"
			continue
		}
		start := from
		switch {
		case bytes.HasPrefix(pdf[start:], []byte("\r\n")):
			start += 2
		case bytes.HasPrefix(pdf[start:], []byte("\n")):
			start++
		default:
			continue // the word inside something else
		}
		dict := pdf[max(0, bytes.LastIndex(pdf[:i], []byte("obj"))):i]
		flate = bytes.Contains(dict, []byte("/FlateDecode"))
		end := -1
		if m := lengthPattern.FindSubmatch(dict); m != nil && m[2] == nil {
			if n, err := strconv.Atoi(string(m[1])); err == nil && start+n <= len(pdf) {
				end = start + n
			}
		}
		if end < 0 { // an indirect or missing length: the stream ends at endstream
			j := bytes.Index(pdf[start:], []byte("endstream"))
			if j < 0 {
				return nil, false, nil, false, errors.New("pdf text: a stream without endstream")
			}
			end = start + j
		}
		return pdf[start:end], flate, pdf[end:], true, nil
	}
}

func inflate(b []byte) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("pdf text: inflate: %w", err)
	}
	defer r.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("pdf text: inflate: %w", err)
	}
	return out, nil
}

// textRuns reads a content stream's operators and returns the bytes of
// every string it shows, one entry per text-showing operator.
func textRuns(content []byte) [][]byte {
	var runs [][]byte
	var operand [][]byte // the strings of the pending operand (several for a TJ array)
	inArray := false
	for i := 0; i < len(content); {
		c := content[i]
		switch {
		case c == '(':
			s, next := literalString(content, i)
			operand = append(operand, s)
			i = next
		case c == '<' && i+1 < len(content) && content[i+1] != '<':
			s, next := hexString(content, i)
			operand = append(operand, s)
			i = next
		case c == '[':
			inArray, operand = true, nil
			i++
		case c == ']':
			inArray = false
			i++
		case c == '%':
			for i < len(content) && content[i] != '\n' && content[i] != '\r' {
				i++
			}
		case isDelimiterOrSpace(c):
			i++
		default:
			j := i
			for j < len(content) && !isDelimiterOrSpace(content[j]) {
				j++
			}
			if j == i { // a lone delimiter such as '>' or '{'
				j++
			}
			word := string(content[i:j])
			i = j
			if inArray {
				if n, err := strconv.ParseFloat(word, 64); err == nil && n < -200 && len(operand) > 0 {
					operand = append(operand, []byte(" ")) // a wide kerning gap reads as a space
				}
				continue
			}
			if _, err := strconv.ParseFloat(word, 64); err == nil {
				continue // a number operand
			}
			switch word {
			case "Tj", "'", "\"", "TJ":
				if len(operand) > 0 {
					runs = append(runs, bytes.Join(operand, nil))
				}
			}
			operand = nil
		}
	}
	return runs
}

func isDelimiterOrSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '\f', 0, '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// literalString reads the (…) string at content[i], with its escapes and
// balanced parentheses, and returns its bytes and the index after it.
func literalString(content []byte, i int) ([]byte, int) {
	var s []byte
	depth := 0
	for i++; i < len(content); i++ {
		c := content[i]
		switch c {
		case '(':
			depth++
		case ')':
			if depth == 0 {
				return s, i + 1
			}
			depth--
		case '\\':
			i++
			if i >= len(content) {
				return s, i
			}
			e := content[i]
			switch e {
			case 'n':
				s = append(s, '\n')
			case 'r':
				s = append(s, '\r')
			case 't':
				s = append(s, '\t')
			case 'b':
				s = append(s, '\b')
			case 'f':
				s = append(s, '\f')
			case '\r':
				if i+1 < len(content) && content[i+1] == '\n' {
					i++
				}
			case '\n': // a line continuation
			default:
				if e >= '0' && e <= '7' {
					v, n := 0, 0
					for n < 3 && i < len(content) && content[i] >= '0' && content[i] <= '7' {
						v = v*8 + int(content[i]-'0')
						i++
						n++
					}
					i--
					s = append(s, byte(v))
					continue
				}
				s = append(s, e) // \( \) \\ and unknown escapes stand for themselves
			}
			continue
		}
		s = append(s, c)
	}
	return s, i
}

// hexString reads the <…> string at content[i].
func hexString(content []byte, i int) ([]byte, int) {
	end := bytes.IndexByte(content[i:], '>')
	if end < 0 {
		return nil, len(content)
	}
	var digits []byte
	for _, c := range content[i+1 : i+end] {
		if !isDelimiterOrSpace(c) {
			digits = append(digits, c)
		}
	}
	if len(digits)%2 == 1 {
		digits = append(digits, '0')
	}
	out := make([]byte, 0, len(digits)/2)
	for j := 0; j+1 < len(digits); j += 2 {
		v, err := strconv.ParseUint(string(digits[j:j+2]), 16, 8)
		if err != nil {
			break
		}
		out = append(out, byte(v))
	}
	return out, i + end + 1
}

func decodeCP1252(b []byte) string {
	s, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil { // cannot happen: every byte has a cp1252 reading
		return string(b)
	}
	return string(s)
}

// Extractor turns a printed PDF into the text a person reads.
type Extractor func(ctx context.Context, pdf []byte) (string, error)

// GoExtractor is PDFText.
func GoExtractor(_ context.Context, pdf []byte) (string, error) { return PDFText(pdf) }

// PdftotextExtractor shells out to poppler's pdftotext -layout when it is
// installed, and otherwise answers GoExtractor with false.
func PdftotextExtractor() (Extractor, bool) {
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		return GoExtractor, false
	}
	return func(ctx context.Context, pdf []byte) (string, error) {
		cmd := exec.CommandContext(ctx, bin, "-layout", "-", "-")
		cmd.Stdin = bytes.NewReader(pdf)
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("pdftotext: %w", err)
		}
		return string(out), nil
	}, true
}

// Printed is what a person holds after reading their letters or the
// handover document: only what the paper shows.
type Printed struct {
	UserID            string
	TemporaryPassword string
	Codes             map[string]string // "card/key" → code
}

// Code is the code printed beside key on card, or "".
func (p Printed) Code(card, key string) string { return p.Codes[card+"/"+key] }

var (
	pairPattern     = regexp.MustCompile(`\b(\d{4}) (\d{6})\b`)
	userIDPattern   = regexp.MustCompile(`NemID number: (\d{9})\b`)
	passwordPattern = regexp.MustCompile(`Temporary password: (\d{6})\b`)
	cardPattern     = regexp.MustCompile(`Card number: (\d+)`)
)

// PairsPerCard is how many key/code pairs a printed card carries (DESIGN.md §2).
const PairsPerCard = 148

// ReadPrinted reads the NemID number, temporary password and code cards
// from the printed texts (one handover document, or the two letters).
func ReadPrinted(texts ...string) (Printed, error) {
	p := Printed{Codes: map[string]string{}}
	for _, text := range texts {
		if m := userIDPattern.FindStringSubmatch(text); m != nil {
			p.UserID = m[1]
		}
		if m := passwordPattern.FindStringSubmatch(text); m != nil {
			p.TemporaryPassword = m[1]
		}
		card := cardPattern.FindStringSubmatch(text)
		if card == nil {
			continue
		}
		pairs := pairPattern.FindAllStringSubmatch(text, -1)
		if len(pairs) != PairsPerCard {
			return p, fmt.Errorf("card %s prints %d key/code pairs, want %d", card[1], len(pairs), PairsPerCard)
		}
		for _, pair := range pairs {
			p.Codes[card[1]+"/"+pair[1]] = pair[2]
		}
	}
	switch {
	case p.UserID == "":
		return p, errors.New("no NemID number printed")
	case p.TemporaryPassword == "":
		return p, errors.New("no temporary password printed")
	case len(p.Codes) == 0:
		return p, errors.New("no code card printed")
	}
	return p, nil
}
