package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/config"
	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// answer is what a concurrent call got; calls made off the test's
// goroutine report errors instead of failing there.
type answer struct {
	status     int
	retryAfter string
	body       []byte
	err        error
}

func send(client *http.Client, base string, r testenv.Request) answer {
	raw, err := json.Marshal(r.Body)
	if err != nil {
		return answer{err: err}
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(r.Method, base+r.Path, body)
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After"), body: b, err: err}
}

// limitedBurst sends the requests at once, each to its server, and counts what
// got through (not 429). It also answers how long the burst took, from the
// first request sent to the last answer: the buckets refill meanwhile.
func limitedBurst(t *testing.T, targets []string, reqs []testenv.Request) (passed int, elapsed time.Duration) {
	t.Helper()
	answers := make([]answer, len(reqs))
	clients := make([]*http.Client, len(reqs))
	for i, r := range reqs {
		clients[i] = testenv.ClientFrom(t, r.From)
	}
	var wg sync.WaitGroup
	start := time.Now()
	for i, r := range reqs {
		wg.Go(func() { answers[i] = send(clients[i], targets[i%len(targets)], r) })
	}
	wg.Wait()
	elapsed = time.Since(start)
	for i, a := range answers {
		require.NoError(t, a.err, "request %d", i)
		if a.status != http.StatusTooManyRequests {
			passed++
			continue
		}
		wait, err := strconv.Atoi(a.retryAfter)
		require.NoError(t, err, "Retry-After is whole seconds: %q", a.retryAfter)
		assert.GreaterOrEqual(t, wait, 1)
		assert.Contains(t, string(a.body), `"rate_limited"`)
	}
	return passed, elapsed
}

// allowance is what one server's bucket lets through in a burst that took
// elapsed: the burst (one second's worth) plus the refill meanwhile.
func allowance(perSecond float64, elapsed time.Duration) int {
	return int(math.Floor(math.Ceil(perSecond) + perSecond*elapsed.Seconds()))
}

// TestRateLimitsHoldAcrossAPIProcesses: two API processes, each with its own
// connection pool to one database, share the per-address and the per-user
// buckets. Bursts split over both get no more than one server's allowance
// (in-process buckets would let twice the burst through).
func TestRateLimitsHoldAcrossAPIProcesses(t *testing.T) {
	const perSecond = 3
	opts := testenv.Options{Configure: func(c *config.Config) { c.RateLimit = perSecond }}
	forEachBackend(t, opts, func(t *testing.T, app *testenv.App) {
		servers := []string{app.URL, app.SecondAPI(t)}

		t.Run("per client address", func(t *testing.T) {
			reqs := make([]testenv.Request, 16)
			for i := range reqs {
				reqs[i] = testenv.Request{Method: "GET", Path: "/v1/support", From: "127.0.9.1"}
			}
			passed, elapsed := limitedBurst(t, servers, reqs)
			t.Logf("%d of %d passed in %v", passed, len(reqs), elapsed)
			assert.Positive(t, passed)
			assert.LessOrEqual(t, passed, allowance(perSecond, elapsed), "one address over two servers gets one bucket")
		})

		t.Run("per user ID, from many addresses", func(t *testing.T) {
			reqs := make([]testenv.Request, 16)
			for i, from := range testenv.ClientAddresses(len(reqs)) {
				// Activation for an unknown user ID answers 401 at once (a logon
				// spends a password hash first, which only widens the window).
				reqs[i] = testenv.Request{Method: "POST", Path: "/v1/activations", From: from,
					Body: map[string]string{"user_id": "987654321", "temporary_password": "123456"}}
			}
			passed, elapsed := limitedBurst(t, servers, reqs)
			t.Logf("%d of %d passed in %v", passed, len(reqs), elapsed)
			assert.Positive(t, passed)
			assert.LessOrEqual(t, passed, allowance(perSecond, elapsed), "one user ID over two servers and 16 addresses gets one bucket")
		})

		t.Run("anonymous orders per client address", func(t *testing.T) {
			reqs := make([]testenv.Request, 16)
			for i := range reqs {
				// A CPR number that does not parse is not counted per CPR.
				reqs[i] = testenv.Request{Method: "POST", Path: "/v1/issuances", From: "127.0.9.2", Body: abroadOrder("3201901234", nil)}
			}
			passed, elapsed := limitedBurst(t, servers, reqs)
			t.Logf("%d of %d passed in %v", passed, len(reqs), elapsed)
			assert.Positive(t, passed)
			assert.LessOrEqual(t, passed, allowance(perSecond, elapsed), "one address over two servers gets one bucket")
		})
	})
}

// TestAnonymousAbroadOrderIsNoRegisterOracle (DESIGN.md §9): without a
// token, an unknown CPR number, a deceased person, a person living in
// Denmark and a person abroad with another document all get the very same
// answer; what the request alone breaks is still reported; a matching
// document reveals the register-derived codes.
func TestAnonymousAbroadOrderIsNoRegisterOracle(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		require.NoError(t, app.Store.UpsertPersons(context.Background(), []store.Person{
			{CPR: "0202851234", Name: "Dorte Hjemme", Address: "Havnegade 2", Postcode: "1058", City: "København K",
				Country: "DK", DanishPassport: "DP5550001"},
			{CPR: "0404754321", Name: "Ove Afdød", Address: "1 Main Street", Postcode: "10001", City: "New York",
				Country: "US", Deceased: true, DanishPassport: "DP5550002"},
		}))
		const unknown = "0101801239" // a valid number the register does not hold
		wrongDocument := func(o map[string]any) {
			o["document"] = map[string]any{"type": "danish_passport", "number": "DP0000000"}
		}
		var first testenv.Response
		for _, who := range []struct{ name, cpr string }{
			{"unknown CPR", unknown},
			{"deceased", "0303504321"},
			{"lives in Denmark", soeren},
			{"abroad, another document", jens},
			{"lives in Denmark, has a passport", "0202851234"},
			{"deceased abroad, has a passport", "0404754321"},
		} {
			got := order(t, app, abroadOrder(who.cpr, wrongDocument))
			require.Equal(t, http.StatusUnprocessableEntity, got.Status, "%s: %s", who.name, got.Body)
			assert.Equal(t, []string{"abroad_document_mismatch"}, codesOf(got), who.name)
			if first.Body == nil {
				first = got
				continue
			}
			assert.Equal(t, string(first.Body), string(got.Body), "%s answers exactly like an unknown CPR number", who.name)
		}

		requestOnly := []struct {
			name  string
			cprs  []string
			order func(map[string]any)
			codes []string
		}{
			{"an invalid CPR number", []string{"3201901234"}, nil, []string{"abroad_document_mismatch", "cpr_invalid"}},
			{"under 15 by the number", []string{"1006154123", "1006154999"}, nil, []string{"abroad_document_mismatch", "under_15"}},
			{"an unknown representation and a Danish address", []string{unknown, soeren, "0303504321"}, func(o map[string]any) {
				o["representation"] = "OSLO"
				o["address"] = map[string]any{"lines": []string{"Nørregade 1"}, "postcode": "1165", "city": "København K", "country": "DK"}
			}, []string{"abroad_document_mismatch", "not_abroad", "representation_unknown"}},
		}
		for _, tc := range requestOnly {
			var same []byte
			for _, cpr := range tc.cprs {
				got := order(t, app, abroadOrder(cpr, func(o map[string]any) {
					wrongDocument(o)
					if tc.order != nil {
						tc.order(o)
					}
				}))
				require.Equal(t, http.StatusUnprocessableEntity, got.Status, "%s: %s", tc.name, got.Body)
				assert.Equal(t, tc.codes, codesOf(got), tc.name)
				if same != nil {
					assert.Equal(t, string(same), string(got.Body), "%s: known and unknown answer alike", tc.name)
				}
				same = got.Body
			}
		}

		revealed := []struct {
			name  string
			body  map[string]any
			codes []string
		}{
			{"lives in Denmark", abroadOrder("0202851234", func(o map[string]any) {
				o["document"] = map[string]any{"type": "danish_passport", "number": "dp 555-0001"}
			}), []string{"not_abroad", "representation_country"}},
			{"deceased", abroadOrder("0404754321", func(o map[string]any) {
				o["document"] = map[string]any{"type": "danish_passport", "number": "DP5550002"}
				o["representation"] = "WASHINGTON"
			}), []string{"deceased"}},
			{"another country's representation", abroadOrder(jens, func(o map[string]any) { o["representation"] = "PARIS" }),
				[]string{"representation_country"}},
		}
		for _, tc := range revealed {
			got := order(t, app, tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, got.Status, "%s: %s", tc.name, got.Body)
			assert.Equal(t, tc.codes, codesOf(got), "a matching document reveals: %s", tc.name)
		}
		accepted := order(t, app, abroadOrder(jens, nil))
		require.Equal(t, http.StatusCreated, accepted.Status, string(accepted.Body))

		signedIn := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: app.Tokens["admin:all"],
			Body: abroadOrder(soeren, nil)})
		require.Equal(t, http.StatusUnprocessableEntity, signedIn.Status)
		assert.Equal(t, []string{"abroad_document_mismatch", "not_abroad", "representation_country"}, codesOf(signedIn),
			"a token holder, who may ask the register anyway, is told every reason")
	})
}

