package loadgen

import (
	"bytes"
	"compress/zlib"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/printing"
)

// printedCard draws real credentials and prints what the pipeline prints.
func printedCard(t *testing.T) (domain.CodeCard, []printing.CodePair, string, string) {
	t.Helper()
	card, err := domain.NewCodeCard()
	require.NoError(t, err)
	pairs := make([]printing.CodePair, len(card.Pairs))
	for i, p := range card.Pairs {
		pairs[i] = printing.CodePair{Key: p.Key, Code: p.Code}
	}
	userID, err := domain.NewNemIDNumber()
	require.NoError(t, err)
	password, err := domain.NewTemporaryPassword()
	require.NoError(t, err)
	return card, pairs, userID, password
}

// Every document a person reads to activate, rendered by printing/, reads
// back to exactly the secrets it was printed with, æøå included.
func TestPDFTextReadsWhatPrintingPrints(t *testing.T) {
	card, pairs, userID, password := printedCard(t)
	date := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	to := printing.Recipient{Name: "Søren Ærø Nielsen", Lines: []string{"Nørregade 1"}, Postcode: "1165", City: "København K"}
	handover, err := printing.HandoverDocument(printing.HandoverInput{Name: to.Name, Date: date, CardNumber: card.Number,
		Pairs: pairs, NemIDNumber: userID, TemporaryPassword: password, ActivateBy: date.AddDate(0, 0, 30)})
	require.NoError(t, err)
	cardLetter, err := printing.CodeCardLetter(printing.CodeCardLetterInput{Recipient: to, Date: date, CardNumber: card.Number, Pairs: pairs})
	require.NoError(t, err)
	passwordLetter, err := printing.PasswordLetter(printing.PasswordLetterInput{Recipient: to, Date: date, NemIDNumber: userID,
		TemporaryPassword: password, ActivateBy: date.AddDate(0, 0, 30)})
	require.NoError(t, err)

	extractors := map[string]Extractor{"go": GoExtractor}
	if pdftotext, ok := PdftotextExtractor(); ok {
		extractors["pdftotext"] = pdftotext
	}
	for name, extract := range extractors {
		text := func(pdf []byte) string {
			s, err := extract(context.Background(), pdf)
			require.NoError(t, err, name)
			return s
		}
		cases := []struct {
			name  string
			texts []string
		}{
			{"handover document", []string{text(handover)}},
			{"the two letters", []string{text(cardLetter), text(passwordLetter)}},
		}
		for _, tc := range cases {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				got, err := ReadPrinted(tc.texts...)
				require.NoError(t, err)
				assert.Equal(t, userID, got.UserID)
				assert.Equal(t, password, got.TemporaryPassword)
				require.Len(t, got.Codes, PairsPerCard)
				for _, p := range card.Pairs {
					require.Equal(t, p.Code, got.Code(card.Number, p.Key))
				}
				assert.Contains(t, strings.Join(tc.texts, "\n"), "Søren Ærø Nielsen", "cp1252 decoded")
			})
		}
	}
}

func TestReadPrintedRefusesIncompletePaper(t *testing.T) {
	card, pairs, userID, password := printedCard(t)
	var cardText strings.Builder
	cardText.WriteString("Card number: " + card.Number + "\n")
	for _, p := range pairs {
		cardText.WriteString(p.Key + " " + p.Code + "\n")
	}
	passwordText := "NemID number: " + userID + "\nTemporary password: " + password + "\n"
	cases := []struct {
		name  string
		texts []string
		want  string
	}{
		{"both", []string{cardText.String(), passwordText}, ""},
		{"no password letter", []string{cardText.String()}, "no NemID number"},
		{"no card", []string{passwordText}, "no code card"},
		{"a torn card", []string{strings.Join(strings.Split(cardText.String(), "\n")[:100], "\n"), passwordText}, "prints 99 key/code pairs"},
		{"no temporary password", []string{cardText.String(), "NemID number: " + userID}, "no temporary password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadPrinted(tc.texts...)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestTextRunsOperators(t *testing.T) {
	cases := []struct {
		name    string
		content string
		want    []string
	}{
		{"Tj", "BT /F1 9 Tf 10 20 Td (1234 567890) Tj ET", []string{"1234 567890"}},
		{"escapes", `BT (a\(b\)c\\d) Tj (\346\370\345) Tj ET`, []string{`a(b)c\d`, "\xe6\xf8\xe5"}},
		{"nested parentheses", "BT (f(o)o) Tj ET", []string{"f(o)o"}},
		{"hex", "BT <4E656D4944> Tj ET", []string{"NemID"}},
		{"TJ with kerning", "BT [(Nem) -50 (ID) -400 (number)] TJ ET", []string{"NemID number"}},
		{"quote operator", "BT (line) ' ET", []string{"line"}},
		{"no text", "0 0 1 rg 10 10 100 100 re f", nil},
		{"a string not shown", "BT (hidden) Tf ET", nil},
		{"comment", "% (not text) Tj\nBT (text) Tj ET", []string{"text"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range textRuns([]byte(tc.content)) {
				got = append(got, string(r))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestPDFTextStreams(t *testing.T) {
	deflate := func(s string) string {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		_, _ = w.Write([]byte(s))
		require.NoError(t, w.Close())
		return b.String()
	}
	flate := deflate("BT (S\xf8ren) Tj ET")
	cases := []struct {
		name, pdf, want, err string
	}{
		{"flate with length", "%PDF-1.3\n4 0 obj\n<</Filter /FlateDecode /Length " + strconv.Itoa(len(flate)) + ">>\nstream\n" + flate + "\nendstream\nendobj\n", "Søren\n", ""},
		{"raw with indirect length", "%PDF-1.3\n4 0 obj\n<</Length 5 0 R>>\nstream\r\nBT (plain) Tj ET\r\nendstream\nendobj\n", "plain\n", ""},
		{"not a PDF", "hello", "", "not a PDF"},
		{"no stream", "%PDF-1.3\n1 0 obj <<>> endobj\n", "", "no content stream"},
		{"broken flate", "%PDF-1.3\n4 0 obj\n<</Filter /FlateDecode /Length 3>>\nstream\nabc\nendstream\nendobj\n", "", "inflate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PDFText([]byte(tc.pdf))
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
