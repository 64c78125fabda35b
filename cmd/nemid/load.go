package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/opennemid/nemid/store"
)

// runLoad drives a running system (`nemid dev`, or api + worker) with counter
// applications and prints throughput beside a baseline from the same run:
// GET /healthz at the same concurrency. It writes synthetic people into the
// configured register and cancels every issuance it made at the end.
func runLoad(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	n := fs.Int("n", 200, "issuances to start")
	concurrency := fs.Int("concurrency", 20, "requests in flight")
	base := fs.String("api", "", "API base URL (default http://$NEMID_HTTP_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := migratedStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if *base == "" {
		cfg, _ := loadConfigForTools()
		*base = "http://" + cfg.HTTPAddr
	}
	cprs, err := loadPeople(ctx, st, *n)
	if err != nil {
		return err
	}
	token, err := st.CreateToken(ctx, "caseworker", "KBH")
	if err != nil {
		return err
	}
	l := &loader{base: *base, token: token, concurrency: *concurrency}

	baseline := l.run(*n, func(int) (int, error) { return l.do(ctx, "GET", "/healthz", nil) })
	ids := make([]string, *n)
	started := time.Now() // workflows progress while applications are still arriving
	accept := l.run(*n, func(i int) (int, error) {
		var out struct{ ID string }
		status, err := l.doJSON(ctx, "POST", "/v1/issuances", application(cprs[i]), &out)
		ids[i] = out.ID
		return status, err
	})
	reached, err := waitUntilAll(ctx, st, ids, "awaiting_handover", 5*time.Minute)
	if err != nil {
		return err
	}
	through := time.Since(started)
	cancel := l.run(*n, func(i int) (int, error) {
		if ids[i] == "" {
			return http.StatusOK, nil
		}
		return l.do(ctx, "POST", "/v1/issuances/"+ids[i]+"/cancel", map[string]string{"reason": "load test"})
	})

	fmt.Printf("%-44s %8.1f req/s  p50 %6.1f ms  p95 %6.1f ms   (baseline)\n", "GET /healthz", baseline.rate(), baseline.p(50), baseline.p(95))
	fmt.Printf("%-44s %8.1f req/s  p50 %6.1f ms  p95 %6.1f ms   %.3f× baseline, %d errors\n", "POST /v1/issuances (accept + start workflow)",
		accept.rate(), accept.p(50), accept.p(95), accept.rate()/baseline.rate(), accept.errors)
	fmt.Printf("%-44s %8.1f issuances/s (%d of %d, register check + mint + print)   %.3f× baseline\n", "accepted → awaiting_handover",
		float64(reached)/through.Seconds(), reached, *n, float64(reached)/through.Seconds()/baseline.rate())
	fmt.Printf("%-44s %8.1f req/s  p50 %6.1f ms  p95 %6.1f ms   %.3f× baseline, %d errors\n", "POST /v1/issuances/{id}/cancel (Update)",
		cancel.rate(), cancel.p(50), cancel.p(95), cancel.rate()/baseline.rate(), cancel.errors)
	return nil
}

func application(cpr string) map[string]any {
	return map[string]any{"path": "counter", "cpr": cpr, "centre": "KBH", "check_questions_passed": true,
		"documents": []map[string]any{{"type": "passport", "number": "L1", "expires": "2099-01-01"}}}
}

// loadPeople writes n synthetic adults born 1940–1999 into the register.
func loadPeople(ctx context.Context, st *store.Store, n int) ([]string, error) {
	seen := map[string]bool{}
	var people []store.Person
	var cprs []string
	for len(cprs) < n {
		born := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rand.IntN(60*365))
		cpr := born.Format("020106") + fmt.Sprintf("%d%03d", 1+rand.IntN(3), rand.IntN(1000))
		if seen[cpr] {
			continue
		}
		seen[cpr] = true
		cprs = append(cprs, cpr)
		people = append(people, store.Person{CPR: cpr, Name: "Load Test " + cpr[:6], Address: "Testvej 1", Postcode: "1000",
			City: "København K", Country: "DK", UpdatedAt: time.Now().UTC()})
	}
	return cprs, st.UpsertPersons(ctx, people)
}

func waitUntilAll(ctx context.Context, st *store.Store, ids []string, status string, limit time.Duration) (int, error) {
	deadline := time.Now().Add(limit)
	for {
		reached := 0
		for _, id := range ids {
			if id == "" {
				continue
			}
			iss, err := st.GetIssuance(ctx, id, store.Scope{})
			if err != nil {
				return 0, err
			}
			if iss.Status == status {
				reached++
			}
		}
		if reached == countNonEmpty(ids) || time.Now().After(deadline) {
			return reached, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func countNonEmpty(ids []string) int {
	n := 0
	for _, id := range ids {
		if id != "" {
			n++
		}
	}
	return n
}

type loader struct {
	base, token string
	concurrency int
	client      http.Client
}

type phase struct {
	took      time.Duration
	latencies []time.Duration
	errors    int
}

func (p phase) rate() float64 { return float64(len(p.latencies)) / p.took.Seconds() }

func (p phase) p(pct int) float64 {
	if len(p.latencies) == 0 {
		return 0
	}
	return float64(p.latencies[(len(p.latencies)-1)*pct/100].Microseconds()) / 1000
}

// run calls fn for 0..n-1 with the loader's concurrency and times each call.
func (l *loader) run(n int, fn func(i int) (int, error)) phase {
	var mu sync.Mutex
	var ph phase
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range l.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t := time.Now()
				status, err := fn(i)
				d := time.Since(t)
				mu.Lock()
				ph.latencies = append(ph.latencies, d)
				if err != nil || status >= 400 {
					ph.errors++
				}
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	ph.took = time.Since(start)
	sort.Slice(ph.latencies, func(i, j int) bool { return ph.latencies[i] < ph.latencies[j] })
	return ph
}

func (l *loader) do(ctx context.Context, method, path string, body any) (int, error) {
	return l.doJSON(ctx, method, path, body, nil)
}

func (l *loader) doJSON(ctx context.Context, method, path string, body, out any) (int, error) {
	var buf bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			return 0, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, &buf)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+l.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := l.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if out != nil && res.StatusCode < 300 {
		return res.StatusCode, json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode, nil
}
