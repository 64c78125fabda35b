package e2e

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
)

const anne = "1502854321"

func bankBody(cpr string, photoIDShown bool) map[string]any {
	return map[string]any{"path": "bank", "cpr": cpr, "bank": "1234", "agreement_id": "A-1", "photo_id_shown": photoIDShown}
}

func createAtBank(t *testing.T, app *testenv.App, body any) testenv.Response {
	t.Helper()
	return app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: app.Tokens["bank:1234"], Body: body})
}

// postedLetters fetches the queued letters of one issuance by kind, with
// their printed text, and dispatches them as the post provider would.
func postedLetters(t *testing.T, app *testenv.App, issuanceID string) map[string]string {
	t.Helper()
	post := app.Tokens["post:post"]
	queue := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/letters?status=queued&limit=500", Token: post})
	require.Equal(t, http.StatusOK, queue.Status, string(queue.Body))
	texts := map[string]string{}
	for _, it := range queue.JSON["items"].([]any) {
		l := it.(map[string]any)
		if l["issuance_id"] != issuanceID {
			continue
		}
		path := "/v1/letters/" + l["id"].(string)
		pdf := app.Do(t, testenv.Request{Method: "GET", Path: path + "/pdf", Token: post})
		require.Equal(t, http.StatusOK, pdf.Status)
		texts[l["kind"].(string)] = testenv.PDFText(t, pdf.Body)
		require.Equal(t, http.StatusOK, app.Do(t, testenv.Request{Method: "POST", Path: path + "/dispatched", Token: post}).Status)
	}
	return texts
}

// fromLetters is what a person holds after both letters arrived.
func fromLetters(t *testing.T, issuanceID string, letters map[string]string) printed {
	t.Helper()
	password := letters["password"]
	p := printed{issuanceID: issuanceID, codes: map[string]string{}, text: password}
	p.userID = userIDPattern.FindStringSubmatch(password)[1]
	p.temporaryPassword = passwordPattern.FindStringSubmatch(password)[1]
	p.addCard(t, letters["code_card"])
	return p
}

