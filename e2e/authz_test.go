package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/api"
	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// The principals of the authorization matrix, one column each: no token,
// each role in the scope of the fixtures and in another scope, a revoked
// token and an expired one.
const (
	anon     = iota // no Authorization header
	cwKBH           // caseworker of the centre that issued the counter fixture
	cwAAR           // caseworker of another centre
	embLON          // embassy of the abroad fixture's representation
	embPAR          // another embassy
	bank1234        // the bank of the bank fixture
	bank5678        // another bank
	post            // the print-and-post provider
	admin           //
	revoked         // an admin token with revoked_at set
	expired         // an admin token past its expiry
	principals
)

var principalNames = [principals]string{"none", "caseworker:KBH", "caseworker:AAR", "embassy:LONDON", "embassy:PARIS",
	"bank:1234", "bank:5678", "post:post", "admin:all", "revoked", "expired"}

// authzRow is one request and what each principal gets for it. Requests
// are chosen to change nothing for the principals let through: they target
// a finished issuance (409), break a rule (422) or read. Path placeholders
// are filled from the fixtures: {counter} a cancelled counter issuance of
// KBH, {bank} a bank issuance of 1234 with its letters queued, {abroad} a
// cancelled abroad issuance of LONDON, {letter} / {letter2} its two queued
// letters, {user} the counter issuance's NemID number.
type authzRow struct {
	route string // "METHOD /path/{param}" as in openapi.json
	path  string
	body  any
	want  [principals]int
}

