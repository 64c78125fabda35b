package loadgen

import (
	"math"
	"slices"
	"sort"
	"sync"
	"time"
)

// Percentile is the nearest-rank percentile of sorted durations: the
// smallest value that at least p percent of the values do not exceed. It is
// 0 for no values; p is clamped to (0, 100].
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// Summary is what the report prints of a set of durations.
type Summary struct {
	Count         int
	Mean          time.Duration
	P50, P95, P99 time.Duration
	Max           time.Duration
}

// Summarize sorts a copy of ds and reads its percentiles.
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	var sum time.Duration
	for _, d := range sorted {
		sum += d
	}
	return Summary{Count: len(sorted), Mean: sum / time.Duration(len(sorted)),
		P50: Percentile(sorted, 50), P95: Percentile(sorted, 95), P99: Percentile(sorted, 99), Max: sorted[len(sorted)-1]}
}

// StatusTransportError stands for a request that got no HTTP answer.
const StatusTransportError = 0

// calls records every API call: its latency by route template, and every
// answer that is not a success by route and status.
type calls struct {
	mu        sync.Mutex
	latencies map[string][]time.Duration // "POST /v1/issuances" → latencies
	errors    map[RouteStatus]int
	total     int
}

// RouteStatus keys errors: a route template and the status it answered
// (StatusTransportError when none).
type RouteStatus struct {
	Route  string
	Status int
}

func newCalls() *calls {
	return &calls{latencies: map[string][]time.Duration{}, errors: map[RouteStatus]int{}}
}

func (c *calls) record(route string, status int, took time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total++
	c.latencies[route] = append(c.latencies[route], took)
	if status == StatusTransportError || status >= 400 {
		c.errors[RouteStatus{route, status}]++
	}
}

func (c *calls) errorCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.errors {
		n += v
	}
	return n
}

// RouteSummary is the latency of one route template.
type RouteSummary struct {
	Route string
	Summary
}

// snapshot summarizes every route, in route order, and copies the errors.
func (c *calls) snapshot() ([]RouteSummary, map[RouteStatus]int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	routes := make([]RouteSummary, 0, len(c.latencies))
	for r, ds := range c.latencies {
		routes = append(routes, RouteSummary{Route: r, Summary: Summarize(ds)})
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].Route < routes[j].Route })
	errs := make(map[RouteStatus]int, len(c.errors))
	for k, v := range c.errors {
		errs[k] = v
	}
	return routes, errs, c.total
}
