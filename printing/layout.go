package printing

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/opennemid/nemid/domain"
)

// Page geometry in millimetres (A4 portrait).
const (
	pageW    = 210.0
	left     = 20.0 // left margin; also the window's left edge
	contentW = 170.0
	right    = left + contentW

	// DIN 5008 form B address field, as seen through the window of a C5
	// (or DL) window envelope: 20 mm from the left, 45 mm from the top,
	// 85 mm wide, 45 mm high.
	winX, winY, winW, winH = left, 45.0, 85.0, 45.0
	addrTop                = 58.0 // first address baseline, below the return line
	addrBottom             = 86.5 // last address baseline, inside the window

	infoX   = 125.0 // the date block beside the window
	titleY  = 101.0 // the letter's heading baseline
	cardY   = 153.0 // the card sits in the lower half: no fold crosses it
	footerY = 266.0 // the rule above the support block

	// The card is drawn card-proportioned (85.6 × 54 mm, ISO/IEC 7810 ID-1),
	// enlarged to the text width so that its 148 pairs print at 9 pt.
	cardW    = contentW
	cardH    = cardW * 54 / 85.6
	cardCols = 6
)

const sender = "NemID, Digitaliseringsstyrelsen"

type rgb struct{ r, g, b int }

var (
	ink   = rgb{30, 34, 40}
	brand = rgb{0, 56, 101}
	muted = rgb{96, 104, 112}
	hair  = rgb{186, 194, 204}
	band  = rgb{228, 236, 245}
	zebra = rgb{240, 244, 249}
	// The key column's tint, on even and odd rows.
	keyEven = rgb{212, 225, 240}
	keyOdd  = rgb{226, 235, 246}
)

// doc is one PDF under construction. It is used by one goroutine.
type doc struct {
	pdf       *fpdf.Fpdf
	date      time.Time
	pageLabel func(n int) string // optional "Page n of m" line in the date block
}

// newDoc starts a document whose bytes depend only on what is drawn: the
// creation and modification dates are the letter date, the catalogs are
// sorted and compression is always on.
func newDoc(date time.Time, title string) *doc {
	p := fpdf.New("P", "mm", "A4", "")
	stamp := date.In(copenhagen())
	p.SetCreationDate(stamp)
	p.SetModificationDate(stamp)
	p.SetCatalogSort(true)
	p.SetCompression(true)
	p.SetProducer("NemID issuance", false)
	p.SetCreator(sender, true)
	p.SetAuthor(sender, true)
	p.SetTitle(title, true)
	p.SetAutoPageBreak(false, 0)
	p.SetMargins(left, 15, pageW-right)
	p.SetCellMargin(0)
	return &doc{pdf: p, date: date}
}

func (d *doc) bytes() ([]byte, error) {
	var buf bytes.Buffer
	if err := d.pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("printing: rendering the PDF: %w", err)
	}
	return buf.Bytes(), nil
}

func (d *doc) font(style string, size float64, c rgb) {
	d.pdf.SetFont("Helvetica", style, size)
	d.pdf.SetTextColor(c.r, c.g, c.b)
}

// text draws s with its baseline at y. Every string goes through enc.
func (d *doc) text(x, y float64, s string) { d.pdf.Text(x, y, enc(s)) }

func (d *doc) textRight(xRight, y float64, s string) {
	s = enc(s)
	d.pdf.Text(xRight-d.pdf.GetStringWidth(s), y, s)
}

func (d *doc) width(s string) float64 { return d.pdf.GetStringWidth(enc(s)) }

// para sets paragraphs (separated by blank lines in s) across the text
// width from y, 10 pt on 5 mm, and returns the y below them.
func (d *doc) para(y float64, s string) float64 {
	d.font("", 10, ink)
	for i, par := range strings.Split(s, "\n\n") {
		if i > 0 {
			y += 2.5
		}
		d.pdf.SetXY(left, y)
		d.pdf.MultiCell(contentW, 5, enc(par), "", "L", false)
		y = d.pdf.GetY()
	}
	return y
}

func (d *doc) fill(c rgb) { d.pdf.SetFillColor(c.r, c.g, c.b) }
func (d *doc) draw(c rgb, w float64) {
	d.pdf.SetDrawColor(c.r, c.g, c.b)
	d.pdf.SetLineWidth(w)
}

