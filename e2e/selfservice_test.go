package e2e

import (
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/workflows"
)

// queuedOfKind lists an issuance's queued letters of one kind.
func queuedOfKind(t *testing.T, app *testenv.App, issuanceID, kind string) []map[string]any {
	t.Helper()
	res := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/letters?status=queued&limit=500", Token: app.Tokens["post:post"]})
	require.Equal(t, http.StatusOK, res.Status, string(res.Body))
	var out []map[string]any
	for _, it := range res.JSON["items"].([]any) {
		if l := it.(map[string]any); l["issuance_id"] == issuanceID && l["kind"] == kind {
			out = append(out, l)
		}
	}
	return out
}

// postOne waits for the one queued letter of a kind, reads its text as the
// provider prints it, and dispatches it.
func postOne(t *testing.T, app *testenv.App, issuanceID, kind string) (map[string]any, string) {
	t.Helper()
	eventually(t, "a "+kind+" letter", func() bool { return len(queuedOfKind(t, app, issuanceID, kind)) == 1 })
	letter := queuedOfKind(t, app, issuanceID, kind)[0]
	id := letter["id"].(string)
	pdf := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/letters/" + id + "/pdf", Token: app.Tokens["post:post"]})
	require.Equal(t, http.StatusOK, pdf.Status)
	text := testenv.PDFText(t, pdf.Body)
	sent := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/letters/" + id + "/dispatched", Token: app.Tokens["post:post"]})
	require.Equal(t, http.StatusOK, sent.Status, string(sent.Body))
	return letter, text
}

func logonStart(t *testing.T, app *testenv.App, userID, password string) testenv.Response {
	t.Helper()
	return citizen(t, app, "/v1/logins", map[string]string{"user_id": userID, "password": password})
}

// TestFromALostCardToALogonWithTheNewCard: the report blocks every card
// at once, logons answer no_card until the new card's letter is
// dispatched, then challenges come from the new card only.
func TestFromALostCardToALogonWithTheNewCard(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := activeNemID(t, app, soeren)
		first := cardPattern.FindStringSubmatch(p.text)[1]
		open := logonStart(t, app, p.userID, newPassword)
		require.Equal(t, http.StatusCreated, open.Status)

		wrong := citizen(t, app, "/v1/lost-card", map[string]string{"user_id": p.userID, "password": "Forkert123"})
		assert.Equal(t, http.StatusUnauthorized, wrong.Status)
		unknown := citizen(t, app, "/v1/lost-card", map[string]string{"user_id": "123456789", "password": newPassword})
		assert.Equal(t, http.StatusUnauthorized, unknown.Status, "an unknown user ID is a wrong password")

		lost := citizen(t, app, "/v1/lost-card", map[string]string{"user_id": p.userID, "password": newPassword})
		require.Equal(t, http.StatusOK, lost.Status, string(lost.Body))
		assert.Equal(t, map[string]any{"blocked_cards": []any{first}, "new_card_letter": true}, lost.JSON)

		answer := citizen(t, app, "/v1/logins/"+open.JSON["login_id"].(string), map[string]string{"code": p.code(first, open.JSON["key"].(string))})
		assert.Equal(t, http.StatusUnauthorized, answer.Status, "a challenge asking a key of a blocked card ended")
		for range 4 { // more than the three failures that would lock: nothing counts
			noCard := logonStart(t, app, p.userID, newPassword)
			assert.Equal(t, http.StatusConflict, noCard.Status, string(noCard.Body))
			assert.Equal(t, "no_card", errorCode(noCard))
		}

		letter, text := postOne(t, app, p.issuanceID, "replacement_card")
		assert.Equal(t, []any{"Nørregade 1"}, letter["recipient"].(map[string]any)["lines"], "to the registered address")
		p.addCard(t, text)
		second := cardPattern.FindStringSubmatch(text)[1]
		assert.NotEqual(t, first, second)

		start, token := logon(t, app, p)
		assert.Equal(t, second, start.JSON["card_number"], "keys come from the new card only")
		assert.Equal(t, []map[string]any{{"card_number": first, "status": "blocked", "unspent": float64(147)},
			{"card_number": second, "status": "active", "unspent": float64(147)}}, cardsOf(t, app, token))
		after := status(t, app, p.issuanceID)
		assert.Equal(t, 1, countType(after, "card_blocked"))
		assert.Equal(t, 1, countType(after, "replacement_queued"))
		assert.Equal(t, "active", after.JSON["status"])
		assertNoSecretsStored(t, app, text)
	})
}

