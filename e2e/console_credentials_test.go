package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
)

// TestConsoleFindsBlocksAndUnblocks: a caseworker of another centre finds
// a person's NemID by CPR and by NemID number, sees its cards, blocks it
// (the person's logon is then refused) and unblocks it after a photo ID
// check, a wrong CPR first refused.
func TestConsoleFindsBlocksAndUnblocks(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), generous)
	p := activeNemID(t, app, soeren)
	card := cardPattern.FindStringSubmatch(p.text)[1]
	waitFor := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(20*time.Second))
	}
	shows := func(want string) chromedp.Action[chromedp.Void] {
		return waitFor(`document.querySelector('[data-testid="credential-status"]').textContent === "` + want + `"`)
	}

	ctx, log := browser(t)
	signIn(t, ctx, app.URL, app.Tokens["caseworker:AAR"])
	do(t, ctx, chromedp.WaitVisible(byTestID("credential-box")),
		chromedp.SendKeys(byTestID("find-query"), soeren),
		chromedp.Click(byTestID("find-submit")),
		chromedp.WaitVisible(byTestID("credential-view")), shows("active"))
	assert.Equal(t, p.userID, text(t, ctx, byTestID("credential-user-id")))
	assert.Equal(t, p.issuanceID, text(t, ctx, byTestID("credential-issuance")))
	cards := text(t, ctx, byTestID("credential-cards"))
	assert.Contains(t, cards, card)
	assert.Contains(t, cards, "147")
	assert.True(t, evaluate[bool](t, ctx, `document.querySelector('[data-testid="unblock-form"]').hidden`), "nothing to unblock")
	screenshot(t, ctx, "console-credential-found.png")

	do(t, ctx,
		chromedp.SetValue(byTestID("find-query"), p.userID),
		chromedp.Click(byTestID("find-submit")), shows("active"),
		chromedp.SendKeys(byTestID("block-reason"), "the person lost their phone and card"),
		chromedp.Click(byTestID("block-submit")), shows("blocked"),
		chromedp.WaitVisible(byTestID("unblock-form")), chromedp.WaitNotVisible(byTestID("block-form")))
	assert.Contains(t, text(t, ctx, byTestID("message")), "is blocked")
	assert.Equal(t, "blocked", errorCode(startLogon(t, app, p, newPassword)), "the block took effect before the answer")
	screenshot(t, ctx, "console-credential-blocked.png")

	do(t, ctx,
		chromedp.SendKeys(byTestID("unblock-cpr"), anne),
		chromedp.SendKeys(byTestID("unblock-doc-number"), "P7654321"),
		chromedp.SetValue(byTestID("unblock-doc-expires"), time.Now().AddDate(5, 0, 0).Format(time.DateOnly)),
		chromedp.Click(byTestID("unblock-submit")),
		waitFor(`document.querySelector('[data-testid="message-details"]').textContent.includes("person_mismatch")`))
	assert.Contains(t, text(t, ctx, byTestID("message")), "Could not unblock the NemID")
	assert.Equal(t, "blocked", text(t, ctx, byTestID("credential-status")))

	do(t, ctx,
		chromedp.SetValue(byTestID("unblock-cpr"), soeren),
		chromedp.Click(byTestID("unblock-submit")), shows("active"),
		chromedp.WaitNotVisible(byTestID("unblock-form")))
	assert.Contains(t, text(t, ctx, byTestID("message")), "is unblocked")
	assert.Empty(t, evaluate[string](t, ctx, `document.querySelector('[data-testid="unblock-doc-number"]').value`), "the form is cleared")
	screenshot(t, ctx, "console-credential-unblocked.png")
	logon(t, app, p)

	got := status(t, app, p.issuanceID)
	require.Equal(t, http.StatusOK, got.Status)
	assert.Equal(t, 1, countType(got, "blocked"))
	assert.Equal(t, 1, countType(got, "unblocked"))
	log.assertClean(t, "422") // the refused unblock is logged by the browser
}

// TestConsoleUnlocksAfterAnIDCheck: a caseworker of another centre unlocks
// a NemID locked by three wrong passwords after checking the person's
// photo ID (the type list is filled by the console, passport preselected)
// and CPR number; the person then logs on.
func TestConsoleUnlocksAfterAnIDCheck(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), generous)
	p := activeNemID(t, app, soeren)
	for range 3 {
		startLogon(t, app, p, "Forkert2024")
	}
	require.Equal(t, "locked", errorCode(startLogon(t, app, p, newPassword)))

	ctx, log := browser(t)
	signIn(t, ctx, app.URL, app.Tokens["caseworker:AAR"])
	expires := time.Now().AddDate(5, 0, 0).Format(time.DateOnly)
	do(t, ctx, chromedp.WaitVisible(byTestID("unlock-box")),
		chromedp.SendKeys(byTestID("unlock-user-id"), p.userID),
		chromedp.SendKeys(byTestID("unlock-cpr"), soeren),
		chromedp.SendKeys(byTestID("unlock-doc-number"), "P7654321"),
		chromedp.SetValue(byTestID("unlock-doc-expires"), expires),
		chromedp.Click(byTestID("unlock-submit")),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="message"]').textContent.includes("is unlocked")`,
			chromedp.WithPollingTimeout(20*time.Second)))
	assert.Equal(t, "passport", evaluate[string](t, ctx, `document.querySelector('[data-testid="unlock-doc-type"]').value`),
		"the form is reset to the preselected photo ID")
	assert.Empty(t, evaluate[string](t, ctx, `document.querySelector('[data-testid="unlock-cpr"]').value`), "the CPR is not kept")
	logon(t, app, p)
	assert.Equal(t, 1, countType(status(t, app, p.issuanceID), "unlocked"))
	log.assertClean(t)
}
