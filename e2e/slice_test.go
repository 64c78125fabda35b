package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/workflows"
)

// Søren, from the demo register: an adult living in Denmark.
const soeren = "010190-1234"

func counterBody(cpr string) map[string]any {
	return map[string]any{
		"path": "counter", "cpr": cpr, "centre": "KBH",
		"documents":              []map[string]any{{"type": "passport", "number": "X123", "expires": "2031-05-01"}},
		"check_questions_passed": true,
	}
}

func create(t *testing.T, app *testenv.App, cpr string) testenv.Response {
	t.Helper()
	return app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: app.Tokens["caseworker:KBH"], Body: counterBody(cpr)})
}

func timelineTypes(res testenv.Response) []string {
	var types []string
	for _, e := range res.JSON["timeline"].([]any) {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	return types
}

func TestCounterSliceFromApplicationToCancel(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		kbh := app.Tokens["caseworker:KBH"]
		res := create(t, app, soeren)
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		id := res.JSON["id"].(string)
		assert.Equal(t, "received", res.JSON["status"])
		assert.Equal(t, "counter", res.JSON["path"])
		assert.Equal(t, "010190-XXXX", res.JSON["cpr_masked"])
		assert.Equal(t, "KBH", res.JSON["centre"])
		assert.Nil(t, res.JSON["representation"])

		got := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances/" + id, Token: kbh})
		require.Equal(t, http.StatusOK, got.Status)
		assert.Equal(t, "received", timelineTypes(got)[0])
		assert.NotNil(t, got.JSON["deadline"])

		desc, err := app.Temporal.DescribeWorkflowExecution(context.Background(), workflows.IssuanceWorkflowID(id), "")
		require.NoError(t, err, "the workflow runs under issuance/<id>")
		assert.Equal(t, "issuance/"+id, desc.WorkflowExecutionInfo.Execution.WorkflowId)

		second := create(t, app, "0101901234")
		require.Equal(t, http.StatusConflict, second.Status, "one open issuance per CPR")
		errBody := second.JSON["error"].(map[string]any)
		assert.Equal(t, "open_issuance", errBody["code"])
		assert.Equal(t, id, errBody["issuance_id"])

		cancel := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/cancel", Token: kbh,
			Body: map[string]string{"reason": "the applicant withdrew"}})
		require.Equal(t, http.StatusOK, cancel.Status, string(cancel.Body))
		assert.Equal(t, "cancelled", cancel.JSON["status"])
		// Minting may or may not have happened before the cancel arrived;
		// either way the timeline starts received and ends cancelled.
		types := timelineTypes(cancel)
		assert.Equal(t, "received", types[0])
		assert.Equal(t, "cancelled", types[len(types)-1])

		var result workflows.IssuanceResult
		require.NoError(t, app.Temporal.GetWorkflow(context.Background(), workflows.IssuanceWorkflowID(id), "").Get(context.Background(), &result))
		assert.Equal(t, "cancelled", result.Status)

		again := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/cancel", Token: kbh,
			Body: map[string]string{"reason": "twice"}})
		assert.Equal(t, http.StatusConflict, again.Status, "cancelling a finished issuance")

		fresh := create(t, app, soeren)
		assert.Equal(t, http.StatusCreated, fresh.Status, "a cancelled issuance no longer blocks the CPR: %s", fresh.Body)
	})
}

func TestConcurrentApplicationsForOneCPRAcceptExactlyOne(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		const n = 8
		var wg sync.WaitGroup
		statuses := make([]testenv.Response, n)
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); statuses[i] = create(t, app, "150285-4321") }()
		}
		wg.Wait()
		created, conflicts := 0, 0
		var id string
		for _, r := range statuses {
			switch r.Status {
			case http.StatusCreated:
				created++
				id = r.JSON["id"].(string)
			case http.StatusConflict:
				conflicts++
			default:
				t.Errorf("unexpected %d: %s", r.Status, r.Body)
			}
		}
		require.Equal(t, 1, created, "exactly one application is accepted")
		require.Equal(t, n-1, conflicts)
		for _, r := range statuses {
			if r.Status == http.StatusConflict {
				assert.Equal(t, id, r.JSON["error"].(map[string]any)["issuance_id"])
			}
		}
	})
}