// letterPage starts a page with the letterhead, the address in the window,
// the date, the heading and the support block, and returns the y where the
// body begins.
func (d *doc) letterPage(r Recipient, title string) float64 {
	p := d.pdf
	p.AddPage()

	// Letterhead.
	d.fill(brand)
	p.Rect(left, 14, 1.6, 12, "F")
	d.font("B", 22, brand)
	d.text(left+4, 23.5, "NemID")
	d.font("B", 9, ink)
	d.textRight(right, 19, sender)
	d.font("", 9, muted)
	d.textRight(right, 23.5, "Support "+domain.SupportPhone)

	// Window: the return line, then the address.
	d.font("", 7, muted)
	d.text(winX, winY+4.5, sender)
	d.draw(hair, 0.2)
	p.Line(winX, winY+6, winX+winW-5, winY+6)
	d.address(r)

	// Date block beside the window.
	d.font("", 8, muted)
	d.text(infoX, winY+4.5, "Date")
	d.font("", 10, ink)
	d.text(infoX, winY+9.5, formatDate(d.date))
	if d.pageLabel != nil {
		d.font("", 8, muted)
		d.text(infoX, winY+16, d.pageLabel(p.PageNo()))
	}

	d.footer()

	d.font("B", 15, brand)
	d.text(left, titleY, title)
	return titleY + 5
}

// addressLines is the recipient as printed: name, street lines, postcode and
// city, and the country's name when it is not Denmark.
func addressLines(r Recipient) []string {
	var out []string
	add := func(s string) {
		if s = strings.Join(strings.Fields(s), " "); s != "" {
			out = append(out, s)
		}
	}
	add(r.Name)
	for _, l := range r.Lines {
		add(l)
	}
	add(r.Postcode + " " + r.City)
	if c := strings.ToUpper(strings.TrimSpace(r.Country)); c != "" && c != "DK" {
		add(countryNames[c])
	}
	return out
}

// address prints the recipient inside the window: 10 pt on 4.6 mm, tighter
// when there are many lines, and a line too wide for the window is set
// smaller and, as a last resort, cut.
func (d *doc) address(r Recipient) {
	lines := addressLines(r)
	pitch := 4.6
	if n := len(lines); n > 1 && (addrBottom-addrTop)/float64(n-1) < pitch {
		pitch = (addrBottom - addrTop) / float64(n-1)
	}
	size := min(10, pitch/0.3528/1.12)
	maxW := winW - 5
	for i, l := range lines {
		s := enc(l)
		sz := size
		d.font("", sz, ink)
		for d.pdf.GetStringWidth(s) > maxW && sz > 7 {
			sz -= 0.5
			d.font("", sz, ink)
		}
		for d.pdf.GetStringWidth(s) > maxW && len(s) > 1 {
			s = s[:len(s)-2] + "\x85" // cp1252 ellipsis
		}
		d.pdf.Text(winX, addrTop+float64(i)*pitch, s)
	}
}

// footer prints the support phone and hours at the foot of the page.
func (d *doc) footer() {
	p := d.pdf
	d.draw(hair, 0.3)
	p.Line(left, footerY, right, footerY)
	y := footerY + 5.5
	d.font("B", 9, brand)
	d.text(left, y, "NemID support")
	d.font("B", 11, ink)
	d.text(left, y+5.5, domain.SupportPhone)
	d.font("", 8, muted)
	d.text(left, y+10, "Have your NemID number ready.")

	x := 95.0
	d.font("B", 9, brand)
	d.text(x, y, "Opening hours (Danish time)")
	d.font("", 9, ink)
	for i, l := range domain.SupportHoursLines() {
		d.text(x, y+5+float64(i)*4.3, l)
	}
}

// codeCardPage is a letter page with the code card in its lower half.
func (d *doc) codeCardPage(r Recipient, title, body, cardNumber string, pairs []CodePair) {
	y := d.letterPage(r, title)
	d.para(y, body)
	d.card(left, cardY, cardNumber, pairs)
}

