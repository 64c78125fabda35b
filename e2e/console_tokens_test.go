package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
)

// TestConsoleTokens drives the admin's Tokens page in headless Chromium:
// create a named token (shown once), see it listed, revoke it; the token's
// holder, signed in meanwhile in another browser, is refused at their next
// call, and so is the token on both API processes.
func TestConsoleTokens(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), testenv.Options{})
	second := app.SecondAPI(t)
	_, ole := newToken(t, app, map[string]any{"role": "admin", "scope": "all", "name": "Ole Admin"})

	ctx, log := browser(t)
	signIn(t, ctx, app.URL, ole)
	do(t, ctx, chromedp.WaitVisible(byTestID("admin-nav")))
	assert.Equal(t, "Ole Admin", text(t, ctx, byTestID("whoami-name")), "sign-in shows the person")
	assert.Equal(t, "admin:all", text(t, ctx, byTestID("whoami-role")))

	do(t, ctx,
		chromedp.Click(byTestID("nav-tokens")),
		chromedp.WaitVisible(byTestID("token-form")),
		chromedp.WaitNotVisible(byTestID("issuances-view")),
		chromedp.SendKeys(byTestID("token-name"), "Mette Jensen"),
		chromedp.SetValue(byTestID("token-role"), "caseworker"),
		chromedp.SendKeys(byTestID("token-scope"), "KBH"),
		chromedp.SendKeys(byTestID("token-ttl"), "2160h"),
		chromedp.Click(byTestID("token-submit")),
		chromedp.WaitVisible(byTestID("token-created")),
	)
	token := evaluate[string](t, ctx, `document.querySelector('[data-testid="token-created-value"]').value`)
	require.True(t, strings.HasPrefix(token, "nemid_"), "the token is shown: %q", token)
	assert.Equal(t, "Mette Jensen", text(t, ctx, byTestID("token-created-name")))
	who := whoamiAt(t, app.URL, token)
	require.Equal(t, http.StatusOK, who.Status)
	assert.Equal(t, map[string]any{"role": "caseworker", "scope": "KBH", "name": "Mette Jensen"}, who.JSON)

	// Listed without the token.
	id := ""
	for _, it := range app.Do(t, testenv.Request{Method: "GET", Path: "/v1/tokens", Token: ole}).JSON["items"].([]any) {
		if item := it.(map[string]any); item["name"] == "Mette Jensen" {
			id = item["id"].(string)
		}
	}
	require.NotEmpty(t, id, "the API lists the new token")
	row := chromedp.CSS(fmt.Sprintf(`tr[data-testid="token-row"][data-id=%q]`, id))
	do(t, ctx, chromedp.WaitVisible(row))
	rowText := text(t, ctx, row)
	assert.Contains(t, rowText, "Mette Jensen")
	assert.Contains(t, rowText, "caseworker:KBH")
	assert.NotContains(t, text(t, ctx, byTestID("tokens-body")), token, "the list never shows a token")
	screenshot(t, ctx, "console-admin-token-created.png")

	// Mette signs in with it elsewhere and is greeted by name.
	mctx, mlog := browser(t)
	signIn(t, mctx, app.URL, token)
	do(t, mctx, chromedp.WaitVisible(byTestID("issuances-view")))
	assert.Equal(t, "Mette Jensen", text(t, mctx, byTestID("whoami-name")))
	assert.True(t, evaluate[bool](t, mctx, `document.querySelector('[data-testid="admin-nav"]').hidden`), "no Tokens page for a caseworker")

	// Revoke: the first click asks, the second revokes.
	revokeButton := chromedp.CSS(fmt.Sprintf(`tr[data-id=%q] [data-testid="token-revoke"]`, id))
	do(t, ctx, chromedp.Click(revokeButton))
	assert.Equal(t, "Confirm revoke", text(t, ctx, revokeButton))
	assert.Equal(t, http.StatusOK, whoamiAt(t, app.URL, token).Status, "one click revokes nothing")
	do(t, ctx,
		chromedp.Click(revokeButton),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr.revoked[data-id=%q]`, id))),
		chromedp.WaitNotPresent(revokeButton),
	)
	assert.Contains(t, text(t, ctx, byTestID("message")), "revoked")
	assert.NotEqual(t, "—", text(t, ctx, chromedp.CSS(fmt.Sprintf(`tr[data-id=%q] [data-testid="token-revoked"]`, id))))
	screenshot(t, ctx, "console-admin-token-revoked.png")
	for _, base := range []string{app.URL, second} {
		assert.Equal(t, http.StatusUnauthorized, whoamiAt(t, base, token).Status, "the revoked token's next call, at %s", base)
	}

	// Mette's next call is refused, and her console signs her out.
	do(t, mctx,
		chromedp.Click(byTestID("refresh")),
		chromedp.WaitVisible(byTestID("signin")),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="message"]').textContent.includes("no longer accepted")`,
			chromedp.WithPollingTimeout(20*time.Second)),
	)

	do(t, ctx, chromedp.Click(byTestID("token-created-done")), chromedp.WaitNotVisible(byTestID("token-created")))
	assert.Empty(t, evaluate[string](t, ctx, `document.querySelector('[data-testid="token-created-value"]').value`), "the token is forgotten")
	do(t, ctx, chromedp.Click(byTestID("nav-issuances")), chromedp.WaitVisible(byTestID("issuances-view")),
		chromedp.WaitNotVisible(byTestID("tokens-view")))
	log.assertClean(t)
	mlog.assertClean(t, "401")
}
