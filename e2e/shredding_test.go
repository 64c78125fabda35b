package e2e

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/letterkeys"
	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/printing"
)

// More people from the demo register, each with an issuance of their own.
const (
	karen    = "1210701234" // handed over at the counter
	lars     = "0708651239" // handover document held, then the issuance cancelled
	frederik = "0101400000" // the control: letters stay queued
)

// delivered is one letter whose PDF the test saw and whose key it read
// before the letter was dispatched, handed over or purged.
type delivered struct {
	id, kind string
	pdf      []byte // the plaintext, as the API served it
	text     string // pdftotext of it
	key      []byte // the key file's bytes before destruction
	sealed   []byte // what the database held
}

// TestLetterPDFsAreCryptoShredded attacks the storage after delivery (DESIGN.md
// §9, "Printed secrets are gone after delivery"), on both databases: the
// post provider fetches and dispatches letters, a caseworker hands over a
// counter document, a cancelled issuance's held document is purged. Then
// the raw files of the database — SQLite's file, WAL and shm; Postgres's
// relation files (the letters table, its TOAST relation, every other
// relation of the database) and the WAL written meanwhile — are searched,
// while the application runs and again after the store is stopped, for
// what the letters printed (the "Temporary password: NNNNNN" line and every
// "KKKK CCCCCC" pair, also inside any deflate stream found), for pieces of
// the plaintext PDFs' content streams and their digests, and for the bytes
// of the destroyed keys. None may be there. (Postgres's WAL is the whole
// server's, and other tests' letters to the same demo people share pieces
// of their PDFs with ours outside the secrets; there the search is for
// what is unique to this test: secrets, keys, digests.)
//
// Controls show the search can fail: the sealed bytes and the ids of the
// letters still queued are found in the same files, and a PDF stored
// deliberately in plaintext (written past the application, which refuses
// to) is found by its printed secrets and by its content.
func TestLetterPDFsAreCryptoShredded(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			st, disk := b.OpenDisk(t)
			app := testenv.NewApp(t, st, generous)
			ctx := context.Background()
			post, kbh := app.Tokens["post:post"], app.Tokens["caseworker:KBH"]

			plaintextControl := plaintextControlPDF(t)
			disk.Exec(t, `INSERT INTO letters (id, issuance_id, kind, status, dedupe_key, recipient, pdf, pdf_sha256, created_at)
				VALUES ('plaintext-control', 'plaintext-control', 'handover', 'held', 'plaintext-control', '{}', ?, 'x', ?)`,
				plaintextControl, time.Now().UTC())

			lettersID := createdAs(t, app, kbh, application(soeren, []any{health, tax}, false, nil), "letters_posted")
			bankID := createdAs(t, app, app.Tokens["bank:1234"], bankBody(anne, true), "letters_posted")
			handoverID := createdAs(t, app, kbh, counterBody(karen), "awaiting_handover")
			cancelledID := createdAs(t, app, kbh, counterBody(lars), "awaiting_handover")
			controlID := createdAs(t, app, kbh, application(frederik, []any{health, tax}, false, nil), "letters_posted")

			// The post provider: fetch every letter, read its key file as an
			// attacker on the key volume would before dispatch, dispatch it.
			var gone []delivered
			for _, issuance := range []string{lettersID, bankID} {
				letters := queuedOf(t, app, issuance)
				require.Len(t, letters, 2, "a code card letter and a password letter")
				for _, l := range letters {
					d := delivered{id: l["id"].(string), kind: l["kind"].(string)}
					res := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/letters/" + d.id + "/pdf", Token: post})
					require.Equal(t, http.StatusOK, res.Status, string(res.Body))
					assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
					d.pdf, d.text = res.Body, testenv.PDFText(t, res.Body)
					d.key = readKey(t, app, d.id)
					stored, err := app.Store.PostalLetter(ctx, d.id)
					require.NoError(t, err)
					d.sealed = stored.PDF
					require.True(t, letterkeys.IsSealed(d.sealed), "the database holds the %s letter sealed", d.kind)

					dispatched := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/letters/" + d.id + "/dispatched", Token: post})
					require.Equal(t, http.StatusOK, dispatched.Status, string(dispatched.Body))
					assertKeyGone(t, app, d.id)
					again := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/letters/" + d.id + "/pdf", Token: post})
					assert.Equal(t, http.StatusGone, again.Status, "purged after dispatch")
					gone = append(gone, d)
				}
				waitForStatus(t, app, issuance, "awaiting_activation")
			}

			// The counter: the handover document is served once, its key
			// destroyed as it is.
			h := heldDocument(t, app, handoverID)
			res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + handoverID + "/handover", Token: kbh})
			require.Equal(t, http.StatusOK, res.Status, string(res.Body))
			assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
			h.pdf, h.text = res.Body, testenv.PDFText(t, res.Body)
			assertKeyGone(t, app, h.id)
			assert.Equal(t, http.StatusGone, app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + handoverID + "/handover", Token: kbh}).Status)
			gone = append(gone, h)

			// A cancelled issuance: revocation purges the held document. The
			// test opens it with the key it read first, to know what it printed.
			c := heldDocument(t, app, cancelledID)
			pdf, err := app.LetterKeys.Unseal(c.id, c.sealed)
			require.NoError(t, err)
			c.pdf, c.text = pdf, testenv.PDFText(t, pdf)
			cancel := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + cancelledID + "/cancel", Token: kbh,
				Body: map[string]string{"reason": "the applicant withdrew"}})
			require.Equal(t, http.StatusOK, cancel.Status, string(cancel.Body))
			eventually(t, "the cancelled issuance's key destroyed", func() bool { return !keyExists(t, app, c.id) })
			assert.Equal(t, http.StatusGone, app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + cancelledID + "/handover", Token: kbh}).Status)
			gone = append(gone, c)

			// The control letters stay queued: their keys stay, and their
			// sealed bytes and ids must be found in the raw files.
			var queued []delivered
			for _, l := range queuedOf(t, app, controlID) {
				stored, err := app.Store.PostalLetter(ctx, l["id"].(string))
				require.NoError(t, err)
				queued = append(queued, delivered{id: stored.ID, kind: stored.Kind, sealed: stored.PDF})
			}
			require.Len(t, queued, 2)
			var want []string
			for _, q := range queued {
				want = append(want, q.id+".key")
			}
			sort.Strings(want)
			assert.Equal(t, want, keyDirectory(t, app), "only the queued letters' keys are left, and nothing else")

			var printed int
			for _, d := range gone {
				printed += len(pairPattern.FindAllString(d.text, -1))
				if passwordPattern.MatchString(d.text) {
					printed++
				}
			}
			require.Equal(t, 4*148+4, printed, "the test knows every secret it looks for: 4 cards, 4 passwords")

			secrets := newScanner()
			for _, d := range gone {
				secrets.addLetter(t, d, append(otherPlaintexts(gone, d.id), plaintextControl))
			}
			control := newScanner()
			control.addLetter(t, delivered{id: "plaintext-control", kind: "plaintext control", pdf: plaintextControl,
				text: testenv.PDFText(t, plaintextControl)}, plaintextsOf(gone))
			sealedControl := newScanner()
			for _, q := range queued {
				sealedControl.add("sealed bytes of queued "+q.kind+" letter "+q.id, q.sealed, 256, false)
				sealedControl.add("id of queued letter "+q.id, []byte(q.id), 0, false)
			}
			purged := newScanner()
			for _, d := range gone {
				purged.add("sealed bytes of purged "+d.kind+" letter "+d.id, d.sealed, 256, false)
			}

			attack := func(stage string) {
				found := map[*scanner]*findings{secrets: {}, control: {}, sealedControl: {}, purged: {}}
				var files, named []string
				var size int
				disk.EachFile(t, func(file testenv.RawFile) {
					files, size = append(files, file.Name), size+len(file.Data)
					if strings.Contains(file.Name, "letters") || strings.HasPrefix(file.Name, "nemid.db") || file.Shared {
						named = append(named, fmt.Sprintf("%s (%d bytes)", file.Name, len(file.Data)))
					}
					streams := inflatedStreams(file.Data)
					for s, f := range found {
						s.scan(file, streams, f)
					}
				})
				t.Logf("%s: read %d files, %d bytes, among them %s", stage, len(files), size, strings.Join(named, ", "))
				require.NotEmpty(t, files)
				if leaks := found[secrets].list(); len(leaks) > 0 {
					t.Errorf("%s: %d things a delivered letter printed, or its plaintext or key, are in the raw files:\n%s",
						stage, len(leaks), strings.Join(leaks[:min(len(leaks), 40)], "\n"))
				}
				t.Logf("%s: the controls found: %s; %s", stage, strings.Join(found[control].names(), ", "), strings.Join(found[sealedControl].names(), ", "))
				assert.True(t, found[control].has("temporary password printed by plaintext control"),
					"%s: the plaintext control's temporary password is found in its content stream", stage)
				assert.GreaterOrEqual(t, found[control].fraction("content stream of plaintext control letter plaintext-control", control), 0.5,
					"%s: most pieces of the plaintext control's content streams are found", stage)
				for _, q := range queued {
					assert.True(t, found[sealedControl].has("id of queued letter "+q.id), "%s: the queued letter's id is found", stage)
					assert.GreaterOrEqual(t, found[sealedControl].fraction("sealed bytes of queued "+q.kind+" letter "+q.id, sealedControl), 0.5,
						"%s: most pieces of the queued letter's sealed bytes are found", stage)
				}
				t.Logf("%s: sealed bytes of purged letters still on disk (opened by nothing: their keys are gone): %v", stage, found[purged].names())
				if b.Name == "sqlite" && stage == "stopped" {
					assert.Empty(t, found[purged].list(), "secure_delete: after a checkpoint the purged bytes are zeroed in the database file")
				}
			}

			if b.Name == "sqlite" {
				files := disk.SQLiteFiles()
				require.Len(t, files, 3, "the database, its WAL and its shm, all open")
				assertPrivate(t, files)
			}
			attack("running")
			require.NoError(t, st.Close())
			if b.Name == "sqlite" {
				assertPrivate(t, disk.SQLiteFiles())
			}
			attack("stopped")
		})
	}
}

