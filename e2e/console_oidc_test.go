package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
)

// revokeStatus asks the revocation endpoint, which authenticates the
// client before anything else, to revoke a made-up token: a right secret
// answers 200 (RFC 7009: an unknown token is no error), a wrong one 401
// invalid_client.
func revokeStatus(t *testing.T, base, clientID, secret string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/oidc/revoke", strings.NewReader(url.Values{"token": {"made-up"}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// TestConsoleServiceProviders drives the admin's Service providers page in
// headless Chromium: register a confidential public authority (its secret
// shown once, and it authenticates the client), a public client with
// two redirect URIs, and a refused one; the list shows kinds and never a
// secret; a caseworker has no such page.
func TestConsoleServiceProviders(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), testenv.Options{})
	ctx, log := browser(t)
	signIn(t, ctx, app.URL, app.Tokens["admin:all"])
	do(t, ctx,
		chromedp.WaitVisible(byTestID("admin-nav")),
		chromedp.Click(byTestID("nav-oidc")),
		chromedp.WaitVisible(byTestID("oidc-form")),
		chromedp.WaitNotVisible(byTestID("issuances-view")),
		chromedp.WaitVisible(byTestID("oidc-empty")),
		chromedp.SendKeys(byTestID("oidc-name"), "Borger.dk"),
		chromedp.SendKeys(byTestID("oidc-redirects"), "https://borger.example/callback"),
		chromedp.Click(byTestID("oidc-public-authority")),
		chromedp.Click(byTestID("oidc-confidential")),
		chromedp.Click(byTestID("oidc-submit")),
		chromedp.WaitVisible(byTestID("oidc-created-secret-box")),
	)
	value := func(id string) string {
		return evaluate[string](t, ctx, fmt.Sprintf(`document.querySelector('[data-testid=%q]').value`, id))
	}
	clientID, secret := value("oidc-created-id"), value("oidc-created-secret")
	require.True(t, strings.HasPrefix(clientID, "nemid-"), "the client_id is shown: %q", clientID)
	require.NotEmpty(t, secret, "the secret is shown")
	assert.Equal(t, "Borger.dk", text(t, ctx, byTestID("oidc-created-name")))
	assert.Contains(t, text(t, ctx, byTestID("message")), "shown only once")

	status, body := revokeStatus(t, app.URL, clientID, secret)
	assert.Equal(t, http.StatusOK, status, "the shown secret authenticates the client: %s", body)
	status, body = revokeStatus(t, app.URL, clientID, secret+"x")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, body, "invalid_client")

	row := chromedp.CSS(fmt.Sprintf(`tr[data-testid="oidc-row"][data-id=%q]`, clientID))
	do(t, ctx, chromedp.WaitVisible(row))
	rowText := text(t, ctx, row)
	assert.Contains(t, rowText, "Borger.dk")
	assert.Contains(t, rowText, "https://borger.example/callback")
	assert.Contains(t, rowText, "public authority, confidential")
	assert.NotContains(t, text(t, ctx, byTestID("oidc-body")), secret, "the list never shows a secret")
	screenshot(t, ctx, "console-admin-oidc-client-created.png")

	// A public client with two redirect URIs: no secret to show.
	do(t, ctx,
		chromedp.SendKeys(byTestID("oidc-name"), "Netbank"),
		chromedp.SendKeys(byTestID("oidc-redirects"), "https://bank.example/cb\n  http://localhost:3000/cb  \n\n"),
		chromedp.Click(byTestID("oidc-submit")),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="oidc-created-name"]').textContent === "Netbank"`),
		chromedp.WaitNotVisible(byTestID("oidc-created-secret-box")),
	)
	assert.Empty(t, value("oidc-created-secret"), "the earlier secret is not kept")
	netbank := value("oidc-created-id")
	res := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/oidc/clients", Token: app.Tokens["admin:all"]})
	require.Equal(t, http.StatusOK, res.Status)
	registered := map[string]map[string]any{}
	for _, it := range res.JSON["items"].([]any) {
		c := it.(map[string]any)
		registered[c["client_id"].(string)] = c
		assert.NotContains(t, c, "client_secret")
	}
	require.Contains(t, registered, netbank)
	assert.Equal(t, []any{"https://bank.example/cb", "http://localhost:3000/cb"}, registered[netbank]["redirect_uris"], "one URI a line, trimmed")
	assert.Equal(t, false, registered[netbank]["confidential"])
	assert.Equal(t, false, registered[netbank]["public_authority"])
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-testid="oidc-row"][data-id=%q]`, netbank))))
	assert.Equal(t, "private, public client", text(t, ctx, chromedp.CSS(fmt.Sprintf(`tr[data-id=%q] [data-testid="oidc-kind"]`, netbank))))

	// A redirect URI over plain http to another host is refused, with why.
	do(t, ctx,
		chromedp.SendKeys(byTestID("oidc-name"), "Evil"),
		chromedp.SendKeys(byTestID("oidc-redirects"), "http://evil.example/cb"),
		chromedp.Click(byTestID("oidc-submit")),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="message-details"]').textContent.includes("https")`),
	)
	assert.Len(t, app.Do(t, testenv.Request{Method: "GET", Path: "/v1/oidc/clients", Token: app.Tokens["admin:all"]}).JSON["items"], 2,
		"nothing more is registered")

	do(t, ctx, chromedp.Click(byTestID("oidc-created-done")), chromedp.WaitNotVisible(byTestID("oidc-created")))
	assert.Empty(t, value("oidc-created-id"), "forgotten")
	do(t, ctx, chromedp.Click(byTestID("nav-tokens")), chromedp.WaitVisible(byTestID("tokens-view")),
		chromedp.WaitNotVisible(byTestID("oidc-view")))
	log.assertClean(t, "422")

	// A caseworker has no such page, and the API refuses them.
	cctx, clog := browser(t)
	signIn(t, cctx, app.URL, app.Tokens["caseworker:KBH"])
	do(t, cctx, chromedp.WaitVisible(byTestID("issuances-view")))
	assert.True(t, evaluate[bool](t, cctx, `document.querySelector('[data-testid="admin-nav"]').hidden`))
	assert.True(t, evaluate[bool](t, cctx, `document.querySelector('[data-testid="oidc-view"]').hidden`))
	clog.assertClean(t)
}
