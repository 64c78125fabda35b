package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// api calls the system as its users do: over HTTP, round-robin over the
// API processes, every call timed by its route template.
type api struct {
	bases  []string
	next   atomic.Uint64
	client *http.Client
	calls  *calls
}

func newAPI(bases []string, concurrency int, c *calls) *api {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns = 4 * concurrency
	transport.MaxIdleConnsPerHost = 4 * concurrency // keep connections: the load is on the system, not on TCP handshakes
	return &api{bases: bases, client: &http.Client{Transport: transport, Timeout: 2 * time.Minute}, calls: c}
}

// request is one call: route is its template ("POST /v1/issuances/{id}/handover"),
// path the concrete path.
type request struct {
	route, path string
	token       string
	body        any
	// idempotencyKey, when set, goes out as Idempotency-Key, so a retry
	// after a 503 attaches to the first attempt instead of repeating it.
	idempotencyKey string
	// idempotent marks a request that may be sent again after a 503
	// without a key: a read, or an action the system takes once however
	// often it is told (a letter dispatched).
	idempotent bool
}

// withKey gives r a fresh Idempotency-Key, kept across its retries.
func (r request) withKey() request {
	r.idempotencyKey = uuid.NewString()
	return r
}

// retriable reports whether an answer of status may be retried: a 429 is
// decided before anything happens; a 503 only when sending again cannot
// do the work twice.
func (r request) retriable(status int) bool {
	switch status {
	case http.StatusTooManyRequests:
		return true
	case http.StatusServiceUnavailable:
		return r.idempotencyKey != "" || r.idempotent || strings.HasPrefix(r.route, "GET ")
	}
	return false
}

// answer is an HTTP answer.
type answer struct {
	status int
	body   []byte
}

func (a answer) decode(out any) error {
	if err := json.Unmarshal(a.body, out); err != nil {
		return fmt.Errorf("decode the answer: %w", err)
	}
	return nil
}

// StatusError is an answer the flow did not expect.
type StatusError struct {
	Route  string
	Status int
	Code   string // the error body's code, when it has one
}

func (e *StatusError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s answered %d %s", e.Route, e.Status, e.Code)
	}
	return fmt.Sprintf("%s answered %d", e.Route, e.Status)
}

// Retries of a 429 or 503 after their Retry-After; each try is recorded,
// so the report shows every one of them as an error of its status.
const (
	maxRetries    = 5
	maxRetryAfter = 5 * time.Second
)

// do sends r and expects want; a 429, and a 503 that is safe to repeat
// (request.retriable), are retried after Retry-After.
func (a *api) do(ctx context.Context, r request, want int) (answer, error) {
	for attempt := 0; ; attempt++ {
		ans, retryAfter, err := a.once(ctx, r)
		if err != nil {
			return ans, err
		}
		if ans.status == want {
			return ans, nil
		}
		if !r.retriable(ans.status) || attempt == maxRetries {
			return ans, statusError(r.route, ans)
		}
		if err := sleep(ctx, min(retryAfter, maxRetryAfter)); err != nil {
			return ans, err
		}
	}
}

func statusError(route string, ans answer) error {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(ans.body, &e) // a body that is no error object leaves the code empty
	return &StatusError{Route: route, Status: ans.status, Code: e.Error.Code}
}

func (a *api) once(ctx context.Context, r request) (answer, time.Duration, error) {
	var body io.Reader
	if r.body != nil {
		raw, err := json.Marshal(r.body)
		if err != nil {
			return answer{}, 0, err
		}
		body = bytes.NewReader(raw)
	}
	base := a.bases[(a.next.Add(1)-1)%uint64(len(a.bases))]
	method, _, _ := strings.Cut(r.route, " ")
	req, err := http.NewRequestWithContext(ctx, method, base+r.path, body)
	if err != nil {
		return answer{}, 0, err
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", r.idempotencyKey)
	}
	began := time.Now()
	res, err := a.client.Do(req)
	if err != nil {
		if ctx.Err() == nil { // a call cut short by the run's end is no error of the system
			a.calls.record(r.route, StatusTransportError, time.Since(began))
		}
		return answer{}, 0, fmt.Errorf("%s: %w", r.route, err)
	}
	raw, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	took := time.Since(began)
	if err != nil {
		a.calls.record(r.route, StatusTransportError, took)
		return answer{}, 0, fmt.Errorf("%s: read the answer: %w", r.route, err)
	}
	a.calls.record(r.route, res.StatusCode, took)
	retryAfter := time.Second
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s >= 0 {
		retryAfter = time.Duration(s) * time.Second
	}
	return answer{status: res.StatusCode, body: raw}, retryAfter, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