// createdAs applies and waits for the status the issuance settles in.
func createdAs(t *testing.T, app *testenv.App, token string, body any, status string) string {
	t.Helper()
	res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: token, Body: body})
	require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
	id := res.JSON["id"].(string)
	waitForStatus(t, app, id, status)
	return id
}

func queuedOf(t *testing.T, app *testenv.App, issuanceID string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range queuedLetters(t, app) {
		if l["issuance_id"] == issuanceID {
			out = append(out, l)
		}
	}
	return out
}

// heldDocument finds an issuance's held handover document in the database
// and reads its key file.
func heldDocument(t *testing.T, app *testenv.App, issuanceID string) delivered {
	t.Helper()
	l, err := app.Store.HeldHandoverDocument(context.Background(), issuanceID)
	require.NoError(t, err)
	require.True(t, letterkeys.IsSealed(l.PDF), "the database holds the handover document sealed")
	return delivered{id: l.ID, kind: l.Kind, sealed: l.PDF, key: readKey(t, app, l.ID)}
}

func readKey(t *testing.T, app *testenv.App, letterID string) []byte {
	t.Helper()
	key, err := os.ReadFile(app.LetterKeys.File(letterID))
	require.NoError(t, err, "the letter's key file exists before delivery")
	require.Len(t, key, letterkeys.KeySize)
	return key
}