// authzMatrix: every route the API serves, with the status each principal
// gets. A new route fails TestAuthorizationMatrixCoversEveryRoute until it
// has a row here: one line.
var authzMatrix = []authzRow{
	//                                                                                                       none cwKBH cwAAR embLON embPAR b1234 b5678 post admin revoked expired
	{"GET /healthz", "/healthz", nil, [principals]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /readyz", "/readyz", nil, [principals]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /metrics", "/metrics", nil, [principals]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /openapi.json", "/openapi.json", nil, [principals]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /console", "/console", nil, [principals]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /console/assets/{name}", "/console/assets/console.js", nil, [principals]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"OPTIONS /codec/decode", "/codec/decode", nil, [principals]int{204, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204}},
	{"POST /codec/decode", "/codec/decode", map[string]any{"payloads": []any{}}, [principals]int{401, 403, 403, 403, 403, 403, 403, 403, 200, 401, 401}},
	{"GET /v1/whoami", "/v1/whoami", nil, [principals]int{401, 200, 200, 200, 200, 200, 200, 200, 200, 401, 401}},
	{"POST /v1/issuances", "/v1/issuances", counterApplication, [principals]int{401, 422, 403, 403, 403, 403, 403, 403, 403, 401, 401}},
	{"POST /v1/issuances", "/v1/issuances", bankApplication, [principals]int{401, 403, 403, 403, 403, 422, 403, 403, 403, 401, 401}},
	{"POST /v1/issuances", "/v1/issuances", abroadApplication, [principals]int{422, 422, 422, 422, 422, 422, 422, 422, 422, 401, 401}},
	{"GET /v1/issuances", "/v1/issuances", nil, [principals]int{401, 200, 200, 200, 200, 200, 200, 403, 200, 401, 401}},
	{"GET /v1/issuances/counts", "/v1/issuances/counts", nil, [principals]int{401, 200, 200, 200, 200, 200, 200, 403, 200, 401, 401}},
	{"GET /v1/issuances/counts", "/v1/issuances/counts?path=nowhere", nil, [principals]int{401, 400, 400, 400, 400, 400, 400, 403, 400, 401, 401}},
	// A search by CPR is audited once it runs: an invalid number (422) records nothing.
	{"POST /v1/issuances/search", "/v1/issuances/search", map[string]any{"cpr": invalidCPR}, [principals]int{401, 422, 422, 422, 422, 422, 422, 403, 422, 401, 401}},
	{"GET /v1/issuances/{id}", "/v1/issuances/{counter}", nil, [principals]int{401, 200, 404, 404, 404, 404, 404, 403, 200, 401, 401}},
	// Caseworkers of every centre see bank-path issuances (DESIGN §4).
	{"GET /v1/issuances/{id}", "/v1/issuances/{bank}", nil, [principals]int{401, 200, 200, 404, 404, 200, 404, 403, 200, 401, 401}},
	{"GET /v1/issuances/{id}", "/v1/issuances/{abroad}", nil, [principals]int{401, 404, 404, 200, 404, 404, 404, 403, 200, 401, 401}},
	{"GET /v1/issuances/{id}/live", "/v1/issuances/{bank}/live", nil, [principals]int{401, 200, 200, 404, 404, 200, 404, 403, 200, 401, 401}},
	{"POST /v1/issuances/{id}/cancel", "/v1/issuances/{counter}/cancel", map[string]any{"reason": "matrix"}, [principals]int{401, 409, 404, 403, 403, 403, 403, 403, 409, 401, 401}},
	{"POST /v1/issuances/{id}/handover", "/v1/issuances/{counter}/handover", nil, [principals]int{401, 410, 404, 403, 403, 403, 403, 403, 403, 401, 401}},
	// Another person's CPR: 422 person_mismatch for the caseworkers let through (DESIGN §9).
	{"POST /v1/issuances/{id}/public-signature", "/v1/issuances/{bank}/public-signature", wrongPerson, [principals]int{401, 422, 422, 403, 403, 403, 403, 403, 403, 401, 401}},
	{"POST /v1/issuances/{id}/pickup", "/v1/issuances/{abroad}/pickup", pickupBody, [principals]int{401, 403, 403, 409, 404, 403, 403, 403, 403, 401, 401}},
	{"GET /v1/letters", "/v1/letters?status=queued", nil, [principals]int{401, 403, 403, 403, 403, 403, 403, 200, 200, 401, 401}},
	{"GET /v1/letters/{id}/pdf", "/v1/letters/{letter}/pdf", nil, [principals]int{401, 403, 403, 403, 403, 403, 403, 200, 403, 401, 401}},
	{"POST /v1/letters/{id}/dispatched", "/v1/letters/{letter2}/dispatched", nil, [principals]int{401, 403, 403, 403, 403, 403, 403, 200, 403, 401, 401}},
	// Support acts on any NemID (people walk into any centre); another person's CPR changes nothing.
	{"POST /v1/credentials/{user_id}/unlock", "/v1/credentials/{user}/unlock", notTheHolder, [principals]int{401, 422, 422, 403, 403, 403, 403, 403, 422, 401, 401}},
	{"POST /v1/credentials/{user_id}/unblock", "/v1/credentials/{user}/unblock", notTheHolder, [principals]int{401, 422, 422, 403, 403, 403, 403, 403, 422, 401, 401}},
	{"POST /v1/credentials/{user_id}/block", "/v1/credentials/{user}/block", nil, [principals]int{401, 400, 400, 403, 403, 403, 403, 403, 400, 401, 401}},
	{"GET /v1/credentials/{user_id}", "/v1/credentials/{user}", nil, [principals]int{401, 200, 200, 403, 403, 403, 403, 403, 200, 401, 401}},
	{"POST /v1/credentials/search", "/v1/credentials/search", map[string]any{"cpr": invalidCPR}, [principals]int{401, 422, 422, 403, 403, 403, 403, 403, 422, 401, 401}},
	{"GET /v1/tokens", "/v1/tokens", nil, [principals]int{401, 403, 403, 403, 403, 403, 403, 403, 200, 401, 401}},
	{"POST /v1/tokens", "/v1/tokens", map[string]any{"role": "nobody", "scope": "x"}, [principals]int{401, 403, 403, 403, 403, 403, 403, 403, 422, 401, 401}},
	{"POST /v1/tokens/{id}/revoke", "/v1/tokens/no-such-token/revoke", nil, [principals]int{401, 403, 403, 403, 403, 403, 403, 403, 404, 401, 401}},
	{"GET /v1/audit", "/v1/audit", nil, [principals]int{401, 403, 403, 403, 403, 403, 403, 403, 200, 401, 401}},
	// An embassy reads its own representation's fees (PARIS has none: still 200).
	{"GET /v1/fees", "/v1/fees", nil, [principals]int{401, 403, 403, 200, 200, 403, 403, 403, 200, 401, 401}},
	{"GET /v1/fees", "/v1/fees?representation=LONDON", nil, [principals]int{401, 403, 403, 200, 403, 403, 403, 403, 200, 401, 401}},
	// Citizens authenticate with their credentials: a staff token is no key here.
	{"POST /v1/activations", "/v1/activations", unknownUser, [principals]int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
	{"POST /v1/activations/{id}", "/v1/activations/00000000-0000-0000-0000-000000000000", codeAnswer, [principals]int{404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
	{"POST /v1/logins", "/v1/logins", unknownLogon, [principals]int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
	{"POST /v1/logins/{id}", "/v1/logins/00000000-0000-0000-0000-000000000000", map[string]any{"code": "000000"}, [principals]int{404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
	{"GET /v1/me", "/v1/me", nil, [principals]int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
	{"POST /v1/logout", "/v1/logout", nil, [principals]int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
	{"POST /v1/lost-card", "/v1/lost-card", unknownLogon, [principals]int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
	{"POST /v1/me/extra-cards", "/v1/me/extra-cards", nil, [principals]int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
	// An unknown NemID number gets a decoy reset (201, nothing stored) whoever asks; its answer is 401.
	{"POST /v1/password-resets", "/v1/password-resets", map[string]any{"user_id": "000000001"}, [principals]int{201, 201, 201, 201, 201, 201, 201, 201, 201, 201, 201}},
	{"POST /v1/password-resets/{id}", "/v1/password-resets/00000000-0000-0000-0000-000000000000", map[string]any{"code": "000000"}, [principals]int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
	{"POST /v1/me/block", "/v1/me/block", nil, [principals]int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
	{"POST /v1/me/password", "/v1/me/password", map[string]any{"current_password": "Kodeord2024", "new_password": "Kodeord2025"}, [principals]int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
	{"GET /v1/support", "/v1/support", nil, [principals]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	// Service providers are registered by an admin (DESIGN §11).
	{"GET /v1/oidc/clients", "/v1/oidc/clients", nil, [principals]int{401, 403, 403, 403, 403, 403, 403, 403, 200, 401, 401}},
	{"POST /v1/oidc/clients", "/v1/oidc/clients", map[string]any{"name": "", "redirect_uris": []string{}}, [principals]int{401, 403, 403, 403, 403, 403, 403, 403, 422, 401, 401}},
	// The OpenID provider's protocol endpoints and login pages (served by zitadel/oidc and specified by
	// OpenID Connect, not openapi.json: see contract.ProtocolPath). Staff tokens are no key there.
	{"GET /.well-known/openid-configuration", "/.well-known/openid-configuration", nil, [principals]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /oidc/keys", "/oidc/keys", nil, [principals]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /oidc/authorize", "/oidc/authorize?client_id=unknown&response_type=code&scope=openid", nil, [principals]int{400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400}},
	{"POST /oidc/authorize", "/oidc/authorize", nil, [principals]int{400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400}},
	{"POST /oidc/token", "/oidc/token", nil, [principals]int{400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400}},
	{"GET /oidc/userinfo", "/oidc/userinfo", nil, [principals]int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
	{"POST /oidc/userinfo", "/oidc/userinfo", nil, [principals]int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
	// Without an id_token_hint end_session ends nothing and lands on the logged-out page.
	{"GET /oidc/end_session", "/oidc/end_session", nil, [principals]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"POST /oidc/end_session", "/oidc/end_session", nil, [principals]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /oidc/logged-out", "/oidc/logged-out", nil, [principals]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"POST /oidc/revoke", "/oidc/revoke", nil, [principals]int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401}},
	{"GET /oidc/login", "/oidc/login?id=unknown", nil, [principals]int{404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
	{"POST /oidc/login", "/oidc/login", nil, [principals]int{404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
	{"POST /oidc/login/code", "/oidc/login/code", nil, [principals]int{404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
	// Appointments (DESIGN §7): the public side answers everyone alike; an unknown reference is 404.
	{"GET /book", "/book", nil, [principals]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /v1/centres", "/v1/centres", nil, [principals]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"GET /v1/centres/{code}/slots", "/v1/centres/KBH/slots", nil, [principals]int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
	{"POST /v1/bookings", "/v1/bookings", map[string]any{"cpr": invalidCPR, "centre": "KBH", "start": "2030-01-02T08:00:00Z", "contact": map[string]any{"email": "a@example.dk"}}, [principals]int{422, 422, 422, 422, 422, 422, 422, 422, 422, 422, 422}},
	{"GET /v1/bookings/{reference}", "/v1/bookings/KBH-00000000", nil, [principals]int{404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
	{"POST /v1/bookings/{reference}/confirm", "/v1/bookings/KBH-00000000/confirm", map[string]any{"code": "123456"}, [principals]int{404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
	{"POST /v1/bookings/{reference}/cancel", "/v1/bookings/KBH-00000000/cancel", nil, [principals]int{404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
	{"POST /v1/bookings/{reference}/reschedule", "/v1/bookings/KBH-00000000/reschedule", map[string]any{"start": "2030-01-02T08:00:00Z"}, [principals]int{404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404}},
	{"GET /v1/appointments", "/v1/appointments?date=2030-01-02", nil, [principals]int{401, 200, 200, 403, 403, 403, 403, 403, 200, 401, 401}},
	{"POST /v1/appointments/{id}/check-in", "/v1/appointments/00000000-0000-0000-0000-000000000000/check-in", map[string]any{}, [principals]int{401, 404, 404, 403, 403, 403, 403, 403, 403, 401, 401}},
	{"GET /v1/notifications", "/v1/notifications?status=queued", nil, [principals]int{401, 403, 403, 403, 403, 403, 403, 200, 403, 401, 401}},
	{"POST /v1/notifications/{id}/sent", "/v1/notifications/00000000-0000-0000-0000-000000000000/sent", nil, [principals]int{401, 403, 403, 403, 403, 403, 403, 404, 403, 401, 401}},
}

// invalidCPR breaks a rule every application checks first (no date 32),
// so nothing is accepted, and the per-CPR limit of abroad orders (which
// counts valid numbers only) never answers instead.
const invalidCPR = "3213991234"

var (
	counterApplication = map[string]any{"path": "counter", "cpr": invalidCPR, "centre": "KBH",
		"documents": []any{map[string]any{"type": "passport", "number": "M1", "expires": "2040-01-01"}}, "check_questions_passed": true}
	bankApplication   = map[string]any{"path": "bank", "cpr": invalidCPR, "bank": "1234", "agreement_id": "M-1", "photo_id_shown": true}
	abroadApplication = abroadOrder(invalidCPR, nil)
	wrongPerson       = map[string]any{"cpr": "0101901234", "document": map[string]any{"type": "passport", "number": "M2", "expires": "2040-01-01"}}
	notTheHolder      = map[string]any{"cpr": anne, "document": map[string]any{"type": "passport", "number": "M3", "expires": "2040-01-01"}}
	pickupBody        = map[string]any{"document_number": "DP1234567", "fee_paid_dkk": 200, "receipt": "M-1"}
	unknownUser       = map[string]any{"user_id": "000000001", "temporary_password": "000000"}
	unknownLogon      = map[string]any{"user_id": "000000001", "password": "Kodeord2024"}
	codeAnswer        = map[string]any{"code": "000000", "new_password": "Kodeord2024"}
)

// TestAuthorizationMatrix sends every row's request as every principal to
// one application and compares the statuses with the table (DESIGN.md §4,
// §8: roles, scopes, and a revoked or expired token answering 401).
func TestAuthorizationMatrix(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), generous)
	ctx := context.Background()
	tokens := [principals]string{}
	for p := cwKBH; p <= admin; p++ {
		tok, ok := app.Tokens[principalNames[p]]
		if !ok {
			role, scope, _ := strings.Cut(principalNames[p], ":")
			var err error
			tok, err = app.Store.CreateToken(ctx, role, scope)
			require.NoError(t, err)
		}
		tokens[p] = tok
	}
	var err error
	tokens[revoked], err = app.Store.CreateToken(ctx, "admin", "all")
	require.NoError(t, err)
	_, err = app.Store.ExecForTests(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE token_hash = ?", time.Now().UTC(), store.HashToken(tokens[revoked]))
	require.NoError(t, err)
	tokens[expired], err = app.Store.CreateToken(ctx, "admin", "all")
	require.NoError(t, err)
	_, err = app.Store.ExecForTests(ctx, "UPDATE api_tokens SET expires_at = ? WHERE token_hash = ?",
		time.Now().Add(-time.Minute).UTC(), store.HashToken(tokens[expired]))
	require.NoError(t, err)

	fill := authzFixtures(t, app)
	for p := range principals {
		t.Run(principalNames[p], func(t *testing.T) {
			for _, row := range authzMatrix {
				res := app.Do(t, testenv.Request{Method: strings.Fields(row.route)[0], Path: fill.Replace(row.path), Token: tokens[p], Body: row.body})
				if res.Status != row.want[p] {
					t.Errorf("%s as %s (%s): got %d, want %d: %.200s", row.route, principalNames[p], row.path, res.Status, row.want[p], res.Body)
				}
			}
		})
	}
	assertCountsAreTheList(t, app)
}

// authzFixtures creates the issuances the rows refer to and answers the
// replacer of their placeholders.
func authzFixtures(t *testing.T, app *testenv.App) *strings.Replacer {
	ctx := context.Background()
	admin := app.Tokens["admin:all"]
	counter := create(t, app, soeren)
	require.Equal(t, http.StatusCreated, counter.Status, "%s", counter.Body)
	counterID := counter.JSON["id"].(string)
	waitForStatus(t, app, counterID, "awaiting_handover")
	cancel := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + counterID + "/cancel", Token: admin, Body: map[string]any{"reason": "fixture"}})
	require.Equal(t, http.StatusOK, cancel.Status, "%s", cancel.Body)
	var userID string
	require.NoError(t, app.Store.ScanForTests(ctx, &userID, "SELECT user_id FROM credentials WHERE issuance_id = ?", counterID))

	bank := createAtBank(t, app, bankBody(anne, false))
	bankID := bank.JSON["id"].(string)
	waitForStatus(t, app, bankID, "letters_posted")
	queue := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/letters?status=queued&limit=500", Token: app.Tokens["post:post"]})
	require.Equal(t, http.StatusOK, queue.Status, "%s", queue.Body)
	var letters []string
	for _, it := range queue.JSON["items"].([]any) {
		if l := it.(map[string]any); l["issuance_id"] == bankID {
			letters = append(letters, l["id"].(string))
		}
	}
	require.Len(t, letters, 2)

	abroad := order(t, app, abroadOrder(jens, nil))
	require.Equal(t, http.StatusCreated, abroad.Status, "%s", abroad.Body)
	abroadID := abroad.JSON["id"].(string)
	waitForStatus(t, app, abroadID, "letters_posted")
	cancel = app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + abroadID + "/cancel", Token: admin, Body: map[string]any{"reason": "fixture"}})
	require.Equal(t, http.StatusOK, cancel.Status, "%s", cancel.Body)
	waitForStatus(t, app, abroadID, "cancelled")
	waitForStatus(t, app, counterID, "cancelled")
	return strings.NewReplacer("{counter}", counterID, "{bank}", bankID, "{abroad}", abroadID,
		"{letter}", letters[0], "{letter2}", letters[1], "{user}", userID)
}

var routeParam = regexp.MustCompile(`:[a-z_]+|\{[a-z_]+\}|\$\{[^}]*\}`)

// normalRoute writes "METHOD /path" with every parameter as {}.
func normalRoute(method, path string) string {
	return strings.ToUpper(method) + " " + routeParam.ReplaceAllString(path, "{}")
}

// TestAuthorizationMatrixCoversEveryRoute fails when a route is served,
// described in openapi.json or called by the console without a row in the
// matrix, or when the matrix names a route nobody serves.
func TestAuthorizationMatrixCoversEveryRoute(t *testing.T) {
	inMatrix := map[string]bool{}
	for _, row := range authzMatrix {
		method, path, _ := strings.Cut(row.route, " ")
		inMatrix[normalRoute(method, path)] = true
	}
	served := map[string]bool{}
	st := testenv.SQLiteEmpty(t)
	e := api.New(api.Deps{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry()})
	for _, r := range e.Routes() {
		if strings.HasPrefix(r.Name, "github.com/labstack") || r.Method == "echo_route_not_found" {
			continue
		}
		served[normalRoute(r.Method, r.Path)] = true
	}
	var spec struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(api.OpenAPIDocument(), &spec))
	described := map[string]bool{}
	for path, ops := range spec.Paths {
		for method := range ops {
			if method != "parameters" {
				described[normalRoute(method, path)] = true
			}
		}
	}
	console, err := api.ConsoleFile("assets/console.js")
	require.NoError(t, err)
	called := map[string]bool{}
	for _, m := range regexp.MustCompile("api\\('([A-Z]+)', [`']([^`'?]+)").FindAllStringSubmatch(string(console), -1) {
		called[normalRoute(m[1], m[2])] = true
	}
	require.NotEmpty(t, called, "the console's calls were found")

	for what, routes := range map[string]map[string]bool{"served by api.New": served, "described in openapi.json": described, "called by the console": called} {
		for _, r := range sorted(routes) {
			if !inMatrix[r] {
				t.Errorf("%s is %s but has no row in authzMatrix", r, what)
			}
		}
	}
	for _, r := range sorted(inMatrix) {
		if !served[r] {
			t.Errorf("authzMatrix has a row for %s, which api.New does not serve", r)
		}
	}
	t.Logf("authorization matrix: %d rows over %d routes × %d principals", len(authzMatrix), len(inMatrix), principals)
}

func sorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
