package e2e

import (
	"context"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// cprBornOn builds a CPR number for a birth date in 1900–2036, choosing the
// 7th digit so the century resolves to the right year.
func cprBornOn(d time.Time, serial3 string) string {
	seventh := "1"
	if d.Year() >= 2000 {
		seventh = "4"
	}
	return d.Format("020106") + seventh + serial3
}

func yearsAgo(n int, days int) time.Time {
	return time.Now().In(copenhagen()).AddDate(-n, 0, days)
}

func copenhagen() *time.Location {
	loc, _ := time.LoadLocation("Europe/Copenhagen")
	return loc
}

func day(t time.Time) string { return t.Format("2006-01-02") }

// people adds register rows whose ages and arrival dates are relative to
// today, so the rules' boundaries hold whatever day the tests run.
func people(t *testing.T, app *testenv.App) map[string]string {
	cprs := map[string]string{
		"fifteen tomorrow":         cprBornOn(yearsAgo(15, 1), "101"),
		"fifteen today":            cprBornOn(yearsAgo(15, 0), "102"),
		"seventeen witness":        cprBornOn(yearsAgo(18, 1), "103"),
		"short stay":               cprBornOn(yearsAgo(30, 0), "104"),
		"short stay and protected": cprBornOn(yearsAgo(31, 0), "105"),
	}
	recent := day(time.Now().AddDate(0, 0, -30))
	rows := []store.Person{
		{CPR: cprs["fifteen tomorrow"], Name: "Ida Næsten", Address: "Vej 1", Postcode: "1000", City: "København", Country: "DK"},
		{CPR: cprs["fifteen today"], Name: "Ida Netop", Address: "Vej 2", Postcode: "1000", City: "København", Country: "DK"},
		{CPR: cprs["seventeen witness"], Name: "Ung Vidne", Address: "Vej 3", Postcode: "1000", City: "København", Country: "DK"},
		{CPR: cprs["short stay"], Name: "Ny Ankommen", Address: "Vej 4", Postcode: "1000", City: "København", Country: "DK", ArrivedDK: recent},
		{CPR: cprs["short stay and protected"], Name: "Ny Beskyttet", Address: "Vej 5", Postcode: "1000", City: "København", Country: "DK",
			ArrivedDK: recent, AddressProtected: true},
	}
	require.NoError(t, app.Store.UpsertPersons(context.Background(), rows))
	return cprs
}

var (
	passport = map[string]any{"type": "passport", "number": "P1", "expires": "2099-01-01"}
	health   = map[string]any{"type": "health_insurance_card", "number": "H1", "shows_cpr": true}
	tax      = map[string]any{"type": "tax_statement", "shows_cpr": false}
)

func expiredPassport() map[string]any {
	return map[string]any{"type": "passport", "number": "P1", "expires": day(time.Now().AddDate(0, 0, -2))}
}

func witness(cpr string, mutate func(map[string]any)) map[string]any {
	w := map[string]any{"cpr": cpr, "photo_id": map[string]any{"type": "passport", "number": "W1", "expires": "2099-01-01"}, "sworn_statement": true}
	if mutate != nil {
		mutate(w)
	}
	return w
}

func application(cpr string, docs []any, questions bool, w map[string]any) map[string]any {
	body := map[string]any{"path": "counter", "cpr": cpr, "centre": "KBH", "documents": docs, "check_questions_passed": questions}
	if w != nil {
		body["witness"] = w
	}
	return body
}

func codesOf(res testenv.Response) []string {
	var codes []string
	e, _ := res.JSON["error"].(map[string]any)
	ds, _ := e["details"].([]any)
	for _, d := range ds {
		codes = append(codes, d.(map[string]any)["code"].(string))
	}
	sort.Strings(codes)
	return codes
}

func TestEveryCounterRuleIsA422Detail(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		p := people(t, app)
		expired := map[string]any{"type": "passport", "number": "P1", "expires": day(time.Now().AddDate(0, 0, -1))}
		oldBenefit := map[string]any{"type": "benefit_statement", "shows_cpr": true, "issued": day(time.Now().AddDate(0, -4, 0))}
		// Tomorrow in Copenhagen, where the rules take their dates.
		futureBenefit := map[string]any{"type": "benefit_statement", "number": "B9", "issued": day(time.Now().In(copenhagen()).AddDate(0, 0, 1))}
		birth := map[string]any{"type": "birth_certificate", "shows_cpr": true}
		const karen = "1210701234" // an adult witness from the demo register
		cases := []struct {
			name  string
			body  map[string]any
			codes []string
		}{
			{"an impossible date", application("310290-1234", []any{passport}, true, nil), []string{"cpr_invalid"}},
			{"not in the register", application("020202-0202", []any{passport}, true, nil), []string{"cpr_unknown"}},
			{"deceased", application("0303504321", []any{passport}, true, nil), []string{"deceased"}},
			{"fifteen tomorrow", application(p["fifteen tomorrow"], []any{passport}, true, nil), []string{"under_15"}},
			{"address protected and no handover", application("2304781122", []any{health, tax}, false, nil), []string{"address_protected"}},
			{"lives abroad and no handover", application("2007884112", []any{passport}, false, nil), []string{"lives_abroad"}},
			{"an expired passport", application("0101901234", []any{expired}, true, nil), []string{"document_expired", "photo_id_or_two_documents"}},
			{"an unknown document type", application("0101901234", []any{map[string]any{"type": "library_card"}}, true, nil), []string{"document_unknown", "photo_id_or_two_documents"}},
			{"no documents", application("0101901234", []any{}, true, nil), []string{"photo_id_or_two_documents"}},
			{"one non-photo document", application("0101901234", []any{health}, true, nil), []string{"photo_id_or_two_documents"}},
			{"two documents, neither shows the CPR", application("0101901234", []any{map[string]any{"type": "birth_certificate"}, tax}, false, nil), []string{"non_photo_needs_cpr"}},
			{"two documents, no primary one", application("0101901234", []any{map[string]any{"type": "tax_statement", "shows_cpr": true},
				map[string]any{"type": "benefit_statement", "issued": day(time.Now().AddDate(0, 0, -10))}}, false, nil), []string{"non_photo_needs_primary"}},
			{"a benefit statement four months old", application("0101901234", []any{health, oldBenefit}, false, nil), []string{"benefit_too_old"}},
			{"short stay, protected, no witness", application(p["short stay and protected"], []any{passport}, true, nil), []string{"address_protected", "witness_required"}},
			{"a witness under 18", application("0101901234", []any{passport}, false, witness(p["seventeen witness"], nil)), []string{"witness_under_18"}},
			{"a witness without photo ID", application("0101901234", []any{passport}, false, witness(karen, func(w map[string]any) { delete(w, "photo_id") })), []string{"witness_no_photo_id"}},
			{"a witness who did not swear", application("0101901234", []any{passport}, false, witness(karen, func(w map[string]any) { w["sworn_statement"] = false })), []string{"witness_not_sworn"}},
			{"the applicant as witness", application("0101901234", []any{passport}, false, witness("010190-1234", nil)), []string{"witness_is_applicant"}},
			{"an expired passport beside one document", application("0101901234", []any{expired, health}, true, nil), []string{"document_expired", "photo_id_or_two_documents"}},
			{"an expired passport beside two documents that do not qualify", application("0101901234", []any{expired, birth, oldBenefit}, false, nil),
				[]string{"benefit_too_old", "document_expired"}},
			{"the same passport twice", application("0101901234", []any{passport, passport}, true, nil), []string{"document_duplicate"}},
			{"the same number typed differently", application("0101901234", []any{passport, map[string]any{"type": "passport", "number": "p 1", "expires": "2098-01-01"}}, true, nil),
				[]string{"document_duplicate"}},
			{"an unnumbered document twice", application("0101901234", []any{health, tax, tax}, false, nil), []string{"document_duplicate"}},
			{"a repeat is not the second document", application("0101901234", []any{health, health}, false, nil), []string{"document_duplicate", "photo_id_or_two_documents"}},
			{"a benefit statement dated tomorrow", application("0101901234", []any{health, futureBenefit}, false, nil), []string{"benefit_in_future"}},
			{"a witness the register does not hold", application("0101901234", []any{passport}, false, witness("020202-0202", nil)), []string{"witness_unknown"}},
			{"a deceased witness", application("0101901234", []any{passport}, true, witness("0303504321", nil)), []string{"witness_unknown"}},
			{"every new rule at once", application("0101901234", []any{health, health, futureBenefit, expired}, false, witness("020202-0202", nil)),
				[]string{"benefit_in_future", "document_duplicate", "document_expired", "witness_unknown"}},
			{"every broken rule at once", application("0303504321", []any{expired}, true, witness("0303504321", func(w map[string]any) { w["sworn_statement"] = false })),
				[]string{"deceased", "document_expired", "photo_id_or_two_documents", "witness_is_applicant", "witness_not_sworn", "witness_unknown"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: app.Tokens["caseworker:KBH"], Body: tc.body})
				require.Equal(t, http.StatusUnprocessableEntity, res.Status, string(res.Body))
				want := append([]string(nil), tc.codes...)
				sort.Strings(want)
				assert.Equal(t, want, codesOf(res))
			})
		}
	})
}