// TestAbroadOrdersPerCPRAreLimited: at most 5 orders per CPR number in 24
// hours, counted in the database, whatever the client address and the API
// process; unknown and known numbers alike.
func TestAbroadOrdersPerCPRAreLimited(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		servers := []string{app.URL, app.SecondAPI(t)}
		addresses := testenv.ClientAddresses(40)
		next := 0
		orderFrom := func(body any) testenv.Response {
			t.Helper()
			next++
			return testenv.Do(t, servers[next%2], testenv.Request{Method: "POST", Path: "/v1/issuances",
				From: addresses[next], Body: body})
		}
		var refusals []testenv.Response
		for _, cpr := range []string{"0101801239", soeren} {
			for i := range store.AbroadOrdersPerCPR {
				got := orderFrom(abroadOrder(cpr, nil))
				require.Equal(t, http.StatusUnprocessableEntity, got.Status, "order %d: %s", i+1, got.Body)
			}
			sixth := orderFrom(abroadOrder(cpr, nil))
			require.Equal(t, http.StatusTooManyRequests, sixth.Status, "the sixth order in 24 hours: %s", sixth.Body)
			assert.Equal(t, "rate_limited", errorCode(sixth))
			wait, err := strconv.Atoi(sixth.Header.Get("Retry-After"))
			require.NoError(t, err)
			assert.InDelta(t, 24*3600, wait, 120, "until the first order is 24 hours old")
			refusals = append(refusals, sixth)
		}
		assert.Equal(t, string(refusals[0].Body), string(refusals[1].Body), "the 429 does not tell known from unknown")

		admin := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: app.Tokens["admin:all"],
			Body: abroadOrder(soeren, nil)})
		assert.Equal(t, http.StatusTooManyRequests, admin.Status, "the limit is the CPR's, whoever orders")
		other := orderFrom(abroadOrder("0303504321", nil))
		assert.Equal(t, http.StatusUnprocessableEntity, other.Status, "another CPR number is counted apart")
		for range store.AbroadOrdersPerCPR + 1 {
			invalid := orderFrom(abroadOrder("3201901234", nil))
			require.Equal(t, http.StatusUnprocessableEntity, invalid.Status, "a number that is no CPR number is not counted")
		}
	})
}