// A bank issues for a customer whose photo ID it did not see: two letters
// to the registered address, activation with what they print, and the
// public digital signature only after a photo ID check at any centre.
func TestBankIssuanceFromLettersToPublicSignature(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		res := createAtBank(t, app, bankBody(anne, false))
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		assert.Equal(t, "bank", res.JSON["path"])
		assert.Equal(t, "1234", res.JSON["bank"])
		assert.Nil(t, res.JSON["centre"])
		assert.Equal(t, false, res.JSON["public_signature"])
		id := res.JSON["id"].(string)
		waitForStatus(t, app, id, "letters_posted")

		letters := postedLetters(t, app, id)
		require.Len(t, letters, 2, "a code card letter and a password letter")
		for kind, text := range letters {
			assert.Contains(t, text, "Anne Østergaard", kind)
			assert.Contains(t, text, "Åboulevard 12 2. th.", kind)
			assert.Contains(t, text, "2200 København N", kind)
			assert.Contains(t, text, "+45 72 24 70 50", kind)
		}
		assert.NotRegexp(t, passwordPattern, letters["code_card"], "the card and the password travel separately")
		assert.Empty(t, pairPattern.FindAllString(letters["password"], -1))
		after := waitForStatus(t, app, id, "awaiting_activation")
		assert.Equal(t, []string{"received", "credentials_minted", "letter_queued", "letter_queued", "letter_dispatched", "letter_dispatched"}, timelineTypes(after))

		activate(t, app, fromLetters(t, id, letters))
		waitForStatus(t, app, id, "active")
		for _, text := range letters {
			assertNoSecretsStored(t, app, text)
		}

		mine := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances?path=bank", Token: app.Tokens["bank:1234"]})
		require.Equal(t, http.StatusOK, mine.Status)
		require.NotEmpty(t, mine.JSON["items"])
		assert.Equal(t, id, mine.JSON["items"].([]any)[0].(map[string]any)["id"], "the bank lists its own issuance")
		for _, centre := range []string{"caseworker:KBH", "caseworker:AAR"} {
			assert.Equal(t, http.StatusOK, app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances/" + id,
				Token: app.Tokens[centre]}).Status, "people bring a bank's NemID to any centre: %s reads it", centre)
			listed := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances?path=bank", Token: app.Tokens[centre]})
			require.Equal(t, http.StatusOK, listed.Status)
			assert.Contains(t, idsOf(listed), id, "%s lists bank-path issuances", centre)
		}
		assert.Equal(t, http.StatusNotFound, app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances/" + id,
			Token: app.Tokens["embassy:LONDON"]}).Status, "an embassy does not see bank issuances")

		upgrade := func(token string, body any) testenv.Response {
			return app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/public-signature", Token: token, Body: body})
		}
		aar := app.Tokens["caseworker:AAR"]
		expired := map[string]any{"type": "passport", "number": "P1", "expires": "2020-01-01"}
		refused := []struct {
			name   string
			token  string
			body   any
			status int
			codes  []string
		}{
			{"no document", aar, map[string]any{"cpr": anne}, 400, nil},
			{"an expired passport", aar, map[string]any{"cpr": anne, "document": expired}, 422, []string{"document_expired"}},
			{"a document without a photo", aar, map[string]any{"cpr": anne, "document": health}, 422, []string{"photo_id_or_two_documents"}},
			{"no CPR number", aar, map[string]any{"document": passport}, 422, []string{"person_mismatch"}},
			{"an empty CPR number", aar, map[string]any{"cpr": " ", "document": passport}, 422, []string{"person_mismatch"}},
			{"another person's CPR number", aar, map[string]any{"cpr": soeren, "document": passport}, 422, []string{"person_mismatch"}},
			{"a malformed CPR number", aar, map[string]any{"cpr": "150285-432", "document": passport}, 422, []string{"person_mismatch"}},
			{"another person and an expired passport, together", aar, map[string]any{"cpr": soeren, "document": expired}, 422,
				[]string{"document_expired", "person_mismatch"}},
			{"the bank itself", app.Tokens["bank:1234"], map[string]any{"cpr": anne, "document": passport}, 403, nil},
		}
		for _, tc := range refused {
			got := upgrade(tc.token, tc.body)
			assert.Equal(t, tc.status, got.Status, "%s: %s", tc.name, got.Body)
			if tc.codes != nil {
				assert.Equal(t, tc.codes, codesOf(got), tc.name)
			}
		}
		assert.Equal(t, false, status(t, app, id).JSON["public_signature"], "a refused check changes nothing")

		done := upgrade(aar, map[string]any{"cpr": "150285-4321", "document": passport})
		require.Equal(t, http.StatusOK, done.Status, string(done.Body))
		assert.Equal(t, true, done.JSON["public_signature"])
		tl := done.JSON["timeline"].([]any)
		last := tl[len(tl)-1].(map[string]any)
		assert.Equal(t, "public_signature_upgraded", last["type"])
		assert.Equal(t, "caseworker:AAR", last["actor"], "any centre may check the photo ID")
		assert.NotContains(t, last["detail"], "P1", "the document number is not recorded")
		assert.NotContains(t, last["detail"], "4321", "the CPR number is not recorded")
		again := upgrade(app.Tokens["caseworker:KBH"], map[string]any{"cpr": anne, "document": passport})
		assert.Equal(t, http.StatusConflict, again.Status, string(again.Body))
		assert.Equal(t, 1, countType(status(t, app, id), "public_signature_upgraded"))
	})
}

