package printing

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/opennemid/nemid/domain"
)

// --- fixtures -------------------------------------------------------------

var (
	cph        = mustLoc("Europe/Copenhagen")
	letterDate = time.Date(2025, time.March, 14, 9, 30, 0, 0, cph)
	deadline   = time.Date(2025, time.April, 13, 23, 59, 0, 0, cph)
)

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// testPairs makes a full card of distinct keys and codes, deterministic so
// that failures reproduce. The keys are not in order, like real ones.
func testPairs() []CodePair {
	pairs := make([]CodePair, PairsPerCard)
	for i := range pairs {
		pairs[i] = CodePair{
			Key:  fmt.Sprintf("%04d", (i*7919+13)%10000),
			Code: fmt.Sprintf("%06d", (i*104729+271828)%1000000),
		}
	}
	return pairs
}

var danish = Recipient{
	Name:     "Søren Ærø Åberg",
	Lines:    []string{"Æblevej 7, 2. tv.", "Gård Øst"},
	Postcode: "8000",
	City:     "Århus C",
	Country:  "DK",
}

var viaEmbassy = Recipient{
	Name:     "Søren Ærø Åberg c/o Royal Danish Embassy",
	Lines:    []string{"55 Sloane Street"},
	Postcode: "SW1X 9SR",
	City:     "London",
	Country:  "GB",
}

func cardInput(r Recipient) CodeCardLetterInput {
	return CodeCardLetterInput{Recipient: r, Date: letterDate, CardNumber: "CC-4711-0815", Pairs: testPairs()}
}

func handoverInput() HandoverInput {
	return HandoverInput{
		Name: "Søren Ærø Åberg", Date: letterDate, CardNumber: "CC-4711-0815", Pairs: testPairs(),
		NemIDNumber: "123456789", TemporaryPassword: "864209", ActivateBy: deadline,
	}
}

// --- poppler helpers ------------------------------------------------------

// needTool finds a poppler tool. Locally a missing tool skips the test; in
// CI (CI=true) it fails it, so that CI cannot pass without checking the PDFs.
func needTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s not found: install poppler-utils (apt-get install -y poppler-utils)", name)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func writePDF(t testing.TB, pdf []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func poppler(t testing.TB, tool string, args ...string) string {
	t.Helper()
	cmd := exec.Command(needTool(t, tool), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, stderr.String())
	}
	return string(out)
}

// pdfText extracts the text of pages first..last (0: all) with -layout.
func pdfText(t testing.TB, pdf []byte, first, last int) string {
	t.Helper()
	args := []string{"-layout", "-enc", "UTF-8"}
	if first > 0 {
		args = append(args, "-f", strconv.Itoa(first), "-l", strconv.Itoa(last))
	}
	return poppler(t, "pdftotext", append(args, writePDF(t, pdf), "-")...)
}

func pageCount(t testing.TB, pdf []byte) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindStringSubmatch(poppler(t, "pdfinfo", writePDF(t, pdf)))
	if m == nil {
		t.Fatal("pdfinfo printed no page count")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// word is one word of pdftotext -bbox output, in millimetres from the top
// left corner of its page.
type word struct {
	page                   int
	text                   string
	xMin, yMin, xMax, yMax float64
}

var (
	bboxPage = regexp.MustCompile(`<page `)
	bboxWord = regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)
)

func pdfWords(t testing.TB, pdf []byte) []word {
	t.Helper()
	out := poppler(t, "pdftotext", "-bbox", "-enc", "UTF-8", writePDF(t, pdf), "-")
	const mm = 25.4 / 72
	var words []word
	for i, page := range bboxPage.Split(out, -1)[1:] {
		for _, m := range bboxWord.FindAllStringSubmatch(page, -1) {
			f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v * mm }
			words = append(words, word{i + 1, html.UnescapeString(m[5]), f(m[1]), f(m[2]), f(m[3]), f(m[4])})
		}
	}
	return words
}

// --- content --------------------------------------------------------------

var pairRun = regexp.MustCompile(`\b\d{4} \d{6}\b`)

type docCase struct {
	name    string
	render  func() ([]byte, error)
	pages   int
	want    []string // literal text that must be extracted
	wantNot []string // literal text that must not appear
	pairs   bool     // the full card is on it
}