// TestParallelLostCardReportsMintOneCard: however many reports arrive at
// once, one new card is minted and one letter queued.
func TestParallelLostCardReportsMintOneCard(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := activeNemID(t, app, soeren)
		servers := []string{app.URL, app.SecondAPI(t)}
		var wg sync.WaitGroup
		statuses := make([]int, 8)
		for i := range statuses {
			wg.Go(func() {
				statuses[i] = testenv.Do(t, servers[i%2], testenv.Request{Method: "POST", Path: "/v1/lost-card",
					Body: map[string]string{"user_id": p.userID, "password": newPassword}}).Status
			})
		}
		wg.Wait()
		for _, s := range statuses {
			assert.Equal(t, http.StatusOK, s)
		}
		eventually(t, "the new card's letter", func() bool { return len(queuedOfKind(t, app, p.issuanceID, "replacement_card")) == 1 })
		require.Never(t, func() bool { return len(queuedOfKind(t, app, p.issuanceID, "replacement_card")) > 1 }, 2*time.Second, 200*time.Millisecond)
		after := status(t, app, p.issuanceID)
		assert.Equal(t, 1, countType(after, "card_blocked"))
		assert.Equal(t, 1, countType(after, "replacement_queued"))
	})
}

// TestParallelExtraCardOrdersNeverExceedThree: three extra cards at most,
// decided atomically; challenges still come from the oldest card.
func TestParallelExtraCardOrdersNeverExceedThree(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := activeNemID(t, app, soeren)
		first := cardPattern.FindStringSubmatch(p.text)[1]
		_, token := logon(t, app, p)
		servers := []string{app.URL, app.SecondAPI(t)}
		var wg sync.WaitGroup
		answers := make([]testenv.Response, 9)
		for i := range answers {
			wg.Go(func() {
				answers[i] = testenv.Do(t, servers[i%2], testenv.Request{Method: "POST", Path: "/v1/me/extra-cards", Token: token})
			})
		}
		wg.Wait()
		created := 0
		for _, a := range answers {
			switch a.Status {
			case http.StatusCreated:
				created++
				assert.Equal(t, "extra_card", a.JSON["kind"])
				assert.NotEmpty(t, a.JSON["order_id"])
			default:
				assert.Equal(t, http.StatusConflict, a.Status, string(a.Body))
				assert.Equal(t, "extra_card_limit", errorCode(a))
			}
		}
		assert.Equal(t, 3, created)
		eventually(t, "three extra card letters", func() bool { return len(queuedOfKind(t, app, p.issuanceID, "extra_card")) == 3 })
		assert.Equal(t, 3, countType(status(t, app, p.issuanceID), "extra_card_queued"))
		cards := cardsOf(t, app, token)
		require.Len(t, cards, 4)
		for _, c := range cards[1:] {
			assert.Equal(t, "active", c["status"])
		}
		start, _ := logon(t, app, p)
		assert.Equal(t, first, start.JSON["card_number"], "the oldest card with unspent codes first")
		again := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/me/extra-cards", Token: token})
		assert.Equal(t, http.StatusConflict, again.Status)
	})
}

var resetPasswordPattern = regexp.MustCompile(`Temporary password: (\d{6})`)

