package e2e

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
)

// newToken creates a token through the admin API and answers its id and
// the token.
func newToken(t *testing.T, app *testenv.App, body map[string]any) (string, string) {
	t.Helper()
	res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/tokens", Token: app.Tokens["admin:all"], Body: body})
	require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
	return res.JSON["id"].(string), res.JSON["token"].(string)
}

func revoke(t *testing.T, app *testenv.App, id string) testenv.Response {
	t.Helper()
	return app.Do(t, testenv.Request{Method: "POST", Path: "/v1/tokens/" + id + "/revoke", Token: app.Tokens["admin:all"]})
}

// whoamiAt calls GET /v1/whoami on the API at base.
func whoamiAt(t testing.TB, base, token string) testenv.Response {
	t.Helper()
	return testenv.Do(t, base, testenv.Request{Method: "GET", Path: "/v1/whoami", Token: token})
}

// listedToken finds a token in GET /v1/tokens, walking every page.
func listedToken(t *testing.T, app *testenv.App, id string) map[string]any {
	t.Helper()
	path := "/v1/tokens?limit=2"
	for {
		res := app.Do(t, testenv.Request{Method: "GET", Path: path, Token: app.Tokens["admin:all"]})
		require.Equal(t, http.StatusOK, res.Status, string(res.Body))
		for _, it := range res.JSON["items"].([]any) {
			if item := it.(map[string]any); item["id"] == id {
				return item
			}
		}
		next, _ := res.JSON["next_cursor"].(string)
		if next == "" {
			t.Fatalf("token %s is not listed", id)
		}
		path = "/v1/tokens?limit=2&cursor=" + next
	}
}

