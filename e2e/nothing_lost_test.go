package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// DESIGN.md §10, "Accepting is atomic": a crash, a client disconnect or an
// unreachable Temporal at any moment of POST /v1/issuances leaves either
// nothing (the person can apply again at once, no witness statement
// counted) or an accepted issuance whose workflow runs. Never a row
// without a workflow.

func keyed(app *testenv.App, body map[string]any, key string) testenv.Request {
	return testenv.Request{Method: "POST", Path: "/v1/issuances", Token: app.Tokens["caseworker:KBH"], Body: body,
		Header: map[string]string{"Idempotency-Key": key}}
}

// everyRowHasAWorkflow is the scan for rows without a workflow: every
// issuance row's workflow exists.
func everyRowHasAWorkflow(t *testing.T, app *testenv.App) []store.Issuance {
	t.Helper()
	ctx := context.Background()
	rows, _, err := app.Store.ListIssuances(ctx, store.ListFilter{Limit: 500})
	require.NoError(t, err)
	for _, r := range rows {
		_, err := app.Temporal.DescribeWorkflowExecution(ctx, workflows.IssuanceWorkflowID(r.ID), "")
		assert.NoError(t, err, "issuance %s (%s) has no workflow", r.ID, r.Status)
	}
	return rows
}

// openRows are the open issuances of a CPR number.
func openRows(t *testing.T, app *testenv.App, cpr string) []store.Issuance {
	t.Helper()
	var out []store.Issuance
	hash := lookupHash(t, app, cpr)
	for _, r := range everyRowHasAWorkflow(t, app) {
		if r.CPRHash == hash && !workflows.IsFinal(r.Status) {
			out = append(out, r)
		}
	}
	return out
}

func lookupHash(t *testing.T, app *testenv.App, cpr string) string {
	t.Helper()
	keys, err := app.Config.HashKeys()
	require.NoError(t, err)
	c, err := domain.ParseCPR(cpr, time.Now())
	require.NoError(t, err)
	return domain.CPRLookupHash(keys.Lookup(), c)
}

func witnessStatements(t *testing.T, app *testenv.App, cpr string) int {
	t.Helper()
	n, err := app.Store.CountWitnessStatements(context.Background(), lookupHash(t, app, cpr),
		time.Now().Add(-domain.WitnessStatementWindow), "")
	require.NoError(t, err)
	return n
}

// settled sends r until it is no longer 409 idempotency_in_progress: a
// first attempt still running, or held by a dead process until the lease
// (store.IdempotencyLease) ends.
func settled(t *testing.T, base string, r testenv.Request) testenv.Response {
	t.Helper()
	deadline := time.Now().Add(store.IdempotencyLease + 30*time.Second)
	for {
		res := testenv.Do(t, base, r)
		e, _ := res.JSON["error"].(map[string]any)
		if res.Status != http.StatusConflict || e["code"] != "idempotency_in_progress" || time.Now().After(deadline) {
			return res
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// abandon sends r to base and, delay after the request is written, gives
// up on it (cancels its context) or calls interrupt instead; the answer,
// if any, is ignored.
func abandon(t *testing.T, base string, r testenv.Request, delay time.Duration, interrupt func()) {
	t.Helper()
	raw, err := json.Marshal(r.Body)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if interrupt == nil {
		interrupt = cancel
	}
	var once sync.Once
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) {
		once.Do(func() { time.AfterFunc(delay, interrupt) })
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), r.Method, base+r.Path, bytes.NewReader(raw))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.Token)
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	client := &http.Client{Transport: &http.Transport{}, Timeout: time.Minute}
	if res, err := client.Do(req); err == nil {
		res.Body.Close()
	}
}