// TestFromAForgottenPasswordToALogonWithTheNewPassword: the reset's code
// proves the card, the temporary password comes by letter, the old
// password works until the activation, which ends every session; a NemID
// locked by wrong passwords is reset and the activation lifts the lock.
func TestFromAForgottenPasswordToALogonWithTheNewPassword(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := activeNemID(t, app, soeren)
		_, token := logon(t, app, p)
		for range 3 {
			assert.Equal(t, http.StatusUnauthorized, logonStart(t, app, p.userID, "Glemt1234").Status)
		}
		assert.Equal(t, http.StatusLocked, logonStart(t, app, p.userID, newPassword).Status, "locked by wrong passwords")

		start := citizen(t, app, "/v1/password-resets", map[string]string{"user_id": p.userID})
		require.Equal(t, http.StatusCreated, start.Status, string(start.Body))
		again := citizen(t, app, "/v1/password-resets", map[string]string{"user_id": p.userID})
		assert.Equal(t, start.JSON, again.JSON, "until answered, every start shows the same card and key")
		code := p.code(start.JSON["card_number"].(string), start.JSON["key"].(string))
		done := citizen(t, app, "/v1/password-resets/"+start.JSON["reset_id"].(string), map[string]string{"code": code})
		require.Equal(t, http.StatusOK, done.Status, string(done.Body))
		assert.Equal(t, "requested", done.JSON["status"])

		letter, text := postOne(t, app, p.issuanceID, "temporary_password")
		assert.Equal(t, []any{"Nørregade 1"}, letter["recipient"].(map[string]any)["lines"])
		assert.Contains(t, text, "NemID number: "+p.userID)
		assert.Contains(t, text, "+45 72 24 70 50", "the support phone")
		temp := resetPasswordPattern.FindStringSubmatch(text)
		require.NotNil(t, temp, "the temporary password is printed")
		assertNoSecretsStored(t, app, text)

		wrongTemp := citizen(t, app, "/v1/activations", map[string]string{"user_id": p.userID, "temporary_password": wrongDigits(temp[1])})
		assert.Equal(t, http.StatusUnauthorized, wrongTemp.Status, "a wrong temporary password is a failed attempt")
		const chosen = "Nyt2kodeord"
		act := citizen(t, app, "/v1/activations", map[string]string{"user_id": p.userID, "temporary_password": temp[1]})
		require.Equal(t, http.StatusCreated, act.Status, string(act.Body))
		actCode := p.code(act.JSON["card_number"].(string), act.JSON["key"].(string))
		ok := citizen(t, app, "/v1/activations/"+act.JSON["activation_id"].(string), map[string]string{"code": actCode, "new_password": chosen})
		require.Equal(t, http.StatusOK, ok.Status, string(ok.Body))

		assert.Equal(t, http.StatusUnauthorized, me(t, app, token).Status, "the activation ended every session")
		assert.Equal(t, http.StatusUnauthorized, logonStart(t, app, p.userID, newPassword).Status, "the old password is gone")
		newStart := logonStart(t, app, p.userID, chosen)
		require.Equal(t, http.StatusCreated, newStart.Status, "the lock is lifted: %s", newStart.Body)
		fin := citizen(t, app, "/v1/logins/"+newStart.JSON["login_id"].(string),
			map[string]string{"code": p.code(newStart.JSON["card_number"].(string), newStart.JSON["key"].(string))})
		require.Equal(t, http.StatusOK, fin.Status, string(fin.Body))

		after := status(t, app, p.issuanceID)
		assert.Equal(t, "active", after.JSON["status"], "a reset does not change the issuance's status")
		assert.Equal(t, 1, countType(after, "password_reset_requested"))
		assert.Equal(t, 1, countType(after, "password_changed"))
		reused := citizen(t, app, "/v1/activations", map[string]string{"user_id": p.userID, "temporary_password": temp[1]})
		assert.NotEqual(t, http.StatusCreated, reused.Status, "the temporary password works once")
		history := app.HistoryPlaintext(t, workflows.PasswordResetWorkflowID(start.JSON["reset_id"].(string)))
		assert.NotContains(t, history, temp[1], "the temporary password never reaches the workflow")
		assert.NotContains(t, history, chosen)
	})
}

