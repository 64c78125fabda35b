package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// TestConsoleAuditPage: an admin opens the audit log in the console,
// pages through it and filters it by action; other roles get no such page.
func TestConsoleAuditPage(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), testenv.Options{})
	ctx := context.Background()
	for i := range 55 {
		e := store.AuditEntry{Actor: "post:post", Action: store.AuditLetterPDFFetched, Target: store.LetterTarget(fmt.Sprintf("letter-%d", i))}
		if i%20 == 7 {
			e = store.AuditEntry{Actor: "caseworker:AAR", Action: store.AuditCredentialUnlocked, Target: store.CredentialTarget(fmt.Sprintf("10000000%d", i%10))}
		}
		require.NoError(t, app.Store.Audited(ctx, e, nil))
	}
	rows := func(t *testing.T, bctx context.Context) int {
		return evaluate[int](t, bctx, `document.querySelectorAll('[data-testid="audit-row"]').length`)
	}
	waitRows := func(n int) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelectorAll('[data-testid="audit-row"]').length === %d`, n),
			chromedp.WithPollingTimeout(10*time.Second))
	}

	t.Run("an admin pages and filters the log", func(t *testing.T) {
		bctx, log := browser(t)
		signIn(t, bctx, app.URL, app.Tokens["admin:all"])
		do(t, bctx, chromedp.WaitVisible(byTestID("nav-audit")), chromedp.Click(byTestID("nav-audit")),
			chromedp.WaitVisible(byTestID("audit-view")), chromedp.WaitNotVisible(byTestID("issuances-view")), waitRows(50))
		first := text(t, bctx, chromedp.CSS(`[data-testid="audit-row"]`))
		assert.Contains(t, first, "55", "newest first")
		assert.Contains(t, first, "letter pdf fetched")
		assert.Contains(t, first, "letter:letter-54")
		do(t, bctx, chromedp.WaitVisible(byTestID("audit-more")))
		screenshot(t, bctx, "console-admin-audit.png")

		do(t, bctx, chromedp.Click(byTestID("audit-more")), waitRows(55), chromedp.WaitNotVisible(byTestID("audit-more")))
		assert.Equal(t, "1", evaluate[string](t, bctx, `[...document.querySelectorAll('[data-testid="audit-row"]')].at(-1).dataset.seq`),
			"the second page ends with the first entry")

		do(t, bctx, chromedp.Evaluate[chromedp.Void](`(() => {
			const s = document.querySelector('[data-testid="audit-action"]');
			s.value = 'credential_unlocked';
			s.dispatchEvent(new Event('change'));
		})()`), waitRows(3))
		cells := evaluate[[]string](t, bctx, `[...document.querySelectorAll('[data-testid="audit-action-cell"]')].map((c) => c.textContent)`)
		assert.Equal(t, []string{"credential unlocked", "credential unlocked", "credential unlocked"}, cells)
		assert.Contains(t, text(t, bctx, chromedp.CSS(`[data-testid="audit-row"]`)), "caseworker:AAR")
		do(t, bctx, chromedp.WaitNotVisible(byTestID("audit-more")))

		do(t, bctx, chromedp.Click(byTestID("nav-issuances")), chromedp.WaitVisible(byTestID("issuances-view")),
			chromedp.WaitNotVisible(byTestID("audit-view")))
		do(t, bctx, chromedp.Click(byTestID("signout")), chromedp.WaitVisible(byTestID("signin")))
		assert.Zero(t, rows(t, bctx), "signing out forgets the log")
		log.assertClean(t)
	})

	t.Run("a caseworker has no audit page", func(t *testing.T) {
		bctx, log := browser(t)
		signIn(t, bctx, app.URL, app.Tokens["caseworker:KBH"])
		do(t, bctx, chromedp.WaitVisible(byTestID("issuances-view")))
		assert.True(t, evaluate[bool](t, bctx, `document.querySelector('[data-testid="admin-nav"]').hidden`))
		assert.True(t, evaluate[bool](t, bctx, `document.querySelector('[data-testid="audit-view"]').hidden`))
		log.assertClean(t)
	})
}
