package e2e

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/config"
	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/workflows"
)

// Mette, from the demo register: address protection, so later letters go
// care of the issuing centre.
const mette = "230478-1122"

const newPassword = "Kodeord2024"

// generous keeps the rate limit out of the way of tests that log on often.
var generous = testenv.Options{Configure: func(c *config.Config) { c.RateLimit = 100000 }}

// printed is what a person holds after the handover: only what the
// documents show.
type printed struct {
	issuanceID        string
	userID            string
	temporaryPassword string
	codes             map[string]string // "card/key" → code
	text              string
}

func (p printed) code(card, key string) string { return p.codes[card+"/"+key] }

// addCard reads a code card's printed text into the codes the person holds.
func (p printed) addCard(t *testing.T, text string) {
	t.Helper()
	card := cardPattern.FindStringSubmatch(text)
	require.NotNil(t, card, "a card number is printed")
	pairs := pairPattern.FindAllString(text, -1)
	require.Len(t, pairs, 148)
	for _, pair := range pairs {
		p.codes[card[1]+"/"+pair[:4]] = pair[5:]
	}
}

// handedOver issues a NemID at the counter and reads the handover PDF.
func handedOver(t *testing.T, app *testenv.App, cpr string) printed {
	t.Helper()
	res := create(t, app, cpr)
	require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
	id := res.JSON["id"].(string)
	waitForStatus(t, app, id, "awaiting_handover")
	doc := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/handover", Token: app.Tokens["caseworker:KBH"]})
	require.Equal(t, http.StatusOK, doc.Status, string(doc.Body))
	p := fromHandover(t, id, doc.Body)
	waitForStatus(t, app, id, "awaiting_activation")
	return p
}

// fromHandover reads what a handover PDF prints for the person.
func fromHandover(t *testing.T, issuanceID string, pdf []byte) printed {
	t.Helper()
	text := testenv.PDFText(t, pdf)
	p := printed{issuanceID: issuanceID, codes: map[string]string{}, text: text}
	p.userID = userIDPattern.FindStringSubmatch(text)[1]
	p.temporaryPassword = passwordPattern.FindStringSubmatch(text)[1]
	p.addCard(t, text)
	return p
}

func citizen(t *testing.T, app *testenv.App, path string, body any) testenv.Response {
	t.Helper()
	return app.Do(t, testenv.Request{Method: "POST", Path: path, Body: body})
}