// TestDecoyResetIsIndistinguishable: an unknown NemID number gets a 201 of
// the same shape, the same key on a repeat, and its answer is the same 401
// a wrong code gets; a NemID locked by a wrong code answers 423.
func TestDecoyResetIsIndistinguishable(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := activeNemID(t, app, soeren)

		real := citizen(t, app, "/v1/password-resets", map[string]string{"user_id": p.userID})
		decoy := citizen(t, app, "/v1/password-resets", map[string]string{"user_id": "123456789"})
		require.Equal(t, http.StatusCreated, real.Status)
		require.Equal(t, http.StatusCreated, decoy.Status)
		assert.Equal(t, real.Header.Get("Cache-Control"), decoy.Header.Get("Cache-Control"))
		shape := regexp.MustCompile(`^\{"card_number":"[1-9]\d{9}","key":"\d{4}","reset_id":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"\}$`)
		assert.Regexp(t, shape, compact(real.Body))
		assert.Regexp(t, shape, compact(decoy.Body))
		decoyAgain := citizen(t, app, "/v1/password-resets", map[string]string{"user_id": "123456789"})
		assert.Equal(t, decoy.JSON, decoyAgain.JSON, "a decoy repeats its card and key like a real reset")

		decoyAnswer := citizen(t, app, "/v1/password-resets/"+decoy.JSON["reset_id"].(string), map[string]string{"code": "123456"})
		realCode := p.code(real.JSON["card_number"].(string), real.JSON["key"].(string))
		realWrong := citizen(t, app, "/v1/password-resets/"+real.JSON["reset_id"].(string), map[string]string{"code": wrongDigits(realCode)})
		assert.Equal(t, http.StatusUnauthorized, decoyAnswer.Status)
		assert.Equal(t, realWrong.Status, decoyAnswer.Status)
		assert.Equal(t, string(realWrong.Body), string(decoyAnswer.Body), "the same answer, word for word")

		for range 2 { // two more wrong codes: locked by codes
			r := citizen(t, app, "/v1/password-resets", map[string]string{"user_id": p.userID})
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			c := p.code(r.JSON["card_number"].(string), r.JSON["key"].(string))
			citizen(t, app, "/v1/password-resets/"+r.JSON["reset_id"].(string), map[string]string{"code": wrongDigits(c)})
		}
		lockedByCode := citizen(t, app, "/v1/password-resets", map[string]string{"user_id": p.userID})
		assert.Equal(t, http.StatusLocked, lockedByCode.Status, "locked by wrong codes: only a centre can help")

		// The attack the decoy must survive: start, answer wrong, start
		// again. A real reset then shows a new challenge (a new id and a
		// fresh key); a decoy that kept its key would tell that the number
		// has no NemID. And three wrong answers lock, as above.
		seen := map[string]bool{decoy.JSON["key"].(string): true}
		previous := decoy.JSON["reset_id"].(string) // answered once above
		for i := range 2 {
			next := citizen(t, app, "/v1/password-resets", map[string]string{"user_id": "123456789"})
			require.Equal(t, http.StatusCreated, next.Status, string(next.Body))
			assert.Regexp(t, shape, compact(next.Body))
			assert.NotEqual(t, previous, next.JSON["reset_id"], "a new challenge after a wrong answer")
			assert.Equal(t, decoy.JSON["card_number"], next.JSON["card_number"], "the same card")
			seen[next.JSON["key"].(string)] = true
			again := citizen(t, app, "/v1/password-resets", map[string]string{"user_id": "123456789"})
			assert.Equal(t, next.JSON, again.JSON, "until it is answered, the same challenge")
			wrong := citizen(t, app, "/v1/password-resets/"+next.JSON["reset_id"].(string), map[string]string{"code": "123456"})
			assert.Equal(t, string(realWrong.Body), string(wrong.Body), "wrong answer %d: the same 401", i+2)
			twice := citizen(t, app, "/v1/password-resets/"+next.JSON["reset_id"].(string), map[string]string{"code": "123456"})
			assert.Equal(t, http.StatusUnauthorized, twice.Status, "an answered challenge answers 401 and counts nothing")
			previous = next.JSON["reset_id"].(string)
		}
		assert.Len(t, seen, 3, "each wrong answer drew a new key")
		decoyLocked := citizen(t, app, "/v1/password-resets", map[string]string{"user_id": "123456789"})
		assert.Equal(t, http.StatusLocked, decoyLocked.Status, "three wrong answers lock a decoy too")
		assert.Equal(t, compact(lockedByCode.Body), compact(decoyLocked.Body), "the same 423, word for word")
	})
}

func compact(b []byte) string {
	return regexp.MustCompile(`\s+`).ReplaceAllString(string(b), "")
}

