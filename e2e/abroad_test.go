package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/config"
	"github.com/opennemid/nemid/internal/testenv"
)

// jens lives in London per the demo register, with Danish passport DP1234567.
const jens = "2007884112"

func abroadOrder(cpr string, mutate func(map[string]any)) map[string]any {
	o := map[string]any{"path": "abroad", "cpr": cpr,
		"document":       map[string]any{"type": "danish_passport", "number": "DP1234567"},
		"address":        map[string]any{"lines": []string{"221B Baker Street"}, "postcode": "NW1 6XE", "city": "London", "country": "GB"},
		"representation": "LONDON"}
	if mutate != nil {
		mutate(o)
	}
	return o
}

// order posts an abroad order without a token, as the person does online.
func order(t *testing.T, app *testenv.App, body any) testenv.Response {
	t.Helper()
	return app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Body: body})
}

func TestAbroadOrderPickupAndActivation(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		res := order(t, app, abroadOrder(jens, nil))
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		assert.Equal(t, "abroad", res.JSON["path"])
		assert.Equal(t, "LONDON", res.JSON["representation"])
		assert.Equal(t, true, res.JSON["public_signature"])
		assert.Equal(t, "citizen:online", res.JSON["timeline"].([]any)[0].(map[string]any)["actor"])
		id := res.JSON["id"].(string)
		waitForStatus(t, app, id, "letters_posted")

		letters := postedLetters(t, app, id)
		require.Len(t, letters, 2)
		card, password := letters["code_card"], letters["password"]
		assert.Contains(t, card, "221B Baker Street", "the code card goes to the order's address")
		assert.Contains(t, card, "Jens Udlandsdansker")
		assert.NotContains(t, card, "Embassy")
		assert.Contains(t, password, "c/o Royal Danish Embassy in London", "the password waits at the representation")
		assert.Contains(t, password, "55 Sloane Street")
		assert.NotContains(t, password, "Baker Street")
		assert.Empty(t, pairPattern.FindAllString(password, -1))
		waiting := waitForStatus(t, app, id, "awaiting_pickup")
		assert.NotNil(t, waiting.JSON["deadline"])

		london := app.Tokens["embassy:LONDON"]
		list := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances?status=awaiting_pickup", Token: london})
		require.Equal(t, http.StatusOK, list.Status)
		require.NotEmpty(t, list.JSON["items"])
		assert.Equal(t, id, list.JSON["items"].([]any)[0].(map[string]any)["id"], "the embassy lists the pickup it holds")
		assert.Equal(t, http.StatusNotFound, app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances/" + id,
			Token: app.Tokens["caseworker:KBH"]}).Status)

		pickup := func(token string, body any, key string) testenv.Response {
			r := testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/pickup", Token: token, Body: body}
			if key != "" {
				r.Header = map[string]string{"Idempotency-Key": key}
			}
			return app.Do(t, r)
		}
		body := func(doc string, fee int, receipt string) map[string]any {
			return map[string]any{"document_number": doc, "fee_paid_dkk": fee, "receipt": receipt}
		}
		refused := []struct {
			name   string
			token  string
			body   any
			status int
			codes  []string
		}{
			{"another document", london, body("DP7654321", 200, "R-1"), 422, []string{"pickup_document_mismatch"}},
			{"too little paid", london, body("DP1234567", 150, "R-1"), 422, []string{"fee_too_low"}},
			{"both", london, body("X", 0, "R-1"), 422, []string{"fee_too_low", "pickup_document_mismatch"}},
			{"no receipt", london, body("DP1234567", 200, ""), 400, nil},
			{"no fee", london, map[string]any{"document_number": "DP1234567", "receipt": "R-1"}, 400, nil},
			{"a caseworker", app.Tokens["caseworker:KBH"], body("DP1234567", 200, "R-1"), 403, nil},
			{"no token", "", body("DP1234567", 200, "R-1"), 401, nil},
		}
		for _, tc := range refused {
			got := pickup(tc.token, tc.body, "")
			require.Equal(t, tc.status, got.Status, "%s: %s", tc.name, got.Body)
			if tc.codes != nil {
				assert.Equal(t, tc.codes, codesOf(got), tc.name)
			}
		}

		done := pickup(london, body("dp 123-4567", 200, "LON-0001"), "pickup-1")
		require.Equal(t, http.StatusOK, done.Status, string(done.Body))
		assert.Equal(t, "awaiting_activation", done.JSON["status"])
		tl := done.JSON["timeline"].([]any)
		last := tl[len(tl)-1].(map[string]any)
		assert.Equal(t, "pickup_confirmed", last["type"])
		assert.Equal(t, "embassy:LONDON", last["actor"])
		assert.Contains(t, last["detail"], "DKK 200")
		assert.Contains(t, last["detail"], "LON-0001")
		retried := pickup(london, body("dp 123-4567", 200, "LON-0001"), "pickup-1")
		assert.Equal(t, http.StatusOK, retried.Status, "a retry with the same Idempotency-Key answers the first answer")
		assert.Equal(t, http.StatusConflict, pickup(london, body("DP1234567", 200, "LON-0002"), "").Status, "a second pickup")
		fee, err := app.Store.FeeOf(context.Background(), id)
		require.NoError(t, err)
		assert.Equal(t, 200, fee.AmountDKK)
		assert.Equal(t, "LON-0001", fee.Receipt)
		assert.Equal(t, "LONDON", fee.Representation)
		assert.Equal(t, 1, countType(status(t, app, id), "pickup_confirmed"))
		fees := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/fees", Token: london})
		require.Equal(t, http.StatusOK, fees.Status, string(fees.Body))
		assert.Equal(t, float64(200), fees.JSON["total_dkk"], "the embassy's ledger holds the fee")
		assert.Equal(t, float64(1), fees.JSON["count"])
		entry := fees.JSON["items"].([]any)[0].(map[string]any)
		assert.Equal(t, id, entry["issuance_id"])
		assert.Equal(t, "LON-0001", entry["receipt"])
		assert.Equal(t, last["at"], entry["at"], "paid when the pickup was confirmed")
		assert.Equal(t, "embassy:LONDON", entry["actor_name"], "the confirming token's name")

		activate(t, app, fromLetters(t, id, letters))
		waitForStatus(t, app, id, "active")
		assertCountsAreTheList(t, app)
		for _, text := range letters {
			assertNoSecretsStored(t, app, text)
		}
		for _, row := range strings.Split(app.DumpDatabase(t), "\n") {
			if !strings.HasPrefix(row, "persons ") { // the register holds it; the order keeps only a MAC
				assert.False(t, strings.Contains(strings.ToUpper(row), "DP1234567"), "the document number is stored: %.200s", row)
			}
		}
		assert.False(t, strings.Contains(app.LogText(), "DP1234567"), "the document number is logged")
	})
}

