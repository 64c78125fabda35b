package e2e

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/demorp"
	"github.com/opennemid/nemid/internal/testenv"
)

// startDemoRP serves the demo service provider of `nemid dev` on a port
// of its own, registered at the app as a public client.
func startDemoRP(t *testing.T, app *testenv.App) (base, clientID string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base = "http://" + ln.Addr().String()
	res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/oidc/clients", Token: app.Tokens["admin:all"],
		Body: map[string]any{"name": demorp.Name, "redirect_uris": []string{base + demorp.CallbackPath}}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	clientID = res.JSON["client_id"].(string)
	h, err := demorp.New(demorp.Config{Issuer: app.Config.Issuer, ClientID: clientID, BaseURL: base})
	require.NoError(t, err)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("demo service provider: %v", err)
		}
	}()
	t.Cleanup(func() { _ = srv.Close() })
	return base, clientID
}

// docsScreenshot saves an element's picture to docs/ when
// NEMID_UPDATE_DOCS=1 (the README shows it), else with the test's artifacts.
func docsScreenshot(t *testing.T, ctx context.Context, sel chromedp.CSS, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.Screenshot(sel))
	require.NoError(t, err)
	dir := os.Getenv("NEMID_TEST_ARTIFACTS")
	if os.Getenv("NEMID_UPDATE_DOCS") == "1" {
		dir = filepath.Join("..", "docs")
	} else if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
	t.Logf("screenshot: %s", filepath.Join(dir, name))
}

// TestDemoServiceProviderInTheBrowser: in headless Chromium, from the demo
// service's "Log on with NemID" button through the provider's pages (user
// ID and password, then the code beside the key shown, read from the
// printed code card) to the demo's page of verified claims. No page runs
// a script or breaks its Content-Security-Policy. The same code does not
// work twice: reloading the callback fails.
func TestDemoServiceProviderInTheBrowser(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), generous)
	p := activeNemID(t, app, soeren)
	base, clientID := startDemoRP(t, app)

	ctx, log := browser(t)
	do(t, ctx, chromedp.Navigate(base+"/"))
	claim := logOnAtDemo(t, ctx, p, func(page string) {
		if page == "password" {
			assert.Contains(t, text(t, ctx, chromedp.CSS("main")), demorp.Name, "the login page names the service")
		}
		docsScreenshot(t, ctx, chromedp.CSS("main"), map[string]string{"password": "oidc-login.png", "code": "oidc-login-code.png"}[page])
	})
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Contains(t, loc, base+demorp.CallbackPath)
	assert.Equal(t, app.Config.Issuer, claim("iss"))
	assert.Equal(t, clientID, claim("aud"))
	assert.Equal(t, "pwd otp", claim("amr"))
	sub := claim("sub")
	assert.NotEmpty(t, sub)
	for _, secret := range []string{p.userID, soeren} {
		assert.NotContains(t, sub, secret)
	}
	assert.NotEmpty(t, claim("nonce"))
	assert.NotEmpty(t, text(t, ctx, byTestID("demo-name")), "userinfo's name")
	assert.Contains(t, text(t, ctx, byTestID("demo-verified")), "verified")
	screenshot(t, ctx, "demo-rp-claims.png")

	// The callback cannot be replayed: a reload is refused (its cookie is gone, its code spent).
	do(t, ctx, chromedp.Navigate(loc), chromedp.WaitVisible(byTestID("demo-error")))
	assert.NotContains(t, text(t, ctx, chromedp.CSS("main")), sub)

	// A second logon from the button gives the same pairwise sub.
	logOnAtDemo(t, ctx, p, nil)
	assert.Equal(t, sub, claim("sub"), "the same person at the same service: the same sub")
	log.assertClean(t, "400") // the reloaded callback's refusal
}

// logOnAtDemo logs p on at the demo service provider whose page ctx shows:
// its button, the provider's user ID and password page, then the code
// beside the key shown, read from the printed card, to the page of
// verified claims. at, when set, is called on the password page (filled
// in) and on the code page. It answers a reader of the claims shown.
func logOnAtDemo(t *testing.T, ctx context.Context, p printed, at func(page string)) (claim func(name string) string) {
	t.Helper()
	do(t, ctx,
		chromedp.WaitVisible(byTestID("demo-login")),
		chromedp.Click(byTestID("demo-login")),
		chromedp.WaitVisible(chromedp.CSS("#user_id")),
		chromedp.SendKeys(chromedp.CSS("#user_id"), p.userID),
		chromedp.SendKeys(chromedp.CSS("#password"), newPassword),
	)
	if at != nil {
		at("password")
	}
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#code")),
	)
	card, key := text(t, ctx, chromedp.CSS("#card_number")), text(t, ctx, chromedp.CSS("#key"))
	code := p.code(card, key)
	require.NotEmpty(t, code, "card %s key %s is on the printed card", card, key)
	if at != nil {
		at("code")
	}
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#code"), code),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(byTestID("demo-claims")),
	)
	return func(name string) string {
		return text(t, ctx, chromedp.CSS(`tr[data-claim="`+name+`"] td`))
	}
}