func docCases() []docCase {
	supportLines := append([]string{domain.SupportPhone}, domain.SupportHoursLines()...)
	address := []string{"Søren Ærø Åberg", "Æblevej 7, 2. tv.", "Gård Øst", "8000 Århus C"}
	return []docCase{
		{
			name:    "code card letter",
			render:  func() ([]byte, error) { return CodeCardLetter(cardInput(danish)) },
			pages:   1,
			want:    concat(address, supportLines, []string{"Card number: CC-4711-0815", "Your NemID code card", "14 March 2025", "NemID, Digitaliseringsstyrelsen"}),
			wantNot: []string{"NemID number:", "Temporary password:", "DENMARK"},
			pairs:   true,
		},
		{
			name:    "code card letter abroad",
			render:  func() ([]byte, error) { return CodeCardLetter(cardInput(viaEmbassy)) },
			pages:   1,
			want:    concat(supportLines, []string{"Søren Ærø Åberg c/o Royal Danish Embassy", "SW1X 9SR London", "UNITED KINGDOM", "Card number: CC-4711-0815"}),
			wantNot: []string{"NemID number:", "Temporary password:"},
			pairs:   true,
		},
		{
			name:   "replacement card letter",
			render: func() ([]byte, error) { return ReplacementCardLetter(cardInput(danish)) },
			pages:  1,
			want: concat(address, supportLines, []string{"Card number: CC-4711-0815", "Your replacement NemID code card",
				"old card stays usable until all of its codes are used"}),
			wantNot: []string{"NemID number:", "Temporary password:"},
			pairs:   true,
		},
		{
			name: "password letter",
			render: func() ([]byte, error) {
				return PasswordLetter(PasswordLetterInput{Recipient: danish, Date: letterDate, NemIDNumber: "123456789", TemporaryPassword: "864209", ActivateBy: deadline})
			},
			pages:   1,
			want:    concat(address, supportLines, []string{"NemID number: 123456789", "Temporary password: 864209", "no later than 13 April 2025", "14 March 2025"}),
			wantNot: []string{"Card number:"},
		},
		{
			name: "password letter c/o representation, no deadline",
			render: func() ([]byte, error) {
				return PasswordLetter(PasswordLetterInput{Recipient: viaEmbassy, Date: letterDate, NemIDNumber: "987654321", TemporaryPassword: "012345"})
			},
			pages:   1,
			want:    concat(supportLines, []string{"Søren Ærø Åberg c/o Royal Danish Embassy", "UNITED KINGDOM", "NemID number: 987654321", "Temporary password: 012345"}),
			wantNot: []string{"Card number:", "no later than"},
		},
		{
			name: "reminder letter",
			render: func() ([]byte, error) {
				return ReminderLetter(ReminderLetterInput{Recipient: danish, Date: letterDate, ActivateBy: deadline})
			},
			pages:   1,
			want:    concat(address, supportLines, []string{"Remember to activate your NemID", "no later than 13 April 2025"}),
			wantNot: []string{"NemID number:", "Temporary password:", "Card number:"},
		},
		{
			name:    "handover document",
			render:  func() ([]byte, error) { return HandoverDocument(handoverInput()) },
			pages:   2,
			want:    concat(supportLines, []string{"Søren Ærø Åberg", "Card number: CC-4711-0815", "NemID number: 123456789", "Temporary password: 864209", "Page 1 of 2", "Page 2 of 2"}),
			wantNot: []string{"Århus"},
			pairs:   true,
		},
	}
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestDocumentsText(t *testing.T) {
	pairs := testPairs()
	for _, tc := range docCases() {
		t.Run(tc.name, func(t *testing.T) {
			pdf, err := tc.render()
			if err != nil {
				t.Fatal(err)
			}
			if n := pageCount(t, pdf); n != tc.pages {
				t.Errorf("%d pages, want %d", n, tc.pages)
			}
			text := pdfText(t, pdf, 0, 0)
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("missing %q", w)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(text, w) {
					t.Errorf("unexpected %q", w)
				}
			}
			runs := pairRun.FindAllString(text, -1)
			if !tc.pairs {
				if len(runs) != 0 {
					t.Errorf("key/code runs on a document without a card: %q", runs)
				}
			} else {
				if len(runs) != PairsPerCard {
					t.Errorf("%d key/code runs, want %d", len(runs), PairsPerCard)
				}
				for _, p := range pairs {
					if !strings.Contains(text, p.Key+" "+p.Code) {
						t.Errorf("pair %s %s missing", p.Key, p.Code)
					}
				}
			}
			if t.Failed() {
				t.Logf("extracted text:\n%s", text)
			}
		})
	}
}

