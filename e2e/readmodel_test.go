package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// staffPrincipals are the app's tokens that read issuances.
var staffPrincipals = []string{"caseworker:KBH", "caseworker:AAR", "embassy:LONDON", "bank:1234", "admin:all"}

// assertCountsAreTheList holds GET /v1/issuances/counts to what the list
// shows, for every staff principal: the statuses of every page, tallied.
func assertCountsAreTheList(t *testing.T, app *testenv.App) {
	t.Helper()
	for _, who := range staffPrincipals {
		listed := map[string]float64{}
		var total float64
		cursor := ""
		for {
			path := "/v1/issuances?limit=500"
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			page := app.Do(t, testenv.Request{Method: "GET", Path: path, Token: app.Tokens[who]})
			require.Equal(t, http.StatusOK, page.Status, "%s", page.Body)
			for _, it := range page.JSON["items"].([]any) {
				listed[it.(map[string]any)["status"].(string)]++
				total++
			}
			next, _ := page.JSON["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		counts := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances/counts", Token: app.Tokens[who]})
		require.Equal(t, http.StatusOK, counts.Status, "%s", counts.Body)
		got := counts.JSON["counts"].(map[string]any)
		require.Len(t, got, len(workflows.Statuses()), "every status is answered")
		for _, st := range workflows.Statuses() {
			assert.Equal(t, listed[st], got[st], "%s: %s", who, st)
		}
		assert.Equal(t, total, counts.JSON["total"], "%s: total", who)
	}
}

// searchByCPR answers the ids a principal's search by CPR finds, newest
// first, following next_cursor with pages of limit, and how many requests
// that took.
func searchByCPR(t *testing.T, app *testenv.App, who, cpr string, limit int) ([]string, int) {
	t.Helper()
	var ids []string
	cursor := ""
	for calls := 1; ; calls++ {
		body := map[string]any{"cpr": cpr, "limit": limit}
		if cursor != "" {
			body["cursor"] = cursor
		}
		res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/search", Token: app.Tokens[who], Body: body})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		for _, it := range res.JSON["items"].([]any) {
			ids = append(ids, it.(map[string]any)["id"].(string))
		}
		next, _ := res.JSON["next_cursor"].(string)
		if next == "" {
			return ids, calls
		}
		cursor = next
	}
}

// TestCountsAndSearchFollowTheFlows: through a counter issuance handed over
// and another cancelled, a bank issuance in the post and an abroad order,
// the counts of every principal equal its list, and a search by CPR finds
// a person's issuances within the searcher's scope, newest first, audited
// under the CPR's lookup hash (never the CPR).
func TestCountsAndSearchFollowTheFlows(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		admin := app.Tokens["admin:all"]
		assertCountsAreTheList(t, app)

		first := create(t, app, soeren)
		require.Equal(t, http.StatusCreated, first.Status, "%s", first.Body)
		firstID := first.JSON["id"].(string)
		waitForStatus(t, app, firstID, "awaiting_handover")
		assertCountsAreTheList(t, app)
		cancel := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + firstID + "/cancel", Token: admin,
			Body: map[string]any{"reason": "applied twice"}})
		require.Equal(t, http.StatusOK, cancel.Status, "%s", cancel.Body)
		waitForStatus(t, app, firstID, "cancelled")

		second := create(t, app, soeren)
		require.Equal(t, http.StatusCreated, second.Status, "%s", second.Body)
		secondID := second.JSON["id"].(string)
		waitForStatus(t, app, secondID, "awaiting_handover")
		handover := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + secondID + "/handover", Token: app.Tokens["caseworker:KBH"]})
		require.Equal(t, http.StatusOK, handover.Status, "%s", handover.Body)
		waitForStatus(t, app, secondID, "awaiting_activation")

		bank := createAtBank(t, app, bankBody(anne, true))
		require.Equal(t, http.StatusCreated, bank.Status, "%s", bank.Body)
		bankID := bank.JSON["id"].(string)
		waitForStatus(t, app, bankID, "letters_posted")

		abroad := order(t, app, abroadOrder(jens, nil))
		require.Equal(t, http.StatusCreated, abroad.Status, "%s", abroad.Body)
		abroadID := abroad.JSON["id"].(string)
		waitForStatus(t, app, abroadID, "letters_posted")
		assertCountsAreTheList(t, app)

		counts := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances/counts", Token: admin})
		assert.Equal(t, map[string]any{"received": 0.0, "rejected": 0.0, "letters_posted": 2.0, "awaiting_handover": 0.0,
			"awaiting_pickup": 0.0, "awaiting_activation": 1.0, "active": 0.0, "expired": 0.0, "cancelled": 1.0}, counts.JSON["counts"])
		assert.Equal(t, 4.0, counts.JSON["total"])
		narrowed := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances/counts?path=bank", Token: app.Tokens["caseworker:AAR"]})
		require.Equal(t, http.StatusOK, narrowed.Status, "%s", narrowed.Body)
		assert.Equal(t, 1.0, narrowed.JSON["total"], "a caseworker of another centre counts the bank issuance only")

		searches := []struct {
			who, cpr string
			want     []string
		}{
			{"caseworker:KBH", soeren, []string{secondID, firstID}},
			{"caseworker:KBH", "0101901234", []string{secondID, firstID}}, // without the dash
			{"caseworker:AAR", soeren, nil},                               // another centre's counter issuances
			{"caseworker:AAR", anne, []string{bankID}},                    // but every bank-path issuance
			{"embassy:LONDON", jens, []string{abroadID}},
			{"embassy:LONDON", soeren, nil},
			{"bank:1234", anne, []string{bankID}},
			{"admin:all", soeren, []string{secondID, firstID}},
			{"admin:all", "2511750000", nil}, // a valid number nobody applied with
		}
		requests := map[string]int{} // audit target → searches sent
		for _, s := range searches {
			for _, limit := range []int{1, 50} {
				got, calls := searchByCPR(t, app, s.who, s.cpr, limit)
				assert.Equal(t, s.want, got, "%s searching %s, pages of %d", s.who, s.cpr[:6], limit)
				requests[store.PersonTarget(lookupHash(t, app, s.cpr))] += calls
			}
		}
		invalid := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/search", Token: admin, Body: map[string]any{"cpr": "3213991234"}})
		assert.Equal(t, http.StatusUnprocessableEntity, invalid.Status)
		assert.Equal(t, []string{"cpr_invalid"}, codesOf(invalid))
		missing := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/search", Token: admin, Body: map[string]any{}})
		assert.Equal(t, http.StatusBadRequest, missing.Status)
		inURL := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances/search?cpr=0101901234", Token: admin})
		assert.NotEqual(t, http.StatusOK, inURL.Status, "a CPR in a URL finds nothing")

		// Every search that ran is audited once, naming the person by the
		// lookup hash; no entry carries a CPR.
		audit := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/audit?action=issuances_searched&limit=500", Token: admin})
		require.Equal(t, http.StatusOK, audit.Status, "%s", audit.Body)
		searched := map[string]int{}
		for _, it := range audit.JSON["items"].([]any) {
			e := it.(map[string]any)
			searched[e["target"].(string)]++
			assert.NotContains(t, e["target"], "0101901234")
			assert.NotContains(t, e["target"], "010190")
		}
		assert.Equal(t, requests, searched, "one entry per search request, the invalid one none")
		assert.Len(t, searched, 4, "Søren, Anne, Jens and the person nobody applied for")
		for target := range searched {
			assert.True(t, strings.HasPrefix(target, "person:"), target)
		}
	})
}