func errorCode(res testenv.Response) string {
	e, _ := res.JSON["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// activate activates with the printed secrets and the given new password.
func activate(t *testing.T, app *testenv.App, p printed) {
	t.Helper()
	start := citizen(t, app, "/v1/activations", map[string]string{"user_id": p.userID, "temporary_password": p.temporaryPassword})
	require.Equal(t, http.StatusCreated, start.Status, string(start.Body))
	code := p.code(start.JSON["card_number"].(string), start.JSON["key"].(string))
	done := citizen(t, app, "/v1/activations/"+start.JSON["activation_id"].(string), map[string]string{"code": code, "new_password": newPassword})
	require.Equal(t, http.StatusOK, done.Status, string(done.Body))
	require.Equal(t, "active", done.JSON["status"])
}

// logon logs on with the password and the printed code; it answers the
// challenge it was given and the session token.
func logon(t *testing.T, app *testenv.App, p printed) (testenv.Response, string) {
	t.Helper()
	start := citizen(t, app, "/v1/logins", map[string]string{"user_id": p.userID, "password": newPassword})
	require.Equal(t, http.StatusCreated, start.Status, string(start.Body))
	code := p.code(start.JSON["card_number"].(string), start.JSON["key"].(string))
	require.NotEmpty(t, code, "the key is on a card the person holds")
	done := citizen(t, app, "/v1/logins/"+start.JSON["login_id"].(string), map[string]string{"code": code})
	require.Equal(t, http.StatusOK, done.Status, string(done.Body))
	return start, done.JSON["session_token"].(string)
}

func me(t *testing.T, app *testenv.App, token string) testenv.Response {
	t.Helper()
	return app.Do(t, testenv.Request{Method: "GET", Path: "/v1/me", Token: token})
}

func cardsOf(t *testing.T, app *testenv.App, token string) []map[string]any {
	t.Helper()
	res := me(t, app, token)
	require.Equal(t, http.StatusOK, res.Status, string(res.Body))
	var cards []map[string]any
	for _, c := range res.JSON["cards"].([]any) {
		cards = append(cards, c.(map[string]any))
	}
	return cards
}

// queuedReplacements lists the replacement_card letters of an issuance.
func queuedReplacements(t *testing.T, app *testenv.App, issuanceID string) []map[string]any {
	t.Helper()
	res := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/letters?status=queued&limit=500", Token: app.Tokens["post:post"]})
	require.Equal(t, http.StatusOK, res.Status, string(res.Body))
	var out []map[string]any
	for _, it := range res.JSON["items"].([]any) {
		l := it.(map[string]any)
		if l["issuance_id"] == issuanceID && l["kind"] == "replacement_card" {
			out = append(out, l)
		}
	}
	return out
}

func countType(res testenv.Response, typ string) int {
	n := 0
	for _, ty := range timelineTypes(res) {
		if ty == typ {
			n++
		}
	}
	return n
}

func TestCitizenActivatesLogsOnAndGetsOneReplacementCard(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := handedOver(t, app, soeren)
		activate(t, app, p)
		after := waitForStatus(t, app, p.issuanceID, "active")
		assert.Equal(t, 1, countType(after, "activated"))

		again := citizen(t, app, "/v1/activations", map[string]string{"user_id": p.userID, "temporary_password": p.temporaryPassword})
		assert.Equal(t, http.StatusConflict, again.Status, "the temporary password no longer activates: %s", again.Body)
		temp := citizen(t, app, "/v1/logins", map[string]string{"user_id": p.userID, "password": p.temporaryPassword})
		assert.Equal(t, http.StatusUnauthorized, temp.Status, "the temporary password is no password")

		first := cardPattern.FindStringSubmatch(p.text)[1]
		_, token := logon(t, app, p)
		view := me(t, app, token)
		require.Equal(t, http.StatusOK, view.Status, string(view.Body))
		assert.Equal(t, p.userID, view.JSON["user_id"])
		assert.Equal(t, "010190-XXXX", view.JSON["cpr_masked"])
		assert.Equal(t, []map[string]any{{"card_number": first, "status": "active", "unspent": float64(146)}}, cardsOf(t, app, token))

		asked := map[string]bool{}
		for unspent := 146; unspent > 20; unspent-- {
			start, _ := logon(t, app, p)
			key := start.JSON["key"].(string)
			require.False(t, asked[key], "a spent code is never asked again")
			asked[key] = true
		}
		eventually(t, "the replacement letter", func() bool { return len(queuedReplacements(t, app, p.issuanceID)) == 1 })
		letter := queuedReplacements(t, app, p.issuanceID)[0]
		recipient := letter["recipient"].(map[string]any)
		assert.Equal(t, []any{"Nørregade 1"}, recipient["lines"], "to the registered address")

		pdf := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/letters/" + letter["id"].(string) + "/pdf", Token: app.Tokens["post:post"]})
		require.Equal(t, http.StatusOK, pdf.Status)
		replacement := testenv.PDFText(t, pdf.Body)
		p.addCard(t, replacement)
		second := cardPattern.FindStringSubmatch(replacement)[1]

		for range 3 {
			start, _ := logon(t, app, p)
			assert.Equal(t, first, start.JSON["card_number"], "the old card is used up while the new one travels")
		}
		_, token = logon(t, app, p)
		assert.Equal(t, []map[string]any{{"card_number": first, "status": "active", "unspent": float64(16)}, {"card_number": second, "status": "active", "unspent": float64(148)}},
			cardsOf(t, app, token))
		assert.Len(t, queuedReplacements(t, app, p.issuanceID), 1, "the replacement is queued exactly once")
		assert.Equal(t, 1, countType(status(t, app, p.issuanceID), "replacement_queued"))

		assertNoSecretsStored(t, app, p.text)
		assertNoSecretsStored(t, app, replacement)
		assert.NotContains(t, app.DumpDatabase(t), token, "session tokens are stored hashed")
		assert.NotContains(t, app.DumpDatabase(t), newPassword, "the password is stored hashed")
		assert.NotContains(t, app.LogText(), newPassword)
		history := app.HistoryPlaintext(t, workflows.IssuanceWorkflowID(p.issuanceID))
		require.Contains(t, history, p.issuanceID, "the decrypted history is readable")
		assert.NotContains(t, history, newPassword, "the new password never reaches the workflow")
		assert.NotContains(t, history, token, "nor does the session token")
	})
}