// Each secret is printed once: the card and the password page of the
// handover are separate pages, each with the name and the support block.
func TestHandoverPagesSeparate(t *testing.T) {
	pdf, err := HandoverDocument(handoverInput())
	if err != nil {
		t.Fatal(err)
	}
	card, pw := pdfText(t, pdf, 1, 1), pdfText(t, pdf, 2, 2)
	for _, page := range []struct {
		name, text string
		want       []string
		wantNot    []string
		runs       int
	}{
		{"page 1 (card)", card, []string{"Card number: CC-4711-0815", "Page 1 of 2"}, []string{"NemID number:", "Temporary password:", "864209", "123456789"}, PairsPerCard},
		{"page 2 (password)", pw, []string{"NemID number: 123456789", "Temporary password: 864209", "Page 2 of 2", "no later than 13 April 2025"}, []string{"Card number:"}, 0},
	} {
		for _, w := range append(page.want, "Søren Ærø Åberg", domain.SupportPhone, domain.SupportHoursLines()[0]) {
			if !strings.Contains(page.text, w) {
				t.Errorf("%s: missing %q", page.name, w)
			}
		}
		for _, w := range page.wantNot {
			if strings.Contains(page.text, w) {
				t.Errorf("%s: unexpected %q", page.name, w)
			}
		}
		if n := len(pairRun.FindAllString(page.text, -1)); n != page.runs {
			t.Errorf("%s: %d key/code runs, want %d", page.name, n, page.runs)
		}
	}
}

// The geometry a window envelope and a person rely on: the address sits in
// the window, every pair lies inside the card outline, in the lower half of
// the page, and in six aligned columns.
func TestLayoutGeometry(t *testing.T) {
	pdf, err := CodeCardLetter(cardInput(danish))
	if err != nil {
		t.Fatal(err)
	}
	words := pdfWords(t, pdf)
	pairs := map[string]bool{}
	for _, p := range testPairs() {
		pairs[p.Key] = true
	}
	var keyCols = map[int]int{} // rounded xMin of keys → count
	var nameSeen bool
	for _, w := range words {
		switch {
		case w.text == "Søren" && !nameSeen:
			nameSeen = true
			if w.xMin < winX-0.5 || w.xMin > winX+5 || w.yMin < winY || w.yMax > winY+winH {
				t.Errorf("name at x %.1f–%.1f, y %.1f–%.1f mm: outside the window (x %.0f, y %.0f–%.0f)", w.xMin, w.xMax, w.yMin, w.yMax, winX, winY, winY+winH)
			}
		case len(w.text) == 4 && pairs[w.text]:
			if w.xMin < left || w.xMax > right || w.yMin < cardY || w.yMax > cardY+cardH {
				t.Errorf("key %s at x %.1f–%.1f, y %.1f–%.1f mm: outside the card", w.text, w.xMin, w.xMax, w.yMin, w.yMax)
			}
			keyCols[int(w.xMin*10+0.5)]++
		}
	}
	if !nameSeen {
		t.Error("recipient name not found")
	}
	if len(keyCols) != cardCols {
		t.Errorf("keys start at %d distinct x positions, want %d columns: %v", len(keyCols), cardCols, keyCols)
	}
	// Everything in the window is the return line and the address; nothing
	// of the card shows through it.
	for _, w := range words {
		if w.yMin > winY && w.yMax < winY+winH && w.xMax < winX+winW && pairRun.MatchString(w.text) {
			t.Errorf("%q shows in the window", w.text)
		}
	}
}

