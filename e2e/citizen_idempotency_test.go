package e2e

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
)

// TestCitizenIdempotencyKeys: DESIGN.md §4 — an Idempotency-Key on any POST
// answers the first answer again, except an answer that carried a token (a
// session token, a booking's reference), whose replay answers 410. A client
// retrying a wrong password with its key hears the first 401 and counts no
// further attempt (it used to lock the NemID on the third retry); a key is a
// session's own, so two sessions behind one address never answer each
// other; an answer to a session's request is never cached (§9).
func TestCitizenIdempotencyKeys(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := activeNemID(t, app, soeren)
		keyed := func(path, key, token string, body any) testenv.Response {
			return app.Do(t, testenv.Request{Method: "POST", Path: path, Token: token, Body: body,
				Header: map[string]string{"Idempotency-Key": key}})
		}
		replayed := func(r testenv.Response) bool { return r.Header.Get("Idempotent-Replayed") == "true" }

		wrong := map[string]string{"user_id": p.userID, "password": "Forkert2024"}
		first := keyed("/v1/logins", "wrong-1", "", wrong)
		require.Equal(t, http.StatusUnauthorized, first.Status, string(first.Body))
		for range 3 {
			again := keyed("/v1/logins", "wrong-1", "", wrong)
			assert.Equal(t, http.StatusUnauthorized, again.Status, "a retry hears the first answer, not 423")
			assert.True(t, replayed(again))
			assert.Equal(t, string(first.Body), string(again.Body))
		}
		other := keyed("/v1/logins", "wrong-1", "", map[string]string{"user_id": p.userID, "password": newPassword})
		assert.Equal(t, http.StatusUnprocessableEntity, other.Status, "the same key for another request")
		assert.Equal(t, "idempotency_key_reused", errorCode(other))

		// One failure was counted, not four: the right password still logs on.
		start := keyed("/v1/logins", "start-1", "", map[string]string{"user_id": p.userID, "password": newPassword})
		require.Equal(t, http.StatusCreated, start.Status, string(start.Body))
		startAgain := keyed("/v1/logins", "start-1", "", map[string]string{"user_id": p.userID, "password": newPassword})
		assert.Equal(t, http.StatusCreated, startAgain.Status)
		assert.JSONEq(t, string(start.Body), string(startAgain.Body), "a challenge is answered again as it was")

		answer := map[string]string{"code": p.code(start.JSON["card_number"].(string), start.JSON["key"].(string))}
		done := keyed("/v1/logins/"+start.JSON["login_id"].(string), "answer-1", "", answer)
		require.Equal(t, http.StatusOK, done.Status, string(done.Body))
		assert.Equal(t, "no-store", done.Header.Get("Cache-Control"))
		sessionA := done.JSON["session_token"].(string)
		doneAgain := keyed("/v1/logins/"+start.JSON["login_id"].(string), "answer-1", "", answer)
		assert.Equal(t, http.StatusGone, doneAgain.Status, "a session token is shown once: its key's replay is 410")
		assert.NotContains(t, string(doneAgain.Body), sessionA)

		mine := me(t, app, sessionA)
		require.Equal(t, http.StatusOK, mine.Status, string(mine.Body))
		assert.Equal(t, "no-store", mine.Header.Get("Cache-Control"), "a session's answer is the person's own")

		// Two sessions, one address, one key: each logs out its own.
		_, sessionB := logon(t, app, p)
		outA := keyed("/v1/logout", "out", sessionA, nil)
		require.Equal(t, http.StatusOK, outA.Status, string(outA.Body))
		outB := keyed("/v1/logout", "out", sessionB, nil)
		require.Equal(t, http.StatusOK, outB.Status, string(outB.Body))
		assert.False(t, replayed(outB), "another session's key space")
		assert.Equal(t, http.StatusUnauthorized, me(t, app, sessionB).Status, "B's logout ended B's session")
		outAgain := keyed("/v1/logout", "out", sessionA, nil)
		assert.Equal(t, http.StatusOK, outAgain.Status, "a retried logout hears its first answer")
		assert.True(t, replayed(outAgain))

		// A booking's answer names its reference (kept only hashed): a
		// retry with the key answers 410 and books nothing more.
		openTestCentre(t, app, 1)
		slot := nextSlots(t, app.URL)[0].(map[string]any)["start"].(string)
		body := bookingBody("1210701234", slot, "idem@example.dk")
		booked := keyed("/v1/bookings", "book-1", "", body)
		require.Equal(t, http.StatusCreated, booked.Status, string(booked.Body))
		rebooked := keyed("/v1/bookings", "book-1", "", body)
		assert.Equal(t, http.StatusGone, rebooked.Status, string(rebooked.Body))
		assert.NotContains(t, string(rebooked.Body), booked.JSON["reference"].(string))
		assert.NotContains(t, freeAt(t, app.URL), slot, "the one desk holds the first booking")
	})
}