// TestAnonymousIdempotencyKeys: an anonymous caller's key belongs to its
// client address, and any key is forgotten after 24 hours.
func TestAnonymousIdempotencyKeys(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		const a, b = "127.0.3.1", "127.0.3.2"
		post := func(from string, body any) testenv.Response {
			t.Helper()
			return app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", From: from, Body: body,
				Header: map[string]string{"Idempotency-Key": "order-1"}})
		}
		replayed := func(r testenv.Response) bool { return r.Header.Get("Idempotent-Replayed") == "true" }
		x, y := abroadOrder(soeren, nil), abroadOrder("0101801239", nil)

		first := post(a, x)
		require.Equal(t, http.StatusUnprocessableEntity, first.Status, string(first.Body))
		require.False(t, replayed(first))
		again := post(a, x)
		assert.True(t, replayed(again), "the same address gets its first answer again")
		assert.Equal(t, string(first.Body), string(again.Body))

		fromB := post(b, x)
		assert.Equal(t, http.StatusUnprocessableEntity, fromB.Status)
		assert.False(t, replayed(fromB), "another address's key is not this one's")
		assert.Equal(t, "idempotency_key_reused", errorCode(post(b, y)), "B's key is now B's own, bound to B's first request")
		assert.Equal(t, "idempotency_key_reused", errorCode(post(a, y)), "A's key is alive and bound to its first request")

		n, err := app.Store.ExecForTests(context.Background(),
			"UPDATE idempotency_keys SET created_at = ? WHERE principal = ? AND key = ?",
			time.Now().UTC().Add(-store.IdempotencyKeyTTL-time.Minute), "anonymous:"+a, "order-1")
		require.NoError(t, err)
		require.EqualValues(t, 1, n, "A's key is stored under its address")
		fresh := post(a, y)
		assert.Equal(t, http.StatusUnprocessableEntity, fresh.Status)
		assert.False(t, replayed(fresh), "a key older than 24 hours is unused")
		assert.Equal(t, "rules_broken", errorCode(fresh))
		assert.True(t, replayed(post(a, y)), "and is now bound to the new request")
	})
}