// card draws the code card: a card-proportioned outline with a header band
// carrying the card number, and the pairs sorted by key in a grid that reads
// down each column. Every pair is one text run "KKKK CCCCCC".
func (d *doc) card(x, y float64, cardNumber string, pairs []CodePair) {
	p := d.pdf
	const headH, radius = 12.0, 3.5

	d.fill(band)
	p.RoundedRect(x, y, cardW, headH, radius, "12", "F")
	d.draw(brand, 0.5)
	p.RoundedRect(x, y, cardW, cardH, radius, "1234", "D")
	d.draw(brand, 0.3)
	p.Line(x, y+headH, x+cardW, y+headH)

	base := y + 8.2
	d.font("B", 13, brand)
	d.text(x+6, base, "NemID")
	nw := d.width("NemID")
	d.font("", 10, ink)
	d.text(x+6+nw+2, base, "code card")
	d.font("B", 10, ink)
	d.textRight(x+cardW-6, base, "Card number: "+cardNumber)

	sorted := slices.Clone(pairs)
	slices.SortFunc(sorted, func(a, b CodePair) int { return strings.Compare(a.Key, b.Key) })
	rows := (len(sorted) + cardCols - 1) / cardCols

	const size = 9.0 // pt
	gx, gw := x+5, cardW-10
	colW := gw / cardCols
	labelBase := y + headH + 4.6
	top := y + headH + 6.5
	bottom := y + cardH - 4
	pitch := (bottom - top) / float64(rows)

	d.font("", size, ink)
	runW := p.GetStringWidth("0000 000000")
	keyW := p.GetStringWidth("0000 ")
	digitH := 0.709 * size * 0.3528 // Helvetica figure height in mm
	inset := (colW - runW) / 2

	// Shading: alternate rows, and the keys on a tint of their own so that
	// key and code read apart although they are one run of text.
	d.fill(zebra)
	for r := 0; r < rows; r += 2 {
		p.Rect(gx, top+float64(r)*pitch, gw, pitch, "F")
	}
	// The tint ends halfway through the space between key and code.
	const tintPad = 1.2
	keyTint := tintPad + (p.GetStringWidth("0000")+keyW)/2
	for c := 0; c < cardCols; c++ {
		n := min(rows, len(sorted)-c*rows)
		kx := gx + float64(c)*colW + inset - tintPad
		d.fill(keyOdd)
		p.Rect(kx, top, keyTint, float64(n)*pitch, "F")
		d.fill(keyEven)
		for r := 0; r < n; r += 2 {
			p.Rect(kx, top+float64(r)*pitch, keyTint, pitch, "F")
		}
	}
	d.draw(hair, 0.2)
	for c := 1; c < cardCols; c++ {
		cx := gx + float64(c)*colW
		p.Line(cx, top-5, cx, bottom)
	}
	for i, pr := range sorted {
		c, r := i/rows, i%rows
		tx := gx + float64(c)*colW + inset
		ty := top + float64(r)*pitch + (pitch+digitH)/2
		p.Text(tx, ty, pr.Key+" "+pr.Code)
	}

	d.font("", 6.5, muted)
	for c := 0; c < cardCols; c++ {
		tx := gx + float64(c)*colW + inset
		d.text(tx, labelBase, "Key")
		d.text(tx+keyW, labelBase, "Code")
	}
}

// passwordPage is a letter page with the NemID number and the temporary
// password in a box, and how to activate.
func (d *doc) passwordPage(r Recipient, body, nemID, password string, activateBy time.Time) {
	p := d.pdf
	y := d.letterPage(r, "Your NemID number and temporary password")
	y = d.para(y, body) + 5

	const boxH = 27.0
	d.fill(band)
	d.draw(brand, 0.4)
	p.RoundedRect(left, y, contentW, boxH, 3, "1234", "FD")
	d.font("B", 14, ink)
	d.text(left+8, y+11, "NemID number: "+nemID)
	d.text(left+8, y+20.5, "Temporary password: "+password)
	y += boxH + 8

	if !activateBy.IsZero() {
		d.font("B", 11, brand)
		d.text(left, y, "Activate your NemID no later than "+formatDate(activateBy)+".")
		y += 3
	}
	y = d.para(y+2, activationSteps)
	d.para(y+2.5, passwordCaution)
}

// reminderPage is the reminder letter's page.
func (d *doc) reminderPage(r Recipient, activateBy time.Time) {
	p := d.pdf
	y := d.letterPage(r, "Remember to activate your NemID")
	y = d.para(y, reminderBody) + 5

	const boxH = 16.0
	d.fill(band)
	d.draw(brand, 0.4)
	p.RoundedRect(left, y, contentW, boxH, 3, "1234", "FD")
	d.font("B", 13, ink)
	d.text(left+8, y+10, "Activate your NemID no later than "+formatDate(activateBy)+".")
	y += boxH + 5

	y = d.para(y, activationSteps)
	d.para(y+2.5, reminderAfter)
}
