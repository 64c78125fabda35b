package e2e

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/workflows"
)

var (
	pairPattern     = regexp.MustCompile(`\b\d{4} \d{6}\b`)
	userIDPattern   = regexp.MustCompile(`NemID number: (\d{9})`)
	passwordPattern = regexp.MustCompile(`Temporary password: (\d{6})`)
	cardPattern     = regexp.MustCompile(`Card number: (\d+)`)
)

func status(t *testing.T, app *testenv.App, id string) testenv.Response {
	t.Helper()
	return app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances/" + id, Token: app.Tokens["admin:all"]})
}

func waitForStatus(t *testing.T, app *testenv.App, id, want string) testenv.Response {
	t.Helper()
	var last testenv.Response
	eventually(t, "status "+want, func() bool {
		last = status(t, app, id)
		return last.JSON["status"] == want
	})
	return last
}

func TestCounterHandoverToAwaitingActivation(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		kbh := app.Tokens["caseworker:KBH"]
		res := create(t, app, soeren)
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		id := res.JSON["id"].(string)
		waitForStatus(t, app, id, "awaiting_handover")

		other := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/handover", Token: app.Tokens["caseworker:AAR"]})
		assert.Equal(t, http.StatusNotFound, other.Status, "another centre cannot hand over")

		doc := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/handover", Token: kbh})
		require.Equal(t, http.StatusOK, doc.Status, string(doc.Body))
		require.Equal(t, "application/pdf", doc.Header.Get("Content-Type"))
		text := testenv.PDFText(t, doc.Body)
		assert.Len(t, pairPattern.FindAllString(text, -1), 148, "148 key/code pairs")
		assert.Regexp(t, cardPattern, text)
		assert.Regexp(t, userIDPattern, text)
		assert.Regexp(t, passwordPattern, text)
		assert.Contains(t, text, "Søren Ærø Nielsen")

		after := waitForStatus(t, app, id, "awaiting_activation")
		assert.Equal(t, []string{"received", "credentials_minted", "handover_printed"}, timelineTypes(after))
		live := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances/" + id + "/live", Token: kbh})
		require.Equal(t, http.StatusOK, live.Status, string(live.Body))
		assert.Equal(t, "awaiting_activation", live.JSON["status"], "the workflow's own view")
		assert.Equal(t, after.JSON["deadline"], live.JSON["deadline"], "the read model shows the workflow's deadline")
		assert.NotNil(t, after.JSON["deadline"])

		again := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/handover", Token: kbh})
		assert.Equal(t, http.StatusGone, again.Status, "the document is printed exactly once")

		assertNoSecretsStored(t, app, text)
		history := app.HistoryPlaintext(t, workflows.IssuanceWorkflowID(id))
		require.Contains(t, history, id, "the decrypted history is readable (the check below can fail)")
		assert.Contains(t, history, "0101901234", "the CPR travels in the encrypted workflow input")
		assert.False(t, containsToken(history, passwordPattern.FindStringSubmatch(text)[1]), "the temporary password entered history")
		for _, pair := range pairPattern.FindAllString(text, -1) {
			require.False(t, containsToken(history, pair[5:]), "a code entered history")
		}
	})
}

