package loadgen

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func ms(vs ...int) []time.Duration {
	out := make([]time.Duration, len(vs))
	for i, v := range vs {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func TestPercentileNearestRank(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	cases := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value is every percentile", ms(7), 99, 7 * time.Millisecond},
		{"median of an odd count", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"median of an even count is the lower middle", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p95 of 1..100", ms(hundred...), 95, 95 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p99 of ten values is the largest", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p100", ms(1, 2, 3), 100, 3 * time.Millisecond},
		{"p0 clamps to the smallest", ms(1, 2, 3), 0, time.Millisecond},
		{"above 100 clamps to the largest", ms(1, 2, 3), 150, 3 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Percentile(tc.sorted, tc.p))
		})
	}
}

func TestSummarize(t *testing.T) {
	cases := []struct {
		name string
		in   []time.Duration
		want Summary
	}{
		{"empty", nil, Summary{}},
		{"unsorted input", ms(30, 10, 20), Summary{Count: 3, Mean: 20 * time.Millisecond, P50: 20 * time.Millisecond,
			P95: 30 * time.Millisecond, P99: 30 * time.Millisecond, Max: 30 * time.Millisecond}},
		{"a tail", ms(1, 1, 1, 1, 1, 1, 1, 1, 1, 91), Summary{Count: 10, Mean: 10 * time.Millisecond, P50: time.Millisecond,
			P95: 91 * time.Millisecond, P99: 91 * time.Millisecond, Max: 91 * time.Millisecond}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]time.Duration(nil), tc.in...)
			assert.Equal(t, tc.want, Summarize(tc.in))
			assert.Equal(t, in, tc.in, "the input is left as it was")
		})
	}
}

func TestCallsCountEveryFailureByRouteAndStatus(t *testing.T) {
	c := newCalls()
	c.record("POST /v1/activations", 201, time.Millisecond)
	c.record("POST /v1/activations", 429, time.Millisecond)
	c.record("POST /v1/activations", 429, time.Millisecond)
	c.record("GET /v1/letters", StatusTransportError, time.Millisecond)
	c.record("GET /v1/letters", 200, 3*time.Millisecond)
	routes, errs, total := c.snapshot()
	assert.Equal(t, 5, total)
	assert.Equal(t, 3, c.errorCount())
	assert.Equal(t, map[RouteStatus]int{{"POST /v1/activations", 429}: 2, {"GET /v1/letters", StatusTransportError}: 1}, errs)
	assert.Equal(t, []string{"GET /v1/letters", "POST /v1/activations"}, []string{routes[0].Route, routes[1].Route})
	assert.Equal(t, 3, routes[1].Count)
}

func TestRetriableOnlyWhenSendingAgainCannotDoTheWorkTwice(t *testing.T) {
	post := request{route: "POST /v1/issuances"}
	cases := []struct {
		name   string
		r      request
		status int
		want   bool
	}{
		{"429 is decided before anything happens", post, 429, true},
		{"503 of a POST without a key", post, 503, false},
		{"503 of a POST with a key", post.withKey(), 503, true},
		{"503 of a read", request{route: "GET /v1/letters"}, 503, true},
		{"503 of a dispatch", request{route: "POST /v1/letters/{id}/dispatched", idempotent: true}, 503, true},
		{"409 never", post.withKey(), 409, false},
		{"500 never", request{route: "GET /v1/letters"}, 500, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.r.retriable(tc.status))
		})
	}
}