func TestActivationErrors(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := handedOver(t, app, soeren)
		start := func(userID, pw string) testenv.Response {
			return citizen(t, app, "/v1/activations", map[string]string{"user_id": userID, "temporary_password": pw})
		}
		cases := []struct {
			name       string
			userID, pw string
			want       int
			code       string
		}{
			{"unknown user ID answers like a wrong password", "123456789", p.temporaryPassword, 401, "invalid_credentials"},
			{"wrong temporary password", p.userID, wrongDigits(p.temporaryPassword), 401, "invalid_credentials"},
			{"missing field", p.userID, "", 400, "invalid_request"},
		}
		for _, tc := range cases {
			res := start(tc.userID, tc.pw)
			assert.Equal(t, tc.want, res.Status, "%s: %s", tc.name, res.Body)
			assert.Equal(t, tc.code, errorCode(res), tc.name)
		}

		ok := start(p.userID, p.temporaryPassword)
		require.Equal(t, http.StatusCreated, ok.Status, string(ok.Body))
		again := start(p.userID, p.temporaryPassword)
		assert.Equal(t, ok.JSON, again.JSON, "asking again shows the same key until it is answered")
		path := "/v1/activations/" + ok.JSON["activation_id"].(string)
		code := p.code(ok.JSON["card_number"].(string), ok.JSON["key"].(string))

		policy := []struct{ name, password string }{
			{"a run", "1234"},
			{"too short", "abc12"},
			{"æøå", "Kodeørd2024"},
			{"the NemID number", "ab" + p.userID},
			{"the CPR number", "ab0101901234"},
			{"six digits, no letter", "123456"},
			{"six letters, no digit", "abcdef"},
			{"a run of four, whatever the case", "aAaA1b"},
		}
		for _, tc := range policy {
			res := citizen(t, app, path, map[string]string{"code": code, "new_password": tc.password})
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", tc.name, res.Body)
			details := res.JSON["error"].(map[string]any)["details"].([]any)
			require.NotEmpty(t, details)
			for _, d := range details {
				assert.Equal(t, "password_policy", d.(map[string]any)["code"], tc.name)
			}
		}
		unknown := citizen(t, app, "/v1/activations/00000000-0000-0000-0000-000000000000", map[string]string{"code": code, "new_password": newPassword})
		assert.Equal(t, http.StatusNotFound, unknown.Status, "an unknown challenge")
		// One wrong temporary password so far: the policy refusals did not
		// count, or the credential would be locked by now.
		done := citizen(t, app, path, map[string]string{"code": code, "new_password": newPassword})
		require.Equal(t, http.StatusOK, done.Status, "the challenge stayed open through the 422s: %s", done.Body)
		assert.Equal(t, p.userID, done.JSON["user_id"])
		replay := citizen(t, app, path, map[string]string{"code": code, "new_password": newPassword})
		assert.Equal(t, http.StatusUnauthorized, replay.Status, "a challenge answers once")
		assert.Equal(t, http.StatusConflict, start(p.userID, p.temporaryPassword).Status, "only awaiting_activation activates")
	})
}

// wrongDigits changes the last digit of a string of digits.
func wrongDigits(s string) string {
	d := (s[len(s)-1]-'0'+1)%10 + '0'
	return s[:len(s)-1] + string(rune(d))
}

