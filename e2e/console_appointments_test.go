package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/testenv"
)

// TestBookingPageAndCentreDay: a person books on the public page and
// confirms with the code from the outbox; the centre's caseworker picks the
// booking's day in the centre's day card ("Today at my centre" by default)
// and checks the person in, which is the counter application, pre-filled
// from the booking. The first free slot may be on a later day (late in the
// evening, on a holiday): the card shows any day, and a check-in is allowed
// any time before the slot ends.
func TestBookingPageAndCentreDay(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), testenv.Options{})
	openTestCentre(t, app, 2)
	first := nextSlots(t, app.URL)[0].(map[string]any)["start"].(string)
	day := domain.DateOf(mustTime(t, first))

	bctx, log := browser(t)
	do(t, bctx,
		chromedp.Navigate(app.URL+"/book"),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('[data-testid="centre"] option').length >= 4`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.SetValue(byTestID("centre"), "KBH"),
		chromedp.SetValue(byTestID("day"), day.String()),
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
	before := domain.DateOf(time.Now())
	signIn(t, cw, app.URL, app.Tokens["caseworker:KBH"])
	do(t, cw, chromedp.WaitVisible(byTestID("day-box")), chromedp.WaitVisible(byTestID("day-date")),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="day-date"]').value !== ''`, chromedp.WithPollingTimeout(10*time.Second)))
	opened := evaluate[string](t, cw, `document.querySelector('[data-testid="day-date"]').value`)
	assert.Contains(t, []string{before.String(), domain.DateOf(time.Now()).String()}, opened, "the card opens on today in Copenhagen")
	assert.Equal(t, "Today at my centre", text(t, cw, byTestID("day-title")))
	// The day after the booking's has none of it; the booking's day has it.
	// The heading says the chosen day once its list is shown: "Today at my
	// centre" when it is today in Copenhagen, otherwise the date.
	pickDay := func(d domain.Date) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
				const d = document.querySelector('[data-testid="day-date"]');
				d.value = %q;
				d.dispatchEvent(new Event('change'));
			})()`, d.String())),
			chromedp.Poll[chromedp.Void](fmt.Sprintf(`(() => {
				const title = document.querySelector('[data-testid="day-title"]').textContent;
				const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Copenhagen', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
				return today === %q ? title === 'Today at my centre' : title.endsWith(%q);
			})()`, d.String(), fmt.Sprintf("%d %s %d at my centre", d.Day, d.Month, d.Year)), chromedp.WithPollingTimeout(10*time.Second)),
		)
	}
	do(t, cw, pickDay(day.AddDays(1)), chromedp.WaitVisible(byTestID("day-empty")))
	assert.Zero(t, evaluate[int](t, cw, `document.querySelectorAll('[data-testid="day-row"]').length`))
	do(t, cw, pickDay(day), chromedp.WaitVisible(byTestID("day-checkin")), chromedp.WaitNotVisible(byTestID("day-empty")))
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
