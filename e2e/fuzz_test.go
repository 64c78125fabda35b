package e2e

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/opennemid/nemid/internal/config"
	"github.com/opennemid/nemid/internal/testenv"
)

// publicRoutes are every route a caller reaches without a staff token:
// the citizen routes and the anonymous abroad order. "{id}" is filled with
// the fuzzer's id.
var publicRoutes = []struct{ method, path string }{
	{"POST", "/v1/activations"},
	{"POST", "/v1/activations/{id}"},
	{"POST", "/v1/logins"},
	{"POST", "/v1/logins/{id}"},
	{"GET", "/v1/me"},
	{"POST", "/v1/logout"},
	{"GET", "/v1/support"},
	{"POST", "/v1/issuances"},
}

// FuzzPublicRoutes sends random bodies, ids and bearer values to every
// citizen and anonymous route of the whole application (real Temporal,
// SQLite) and fails on any 5xx — a panic is answered 500 by the recover
// middleware, so it fails too. In a normal test run only the seeds run:
//
//	go test -run '^$' -fuzz FuzzPublicRoutes -fuzztime 5m ./e2e
func FuzzPublicRoutes(f *testing.F) {
	app := testenv.NewApp(f, testenv.SQLite(f), testenv.Options{Configure: func(c *config.Config) { c.RateLimit = 1e9 }})
	seeds := []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"user_id":"123456789","password":"Kodeord2024"}`,
		`{"user_id":"123456789","temporary_password":"123456"}`, `{"code":"123456","new_password":"Kodeord2024"}`,
		`{"user_id":1,"password":true}`, `{"user_id":"` + strings.Repeat("9", 5000) + `"}`,
		`{"path":"abroad","cpr":"200788-4112","document":{"type":"danish_passport","number":"DP1234567"},` +
			`"address":{"lines":["221B Baker Street"],"postcode":"NW1 6XE","city":"London","country":"GB"},"representation":"LONDON"}`,
		`{"path":"abroad","cpr":"311399-9999","document":{"type":"x"},"address":{"lines":null},"representation":""}`,
		`{"path":"counter","cpr":"0101901234"}`, "{\"user_id\":\"\u0000\"}", `{"code":"1e9"}`,
	}
	for i := range publicRoutes {
		for _, s := range seeds {
			f.Add(uint8(i), "00000000-0000-0000-0000-000000000000", s, "")
		}
		f.Add(uint8(i), "../../v1/support", `{}`, "nemid_session_x")
		f.Add(uint8(i), "%00", `{"code":"000000"}`, "Bearer Bearer")
	}
	f.Fuzz(func(t *testing.T, route uint8, id, body, bearer string) {
		r := publicRoutes[int(route)%len(publicRoutes)]
		path := strings.ReplaceAll(r.path, "{id}", url.PathEscape(id))
		req, err := http.NewRequest(r.method, app.URL+path, bytes.NewBufferString(body))
		if err != nil {
			t.Skip("not a request a client can send")
		}
		req.Header.Set("Content-Type", "application/json")
		if bearer != "" && sendableHeader(bearer) {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", r.method, path, err)
		}
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s with body %q answered %d", r.method, path, body, res.StatusCode)
		}
	})
}

// sendableHeader reports whether net/http will send v as a header value.
func sendableHeader(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < 0x20 && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}