func TestTokenLifecycle(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		second := app.SecondAPI(t)
		admin := app.Tokens["admin:all"]

		// Created with a name: shown once, not cached, usable at once.
		res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/tokens", Token: admin, Header: map[string]string{"Idempotency-Key": "mette-1"},
			Body: map[string]any{"role": "caseworker", "scope": "KBH", "name": "Mette Jensen", "ttl": "2160h"}})
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
		id, token := res.JSON["id"].(string), res.JSON["token"].(string)
		assert.True(t, strings.HasPrefix(token, "nemid_"))
		assert.Equal(t, "caseworker", res.JSON["role"])
		assert.Equal(t, "KBH", res.JSON["scope"])
		assert.Equal(t, "Mette Jensen", res.JSON["name"])
		created, err := time.Parse(time.RFC3339Nano, res.JSON["created_at"].(string))
		require.NoError(t, err)
		expires, err := time.Parse(time.RFC3339Nano, res.JSON["expires_at"].(string))
		require.NoError(t, err)
		assert.Equal(t, 2160*time.Hour, expires.Sub(created))
		for _, base := range []string{app.URL, second} {
			who := whoamiAt(t, base, token)
			require.Equal(t, http.StatusOK, who.Status, string(who.Body))
			assert.Equal(t, map[string]any{"role": "caseworker", "scope": "KBH", "name": "Mette Jensen"}, who.JSON)
		}

		// The answer carried the token: a replay of its key does not show it again.
		again := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/tokens", Token: admin, Header: map[string]string{"Idempotency-Key": "mette-1"},
			Body: map[string]any{"role": "caseworker", "scope": "KBH", "name": "Mette Jensen", "ttl": "2160h"}})
		assert.Equal(t, http.StatusGone, again.Status, string(again.Body))
		assert.NotContains(t, string(again.Body), token)
		var kept []byte
		require.NoError(t, app.Store.ScanForTests(t.Context(), &kept,
			"SELECT response_body FROM idempotency_keys WHERE key = ?", "mette-1"))
		assert.NotContains(t, string(kept), token, "the token is not kept with the key")

		// Stored hashed; listed without the token, with its use.
		dump, err := app.Store.DumpForTests(t.Context())
		require.NoError(t, err)
		assert.NotContains(t, dump, token, "tokens are stored hashed")
		item := listedToken(t, app, id)
		assert.NotContains(t, item, "token")
		assert.Equal(t, "Mette Jensen", item["name"])
		assert.Nil(t, item["revoked_at"])
		assert.Equal(t, res.JSON["expires_at"], item["expires_at"])
		lastUsed, ok := item["last_used_at"].(string)
		require.True(t, ok, "the use is recorded: %v", item)
		// Within a minute a further use writes nothing.
		require.Equal(t, http.StatusOK, whoamiAt(t, app.URL, token).Status)
		assert.Equal(t, lastUsed, listedToken(t, app, id)["last_used_at"])

		// Without a name the token is named role:scope; without ttl it never expires.
		plainID, _ := newToken(t, app, map[string]any{"role": "post", "scope": "post"})
		plain := listedToken(t, app, plainID)
		assert.Equal(t, "post:post", plain["name"])
		assert.Nil(t, plain["expires_at"])
		assert.Nil(t, plain["last_used_at"], "not used yet")

		// Revoked: 401 at once in both API processes; revoking again changes nothing.
		rev := revoke(t, app, id)
		require.Equal(t, http.StatusOK, rev.Status, string(rev.Body))
		assert.NotContains(t, rev.JSON, "token")
		revokedAt, ok := rev.JSON["revoked_at"].(string)
		require.True(t, ok, "revoked_at is set: %v", rev.JSON)
		for _, base := range []string{app.URL, second} {
			assert.Equal(t, http.StatusUnauthorized, whoamiAt(t, base, token).Status, base)
			got := testenv.Do(t, base, testenv.Request{Method: "GET", Path: "/v1/issuances", Token: token})
			assert.Equal(t, http.StatusUnauthorized, got.Status)
		}
		twice := revoke(t, app, id)
		require.Equal(t, http.StatusOK, twice.Status)
		assert.Equal(t, revokedAt, twice.JSON["revoked_at"])
		assert.Equal(t, revokedAt, listedToken(t, app, id)["revoked_at"])
		assert.Equal(t, http.StatusNotFound, revoke(t, app, "no-such-token").Status)

		// The creation and the one revocation that changed something are in
		// the audit log, by the admin's name, and the chain holds.
		audit := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/audit", Token: admin})
		require.Equal(t, http.StatusOK, audit.Status, string(audit.Body))
		var actions []string
		for _, raw := range audit.JSON["items"].([]any) {
			e := raw.(map[string]any)
			if e["target"] == "token:"+id {
				assert.Equal(t, "admin:all", e["actor"])
				assert.Equal(t, "admin:all", e["actor_name"], "the acting token's name")
				actions = append(actions, e["action"].(string))
			}
		}
		assert.Equal(t, []string{"token_revoked", "token_created"}, actions, "newest first, the repeated revoke not recorded")
		verdict, err := app.Store.VerifyAudit(context.Background())
		require.NoError(t, err)
		assert.True(t, verdict.Holds(), verdict.Reason)
	})
}

func TestTokenRoutesAreForAdminsOnly(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), testenv.Options{})
	id, _ := newToken(t, app, map[string]any{"role": "bank", "scope": "1234"})
	body := map[string]any{"role": "admin", "scope": "all"}
	for _, who := range []string{"caseworker:KBH", "embassy:LONDON", "bank:1234", "post:post", ""} {
		t.Run(who, func(t *testing.T) {
			want := http.StatusForbidden
			if who == "" {
				want = http.StatusUnauthorized
			}
			token := app.Tokens[who]
			assert.Equal(t, want, app.Do(t, testenv.Request{Method: "POST", Path: "/v1/tokens", Token: token, Body: body}).Status)
			assert.Equal(t, want, app.Do(t, testenv.Request{Method: "GET", Path: "/v1/tokens", Token: token}).Status)
			assert.Equal(t, want, app.Do(t, testenv.Request{Method: "POST", Path: "/v1/tokens/" + id + "/revoke", Token: token}).Status)
		})
	}
	assert.Nil(t, listedToken(t, app, id)["revoked_at"], "nobody but an admin revoked it")
}