func TestThreeFailuresLockUntilACaseworkerUnlocks(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := activeNemID(t, app, soeren)
		wrongPassword := map[string]string{"user_id": p.userID, "password": "Forkert2024"}
		rightPassword := map[string]string{"user_id": p.userID, "password": newPassword}

		// A success resets the count: two failures, a logon, two failures.
		for range 2 {
			assert.Equal(t, http.StatusUnauthorized, citizen(t, app, "/v1/logins", wrongPassword).Status)
		}
		logon(t, app, p)

		steps := []struct {
			name string
			do   func() testenv.Response
			want int
			code string
		}{
			{"wrong password", func() testenv.Response { return citizen(t, app, "/v1/logins", wrongPassword) }, 401, "invalid_credentials"},
			{"wrong code", func() testenv.Response {
				start := citizen(t, app, "/v1/logins", rightPassword)
				require.Equal(t, http.StatusCreated, start.Status, string(start.Body))
				path := "/v1/logins/" + start.JSON["login_id"].(string)
				code := p.code(start.JSON["card_number"].(string), start.JSON["key"].(string))
				res := citizen(t, app, path, map[string]string{"code": wrongDigits(code)})
				ended := citizen(t, app, path, map[string]string{"code": code})
				assert.Equal(t, "challenge_closed", errorCode(ended), "a wrong code ends the challenge")
				return res
			}, 401, "invalid_code"},
			{"wrong password, the third failure", func() testenv.Response { return citizen(t, app, "/v1/logins", wrongPassword) }, 401, "invalid_credentials"},
			{"locked, even with the right password", func() testenv.Response { return citizen(t, app, "/v1/logins", rightPassword) }, 423, "locked"},
			{"unknown challenge", func() testenv.Response {
				return citizen(t, app, "/v1/logins/00000000-0000-0000-0000-000000000000", map[string]string{"code": "123456"})
			}, 404, "not_found"},
		}
		for _, s := range steps {
			res := s.do()
			assert.Equal(t, s.want, res.Status, "%s: %s", s.name, res.Body)
			assert.Equal(t, s.code, errorCode(res), s.name)
		}

		unlockPath := "/v1/credentials/" + p.userID + "/unlock"
		checked := map[string]any{"cpr": soeren, "document": passport}
		refusals := []struct {
			name   string
			token  string
			path   string
			body   any
			status int
			code   string
		}{
			{"no token", "", unlockPath, checked, 401, "unauthorized"},
			{"the post provider", app.Tokens["post:post"], unlockPath, checked, 403, "forbidden"},
			{"an unknown NemID", app.Tokens["caseworker:AAR"], "/v1/credentials/123456789/unlock", checked, 404, "not_found"},
			{"no identity check at all", app.Tokens["caseworker:KBH"], unlockPath, nil, 400, "invalid_request"},
			{"no CPR", app.Tokens["caseworker:KBH"], unlockPath, map[string]any{"document": passport}, 422, "person_mismatch"},
			{"another person's CPR", app.Tokens["caseworker:KBH"], unlockPath, map[string]any{"cpr": anne, "document": passport}, 422, "person_mismatch"},
			{"an expired photo ID", app.Tokens["caseworker:KBH"], unlockPath,
				map[string]any{"cpr": soeren, "document": map[string]any{"type": "passport", "number": "P1", "expires": "2001-01-01"}}, 422, "document_expired"},
		}
		for _, r := range refusals {
			res := app.Do(t, testenv.Request{Method: "POST", Path: r.path, Token: r.token, Body: r.body})
			assert.Equal(t, r.status, res.Status, "%s: %s", r.name, res.Body)
			if r.status == http.StatusUnprocessableEntity {
				assert.Equal(t, []string{r.code}, codesOf(res), r.name)
			} else {
				assert.Equal(t, r.code, errorCode(res), r.name)
			}
		}
		assert.Equal(t, "locked", errorCode(citizen(t, app, "/v1/logins", rightPassword)), "a refused unlock lifts nothing")
		// People walk into any centre: a caseworker of another centre unlocks.
		unlock := app.Do(t, testenv.Request{Method: "POST", Path: unlockPath, Token: app.Tokens["caseworker:AAR"], Body: checked})
		require.Equal(t, http.StatusOK, unlock.Status, string(unlock.Body))
		assert.Equal(t, true, unlock.JSON["was_locked"])
		logon(t, app, p)
		timeline := status(t, app, p.issuanceID)
		assert.Equal(t, 1, countType(timeline, "unlocked"))
	})
}

func TestUnansweredLogonChallengesExpireAndCount(t *testing.T) {
	const ttl = 1500 * time.Millisecond
	opts := testenv.Options{Configure: func(c *config.Config) { c.RateLimit = 100000; c.ChallengeTTL = ttl }}
	forEachBackend(t, opts, func(t *testing.T, app *testenv.App) {
		p := activeNemID(t, app, soeren)
		right := map[string]string{"user_id": p.userID, "password": newPassword}

		// Expiry is counted lazily: answering late (1), then two left
		// unanswered and counted when the next logon starts (2, 3).
		start := citizen(t, app, "/v1/logins", right)
		require.Equal(t, http.StatusCreated, start.Status, string(start.Body))
		time.Sleep(ttl + 200*time.Millisecond)
		late := citizen(t, app, "/v1/logins/"+start.JSON["login_id"].(string),
			map[string]string{"code": p.code(start.JSON["card_number"].(string), start.JSON["key"].(string))})
		assert.Equal(t, http.StatusUnauthorized, late.Status, string(late.Body))
		assert.Equal(t, "challenge_expired", errorCode(late))

		for i := range 2 {
			res := citizen(t, app, "/v1/logins", right)
			require.Equal(t, http.StatusCreated, res.Status, "attempt %d: %s", i, res.Body)
			time.Sleep(ttl + 200*time.Millisecond)
		}
		locked := citizen(t, app, "/v1/logins", right)
		assert.Equal(t, http.StatusLocked, locked.Status, "three unanswered challenges lock: %s", locked.Body)
	})
}