func keyExists(t *testing.T, app *testenv.App, letterID string) bool {
	t.Helper()
	_, err := os.Stat(app.LetterKeys.File(letterID))
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	require.NoError(t, err)
	return true
}

func assertKeyGone(t *testing.T, app *testenv.App, letterID string) {
	t.Helper()
	assert.False(t, keyExists(t, app, letterID), "the key file of letter %s is gone", letterID)
}

func keyDirectory(t *testing.T, app *testenv.App) []string {
	t.Helper()
	entries, err := os.ReadDir(app.LetterKeys.Path())
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func assertPrivate(t *testing.T, paths []string) {
	t.Helper()
	require.NotEmpty(t, paths)
	for _, p := range paths {
		info, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), p)
	}
}

// plaintextControlPDF renders a handover document with fresh secrets, as
// the activity would; the test stores it in plaintext on purpose.
func plaintextControlPDF(t *testing.T) []byte {
	t.Helper()
	card, err := domain.NewCodeCard()
	require.NoError(t, err)
	password, err := domain.NewTemporaryPassword()
	require.NoError(t, err)
	userID, err := domain.NewNemIDNumber()
	require.NoError(t, err)
	pairs := make([]printing.CodePair, len(card.Pairs))
	for i, p := range card.Pairs {
		pairs[i] = printing.CodePair{Key: p.Key, Code: p.Code}
	}
	pdf, err := printing.HandoverDocument(printing.HandoverInput{Name: "Kontrol Klartekst", Date: time.Now(), CardNumber: card.Number,
		Pairs: pairs, NemIDNumber: userID, TemporaryPassword: password})
	require.NoError(t, err)
	return pdf
}