// sameAnswerOnRetry checks what a retry with the key of an interrupted
// request finds: one accepted issuance, the retry's, whose workflow runs;
// a replay answers it again. Then it cancels it, freeing the person.
func sameAnswerOnRetry(t *testing.T, app *testenv.App, base string, r testenv.Request, cpr string) {
	t.Helper()
	res := settled(t, base, r)
	require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
	id := res.JSON["id"].(string)
	open := openRows(t, app, cpr)
	require.Len(t, open, 1, "one open issuance for the person")
	assert.Equal(t, id, open[0].ID, "the retry answers the issuance its first attempt may have started")
	again := app.Do(t, r)
	require.Equal(t, http.StatusCreated, again.Status, string(again.Body))
	assert.Equal(t, id, again.JSON["id"], "the same key, the same answer")
	cancel := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/cancel", Token: app.Tokens["caseworker:KBH"],
		Body: map[string]string{"reason": "test"}})
	require.Equal(t, http.StatusOK, cancel.Status, string(cancel.Body))
}

func TestAnUnreachableTemporalWritesNothingAndSpendsNoStatement(t *testing.T) {
	forEachBackend(t, testenv.Options{APINamespace: "no-such-namespace"}, func(t *testing.T, app *testenv.App) {
		r := keyed(app, application(anne, []any{passport}, false, witness(karen, nil)), "unreachable-1")
		res := app.Do(t, r)
		require.Equal(t, http.StatusServiceUnavailable, res.Status, string(res.Body))
		assert.NotEmpty(t, res.Header.Get("Retry-After"))
		assert.Empty(t, everyRowHasAWorkflow(t, app), "nothing was written")
		assert.Zero(t, witnessStatements(t, app, karen), "no witness statement was spent")

		// The person applies again at once, through an API that reaches Temporal.
		good := app.StartAPI(t)
		again := testenv.Do(t, good.URL, r)
		require.Equal(t, http.StatusCreated, again.Status, string(again.Body))
		assert.Len(t, openRows(t, app, anne), 1)
		assert.Equal(t, 1, witnessStatements(t, app, karen), "the one accepted application spent one statement")
	})
}

func TestAClientThatLeavesMidRequestLeavesNothingOrARunningIssuance(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		// Three applications per witness: one more spent statement would
		// be a witness_limit on a retry.
		witnesses := []string{karen, "0708651239"}
		for i, delay := range []time.Duration{0, 2 * time.Millisecond, 10 * time.Millisecond, 30 * time.Millisecond,
			100 * time.Millisecond, 300 * time.Millisecond} {
			t.Run(delay.String(), func(t *testing.T) {
				r := keyed(app, application(soeren, []any{passport}, false, witness(witnesses[i/3], nil)), fmt.Sprintf("leave-%d", i))
				abandon(t, app.URL, r, delay, nil)
				everyRowHasAWorkflow(t, app)
				sameAnswerOnRetry(t, app, app.URL, r, soeren)
			})
			if t.Failed() {
				return
			}
		}
		// Each accepted application spent one statement; the abandoned
		// attempts spent none of their own.
		for _, w := range witnesses {
			assert.Equal(t, 3, witnessStatements(t, app, w))
		}
		everyRowHasAWorkflow(t, app)
	})
}

