package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/testenv"
)

// TestBookingPageAndCentreDay: a person books on the public page and
// confirms with the code from the outbox; the centre's caseworker sees the
// appointment in "Today at my centre" and checks the person in, which is
// the counter application, pre-filled from the booking.
func TestBookingPageAndCentreDay(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), testenv.Options{})
	openTestCentre(t, app, 2)
	first := nextSlots(t, app.URL)[0].(map[string]any)["start"].(string)
	day := domain.DateOf(mustTime(t, first)).String()
	if day != domain.DateOf(time.Now()).String() {
		t.Skip("no free slot left today in Copenhagen: the centre's day shows today")
	}

	bctx, log := browser(t)
	do(t, bctx,
		chromedp.Navigate(app.URL+"/book"),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('[data-testid="centre"] option').length >= 4`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.SetValue(byTestID("centre"), "KBH"),
		chromedp.SetValue(byTestID("day"), day),
		chromedp.Click(byTestID("show-slots")),
		chromedp.WaitVisible(byTestID("slot")),
	)
	screenshot(t, bctx, "booking-page.png")
	do(t, bctx,
		chromedp.Click(byTestID("slot")),
		chromedp.WaitVisible(byTestID("book-box")),
		chromedp.SendKeys(byTestID("cpr"), soeren),
		chromedp.SendKeys(byTestID("email"), "browser@example.dk"),
		chromedp.Click(byTestID("book")),
		chromedp.WaitVisible(byTestID("confirm-box")),
	)
	m := codePattern.FindStringSubmatch(outbox(t, app, "booking_confirmation", "browser@example.dk")["text"].(string))
	require.NotNil(t, m)
	do(t, bctx, chromedp.SendKeys(byTestID("code"), m[1]), chromedp.Click(byTestID("confirm")), chromedp.WaitVisible(byTestID("done-box")))
	reference := text(t, bctx, byTestID("reference"))
	assert.Regexp(t, referencePattern, reference)
	log.assertClean(t)

	cw, cwLog := browser(t)
	signIn(t, cw, app.URL, app.Tokens["caseworker:KBH"])
	do(t, cw, chromedp.WaitVisible(byTestID("day-box")), chromedp.WaitVisible(byTestID("day-checkin")))
	row := text(t, cw, byTestID("day-row"))
	assert.Contains(t, row, "010190-XXXX")
	assert.NotContains(t, row, reference, "the caseworker never sees the reference")
	screenshot(t, cw, "centre-day.png")
	do(t, cw,
		chromedp.Click(byTestID("day-checkin")),
		chromedp.WaitVisible(byTestID("checkin-form")),
		chromedp.SendKeys(byTestID("checkin-doc-number"), "X123"),
		chromedp.SetValue(byTestID("checkin-doc-expires"), "2031-05-01"),
		chromedp.Click(byTestID("checkin-questions")),
		chromedp.Click(byTestID("checkin-submit")),
		chromedp.WaitVisible(byTestID("day-issuance")),
		chromedp.WaitVisible(byTestID("detail")),
	)
	assert.Contains(t, text(t, cw, byTestID("day-row")), "checked in")
	cwLog.assertClean(t)
}