func otherPlaintexts(all []delivered, except string) [][]byte {
	var out [][]byte
	for _, d := range all {
		if d.id != except {
			out = append(out, d.pdf)
		}
	}
	return out
}

func plaintextsOf(all []delivered) [][]byte { return otherPlaintexts(all, "") }

// needle is one byte string the attack looks for.
type needle struct {
	what  string // the group it belongs to, e.g. "key of password letter …"
	b     []byte
	text  bool // also looked for inside inflated deflate streams
	group string
	src   []byte // for a piece: what it is a piece of, and where
	off   int
}

// scanner looks for many needles at once: candidate positions are found by
// the first two bytes, then by an 8-byte prefix.
type scanner struct {
	needles  []needle
	byPrefix map[string][]int
	first    [1 << 16]bool
	groups   map[string]int // group → how many needles it has
}

const prefixLen = 8

func newScanner() *scanner { return &scanner{byPrefix: map[string][]int{}, groups: map[string]int{}} }

// add adds b as one needle, or with stride > 0 as 32-byte pieces of it
// taken every stride bytes.
func (s *scanner) add(group string, b []byte, stride int, text bool) {
	if stride == 0 {
		s.addNeedle(needle{what: group, b: b, text: text, group: group})
		return
	}
	for i := 0; i+32 <= len(b); i += stride {
		s.addNeedle(needle{what: fmt.Sprintf("%s at %d", group, i), b: b[i : i+32], group: group})
	}
}

func (s *scanner) addNeedle(n needle) {
	if len(n.b) < prefixLen {
		panic("needle too short: " + n.what)
	}
	s.needles = append(s.needles, n)
	s.byPrefix[string(n.b[:prefixLen])] = append(s.byPrefix[string(n.b[:prefixLen])], len(s.needles)-1)
	s.first[int(n.b[0])<<8|int(n.b[1])] = true
	s.groups[n.group]++
}

// addLetter adds what a delivered letter must not leave behind: what it
// printed (the temporary password line and each code pair, as one text
// run), pieces of its PDF's content streams that no other PDF shares,
// the PDF's digest, and its key in raw, hex and base64 form.
func (s *scanner) addLetter(t *testing.T, d delivered, others [][]byte) {
	t.Helper()
	label := d.kind + " letter " + d.id
	if m := passwordPattern.FindString(d.text); m != "" {
		s.add("temporary password printed by "+label, []byte(m), 0, true)
	}
	for _, pair := range pairPattern.FindAllString(d.text, -1) {
		s.addNeedle(needle{what: "code pair with key " + pair[:4] + " printed by " + label, b: []byte(pair), text: true,
			group: "code pairs printed by " + label})
	}
	var pieces int
	for _, body := range streamBodies(d.pdf) {
		for i := 0; i+32 <= len(body); i += 32 {
			piece := body[i : i+32]
			shared := false
			for _, o := range others {
				if bytes.Contains(o, piece) {
					shared = true
					break
				}
			}
			if !shared {
				s.addNeedle(needle{what: fmt.Sprintf("content stream of %s at %d", label, i), b: piece, group: "content stream of " + label,
					src: body, off: i})
				pieces++
			}
		}
	}
	require.GreaterOrEqual(t, pieces, 20, "enough pieces of %s's content are its own to look for", label)
	sum := sha256.Sum256(d.pdf)
	s.add("SHA-256 of the plaintext of "+label, sum[:], 0, false)
	s.add("SHA-256 (hex) of the plaintext of "+label, []byte(hex.EncodeToString(sum[:])), 0, false)
	if d.key != nil {
		s.add("key of "+label, d.key, 0, false)
		s.add("key (hex) of "+label, []byte(hex.EncodeToString(d.key)), 0, false)
		s.add("key (base64) of "+label, []byte(base64.StdEncoding.EncodeToString(d.key)), 0, false)
	}
}

// streamBodies are the bytes between "stream" and "endstream" in a PDF: the
// compressed page contents, where the printed secrets are.
func streamBodies(pdf []byte) [][]byte {
	var out [][]byte
	for rest := pdf; ; {
		i := bytes.Index(rest, []byte("stream\n"))
		if i < 0 {
			return out
		}
		rest = rest[i+len("stream\n"):]
		j := bytes.Index(rest, []byte("endstream"))
		if j < 0 {
			return out
		}
		out = append(out, rest[:j])
		rest = rest[j:]
	}
}

