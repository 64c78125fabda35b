package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
)

// The console is driven in a real headless Chromium. One backend is enough:
// the console only calls the HTTP API, which the other tests cover on both.
func TestConsole(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), testenv.Options{})

	t.Run("served with a strict policy, and whoami names the token", func(t *testing.T) {
		page := app.Do(t, testenv.Request{Method: "GET", Path: "/console"})
		require.Equal(t, http.StatusOK, page.Status)
		assert.Contains(t, page.Header.Get("Content-Type"), "text/html")
		csp := page.Header.Get("Content-Security-Policy")
		assert.Contains(t, csp, "script-src 'self'")
		assert.Contains(t, csp, "default-src 'none'")
		assert.NotContains(t, csp, "unsafe-inline")
		assert.Equal(t, "nosniff", page.Header.Get("X-Content-Type-Options"))
		assert.Equal(t, "no-referrer", page.Header.Get("Referrer-Policy"))
		assert.NotContains(t, string(page.Body), "http://", "nothing from another origin")
		assert.NotContains(t, string(page.Body), "https://", "nothing from another origin")

		js := app.Do(t, testenv.Request{Method: "GET", Path: "/console/assets/console.js"})
		require.Equal(t, http.StatusOK, js.Status)
		assert.Contains(t, js.Header.Get("Content-Type"), "javascript")
		assert.False(t, strings.Contains(string(js.Body), ".innerHTML"), "API data is written with textContent only")
		assert.Equal(t, http.StatusNotFound, app.Do(t, testenv.Request{Method: "GET", Path: "/console/assets/nope.js"}).Status)

		who := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/whoami", Token: app.Tokens["embassy:LONDON"]})
		require.Equal(t, http.StatusOK, who.Status, string(who.Body))
		assert.Equal(t, map[string]any{"role": "embassy", "scope": "LONDON", "name": "embassy:LONDON"}, who.JSON)
		assert.Equal(t, http.StatusUnauthorized, app.Do(t, testenv.Request{Method: "GET", Path: "/v1/whoami"}).Status)
		assert.Equal(t, http.StatusUnauthorized, app.Do(t, testenv.Request{Method: "GET", Path: "/v1/whoami", Token: "nemid_nope"}).Status)
	})

	t.Run("a caseworker finds an issuance and cancels it", func(t *testing.T) {
		res := create(t, app, soeren)
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		id := res.JSON["id"].(string)
		waitForStatus(t, app, id, "awaiting_handover")

		ctx, log := browser(t)
		row := issuanceRow(id)
		signIn(t, ctx, app.URL, app.Tokens["caseworker:KBH"])
		do(t, ctx, chromedp.WaitVisible(row))
		assert.Equal(t, "caseworker:KBH", text(t, ctx, byTestID("whoami-role")))
		rowText := text(t, ctx, row)
		assert.Contains(t, rowText, "010190-XXXX")
		assert.Contains(t, rowText, "awaiting_handover")
		assert.Contains(t, rowText, "Centre KBH")
		// The header counts the caseworker's scope per status, as the API does.
		counted := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances/counts", Token: app.Tokens["caseworker:KBH"]})
		require.Equal(t, http.StatusOK, counted.Status, string(counted.Body))
		do(t, ctx, chromedp.WaitVisible(byTestID("counts")))
		for status, n := range counted.JSON["counts"].(map[string]any) {
			shown := evaluate[string](t, ctx, fmt.Sprintf(`document.querySelector('[data-testid="count-%s"]').dataset.count`, status))
			assert.Equal(t, fmt.Sprint(n), shown, "the header's count of %s", status)
		}
		assert.Contains(t, text(t, ctx, byTestID("count-total")), fmt.Sprint(counted.JSON["total"]))
		cancelledBefore := counted.JSON["counts"].(map[string]any)["cancelled"].(float64)
		screenshot(t, ctx, "console-caseworker-list.png")

		do(t, ctx, chromedp.Click(row), chromedp.WaitVisible(byTestID("detail")))
		assert.Equal(t, id, text(t, ctx, byTestID("detail-id")))
		assert.Contains(t, text(t, ctx, byTestID("timeline")), "received")
		assert.Equal(t, "awaiting_handover", text(t, ctx, byTestID("detail-status")))
		do(t, ctx, chromedp.WaitVisible(byTestID("handover")))
		screenshot(t, ctx, "console-caseworker-detail.png")

		do(t, ctx,
			chromedp.SendKeys(byTestID("cancel-reason"), "the applicant withdrew"),
			chromedp.Click(byTestID("cancel-submit")),
			chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="detail-status"]').textContent === "cancelled"`,
				chromedp.WithPollingTimeout(20*time.Second)),
		)
		assert.Contains(t, text(t, ctx, byTestID("timeline")), "cancelled")
		assert.Contains(t, text(t, ctx, row), "cancelled", "the list row follows the panel")
		do(t, ctx, chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector('[data-testid="count-cancelled"]').dataset.count === "%d"`,
			int(cancelledBefore)+1), chromedp.WithPollingTimeout(20*time.Second)))
		do(t, ctx, chromedp.WaitNotVisible(byTestID("cancel-form")))
		screenshot(t, ctx, "console-caseworker-cancelled.png")

		filter := func(status string) chromedp.Action[chromedp.Void] {
			return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
				const s = document.querySelector('[data-testid="status-filter"]');
				s.value = %q;
				s.dispatchEvent(new Event('change'));
			})()`, status))
		}
		do(t, ctx, filter("awaiting_handover"), chromedp.WaitVisible(byTestID("issuances-empty")))
		do(t, ctx, filter("cancelled"), chromedp.WaitVisible(row))
		// A count in the header filters the list by its status too. The
		// header re-renders its counts whenever the list reloads, so the
		// click finds the count when it clicks (a node found before a
		// re-render is gone by the time a CDP click reaches it).
		clickCount := func(status string) chromedp.Action[chromedp.Void] {
			return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector('[data-testid="count-%s"]').click()`, status))
		}
		do(t, ctx, filter(""), chromedp.WaitVisible(byTestID("count-awaiting_handover")), clickCount("awaiting_handover"),
			chromedp.WaitVisible(byTestID("issuances-empty")))
		assert.Equal(t, "awaiting_handover", evaluate[string](t, ctx, `document.querySelector('[data-testid="status-filter"]').value`))
		do(t, ctx, clickCount("cancelled"), chromedp.WaitVisible(row))

		got := status(t, app, id)
		assert.Equal(t, "cancelled", got.JSON["status"])
		tl := got.JSON["timeline"].([]any)
		last := tl[len(tl)-1].(map[string]any)
		assert.Equal(t, "cancelled", last["type"])
		assert.Equal(t, "caseworker:KBH", last["actor"])

		do(t, ctx, chromedp.Click(byTestID("signout")), chromedp.WaitVisible(byTestID("signin")))
		stored := evaluate[int](t, ctx, `sessionStorage.length`)
		assert.Zero(t, stored, "signing out forgets the token")
		log.assertClean(t)
	})

	t.Run("a caseworker prints the handover document", func(t *testing.T) {
		const karen = "1210701234"
		res := create(t, app, karen)
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		id := res.JSON["id"].(string)
		waitForStatus(t, app, id, "awaiting_handover")

		ctx, log := browser(t)
		signIn(t, ctx, app.URL, app.Tokens["caseworker:KBH"])
		do(t, ctx,
			chromedp.Click(issuanceRow(id)),
			chromedp.WaitVisible(byTestID("handover")),
			chromedp.Click(byTestID("handover")),
			chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="detail-status"]').textContent === "awaiting_activation"`,
				chromedp.WithPollingTimeout(20*time.Second)),
			chromedp.WaitVisible(byTestID("handover-link")),
			chromedp.WaitNotVisible(byTestID("handover")),
		)
		href, err := chromedp.Run(ctx, chromedp.AttributeValue(byTestID("handover-link"), "href"))
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(href.Value, "blob:"), "the printed PDF stays openable from memory: %s", href.Value)
		assert.Contains(t, text(t, ctx, byTestID("timeline")), "handover_printed")
		again := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/handover", Token: app.Tokens["caseworker:KBH"]})
		assert.Equal(t, http.StatusGone, again.Status, "the console spent the one handover")
		log.assertClean(t)
	})

	t.Run("a wrong token shows an error and no list", func(t *testing.T) {
		ctx, log := browser(t)
		signIn(t, ctx, app.URL, "nemid_not_a_token")
		do(t, ctx, chromedp.WaitVisible(byTestID("message")))
		assert.Contains(t, text(t, ctx, byTestID("message")), "not accepted")
		screenshot(t, ctx, "console-signin-refused.png")
		hidden := evaluate[bool](t, ctx, `document.querySelector('[data-testid="issuances-view"]').hidden &&
			document.querySelector('[data-testid="letters-view"]').hidden &&
			!document.querySelector('[data-testid="signin"]').hidden`)
		assert.True(t, hidden, "only the sign-in form is shown")
		assert.Zero(t, evaluate[int](t, ctx, `document.querySelectorAll('[data-testid="issuance-row"]').length`))
		assert.Zero(t, evaluate[int](t, ctx, `sessionStorage.length`), "a refused token is not kept")
		log.assertClean(t, "401") // the refused whoami is logged by the browser
	})

	t.Run("the post provider marks a letter dispatched", func(t *testing.T) {
		res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: app.Tokens["caseworker:KBH"],
			Body: application(anne, []any{health, tax}, false, nil)})
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		id := res.JSON["id"].(string)
		waitForStatus(t, app, id, "letters_posted")

		ctx, log := browser(t)
		rows := fmt.Sprintf(`tr[data-testid="letter-row"][data-issuance=%q]`, id)
		signIn(t, ctx, app.URL, app.Tokens["post:post"])
		do(t, ctx, chromedp.WaitVisible(chromedp.CSS(rows)))
		assert.Equal(t, "post:post", text(t, ctx, byTestID("whoami-role")))
		assert.Equal(t, 2, evaluate[int](t, ctx, fmt.Sprintf(`document.querySelectorAll(%q).length`, rows)))
		table := text(t, ctx, byTestID("letters-body"))
		assert.Contains(t, table, "Anne Østergaard")
		assert.Contains(t, table, "2200 København N")
		assert.Contains(t, table, "code card")
		assert.Contains(t, table, "password")
		screenshot(t, ctx, "console-post-letters.png")

		first, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(rows), "data-id"))
		require.NoError(t, err)
		letterID := first.Value
		require.NotEmpty(t, letterID)
		do(t, ctx,
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-id=%q] [data-testid="letter-dispatch"]`, letterID))),
			chromedp.WaitNotPresent(chromedp.CSS(fmt.Sprintf(`tr[data-id=%q]`, letterID))),
		)
		assert.Equal(t, 1, evaluate[int](t, ctx, fmt.Sprintf(`document.querySelectorAll(%q).length`, rows)))
		assert.Contains(t, text(t, ctx, byTestID("message")), "dispatched")

		sent := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/letters?status=dispatched", Token: app.Tokens["post:post"]})
		require.Equal(t, http.StatusOK, sent.Status)
		var found bool
		for _, it := range sent.JSON["items"].([]any) {
			l := it.(map[string]any)
			if l["id"] == letterID {
				found = true
				assert.Equal(t, "dispatched", l["status"])
			}
		}
		assert.True(t, found, "letter %s is dispatched", letterID)
		gone := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/letters/" + letterID + "/pdf", Token: app.Tokens["post:post"]})
		assert.Equal(t, http.StatusGone, gone.Status, "its PDF is purged")
		log.assertClean(t)
	})

	t.Run("an embassy confirms a pickup", func(t *testing.T) {
		res := order(t, app, abroadOrder(jens, nil))
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		id := res.JSON["id"].(string)
		waitForStatus(t, app, id, "letters_posted")
		require.Len(t, postedLetters(t, app, id), 2, "the code card and the password letter are dispatched")
		waitForStatus(t, app, id, "awaiting_pickup")

		ctx, log := browser(t)
		row := issuanceRow(id)
		signIn(t, ctx, app.URL, app.Tokens["embassy:LONDON"])
		do(t, ctx, chromedp.WaitVisible(row))
		assert.Equal(t, "embassy:LONDON", text(t, ctx, byTestID("whoami-role")))
		rowText := text(t, ctx, row)
		assert.Contains(t, rowText, "200788-XXXX")
		assert.Contains(t, rowText, "awaiting_pickup")
		assert.Contains(t, rowText, "Representation LONDON")
		hidden := evaluate[bool](t, ctx, `document.querySelector('[data-testid="unlock-box"]').hidden &&
			document.querySelector('[data-testid="signature-box"]').hidden`)
		assert.True(t, hidden, "an embassy neither unlocks nor upgrades")
		do(t, ctx, chromedp.WaitVisible(byTestID("fees-empty")))
		assert.Equal(t, "DKK 0", text(t, ctx, byTestID("fees-total")), "no fee yet")
		assert.Equal(t, "0", text(t, ctx, byTestID("fees-count")))

		do(t, ctx, chromedp.Click(row), chromedp.WaitVisible(byTestID("pickup-form")))
		assert.Equal(t, "awaiting_pickup", text(t, ctx, byTestID("detail-status")))
		fee, err := chromedp.Run(ctx, chromedp.Value(byTestID("pickup-fee")))
		require.NoError(t, err)
		assert.Empty(t, fee, "the fee is typed, not assumed")
		do(t, ctx,
			chromedp.SendKeys(byTestID("pickup-document"), "DP7654321"),
			chromedp.SendKeys(byTestID("pickup-fee"), "200"),
			chromedp.SendKeys(byTestID("pickup-receipt"), "LON-0001"),
			chromedp.Click(byTestID("pickup-submit")),
			chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="message-details"]').textContent.includes("pickup_document_mismatch")`,
				chromedp.WithPollingTimeout(20*time.Second)),
		)
		msg := text(t, ctx, byTestID("message"))
		assert.Contains(t, msg, "Could not confirm the pickup")
		assert.Contains(t, msg, "The document shown is not the one given in the order")
		assert.NotContains(t, msg, "fee_too_low")
		assert.Equal(t, "awaiting_pickup", text(t, ctx, byTestID("detail-status")), "a refused pickup changes nothing")
		do(t, ctx, chromedp.WaitVisible(byTestID("pickup-form")))
		screenshot(t, ctx, "console-embassy-pickup-refused.png")

		do(t, ctx,
			chromedp.SetValue(byTestID("pickup-document"), "DP1234567"),
			chromedp.Click(byTestID("pickup-submit")),
			chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="detail-status"]').textContent === "awaiting_activation"`,
				chromedp.WithPollingTimeout(20*time.Second)),
			chromedp.WaitNotVisible(byTestID("pickup-form")),
		)
		assert.Contains(t, text(t, ctx, byTestID("message")), "picked up")
		assert.Contains(t, text(t, ctx, byTestID("timeline")), "pickup_confirmed")
		assert.Contains(t, text(t, ctx, row), "awaiting_activation", "the list row follows the panel")
		do(t, ctx, chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="fees-count"]').textContent === "1"`,
			chromedp.WithPollingTimeout(20*time.Second)))
		assert.Equal(t, "DKK 200", text(t, ctx, byTestID("fees-total")), "the summary counts the fee just paid")
		recent := text(t, ctx, byTestID("fees-recent"))
		assert.Contains(t, recent, "LON-0001")
		assert.Contains(t, recent, id)
		assert.Equal(t, 1, evaluate[int](t, ctx, `document.querySelectorAll('[data-testid="fee-row"]').length`))
		do(t, ctx, chromedp.WaitNotVisible(byTestID("fees-empty")))
		screenshot(t, ctx, "console-embassy-picked-up.png")

		got := status(t, app, id)
		assert.Equal(t, "awaiting_activation", got.JSON["status"])
		assert.Equal(t, 1, countType(got, "pickup_confirmed"))
		tl := got.JSON["timeline"].([]any)
		last := tl[len(tl)-1].(map[string]any)
		assert.Equal(t, "pickup_confirmed", last["type"])
		assert.Equal(t, "embassy:LONDON", last["actor"])
		assert.Contains(t, last["detail"], "DKK 200")
		assert.Contains(t, last["detail"], "LON-0001")
		log.assertClean(t, "422") // the refused pickup is logged by the browser
	})

	t.Run("a caseworker upgrades a bank NemID to public signature", func(t *testing.T) {
		const lars = "0708651239" // not used by the other scenarios here: one open issuance per CPR
		res := createAtBank(t, app, bankBody(lars, false))
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		require.Equal(t, false, res.JSON["public_signature"])
		id := res.JSON["id"].(string)
		waitForStatus(t, app, id, "letters_posted")

		ctx, log := browser(t)
		signIn(t, ctx, app.URL, app.Tokens["caseworker:AAR"])
		do(t, ctx, chromedp.WaitVisible(byTestID("signature-box")))
		assert.True(t, evaluate[bool](t, ctx, `document.querySelector('[data-testid="fees-box"]').hidden`), "a caseworker has no fee summary")
		assert.Equal(t, "passport", evaluate[string](t, ctx, `document.querySelector('[data-testid="signature-doc-type"]').value`))
		types := evaluate[[]string](t, ctx, `Array.from(document.querySelectorAll('[data-testid="signature-doc-type"] option'), (o) => o.value)`)
		assert.ElementsMatch(t, []string{"eu_driving_licence", "passport", "military_id", "nato_passport", "police_id",
			"residence_permit", "bank_id_card", "national_id_card"}, types, "the photo ID types")

		do(t, ctx,
			chromedp.SendKeys(byTestID("signature-issuance-id"), id),
			chromedp.SendKeys(byTestID("signature-cpr"), "150285-4321"), // Anne's, not Lars's
			chromedp.SetValue(byTestID("signature-doc-type"), "passport"),
			chromedp.SendKeys(byTestID("signature-doc-number"), "P7654321"),
			chromedp.SetValue(byTestID("signature-doc-expires"), "2020-01-01"),
			chromedp.Click(byTestID("signature-submit")),
			chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="message-details"]').textContent.includes("document_expired")`,
				chromedp.WithPollingTimeout(20*time.Second)),
		)
		assert.Contains(t, text(t, ctx, byTestID("message")), "Could not upgrade to public digital signature")
		assert.Contains(t, text(t, ctx, byTestID("message-details")), "person_mismatch", "another person's CPR number is refused")
		assert.Equal(t, false, status(t, app, id).JSON["public_signature"], "a refused check changes nothing")
		screenshot(t, ctx, "console-caseworker-signature-refused.png")

		do(t, ctx,
			chromedp.SetValue(byTestID("signature-cpr"), "070865-1239"),
			chromedp.SetValue(byTestID("signature-doc-expires"), time.Now().AddDate(5, 0, 0).Format(time.DateOnly)),
			chromedp.Click(byTestID("signature-submit")),
			chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="message"]').classList.contains("message-ok")`,
				chromedp.WithPollingTimeout(20*time.Second)),
		)
		assert.Contains(t, text(t, ctx, byTestID("message")), "public digital signature")
		assert.Empty(t, evaluate[string](t, ctx, `document.querySelector('[data-testid="signature-issuance-id"]').value`),
			"the form is cleared for the next person")
		assert.Empty(t, evaluate[string](t, ctx, `document.querySelector('[data-testid="signature-cpr"]').value`),
			"the CPR number is cleared for the next person")
		screenshot(t, ctx, "console-caseworker-signature.png")

		got := status(t, app, id)
		assert.Equal(t, true, got.JSON["public_signature"])
		assert.Equal(t, 1, countType(got, "public_signature_upgraded"))
		tl := got.JSON["timeline"].([]any)
		last := tl[len(tl)-1].(map[string]any)
		assert.Equal(t, "public_signature_upgraded", last["type"])
		assert.Equal(t, "caseworker:AAR", last["actor"])
		assert.NotContains(t, last["detail"], "P7654321", "the document number is not recorded")
		log.assertClean(t, "422") // the refused check is logged by the browser
	})
}