func TestAnAPIThatDiesMidRequestLeavesNothingOrARunningIssuance(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		for i, delay := range []time.Duration{0, 20 * time.Millisecond, 80 * time.Millisecond} {
			t.Run(delay.String(), func(t *testing.T) {
				r := keyed(app, counterBody(soeren), fmt.Sprintf("die-%d", i))
				api := app.StartAPI(t)
				abandon(t, api.URL, r, delay, func() { _ = api.Crash() }) // a second kill of a dead process may fail; no matter
				everyRowHasAWorkflow(t, app)
				sameAnswerOnRetry(t, app, app.URL, r, soeren)
			})
			if t.Failed() {
				return
			}
		}

		// A refused application's workflow ends at once. A retry that
		// finds the key free again (its first answer never stored, as when
		// the API died after the workflow ended) hears the same 409 from
		// the ended workflow's Update.
		first := create(t, app, anne)
		require.Equal(t, http.StatusCreated, first.Status, string(first.Body))
		r := keyed(app, counterBody(anne), "refused-1")
		refused := app.Do(t, r)
		require.Equal(t, http.StatusConflict, refused.Status, string(refused.Body))
		_, err := app.Store.ExecForTests(context.Background(), "UPDATE idempotency_keys SET status_code = ? WHERE key = ?",
			store.StatusReleased, "refused-1")
		require.NoError(t, err)
		again := app.Do(t, r)
		require.Equal(t, http.StatusConflict, again.Status, string(again.Body))
		assert.Equal(t, first.JSON["id"], again.JSON["error"].(map[string]any)["issuance_id"])
		assert.Empty(t, again.Header.Get("Idempotent-Replayed"), "answered by the workflow, not the key's store")
		assert.Len(t, openRows(t, app, anne), 1, "the refusal wrote nothing")
	})
}

func TestConcurrentApplicationsAcrossAPIsAcceptExactlyOne(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		apis := []string{app.URL, app.SecondAPI(t), app.StartAPI(t).URL}
		const n = 9
		answers := make([]testenv.Response, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := testenv.Request{Method: "POST", Path: "/v1/issuances", Token: app.Tokens["caseworker:KBH"], Body: counterBody(soeren)}
				if i%2 == 0 {
					r.Header = map[string]string{"Idempotency-Key": fmt.Sprintf("race-%d", i)}
				}
				answers[i] = testenv.Do(t, apis[i%len(apis)], r)
			}()
		}
		wg.Wait()
		var ids, conflicts []string
		for _, a := range answers {
			switch a.Status {
			case http.StatusCreated:
				ids = append(ids, a.JSON["id"].(string))
			case http.StatusConflict:
				e := a.JSON["error"].(map[string]any)
				assert.Equal(t, "open_issuance", e["code"])
				conflicts = append(conflicts, e["issuance_id"].(string))
			default:
				t.Errorf("unexpected %d: %s", a.Status, a.Body)
			}
		}
		require.Len(t, ids, 1, "exactly one application is accepted")
		require.Len(t, conflicts, n-1)
		for _, id := range conflicts {
			assert.Equal(t, ids[0], id, "every 409 names the accepted issuance")
		}
		rows := everyRowHasAWorkflow(t, app)
		require.Len(t, rows, 1, "the refused applications left no row")
		assert.Equal(t, ids[0], rows[0].ID)
	})
}

func TestAWitnessLastStatementGoesToOneOfConcurrentApplications(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		for _, cpr := range []string{soeren, anne} {
			res := app.Do(t, keyed(app, application(cpr, []any{passport}, false, witness(karen, nil)), "w-"+cpr))
			require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
		}
		// Both pass the API's count (2 < 3); the accept step's guard decides.
		racers := []string{"0708651239", "0101400000"}
		answers := make([]testenv.Response, len(racers))
		second := app.SecondAPI(t)
		var wg sync.WaitGroup
		for i, cpr := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i] = testenv.Do(t, []string{app.URL, second}[i], keyed(app, application(cpr, []any{passport}, false, witness(karen, nil)), "w-"+cpr))
			}()
		}
		wg.Wait()
		var created, limited int
		for _, a := range answers {
			switch {
			case a.Status == http.StatusCreated:
				created++
			case a.Status == http.StatusUnprocessableEntity && assert.Equal(t, []string{"witness_limit"}, codesOf(a)):
				limited++
			default:
				t.Errorf("unexpected %d: %s", a.Status, a.Body)
			}
		}
		assert.Equal(t, 1, created, "the last statement goes to one application")
		assert.Equal(t, 1, limited)
		assert.Equal(t, 3, witnessStatements(t, app, karen))
		assert.Len(t, everyRowHasAWorkflow(t, app), 3, "the refused application left no row")
	})
}
