package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/testenv"
)

// importHEL adds a centre the built-in list does not have, as `nemid
// centres import` would, open around the clock so a slot is minutes away.
func importHEL(t *testing.T, app *testenv.App) {
	t.Helper()
	all := "00:00-23:59"
	hel := domain.ServiceCentre{Code: "HEL", Name: "Borgerservice Helsingør", Kind: domain.CentreCitizenService,
		Address: "Helsingør Rådhus, Stengade 59", Postcode: "3000", City: "Helsingør",
		Hours: [7]string{all, all, all, all, all, all, all}, SlotMinutes: 15, Desks: 2}
	require.NoError(t, app.Store.UpsertCentres(context.Background(), []domain.ServiceCentre{hel}))
}

// TestAnImportedCentreWorksEndToEnd: a centre `nemid centres import`
// added is a centre like the built-in ones. An admin creates a caseworker
// token for it; its caseworker applies at the counter there (and checks a
// booked person in there), the issuances reach awaiting_handover; and an
// address-protected person's later letter (a lost card's replacement) goes
// care of it.
func TestAnImportedCentreWorksEndToEnd(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		none := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/tokens", Token: app.Tokens["admin:all"],
			Body: map[string]any{"role": "caseworker", "scope": "HEL"}})
		require.Equal(t, http.StatusUnprocessableEntity, none.Status, "no centre HEL yet: %s", none.Body)
		importHEL(t, app)
		_, hel := newToken(t, app, map[string]any{"role": "caseworker", "scope": "HEL", "name": "Helle Holm"})

		// At the counter: Mette has address protection, so it is a handover.
		body := counterBody(mette)
		body["centre"] = "HEL"
		res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: hel, Body: body})
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		id := res.JSON["id"].(string)
		assert.Equal(t, "HEL", res.JSON["centre"])
		waitForStatus(t, app, id, "awaiting_handover")
		doc := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/handover", Token: hel})
		require.Equal(t, http.StatusOK, doc.Status, string(doc.Body))
		text := testenv.PDFText(t, doc.Body)
		p := printed{issuanceID: id, codes: map[string]string{}, text: text}
		p.userID = userIDPattern.FindStringSubmatch(text)[1]
		p.temporaryPassword = passwordPattern.FindStringSubmatch(text)[1]
		p.addCard(t, text)
		waitForStatus(t, app, id, "awaiting_activation")
		activate(t, app, p)
		waitForStatus(t, app, id, "active")

		// Her later letters wait at the centre that issued: HEL.
		lost := citizen(t, app, "/v1/lost-card", map[string]string{"user_id": p.userID, "password": newPassword})
		require.Equal(t, http.StatusOK, lost.Status, string(lost.Body))
		_, letter := postOne(t, app, id, "replacement_card")
		assert.Contains(t, letter, "c/o Borgerservice Helsingør")
		assert.Contains(t, letter, "Stengade 59")
		assert.Contains(t, letter, "3000")

		// A booking at HEL, checked in there.
		today := domain.DateOf(time.Now())
		slots := app.Do(t, testenv.Request{Method: "GET", Path: fmt.Sprintf("/v1/centres/HEL/slots?from=%s&to=%s", today, today.AddDays(1))})
		require.Equal(t, http.StatusOK, slots.Status, string(slots.Body))
		items := slots.JSON["items"].([]any)
		if len(items) == 0 {
			t.Skip("today and tomorrow are both public holidays: no slots")
		}
		start := items[0].(map[string]any)["start"].(string)
		booking := bookingBody(soeren, start, "soeren@example.dk")
		booking["centre"] = "HEL"
		booked := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/bookings", Body: booking})
		require.Equal(t, http.StatusCreated, booked.Status, string(booked.Body))
		note := outbox(t, app, "booking_confirmation", "soeren@example.dk")
		m := codePattern.FindStringSubmatch(note["text"].(string))
		require.NotNil(t, m, note["text"])
		ok := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/bookings/" + booked.JSON["reference"].(string) + "/confirm", Body: map[string]any{"code": m[1]}})
		require.Equal(t, http.StatusOK, ok.Status, string(ok.Body))
		day := domain.DateOf(mustTime(t, start)).String()
		list := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/appointments?date=" + day, Token: hel})
		require.Equal(t, http.StatusOK, list.Status, string(list.Body))
		require.Len(t, list.JSON["items"], 1)
		appt := list.JSON["items"].([]any)[0].(map[string]any)
		checkIn := map[string]any{"documents": []map[string]any{{"type": "passport", "number": "X123", "expires": "2031-05-01"}}, "check_questions_passed": true}
		in := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/appointments/" + appt["id"].(string) + "/check-in", Token: hel, Body: checkIn})
		require.Equal(t, http.StatusCreated, in.Status, string(in.Body))
		assert.Equal(t, "HEL", in.JSON["centre"])
		waitForStatus(t, app, in.JSON["id"].(string), "awaiting_handover")
	})
}