// A long or many-lined address still fits the window: lines are set
// tighter and smaller, and only as a last resort cut.
func TestAddressFitsWindow(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Recipient
	}{
		{"seven lines", Recipient{Name: "Åse Ølgaard", Lines: []string{"c/o Jensen", "Østergade 12, 3. th.", "Postboks 7", "Bygning Æ"}, Postcode: "SE-211 20", City: "Malmö", Country: "SE"}},
		{"ten lines", Recipient{Name: "Åse Ølgaard", Lines: strings.Split("a b c d e f g", " "), Postcode: "8000", City: "Århus C"}},
		{"very long line", Recipient{Name: "Karl-Johan Ærenfried Østergaard-Brøndum Christophersen Vestergaard Nørregaard", Postcode: "1000", City: "København K"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pdf, err := ReminderLetter(ReminderLetterInput{Recipient: tc.r, Date: letterDate, ActivateBy: deadline})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{}
			for _, l := range addressLines(tc.r) {
				for _, w := range strings.Fields(l) {
					want[w] = true
				}
			}
			found := 0
			for _, w := range pdfWords(t, pdf) {
				if w.xMin < winX+winW && w.yMin > winY && w.yMin < winY+winH {
					if w.xMax > winX+winW || w.yMax > winY+winH {
						t.Errorf("%q at x %.1f–%.1f, y %.1f–%.1f mm: outside the window", w.text, w.xMin, w.xMax, w.yMin, w.yMax)
					}
					if want[w.text] {
						found++
					}
				}
			}
			if found == 0 {
				t.Error("no address words in the window")
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	for _, tc := range docCases() {
		t.Run(tc.name, func(t *testing.T) {
			a, err := tc.render()
			if err != nil {
				t.Fatal(err)
			}
			b, err := tc.render()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Fatal("two renderings of the same input differ")
			}
			if bytes.Contains(a, []byte(time.Now().Format("20060102"))) {
				t.Error("the PDF carries today's date")
			}
			if !bytes.Contains(a, []byte("D:20250314093000")) {
				t.Error("the PDF's creation date is not the letter date")
			}
		})
	}
	// The same instant in another zone is the same letter.
	in := cardInput(danish)
	a, _ := CodeCardLetter(in)
	in.Date = in.Date.UTC()
	b, _ := CodeCardLetter(in)
	if !bytes.Equal(a, b) {
		t.Error("the same date given in UTC renders differently")
	}
}

// The letter date is the calendar day in Copenhagen, not in the zone given.
func TestDateInDanishTime(t *testing.T) {
	in := cardInput(danish)
	in.Date = time.Date(2025, time.March, 14, 23, 30, 0, 0, time.UTC) // 00:30 on the 15th in Copenhagen
	pdf, err := CodeCardLetter(in)
	if err != nil {
		t.Fatal(err)
	}
	if text := pdfText(t, pdf, 0, 0); !strings.Contains(text, "15 March 2025") {
		t.Errorf("letter not dated 15 March 2025:\n%s", text)
	}
}

func TestNonLatin1Names(t *testing.T) {
	r := danish
	r.Name = "Łukasz Dvořák-Þórsdóttir"
	r.Lines = []string{"Ștefan cel Mare 3"}
	pdf, err := ReminderLetter(ReminderLetterInput{Recipient: r, Date: letterDate, ActivateBy: deadline})
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, pdf, 0, 0)
	for _, w := range []string{"Lukasz Dvorák-Þórsdóttir", "Stefan cel Mare 3", "8000 Århus C"} {
		if !strings.Contains(text, w) {
			t.Errorf("missing %q in\n%s", w, text)
		}
	}
}

func TestEnc(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain ASCII", "plain ASCII"},
		{"æøåÆØÅ", "\xe6\xf8\xe5\xc6\xd8\xc5"},
		{"a\u030a", "\xe5"}, // decomposed å
		{"Łódź", "L\xf3dz"},
		{"ř ș ő", "r s o"},
		{"€ – “x”", "\x80 \x96 \x93x\x94"},
		{"tab\there", "tab here"},
		{"日本", "??"},
	} {
		if got := enc(tc.in); got != tc.want {
			t.Errorf("enc(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestInvalidInput(t *testing.T) {
	secretCode := "999999"
	badCode := testPairs()
	badCode[3].Code = secretCode + "0"
	dupKey := testPairs()
	dupKey[5].Key = dupKey[6].Key
	for _, tc := range []struct {
		name   string
		render func() ([]byte, error)
	}{
		{"147 pairs", func() ([]byte, error) { in := cardInput(danish); in.Pairs = in.Pairs[1:]; return CodeCardLetter(in) }},
		{"7-digit code", func() ([]byte, error) { in := cardInput(danish); in.Pairs = badCode; return CodeCardLetter(in) }},
		{"duplicate key", func() ([]byte, error) { in := cardInput(danish); in.Pairs = dupKey; return ReplacementCardLetter(in) }},
		{"no card number", func() ([]byte, error) { in := cardInput(danish); in.CardNumber = " "; return CodeCardLetter(in) }},
		{"card number too long", func() ([]byte, error) {
			in := cardInput(danish)
			in.CardNumber = strings.Repeat("9", maxCardNumber+1)
			return CodeCardLetter(in)
		}},
		{"no date", func() ([]byte, error) { in := cardInput(danish); in.Date = time.Time{}; return CodeCardLetter(in) }},
		{"no name", func() ([]byte, error) { in := cardInput(danish); in.Recipient.Name = ""; return CodeCardLetter(in) }},
		{"unknown country", func() ([]byte, error) {
			in := cardInput(danish)
			in.Recipient.Country = "XX"
			return CodeCardLetter(in)
		}},
		{"short NemID number", func() ([]byte, error) {
			return PasswordLetter(PasswordLetterInput{Recipient: danish, Date: letterDate, NemIDNumber: "12345678", TemporaryPassword: "123456"})
		}},
		{"letters in password", func() ([]byte, error) {
			return PasswordLetter(PasswordLetterInput{Recipient: danish, Date: letterDate, NemIDNumber: "123456789", TemporaryPassword: "12a456"})
		}},
		{"reminder without deadline", func() ([]byte, error) {
			return ReminderLetter(ReminderLetterInput{Recipient: danish, Date: letterDate})
		}},
		{"handover without password", func() ([]byte, error) { in := handoverInput(); in.TemporaryPassword = ""; return HandoverDocument(in) }},
		{"handover without pairs", func() ([]byte, error) { in := handoverInput(); in.Pairs = nil; return HandoverDocument(in) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pdf, err := tc.render()
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("err = %v, want ErrInvalidInput", err)
			}
			if pdf != nil {
				t.Error("bytes returned with an error")
			}
			if strings.Contains(err.Error(), secretCode) {
				t.Errorf("error quotes a code: %v", err)
			}
		})
	}
}

func TestConcurrentRendering(t *testing.T) {
	want, err := HandoverDocument(handoverInput())
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			got, err := HandoverDocument(handoverInput())
			if err == nil && !bytes.Equal(got, want) {
				err = errors.New("concurrent rendering differs")
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestPreviewArtifacts writes PNG previews of every document to
// testdata/artifacts/ for a person to look at (the directory is ignored by
// git). code_card_letter-1.png is page 1 of the code card letter.
func TestPreviewArtifacts(t *testing.T) {
	dir := filepath.Join("testdata", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range docCases() {
		pdf, err := tc.render()
		if err != nil {
			t.Fatal(err)
		}
		name := strings.NewReplacer(" ", "_", "/", "", ",", "").Replace(tc.name)
		poppler(t, "pdftoppm", "-png", "-r", "100", writePDF(t, pdf), filepath.Join(dir, name))
		if err := os.WriteFile(filepath.Join(dir, name+".pdf"), pdf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "code_card_letter-1.png")); err != nil {
		t.Fatal(err)
	}
}

// --- benchmarks -----------------------------------------------------------

// BenchmarkBaselineOneLinePage is the floor: fpdf rendering one line of text
// on one page to bytes. The other benchmarks read as multiples of it.
func BenchmarkBaselineOneLinePage(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		p := fpdf.New("P", "mm", "A4", "")
		p.SetCreationDate(letterDate)
		p.SetModificationDate(letterDate)
		p.SetCompression(true)
		p.AddPage()
		p.SetFont("Helvetica", "", 10)
		p.Text(20, 20, "Card number: CC-4711-0815")
		var buf bytes.Buffer
		if err := p.Output(&buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCodeCardLetter(b *testing.B) {
	in := cardInput(danish)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CodeCardLetter(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHandoverDocument(b *testing.B) {
	in := handoverInput()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := HandoverDocument(in); err != nil {
			b.Fatal(err)
		}
	}
}