// browser starts a headless Chromium of its own (a fresh profile, so no
// sessionStorage carries over) for one scenario, with a 60 s budget.
func browser(t *testing.T) (context.Context, *browserLog) {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Unavailable(t, "no chromium on PATH for the console tests (apt-get install chromium)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	do(t, tab) // start the browser now, so the console is subscribed from the first page
	log := &browserLog{}
	messages := chromedp.Console(tab)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			log.add(m)
		}
	}()
	return tab, log
}

// browserLog collects what the page wrote to the console: exceptions and
// Content-Security-Policy violations fail the scenario.
type browserLog struct {
	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
}

func (l *browserLog) add(m chromedp.ConsoleMessage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.messages = append(l.messages, m)
}

// assertClean fails on any exception or error the page logged, except those
// whose text contains one of the expected substrings.
func (l *browserLog) assertClean(t *testing.T, expected ...string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
next:
	for _, m := range l.messages {
		if m.Type != chromedp.ConsoleError && !m.IsException() && !strings.Contains(m.Text, "Content Security Policy") {
			continue
		}
		for _, e := range expected {
			if strings.Contains(m.Text, e) {
				continue next
			}
		}
		t.Errorf("the console page logged %s at %s: %s", m.Type, m.URL, m.Text)
	}
}

func signIn(t *testing.T, ctx context.Context, base, token string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(base+"/console"),
		chromedp.WaitVisible(byTestID("token-input")),
		chromedp.SendKeys(byTestID("token-input"), token),
		chromedp.Click(byTestID("signin-submit")),
	)
}

// issuanceRow is the list row of one issuance.
func issuanceRow(id string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf(`tr[data-testid="issuance-row"][data-id=%q]`, id))
}

func byTestID(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(`[data-testid=%q]`, id)) }

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, steps...))
}

func text(t *testing.T, ctx context.Context, sel chromedp.CSS) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.TextContent(sel))
	require.NoError(t, err)
	return s
}

func evaluate[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err)
	return v
}

// screenshot saves the whole page under NEMID_TEST_ARTIFACTS when set (CI
// keeps that directory), otherwise in the test's temporary directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("NEMID_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s", path)
}