func TestAcceptedCounterApplications(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		p := people(t, app)
		cases := []struct {
			name            string
			body            map[string]any
			publicSignature bool
			detail          string
		}{
			{"fifteen today", application(p["fifteen today"], []any{passport}, true, nil), true, "hand over"},
			{"two documents post the letters", application("0101901234", []any{health, tax}, false, nil), false, "registered address"},
			{"short stay with questions only gets letters", application(p["short stay"], []any{passport}, true, nil), true, "registered address"},
			{"a witness allows a handover", application("1502854321", []any{passport}, false, witness("1210701234", nil)), true, "witness"},
			{"an expired passport beside two documents is set aside and noted", application("0101400000", []any{expiredPassport(), health, tax}, true, nil),
				false, "Set aside because the two other documents suffice: document 1 (passport) expired on"},
			{"an undated photo ID beside two documents is set aside and noted", application("0708651239",
				[]any{health, map[string]any{"type": "eu_driving_licence", "number": "D1"}, map[string]any{"type": "birth_certificate"}}, true, nil),
				false, "document 2 (driving licence) has no expiry date"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: app.Tokens["caseworker:KBH"], Body: tc.body})
				require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
				assert.Equal(t, tc.publicSignature, res.JSON["public_signature"])
				tl := res.JSON["timeline"].([]any)
				assert.Contains(t, tl[0].(map[string]any)["detail"], tc.detail)
			})
		}
	})
}