func TestAuthAndScope(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		res := create(t, app, soeren)
		require.Equal(t, http.StatusCreated, res.Status)
		path := "/v1/issuances/" + res.JSON["id"].(string)
		cases := []struct {
			name   string
			req    testenv.Request
			status int
			code   string
		}{
			{"no token", testenv.Request{Method: "GET", Path: path}, 401, "unauthorized"},
			{"unknown token", testenv.Request{Method: "GET", Path: path, Token: "nemid_nope"}, 401, "unauthorized"},
			{"wrong scheme", testenv.Request{Method: "GET", Path: path, Header: map[string]string{"Authorization": "Basic eDp5"}}, 401, "unauthorized"},
			{"post may not read issuances", testenv.Request{Method: "GET", Path: path, Token: app.Tokens["post:post"]}, 403, "forbidden"},
			{"another centre's issuance is not revealed", testenv.Request{Method: "GET", Path: path, Token: app.Tokens["caseworker:AAR"]}, 404, "not_found"},
			{"an embassy does not see counter issuances", testenv.Request{Method: "GET", Path: path, Token: app.Tokens["embassy:LONDON"]}, 404, "not_found"},
			{"admin sees everything", testenv.Request{Method: "GET", Path: path, Token: app.Tokens["admin:all"]}, 200, ""},
			{"a caseworker applies only at their own centre", testenv.Request{Method: "POST", Path: "/v1/issuances",
				Token: app.Tokens["caseworker:AAR"], Body: counterBody("1210701234")}, 403, "forbidden"},
			{"a bank may not start a counter issuance", testenv.Request{Method: "POST", Path: "/v1/issuances",
				Token: app.Tokens["bank:1234"], Body: counterBody("1210701234")}, 403, "forbidden"},
			{"another centre may not cancel", testenv.Request{Method: "POST", Path: path + "/cancel",
				Token: app.Tokens["caseworker:AAR"], Body: map[string]string{"reason": "x"}}, 404, "not_found"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := app.Do(t, tc.req)
				require.Equal(t, tc.status, got.Status, string(got.Body))
				if tc.code != "" {
					assert.Equal(t, tc.code, got.JSON["error"].(map[string]any)["code"])
					assert.NotEmpty(t, got.JSON["error"].(map[string]any)["message"])
				}
			})
		}
	})
}

func TestBadInputGetsAClearError(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		kbh := app.Tokens["caseworker:KBH"]
		post := func(body any) testenv.Request {
			return testenv.Request{Method: "POST", Path: "/v1/issuances", Token: kbh, Body: body}
		}
		cases := []struct {
			name    string
			req     testenv.Request
			status  int
			message string
		}{
			{"malformed JSON", post(`{"path":`), 400, "JSON"},
			{"an unknown field", post(`{"path":"counter","cpr":"0101901234","colour":"red"}`), 400, "colour"},
			{"a number where a string belongs", post(`{"path":"counter","cpr":101901234}`), 400, "cpr"},
			{"two objects", post(`{"path":"counter"}{}`), 400, "exactly one"},
			{"an empty body", post(""), 400, "empty"},
			{"an unknown path names the accepted ones", post(map[string]any{"path": "pigeon", "cpr": soeren}), 400, "counter, bank, abroad"},
			{"an unknown issuance", testenv.Request{Method: "GET", Path: "/v1/issuances/nope", Token: kbh}, 404, "not found"},
			{"limit above 500", testenv.Request{Method: "GET", Path: "/v1/issuances?limit=501", Token: kbh}, 400, "limit"},
			{"a forged cursor", testenv.Request{Method: "GET", Path: "/v1/issuances?cursor=abc", Token: kbh}, 400, "cursor"},
			{"an unknown status filter", testenv.Request{Method: "GET", Path: "/v1/issuances?status=pending", Token: kbh}, 400, "awaiting_activation"},
			{"an unknown path filter", testenv.Request{Method: "GET", Path: "/v1/issuances?path=pigeon", Token: kbh}, 400, "counter"},
			{"a negative limit", testenv.Request{Method: "GET", Path: "/v1/issuances?limit=-1", Token: kbh}, 400, "limit"},
			{"a cancel without a reason", testenv.Request{Method: "POST", Path: "/v1/issuances/x/cancel", Token: kbh, Body: map[string]string{}}, 422, "reason"},
			{"an unknown route", testenv.Request{Method: "GET", Path: "/v1/nothing", Token: kbh}, 404, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := app.Do(t, tc.req)
				require.Equal(t, tc.status, got.Status, string(got.Body))
				e, ok := got.JSON["error"].(map[string]any)
				require.True(t, ok, "error shape: %s", got.Body)
				assert.Contains(t, fmt.Sprint(e["message"], e["details"]), tc.message)
			})
		}
	})
}