// TestAbroadPasswordResetIsHandedOverAtTheRepresentation: the reset's
// letter goes care of the order's representation, which hands it over
// after the document check and the fee, with the issuance's pickup route.
func TestAbroadPasswordResetIsHandedOverAtTheRepresentation(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		res := order(t, app, abroadOrder(jens, nil))
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		id := res.JSON["id"].(string)
		waitForStatus(t, app, id, "letters_posted")
		letters := postedLetters(t, app, id)
		waitForStatus(t, app, id, "awaiting_pickup")
		london := app.Tokens["embassy:LONDON"]
		pickup := func(doc string) testenv.Response {
			return app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/pickup", Token: london,
				Body: map[string]any{"document_number": doc, "fee_paid_dkk": 200, "receipt": "LON-" + doc}})
		}
		require.Equal(t, http.StatusOK, pickup("DP1234567").Status)
		p := fromLetters(t, id, letters)
		activate(t, app, p)
		waitForStatus(t, app, id, "active")
		assert.Equal(t, http.StatusConflict, pickup("DP1234567").Status, "nothing awaits a pickup")

		start := citizen(t, app, "/v1/password-resets", map[string]string{"user_id": p.userID})
		require.Equal(t, http.StatusCreated, start.Status, string(start.Body))
		done := citizen(t, app, "/v1/password-resets/"+start.JSON["reset_id"].(string),
			map[string]string{"code": p.code(start.JSON["card_number"].(string), start.JSON["key"].(string))})
		require.Equal(t, http.StatusOK, done.Status, string(done.Body))
		_, text := postOne(t, app, id, "temporary_password")
		assert.Contains(t, text, "c/o Royal Danish Embassy in London", "the reset waits at the representation")
		assert.NotContains(t, text, "Baker Street")
		temp := resetPasswordPattern.FindStringSubmatch(text)
		require.NotNil(t, temp)

		mismatch := pickup("DP7654321")
		assert.Equal(t, http.StatusUnprocessableEntity, mismatch.Status, string(mismatch.Body))
		eventually(t, "the reset awaits its pickup", func() bool { return pickup("DP1234567").Status == http.StatusOK })
		assert.Equal(t, "active", status(t, app, id).JSON["status"])
		assert.Equal(t, 2, countType(status(t, app, id), "pickup_confirmed"))

		// The reset's fee is in the ledger beside the issuance's: one each.
		var resetPickedUp any
		for _, e := range status(t, app, id).JSON["timeline"].([]any) {
			if ev := e.(map[string]any); ev["type"] == "pickup_confirmed" {
				resetPickedUp = ev["at"]
			}
		}
		feeLedger := func() testenv.Response {
			res := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/fees", Token: london})
			require.Equal(t, http.StatusOK, res.Status, string(res.Body))
			return res
		}
		fees := feeLedger()
		assert.Equal(t, float64(2), fees.JSON["count"], "the issuance's fee and the reset's")
		assert.Equal(t, float64(400), fees.JSON["total_dkk"])
		require.Len(t, fees.JSON["items"], 2)
		for _, it := range fees.JSON["items"].([]any) {
			entry := it.(map[string]any)
			assert.Equal(t, id, entry["issuance_id"])
			assert.Equal(t, "LONDON", entry["representation"])
			assert.Equal(t, float64(200), entry["amount_dkk"])
			assert.Equal(t, "LON-DP1234567", entry["receipt"])
			assert.Equal(t, "embassy:LONDON", entry["actor_name"])
		}
		assert.Equal(t, resetPickedUp, fees.JSON["items"].([]any)[0].(map[string]any)["at"], "newest first: the reset's, paid when its pickup was confirmed")
		assert.Equal(t, http.StatusConflict, pickup("DP1234567").Status, "the reset was handed over: nothing awaits a pickup")
		assert.Equal(t, float64(2), feeLedger().JSON["count"], "a repeated confirmation records no second fee")
		audit := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/audit?action=pickup_confirmed", Token: app.Tokens["admin:all"]})
		require.Equal(t, http.StatusOK, audit.Status, string(audit.Body))
		require.Len(t, audit.JSON["items"], 2, "both pickups are audited")
		for _, it := range audit.JSON["items"].([]any) {
			assert.Equal(t, "issuance:"+id, it.(map[string]any)["target"])
		}

		act := citizen(t, app, "/v1/activations", map[string]string{"user_id": p.userID, "temporary_password": temp[1]})
		require.Equal(t, http.StatusCreated, act.Status, string(act.Body))
		ok := citizen(t, app, "/v1/activations/"+act.JSON["activation_id"].(string),
			map[string]string{"code": p.code(act.JSON["card_number"].(string), act.JSON["key"].(string)), "new_password": "Abroad2reset"})
		require.Equal(t, http.StatusOK, ok.Status, string(ok.Body))
		assert.Equal(t, http.StatusCreated, logonStart(t, app, p.userID, "Abroad2reset").Status)
	})
}