func TestTokenRequestRules(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), testenv.Options{})
	cases := []struct {
		name   string
		body   any
		status int
		codes  []string
	}{
		{"unknown role", map[string]any{"role": "king", "scope": "all"}, 422, []string{"role_invalid"}},
		{"no role", map[string]any{"scope": "all"}, 422, []string{"role_invalid"}},
		{"no scope", map[string]any{"role": "admin"}, 422, []string{"scope_invalid"}},
		{"a centre that does not exist", map[string]any{"role": "caseworker", "scope": "NOWHERE"}, 422, []string{"scope_invalid"}},
		{"an embassy elsewhere", map[string]any{"role": "embassy", "scope": "OSLO"}, 422, []string{"scope_invalid"}},
		{"a bank number too short", map[string]any{"role": "bank", "scope": "12"}, 422, []string{"scope_invalid"}},
		{"admin scoped to a centre", map[string]any{"role": "admin", "scope": "KBH"}, 422, []string{"scope_invalid"}},
		{"ttl not a duration", map[string]any{"role": "admin", "scope": "all", "ttl": "three months"}, 422, []string{"ttl_invalid"}},
		{"ttl in days", map[string]any{"role": "admin", "scope": "all", "ttl": "90d"}, 422, []string{"ttl_invalid"}},
		{"ttl empty", map[string]any{"role": "admin", "scope": "all", "ttl": ""}, 422, []string{"ttl_invalid"}},
		{"ttl zero", map[string]any{"role": "admin", "scope": "all", "ttl": "0s"}, 422, []string{"ttl_invalid"}},
		{"ttl negative", map[string]any{"role": "admin", "scope": "all", "ttl": "-1h"}, 422, []string{"ttl_invalid"}},
		{"name too long", map[string]any{"role": "admin", "scope": "all", "name": strings.Repeat("x", 201)}, 422, []string{"name_invalid"}},
		{"name with a newline", map[string]any{"role": "admin", "scope": "all", "name": "Mette\nJensen"}, 422, []string{"name_invalid"}},
		{"every rule at once", map[string]any{"role": "king", "ttl": "soon", "name": strings.Repeat("x", 201)}, 422,
			[]string{"role_invalid", "name_invalid", "ttl_invalid"}},
		{"ttl a number", map[string]any{"role": "admin", "scope": "all", "ttl": 3600}, 400, nil},
		{"an unknown field", map[string]any{"role": "admin", "scope": "all", "expires": "2030-01-01"}, 400, nil},
		{"not JSON", "{", 400, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/tokens", Token: app.Tokens["admin:all"], Body: c.body})
			require.Equal(t, c.status, res.Status, string(res.Body))
			if c.codes != nil {
				assert.ElementsMatch(t, c.codes, codesOf(res))
			}
		})
	}
	for _, ttl := range []string{"90s", "8h", "2160h", "1h30m"} {
		t.Run("ttl "+ttl, func(t *testing.T) {
			res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/tokens", Token: app.Tokens["admin:all"],
				Body: map[string]any{"role": "admin", "scope": "all", "ttl": ttl}})
			require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
			d, _ := time.ParseDuration(ttl)
			created, _ := time.Parse(time.RFC3339Nano, res.JSON["created_at"].(string))
			expires, _ := time.Parse(time.RFC3339Nano, res.JSON["expires_at"].(string))
			assert.Equal(t, d, expires.Sub(created))
		})
	}
	list := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/tokens?limit=501", Token: app.Tokens["admin:all"]})
	assert.Equal(t, http.StatusBadRequest, list.Status)
}

// TestExpiredTokensAreRefused: a token with a short ttl works until its
// expiry and answers 401 from then on, in both API processes.
func TestExpiredTokensAreRefused(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		second := app.SecondAPI(t)
		res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/tokens", Token: app.Tokens["admin:all"],
			Body: map[string]any{"role": "embassy", "scope": "LONDON", "name": "Short-lived", "ttl": "3s"}})
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		token := res.JSON["token"].(string)
		expires, err := time.Parse(time.RFC3339Nano, res.JSON["expires_at"].(string))
		require.NoError(t, err)
		for _, base := range []string{app.URL, second} {
			require.Equal(t, http.StatusOK, whoamiAt(t, base, token).Status, "valid until it expires")
		}
		time.Sleep(time.Until(expires) + 200*time.Millisecond)
		for _, base := range []string{app.URL, second} {
			assert.Equal(t, http.StatusUnauthorized, whoamiAt(t, base, token).Status, base)
			got := testenv.Do(t, base, testenv.Request{Method: "GET", Path: "/v1/issuances", Token: token})
			assert.Equal(t, http.StatusUnauthorized, got.Status)
		}
		assert.NotNil(t, listedToken(t, app, res.JSON["id"].(string))["expires_at"])
	})
}