type findings struct {
	hits     map[string][]string // needle → where
	perGroup map[string]int      // group → needles found
}

func (f *findings) record(n needle, where string) {
	if f.hits == nil {
		f.hits, f.perGroup = map[string][]string{}, map[string]int{}
	}
	if _, seen := f.hits[n.what]; !seen {
		f.perGroup[n.group]++
	}
	if len(f.hits[n.what]) < 3 {
		f.hits[n.what] = append(f.hits[n.what], where)
	}
}

func (f *findings) list() []string {
	var out []string
	for what, where := range f.hits {
		out = append(out, what+" in "+strings.Join(where, ", "))
	}
	sort.Strings(out)
	return out
}

// has reports whether a needle whose description contains part was found.
func (f *findings) has(part string) bool {
	for what := range f.hits {
		if strings.Contains(what, part) {
			return true
		}
	}
	return false
}

func (f *findings) names() []string {
	var out []string
	for group, n := range f.perGroup {
		out = append(out, fmt.Sprintf("%s (%d pieces)", group, n))
	}
	sort.Strings(out)
	return out
}

func (f *findings) fraction(group string, s *scanner) float64 {
	if s.groups[group] == 0 {
		return 0
	}
	return float64(f.perGroup[group]) / float64(s.groups[group])
}

// scan looks for every needle in a file, and for the text needles also in
// the streams inflated from it. In a file other tests' databases share
// (Postgres's WAL) it looks only for what is unique to this test: another
// test's letter to the same person on the same day may share pieces of its
// PDF with ours outside the secrets, but never a secret, a key or a digest.
func (s *scanner) scan(file testenv.RawFile, streams []inflated, f *findings) {
	data := file.Data
	s.scanBytes(data, false, func(n needle, at int) {
		if file.Shared && n.src != nil {
			return
		}
		where := fmt.Sprintf("%s@%d", file.Name, at)
		if n.src != nil {
			where += fmt.Sprintf(" (the same %d bytes before and %d after)", commonBefore(n.src[:n.off], data[:at]), commonAfter(n.src[n.off:], data[at:]))
		}
		f.record(n, where)
	})
	for _, st := range streams {
		s.scanBytes(st.data, true, func(n needle, at int) {
			f.record(needle{what: n.what + " (printed in a deflate stream)", group: n.group + " (inflated)"},
				fmt.Sprintf("%s@%d inflated +%d", file.Name, st.at, at))
		})
	}
}

func (s *scanner) scanBytes(data []byte, onlyText bool, found func(needle, int)) {
	for i := 0; i+prefixLen <= len(data); i++ {
		if !s.first[int(data[i])<<8|int(data[i+1])] {
			continue
		}
		for _, k := range s.byPrefix[string(data[i:i+prefixLen])] {
			n := s.needles[k]
			if (!onlyText || n.text) && bytes.HasPrefix(data[i:], n.b) {
				found(n, i)
			}
		}
	}
}

func commonBefore(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[len(a)-1-n] == b[len(b)-1-n] {
		n++
	}
	return n
}

func commonAfter(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

type inflated struct {
	at   int
	data []byte
}

// inflatedStreams tries to inflate a zlib stream at every zlib header in
// data and keeps what comes out before the first error: a PDF's contents
// stored readable show their text here up to the first page boundary (a
// SQLite overflow page, a TOAST chunk) that cuts the stream; that is why
// pieces of the compressed bytes are looked for as well.
func inflatedStreams(data []byte) []inflated {
	var out []inflated
	fr := flate.NewReader(bytes.NewReader(nil))
	defer fr.Close()
	for i := 0; i+2 < len(data); i++ {
		if data[i] != 0x78 {
			continue
		}
		switch data[i+1] {
		case 0x01, 0x5e, 0x9c, 0xda:
		default:
			continue
		}
		if err := fr.(flate.Resetter).Reset(bytes.NewReader(data[i+2:]), nil); err != nil {
			continue
		}
		buf, _ := io.ReadAll(io.LimitReader(fr, 1<<20))
		if len(buf) >= 11 {
			out = append(out, inflated{at: i, data: buf})
		}
	}
	return out
}