func TestIdempotencyKeyReturnsTheFirstAnswer(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		req := testenv.Request{Method: "POST", Path: "/v1/issuances", Token: app.Tokens["caseworker:KBH"],
			Body: counterBody(soeren), Header: map[string]string{"Idempotency-Key": "k-1"}}
		first := app.Do(t, req)
		require.Equal(t, http.StatusCreated, first.Status)
		replay := app.Do(t, req)
		assert.Equal(t, http.StatusCreated, replay.Status, "a replay answers like the first time, not 409")
		assert.JSONEq(t, string(first.Body), string(replay.Body))
		assert.Equal(t, "true", replay.Header.Get("Idempotent-Replayed"))

		req.Body = counterBody("1210701234")
		reused := app.Do(t, req)
		assert.Equal(t, http.StatusUnprocessableEntity, reused.Status, "the same key for another request")

		list := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances", Token: app.Tokens["caseworker:KBH"]})
		assert.Len(t, list.JSON["items"], 1, "the replay created nothing")
	})
}

func TestListIsNewestFirstWithKeysetPages(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		var ids []string
		for _, cpr := range []string{soeren, "1502854321", "1210701234"} {
			res := create(t, app, cpr)
			require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
			ids = append([]string{res.JSON["id"].(string)}, ids...)
		}
		kbh := app.Tokens["caseworker:KBH"]
		page1 := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances?limit=2", Token: kbh})
		require.Equal(t, http.StatusOK, page1.Status)
		cursor, _ := page1.JSON["next_cursor"].(string)
		require.NotEmpty(t, cursor)
		page2 := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances?limit=2&cursor=" + cursor, Token: kbh})
		require.Equal(t, http.StatusOK, page2.Status)
		var got []string
		for _, p := range []testenv.Response{page1, page2} {
			for _, it := range p.JSON["items"].([]any) {
				got = append(got, it.(map[string]any)["id"].(string))
			}
		}
		assert.Equal(t, ids, got, "newest first, no overlap, nothing missing")
		assert.Empty(t, page2.JSON["next_cursor"], "the last page has no cursor")

		filtered := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances?status=cancelled", Token: kbh})
		assert.Empty(t, filtered.JSON["items"])
		other := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances", Token: app.Tokens["caseworker:AAR"]})
		assert.Empty(t, other.JSON["items"], "another centre's list is empty")
	})
}

func TestNoFullCPRInHistoryOrLogs(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		res := create(t, app, soeren)
		require.Equal(t, http.StatusCreated, res.Status)
		id := res.JSON["id"].(string)
		ctx := context.Background()
		iter := app.Temporal.GetWorkflowHistory(ctx, workflows.IssuanceWorkflowID(id), "", false, 0)
		events := 0
		for iter.HasNext() {
			ev, err := iter.Next()
			require.NoError(t, err)
			events++
			raw, err := ev.Marshal()
			require.NoError(t, err)
			assert.NotContains(t, string(raw), "0101901234", "a CPR in plaintext in history event %d", ev.EventId)
		}
		require.Positive(t, events)
		assert.NotContains(t, app.LogText(), "0101901234")
		assert.Regexp(t, `^issuance/[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$`, workflows.IssuanceWorkflowID(id),
			"the workflow ID is the issuance's UUIDv7 and nothing personal")
	})
}

func TestOperationalEndpoints(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		assert.Equal(t, 200, app.Do(t, testenv.Request{Method: "GET", Path: "/healthz"}).Status)
		ready := app.Do(t, testenv.Request{Method: "GET", Path: "/readyz"})
		assert.Equal(t, 200, ready.Status, string(ready.Body))
		require.Equal(t, http.StatusCreated, create(t, app, soeren).Status)
		metrics := app.Do(t, testenv.Request{Method: "GET", Path: "/metrics"})
		assert.Contains(t, string(metrics.Body), "nemid_http_requests_total")
		assert.Contains(t, string(metrics.Body), "temporal_", "the SDK's metrics are exported")
		spec := app.Do(t, testenv.Request{Method: "GET", Path: "/openapi.json"})
		assert.Equal(t, "3.0.3", spec.JSON["openapi"])
	})
}

func TestADatabaseOutageAnswers503WithRetryAfter(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		kbh := app.Tokens["caseworker:KBH"]
		require.NoError(t, app.Store.Close())
		for _, req := range []testenv.Request{
			{Method: "GET", Path: "/v1/issuances", Token: kbh},
			{Method: "GET", Path: "/readyz"},
			// The rate limits are decided in the database: without it,
			// nothing is let through unlimited.
			{Method: "GET", Path: "/v1/support"},
			{Method: "POST", Path: "/v1/logins", Body: map[string]string{"user_id": "123456789", "password": "x"}},
			{Method: "POST", Path: "/v1/issuances", Body: abroadOrder(jens, nil)},
		} {
			res := app.Do(t, req)
			assert.Equal(t, http.StatusServiceUnavailable, res.Status, "%s %s: %s", req.Method, req.Path, res.Body)
			assert.NotEmpty(t, res.Header.Get("Retry-After"))
		}
	})
}