// TestBlockDuringAPendingReset: a NemID blocked while its reset's letter
// travels refuses the reset's temporary password (423 blocked, nothing
// checked or counted); after a centre unblocks it the reset still works.
// A lost-card report and a new reset of a blocked NemID are refused too.
func TestBlockDuringAPendingReset(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := activeNemID(t, app, soeren)
		start := citizen(t, app, "/v1/password-resets", map[string]string{"user_id": p.userID})
		require.Equal(t, http.StatusCreated, start.Status, string(start.Body))
		code := p.code(start.JSON["card_number"].(string), start.JSON["key"].(string))
		done := citizen(t, app, "/v1/password-resets/"+start.JSON["reset_id"].(string), map[string]string{"code": code})
		require.Equal(t, http.StatusOK, done.Status, string(done.Body))
		_, text := postOne(t, app, p.issuanceID, "temporary_password")
		temp := resetPasswordPattern.FindStringSubmatch(text)
		require.NotNil(t, temp, "the temporary password is printed")

		block := staff(t, app, "caseworker:AAR", "POST", "/v1/credentials/"+p.userID+"/block", map[string]any{"reason": "reported stolen"})
		require.Equal(t, http.StatusOK, block.Status, string(block.Body))
		refused := []struct {
			name string
			res  testenv.Response
		}{
			{"the reset's temporary password", citizen(t, app, "/v1/activations", map[string]string{"user_id": p.userID, "temporary_password": temp[1]})},
			{"a wrong temporary password", citizen(t, app, "/v1/activations", map[string]string{"user_id": p.userID, "temporary_password": wrongDigits(temp[1])})},
			{"a new reset", citizen(t, app, "/v1/password-resets", map[string]string{"user_id": p.userID})},
			{"a lost-card report", citizen(t, app, "/v1/lost-card", map[string]string{"user_id": p.userID, "password": newPassword})},
		}
		for _, r := range refused {
			assert.Equal(t, http.StatusLocked, r.res.Status, "%s: %s", r.name, r.res.Body)
			assert.Equal(t, "blocked", errorCode(r.res), r.name)
		}
		assert.Zero(t, failedAttempts(t, app, p.userID).FailedAttempts, "a block checks and counts nothing")

		unblock := staff(t, app, "caseworker:KBH", "POST", "/v1/credentials/"+p.userID+"/unblock", map[string]any{"cpr": soeren, "document": photoID})
		require.Equal(t, http.StatusOK, unblock.Status, string(unblock.Body))
		act := citizen(t, app, "/v1/activations", map[string]string{"user_id": p.userID, "temporary_password": temp[1]})
		require.Equal(t, http.StatusCreated, act.Status, "the reset outlives the block: %s", act.Body)
	})
}

// TestRevocationEndsAPendingReset: when the person activates a newer NemID,
// the old one is revoked and its open reset ends with it: the reset's
// letter, still in the post, is withdrawn (its PDF gone, a dispatch 410)
// and its temporary password opens nothing.
func TestRevocationEndsAPendingReset(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		old := activeNemID(t, app, soeren)
		start := citizen(t, app, "/v1/password-resets", map[string]string{"user_id": old.userID})
		require.Equal(t, http.StatusCreated, start.Status, string(start.Body))
		code := old.code(start.JSON["card_number"].(string), start.JSON["key"].(string))
		require.Equal(t, http.StatusOK, citizen(t, app, "/v1/password-resets/"+start.JSON["reset_id"].(string), map[string]string{"code": code}).Status)
		eventually(t, "the reset's letter", func() bool { return len(queuedOfKind(t, app, old.issuanceID, "temporary_password")) == 1 })
		letterPath := "/v1/letters/" + queuedOfKind(t, app, old.issuanceID, "temporary_password")[0]["id"].(string)
		pdf := app.Do(t, testenv.Request{Method: "GET", Path: letterPath + "/pdf", Token: app.Tokens["post:post"]})
		require.Equal(t, http.StatusOK, pdf.Status)
		temp := resetPasswordPattern.FindStringSubmatch(testenv.PDFText(t, pdf.Body))
		require.NotNil(t, temp)

		activeNemID(t, app, soeren) // a new NemID replaces the old one
		assert.Equal(t, "revoked", credentialStatus(t, app, old.issuanceID))
		sent := app.Do(t, testenv.Request{Method: "POST", Path: letterPath + "/dispatched", Token: app.Tokens["post:post"]})
		assert.Equal(t, http.StatusGone, sent.Status, "a withdrawn letter is not posted: %s", sent.Body)
		assert.Equal(t, "withdrawn", errorCode(sent))
		assert.Equal(t, http.StatusGone, app.Do(t, testenv.Request{Method: "GET", Path: letterPath + "/pdf", Token: app.Tokens["post:post"]}).Status)
		act := citizen(t, app, "/v1/activations", map[string]string{"user_id": old.userID, "temporary_password": temp[1]})
		assert.NotEqual(t, http.StatusCreated, act.Status, "a revoked NemID's reset opens nothing: %s", act.Body)
	})
}