// TestRevokeRacesWithUse: requests with a token stream into both API
// processes while an admin revokes it. Whatever started before the
// revocation's answer may pass; every request sent after it answers 401,
// and none answers a 5xx.
func TestRevokeRacesWithUse(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		bases := []string{app.URL, app.SecondAPI(t)}
		id, token := newToken(t, app, map[string]any{"role": "caseworker", "scope": "KBH", "name": "Racing Caseworker"})

		var revokedAt atomic.Int64 // UnixNano when the revocation's 200 arrived; 0 before
		var stop atomic.Bool
		type call struct {
			sent   time.Time
			status int
		}
		var mu sync.Mutex
		var calls []call
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					sent := time.Now()
					path := "/v1/whoami"
					if i%2 == 1 {
						path = "/v1/issuances?limit=1"
					}
					res := testenv.Do(t, bases[i%len(bases)], testenv.Request{Method: "GET", Path: path, Token: token})
					mu.Lock()
					calls = append(calls, call{sent: sent, status: res.Status})
					mu.Unlock()
				}
			}()
		}
		time.Sleep(300 * time.Millisecond)
		res := revoke(t, app, id)
		revokedAt.Store(time.Now().UnixNano())
		require.Equal(t, http.StatusOK, res.Status, string(res.Body))
		time.Sleep(300 * time.Millisecond)
		stop.Store(true)
		wg.Wait()

		var before, after, passedAfter int
		for _, c := range calls {
			assert.Less(t, c.status, 500, "no 5xx")
			if c.sent.UnixNano() <= revokedAt.Load() {
				before++
				continue
			}
			after++
			if c.status != http.StatusUnauthorized {
				passedAfter++
			}
		}
		t.Logf("%d requests before the revocation answered, %d after", before, after)
		require.NotZero(t, before, "requests raced the revocation")
		require.NotZero(t, after, "requests followed the revocation")
		assert.Zero(t, passedAfter, "a request sent after the revocation's answer got through")
	})
}

// TestActorNamesOnTheTimeline: the name of the token that acted is on the
// timeline beside its role:scope, through the API's own writes and through
// the workflow's (acceptance, handover, cancel); the system's entries have
// none.
func TestActorNamesOnTheTimeline(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		_, mette := newToken(t, app, map[string]any{"role": "caseworker", "scope": "KBH", "name": "Mette Jensen"})
		_, ole := newToken(t, app, map[string]any{"role": "admin", "scope": "all", "name": "Ole Admin"})
		res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: mette, Body: counterBody(soeren)})
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		id := res.JSON["id"].(string)
		received := res.JSON["timeline"].([]any)[0].(map[string]any)
		assert.Equal(t, "Mette Jensen", received["actor_name"], "the 201 shows the name")
		waitForStatus(t, app, id, "awaiting_handover")

		hand := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/handover", Token: mette})
		require.Equal(t, http.StatusOK, hand.Status, string(hand.Body))
		cancel := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/cancel", Token: ole,
			Body: map[string]any{"reason": "testing actor names"}})
		require.Equal(t, http.StatusOK, cancel.Status, string(cancel.Body))

		names := map[string]any{}
		actors := map[string]any{}
		for _, e := range status(t, app, id).JSON["timeline"].([]any) {
			ev := e.(map[string]any)
			require.Contains(t, ev, "actor_name", "every entry has the field")
			names[ev["type"].(string)] = ev["actor_name"]
			actors[ev["type"].(string)] = ev["actor"]
		}
		want := []struct {
			typ, actor string
			name       any
		}{
			{"received", "caseworker:KBH", "Mette Jensen"},
			{"credentials_minted", "system", nil},
			{"handover_printed", "caseworker:KBH", "Mette Jensen"},
			{"cancelled", "admin:all", "Ole Admin"},
		}
		for _, w := range want {
			assert.Equal(t, w.actor, actors[w.typ], w.typ)
			assert.Equal(t, w.name, names[w.typ], w.typ)
		}
	})
}