func TestBankAcceptanceRules(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		ok := createAtBank(t, app, bankBody(soeren, true))
		require.Equal(t, http.StatusCreated, ok.Status, string(ok.Body))
		assert.Equal(t, true, ok.JSON["public_signature"], "the bank saw photo ID")
		assert.Contains(t, timelineDetails(ok), "application from bank 1234 under agreement A-1")

		withBank := func(bank string) map[string]any { b := bankBody(anne, true); b["bank"] = bank; return b }
		without := func(field string) map[string]any { b := bankBody(anne, true); delete(b, field); return b }
		cases := []struct {
			name   string
			token  string
			body   any
			status int
			codes  []string
		}{
			{"another bank's registration number", "bank:1234", withBank("9999"), 403, nil},
			{"a caseworker cannot apply as a bank", "caseworker:KBH", bankBody(anne, true), 403, nil},
			{"no agreement", "bank:1234", without("agreement_id"), 400, nil},
			{"photo ID neither confirmed nor denied", "bank:1234", without("photo_id_shown"), 400, nil},
			{"an open issuance exists", "bank:1234", bankBody(soeren, true), 409, nil},
			{"address protection", "bank:1234", bankBody("2304781122", true), 422, []string{"address_protected"}},
			{"living abroad", "bank:1234", bankBody("2007884112", true), 422, []string{"lives_abroad"}},
			{"deceased", "bank:1234", bankBody("0303504321", true), 422, []string{"deceased"}},
			{"under 15", "bank:1234", bankBody("1006154123", true), 422, []string{"under_15"}},
			{"not in the register", "bank:1234", bankBody("0202020202", true), 422, []string{"cpr_unknown"}},
			{"not a CPR number", "bank:1234", bankBody("3213991234", true), 422, []string{"cpr_invalid"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: app.Tokens[tc.token], Body: tc.body})
				require.Equal(t, tc.status, got.Status, string(got.Body))
				if tc.codes != nil {
					assert.Equal(t, tc.codes, codesOf(got))
				}
				if tc.status == http.StatusConflict {
					assert.Equal(t, ok.JSON["id"], got.JSON["error"].(map[string]any)["issuance_id"])
				}
			})
		}
	})
}

// A counter issuance is never upgraded here: another centre's is not found,
// the caseworker's own answers 409.
func TestPublicSignatureIsOnlyForBankIssuances(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		res := create(t, app, soeren)
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		path := "/v1/issuances/" + res.JSON["id"].(string) + "/public-signature"
		body := map[string]any{"cpr": soeren, "document": passport}
		own := app.Do(t, testenv.Request{Method: "POST", Path: path, Token: app.Tokens["caseworker:KBH"], Body: body})
		assert.Equal(t, http.StatusConflict, own.Status, string(own.Body))
		stranger := app.Do(t, testenv.Request{Method: "POST", Path: path, Token: app.Tokens["caseworker:KBH"],
			Body: map[string]any{"cpr": anne, "document": passport}})
		assert.Equal(t, http.StatusUnprocessableEntity, stranger.Status, "a 422 comes before the 409: %s", stranger.Body)
		assert.Equal(t, []string{"person_mismatch"}, codesOf(stranger))
		other := app.Do(t, testenv.Request{Method: "POST", Path: path, Token: app.Tokens["caseworker:AAR"], Body: body})
		assert.Equal(t, http.StatusNotFound, other.Status, string(other.Body))
		unknown := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/nope/public-signature", Token: app.Tokens["caseworker:KBH"], Body: body})
		assert.Equal(t, http.StatusNotFound, unknown.Status)
	})
}

func timelineDetails(res testenv.Response) string {
	var out string
	for _, e := range res.JSON["timeline"].([]any) {
		out += e.(map[string]any)["detail"].(string) + "\n"
	}
	return out
}

// idsOf lists the ids of a list answer's items, in order.
func idsOf(res testenv.Response) []string {
	var ids []string
	items, _ := res.JSON["items"].([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			ids = append(ids, m["id"].(string))
		}
	}
	return ids
}