func TestAWitnessVouchesAtMostThreeTimesIn120Days(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		applicants := []string{"0101901234", "1502854321", "0708651239"}
		kbh := app.Tokens["caseworker:KBH"]
		var first string
		for i, cpr := range applicants {
			res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: kbh,
				Body: application(cpr, []any{passport}, false, witness("1210701234", nil))})
			require.Equal(t, http.StatusCreated, res.Status, "statement %d: %s", i+1, res.Body)
			if i == 0 {
				first = res.JSON["id"].(string)
			}
		}
		// A statement counts from acceptance, whatever happens later.
		cancel := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + first + "/cancel", Token: kbh, Body: map[string]string{"reason": "test"}})
		require.Equal(t, http.StatusOK, cancel.Status, string(cancel.Body))
		fourth := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: kbh,
			Body: application("0101400000", []any{passport}, false, witness("121070-1234", nil))})
		require.Equal(t, http.StatusUnprocessableEntity, fourth.Status, string(fourth.Body))
		assert.Equal(t, []string{"witness_limit"}, codesOf(fourth))
		// Typing another number for the same witness is no way past the
		// limit: an invented number is not in the register.
		invented := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: kbh,
			Body: application("0101400000", []any{passport}, false, witness("121070-1235", nil))})
		require.Equal(t, http.StatusUnprocessableEntity, invented.Status, string(invented.Body))
		assert.Equal(t, []string{"witness_unknown"}, codesOf(invented))
		withoutWitness := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: kbh,
			Body: application("0101400000", []any{passport}, true, nil)})
		assert.Equal(t, http.StatusCreated, withoutWitness.Status, "the applicant is fine without that witness: %s", withoutWitness.Body)
	})
}

// A person with an open issuance who applies again breaking rules hears
// every broken rule (422), not the conflict (409).
func TestA422ComesBeforeA409(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		open := create(t, app, soeren)
		require.Equal(t, http.StatusCreated, open.Status, string(open.Body))
		cases := []struct {
			name  string
			body  map[string]any
			codes []string
		}{
			{"a repeated document", application(soeren, []any{passport, passport}, true, nil), []string{"document_duplicate"}},
			{"a future benefit statement", application(soeren, []any{health,
				map[string]any{"type": "benefit_statement", "issued": day(time.Now().In(copenhagen()).AddDate(0, 0, 1))}}, false, nil),
				[]string{"benefit_in_future"}},
			{"an unknown witness", application(soeren, []any{passport}, false, witness("020202-0202", nil)), []string{"witness_unknown"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: app.Tokens["caseworker:KBH"], Body: tc.body})
				require.Equal(t, http.StatusUnprocessableEntity, res.Status, string(res.Body))
				assert.Equal(t, tc.codes, codesOf(res))
			})
		}
		again := create(t, app, soeren)
		require.Equal(t, http.StatusConflict, again.Status, "without a broken rule the conflict shows: %s", again.Body)
		assert.Equal(t, open.JSON["id"], again.JSON["error"].(map[string]any)["issuance_id"])
	})
}
