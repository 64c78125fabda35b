package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/config"
	"github.com/opennemid/nemid/internal/testenv"
)

// TestReminderThenExpiryOnTheRealServer runs the activation window with
// real durable timers, shortened: the reminder letter is queued ahead of
// the deadline — care of the centre for an address-protected person — and
// the issuance then expires with its credentials revoked.
func TestReminderThenExpiryOnTheRealServer(t *testing.T) {
	short := func(c *config.Config) { c.ActivationWindow, c.ReminderBefore = 6*time.Second, 4*time.Second }
	forEachBackend(t, testenv.Options{Configure: short}, func(t *testing.T, app *testenv.App) {
		aar := app.Tokens["caseworker:AAR"]
		body := map[string]any{"path": "counter", "cpr": "230478-1122", "centre": "AAR", "documents": []any{passport}, "check_questions_passed": true}
		res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: aar, Body: body})
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		id := res.JSON["id"].(string)
		waitForStatus(t, app, id, "awaiting_handover")
		doc := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/handover", Token: aar})
		require.Equal(t, http.StatusOK, doc.Status, string(doc.Body))
		printed := testenv.PDFText(t, doc.Body)

		var reminder map[string]any
		eventually(t, "the reminder letter", func() bool {
			for _, l := range queuedLetters(t, app) {
				if l["issuance_id"] == id && l["kind"] == "reminder" {
					reminder = l
				}
			}
			return reminder != nil
		})
		recipient := reminder["recipient"].(map[string]any)
		assert.Equal(t, "Mette Skjult Hansen", recipient["name"])
		assert.Contains(t, recipient["lines"].([]any)[0], "c/o Borgerservice Aarhus", "protected people collect later letters at the centre")
		pdf := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/letters/" + reminder["id"].(string) + "/pdf", Token: app.Tokens["post:post"]})
		text := testenv.PDFText(t, pdf.Body)
		assert.Contains(t, text, "Borgerservice Aarhus")
		assert.NotContains(t, text, "Hemmelig Vej", "never the protected address")

		expired := waitForStatus(t, app, id, "expired")
		assert.Equal(t, []string{"received", "credentials_minted", "handover_printed", "reminder_queued", "expired"}, timelineTypes(expired))
		userID := userIDPattern.FindStringSubmatch(printed)[1]
		tmp := passwordPattern.FindStringSubmatch(printed)[1]
		activation := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/activations", Body: map[string]string{"user_id": userID, "temporary_password": tmp}})
		assert.Contains(t, []int{http.StatusConflict, http.StatusUnauthorized}, activation.Status, "revoked credentials cannot be activated: %s", activation.Body)
	})
}

func queuedLetters(t *testing.T, app *testenv.App) []map[string]any {
	res := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/letters?status=queued&limit=500", Token: app.Tokens["post:post"]})
	require.Equal(t, http.StatusOK, res.Status)
	var out []map[string]any
	for _, it := range res.JSON["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}