func TestAbroadAcceptanceRules(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		set := func(key string, v any) func(map[string]any) { return func(o map[string]any) { o[key] = v } }
		cases := []struct {
			name   string
			body   any
			status int
			codes  []string
		}{
			{"lives in Denmark (and no register oracle)", abroadOrder(soeren, nil), 422, []string{"abroad_document_mismatch"}},
			{"another passport number", abroadOrder(jens, set("document", map[string]any{"type": "danish_passport", "number": "DP0000000"})),
				422, []string{"abroad_document_mismatch"}},
			{"not a Danish document", abroadOrder(jens, set("document", map[string]any{"type": "passport", "number": "DP1234567", "expires": "2099-01-01"})),
				422, []string{"abroad_document_mismatch"}},
			{"a representation in another country", abroadOrder(jens, set("representation", "PARIS")), 422, []string{"representation_country"}},
			{"an unknown representation", abroadOrder(jens, set("representation", "OSLO")), 422, []string{"representation_unknown"}},
			{"the card to a Danish address", abroadOrder(jens, set("address", map[string]any{"lines": []string{"Nørregade 1"}, "postcode": "1165", "city": "København K", "country": "DK"})),
				422, []string{"not_abroad"}},
			{"deceased (and no register oracle)", abroadOrder("0303504321", nil), 422, []string{"abroad_document_mismatch"}},
			{"no address", abroadOrder(jens, func(o map[string]any) { delete(o, "address") }), 400, nil},
			{"no document", abroadOrder(jens, func(o map[string]any) { delete(o, "document") }), 400, nil},
			{"an address without lines", abroadOrder(jens, set("address", map[string]any{"lines": []string{}, "city": "London", "country": "GB"})), 400, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := order(t, app, tc.body)
				require.Equal(t, tc.status, got.Status, string(got.Body))
				if tc.codes != nil {
					assert.Equal(t, tc.codes, codesOf(got))
				}
			})
		}

		camilla := abroadOrder("1108795221", func(o map[string]any) {
			o["document"] = map[string]any{"type": "danish_driving_licence", "number": "DL7654321"}
			o["address"] = map[string]any{"lines": []string{"12 Rue de Rivoli"}, "postcode": "75001", "city": "Paris", "country": "FR"}
			o["representation"] = "PARIS"
		})
		first := order(t, app, camilla)
		require.Equal(t, http.StatusCreated, first.Status, string(first.Body))
		again := order(t, app, camilla)
		require.Equal(t, http.StatusConflict, again.Status, string(again.Body))
		assert.Equal(t, first.JSON["id"], again.JSON["error"].(map[string]any)["issuance_id"])
		assert.Equal(t, http.StatusNotFound, app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances/" + first.JSON["id"].(string),
			Token: app.Tokens["embassy:LONDON"]}).Status, "London does not see Paris's pickups")
	})
}

// Anonymous orders are limited per client address, like the citizen routes.
func TestAnonymousOrdersAreRateLimited(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), testenv.Options{Configure: func(c *config.Config) { c.RateLimit = 1 }})
	var limited testenv.Response
	for range 5 {
		if got := order(t, app, abroadOrder(soeren, nil)); got.Status == http.StatusTooManyRequests {
			limited = got
			break
		}
	}
	require.Equal(t, http.StatusTooManyRequests, limited.Status)
	assert.NotEmpty(t, limited.Header.Get("Retry-After"))
	signedIn := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: app.Tokens["admin:all"], Body: abroadOrder(soeren, nil)})
	assert.Equal(t, http.StatusUnprocessableEntity, signedIn.Status, "a signed-in caller is not limited as anonymous")
}