func TestCounterLettersThroughThePostAPI(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		post := app.Tokens["post:post"]
		res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: app.Tokens["caseworker:KBH"],
			Body: application(soeren, []any{health, tax}, false, nil)})
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		id := res.JSON["id"].(string)
		waitForStatus(t, app, id, "letters_posted")

		queue := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/letters?status=queued", Token: post})
		require.Equal(t, http.StatusOK, queue.Status, string(queue.Body))
		letters := map[string]map[string]any{}
		for _, it := range queue.JSON["items"].([]any) {
			l := it.(map[string]any)
			if l["issuance_id"] == id {
				letters[l["kind"].(string)] = l
			}
		}
		require.Len(t, letters, 2, "a code card letter and a password letter")
		var texts []string
		for kind, l := range letters {
			recipient := l["recipient"].(map[string]any)
			assert.Equal(t, "Søren Ærø Nielsen", recipient["name"], kind)
			assert.Equal(t, []any{"Nørregade 1"}, recipient["lines"], kind)
			pdf := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/letters/" + l["id"].(string) + "/pdf", Token: post})
			require.Equal(t, http.StatusOK, pdf.Status)
			text := testenv.PDFText(t, pdf.Body)
			texts = append(texts, text)
			assert.Contains(t, text, "Nørregade 1", kind)
			assert.Contains(t, text, "1165 København K", kind)
			assert.Contains(t, text, "+45 72 24 70 50", kind)
			switch kind {
			case "code_card":
				assert.Len(t, pairPattern.FindAllString(text, -1), 148)
				assert.Regexp(t, cardPattern, text)
				assert.NotRegexp(t, passwordPattern, text, "the card and the password travel separately")
			case "password":
				assert.Regexp(t, userIDPattern, text)
				assert.Regexp(t, passwordPattern, text)
				assert.Empty(t, pairPattern.FindAllString(text, -1))
			}
		}
		for _, l := range letters {
			path := "/v1/letters/" + l["id"].(string)
			require.Equal(t, http.StatusOK, app.Do(t, testenv.Request{Method: "POST", Path: path + "/dispatched", Token: post}).Status)
			repeat := app.Do(t, testenv.Request{Method: "POST", Path: path + "/dispatched", Token: post})
			assert.Equal(t, http.StatusOK, repeat.Status, "dispatching is idempotent")
			assert.Equal(t, "dispatched", repeat.JSON["status"])
			assert.Equal(t, http.StatusGone, app.Do(t, testenv.Request{Method: "GET", Path: path + "/pdf", Token: post}).Status, "purged after dispatch")
		}
		after := waitForStatus(t, app, id, "awaiting_activation")
		assert.Equal(t, []string{"received", "credentials_minted", "letter_queued", "letter_queued", "letter_dispatched", "letter_dispatched"}, timelineTypes(after))
		handover := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/handover", Token: app.Tokens["caseworker:KBH"]})
		assert.Equal(t, http.StatusConflict, handover.Status, "a letters issuance has no handover")

		forbidden := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/letters", Token: app.Tokens["caseworker:KBH"]})
		assert.Equal(t, http.StatusForbidden, forbidden.Status)
		for _, text := range texts {
			assertNoSecretsStored(t, app, text)
		}
	})
}

// assertNoSecretsStored checks that what a printed page shows (temporary
// password, codes) appears nowhere in the database dump or the logs.
func assertNoSecretsStored(t *testing.T, app *testenv.App, printed string) {
	t.Helper()
	dump, logs := app.DumpDatabase(t), app.LogText()
	if m := passwordPattern.FindStringSubmatch(printed); m != nil {
		assert.Empty(t, tokenContext(dump, m[1]), "temporary password stored in plaintext")
		assert.Empty(t, tokenContext(logs, m[1]), "temporary password logged")
	}
	for _, pair := range pairPattern.FindAllString(printed, -1) {
		require.Empty(t, tokenContext(dump, pair[5:]), "a code stored in plaintext")
		require.Empty(t, tokenContext(logs, pair[5:]), "a code logged")
	}
}

// containsToken reports whether secret stands in text as a whole token, not
// merely as six digits inside a longer number, timestamp or hex digest.
func containsToken(text, secret string) bool { return tokenContext(text, secret) != "" }

// tokenContext is the text around the first place secret stands as a whole
// token, or "" when it stands nowhere: a failure shows where it leaked.
func tokenContext(text, secret string) string {
	loc := regexp.MustCompile(`(^|[^0-9A-Za-z])` + regexp.QuoteMeta(secret) + `($|[^0-9A-Za-z])`).FindStringIndex(text)
	if loc == nil {
		return ""
	}
	return text[max(0, loc[0]-80):min(len(text), loc[1]+80)]
}