func TestCitizenEndpointsAreRateLimited(t *testing.T) {
	opts := testenv.Options{Configure: func(c *config.Config) { c.RateLimit = 2 }}
	forEachBackend(t, opts, func(t *testing.T, app *testenv.App) {
		var limited testenv.Response
		for range 10 {
			res := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/support"})
			if res.Status == http.StatusTooManyRequests {
				limited = res
				break
			}
			require.Equal(t, http.StatusOK, res.Status)
		}
		require.Equal(t, http.StatusTooManyRequests, limited.Status, "a burst beyond NEMID_RATE_LIMIT")
		assert.Equal(t, "rate_limited", errorCode(limited))
		wait, err := strconv.Atoi(limited.Header.Get("Retry-After"))
		require.NoError(t, err)
		assert.GreaterOrEqual(t, wait, 1)
		staff := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances", Token: app.Tokens["admin:all"]})
		assert.Equal(t, http.StatusOK, staff.Status, "staff routes are not the citizens' limit")
	})
}

func TestSupportStatus(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		res := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/support"})
		require.Equal(t, http.StatusOK, res.Status)
		assert.Equal(t, "+45 72 24 70 50", res.JSON["phone"])
		assert.IsType(t, true, res.JSON["open_now"])
		assert.Regexp(t, `^\d\d:\d\d-\d\d:\d\d$`, res.JSON["hours_today"])
	})
}

// TestConcurrentLogonsAtTheThresholdReplaceOnce races logons across the
// 20-left boundary: the replacement is minted and queued exactly once, and
// no code is accepted twice. Mette has address protection, so the letter
// goes care of the issuing centre.
func TestConcurrentLogonsAtTheThresholdReplaceOnce(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := activeNemID(t, app, mette)
		for unspent := 147; unspent > 23; unspent-- {
			logon(t, app, p)
		}
		const workers, perWorker = 6, 2
		var mu sync.Mutex
		spent := map[string]int{}
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for done := 0; done < perWorker; {
					start := citizen(t, app, "/v1/logins", map[string]string{"user_id": p.userID, "password": newPassword})
					if start.Status != http.StatusCreated {
						t.Errorf("start: %d %s", start.Status, start.Body)
						return
					}
					card, key := start.JSON["card_number"].(string), start.JSON["key"].(string)
					res := citizen(t, app, "/v1/logins/"+start.JSON["login_id"].(string), map[string]string{"code": p.code(card, key)})
					switch {
					case res.Status == http.StatusOK:
						mu.Lock()
						spent[card+"/"+key]++
						mu.Unlock()
						done++
					case errorCode(res) != "challenge_closed": // another worker answered the shared challenge first
						t.Errorf("answer: %d %s", res.Status, res.Body)
						return
					}
				}
			}()
		}
		wg.Wait()
		for k, n := range spent {
			assert.Equal(t, 1, n, "code %s accepted once", k)
		}
		require.Len(t, spent, workers*perWorker)
		eventually(t, "the replacement letter", func() bool { return len(queuedReplacements(t, app, p.issuanceID)) >= 1 })
		time.Sleep(500 * time.Millisecond) // a second, wrong, letter would appear by now
		letters := queuedReplacements(t, app, p.issuanceID)
		require.Len(t, letters, 1, "exactly one replacement letter")
		lines := letters[0]["recipient"].(map[string]any)["lines"].([]any)
		assert.True(t, strings.HasPrefix(lines[0].(string), "c/o "), "address protection: care of the centre, got %v", lines)
		assert.Equal(t, 1, countType(status(t, app, p.issuanceID), "replacement_queued"))
		_, token := logon(t, app, p)
		cards := cardsOf(t, app, token)
		require.Len(t, cards, 2)
		assert.Equal(t, float64(23-workers*perWorker-1), cards[0]["unspent"])
		assert.Equal(t, float64(148), cards[1]["unspent"])
	})
}
