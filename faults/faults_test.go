// Package faults checks DESIGN.md §10 against real processes: a `nemid api`
// and a `nemid worker` (the binary, on the production task queue), a
// Temporal dev server with a database file kept across restarts, and the
// local Postgres. Under load it kills the worker, restarts Postgres, kills
// the API and kills the Temporal server, and then checks that every
// issuance reached the status it would have reached, with exactly one card
// and one letter per kind, at most one fee, and no API answer other than
// 503 while something was down.
//
// Restarting Postgres disturbs every other test using it, so these tests
// run only with NEMID_FAULT_TESTS=1, in a step of their own
// (`task test-faults`).
package faults

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

const (
	perFault    = 24              // applications per fault
	concurrency = 6               // clients applying at once
	settle      = 8 * time.Minute // how long recovery may take, per fault
)

func TestNothingLostNothingStuck(t *testing.T) {
	if os.Getenv("NEMID_FAULT_TESTS") != "1" {
		t.Skip("fault tests restart Postgres: run them alone with NEMID_FAULT_TESTS=1 (task test-faults)")
	}
	h := newHarness(t)
	stop := make(chan struct{})
	go h.postProvider(stop)
	defer close(stop)

	faults := []struct {
		short, name string
		inject      func()
	}{
		{"worker", "kill -9 worker, start a new one", func() {
			h.worker.Kill(h.t)
			time.Sleep(3 * time.Second) // tasks pile up for nobody
			h.worker.Restart(h.t)
		}},
		{"postgres", "restart Postgres", func() { h.restartPostgres() }},
		{"api", "kill -9 API, start it again", func() {
			h.api.Kill(h.t)
			time.Sleep(3 * time.Second) // clients meet a refused connection and retry
			h.api.Restart(h.t)
		}},
		{"temporal", "kill -9 Temporal dev server, start it again", func() {
			h.temporal.kill(h.t)
			time.Sleep(3 * time.Second)
			h.temporal.start(h.t)
		}},
	}
	var rows []string
	failed := false
	for i, f := range faults {
		t.Run(f.short, func(t *testing.T) { // -run 'NothingLost/api' runs one
			h.t = t
			r := h.runFault(i, f.name, f.inject)
			rows = append(rows, fmt.Sprintf("%-46s %10d %6d %12d %12d", f.name, r.inFlight, r.lost, r.duplicated, r.unexpected))
			for _, p := range r.problems {
				t.Errorf("%s", p)
			}
			t.Logf("%s: %d in flight, %d lost, %d duplicated, %d unexpected answers; %d× 409 idempotency_in_progress retried so far",
				f.name, r.inFlight, r.lost, r.duplicated, r.unexpected, h.inProgress.Load())
			if r.lost+r.duplicated+r.unexpected > 0 {
				failed = true
			}
		})
	}
	table := fmt.Sprintf("%-46s %10s %6s %12s %12s\n", "fault", "in flight", "lost", "duplicated", "non-503") + strings.Join(rows, "\n")
	t.Log("\n" + table)
	fmt.Println(table)
	if failed {
		t.Logf("api logs:\n%s\nworker logs:\n%s", tail(h.api.Logs()), tail(h.worker.Logs()))
	}
}

type harness struct {
	t                    *testing.T
	st                   *store.Store
	api, worker          *testenv.Process
	temporal             *devServer
	bankToken, postToken string
	http                 http.Client

	down       atomic.Bool // a dependency is down (or coming back) right now
	mu         sync.Mutex
	unexpected []string // answers other than 2xx and 503
	dispatched atomic.Int64
	inProgress atomic.Int64 // 409 idempotency_in_progress answers, retried
	applied    int          // applications made so far, in every round
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	cli := testenv.FindTemporalCLI()
	if cli == "" {
		testenv.Unavailable(t, "no Temporal CLI found (set TEMPORAL_CLI)")
	}
	if _, err := exec.LookPath("pg_ctlcluster"); err != nil {
		testenv.Unavailable(t, "pg_ctlcluster is not on PATH: the local Postgres cannot be restarted")
	}
	st := testenv.Postgres(t)
	ts := &devServer{cli: cli, dbFile: filepath.Join(t.TempDir(), "temporal.db"), port: freePort(t), httpPort: freePort(t),
		metricsPort: freePort(t), logs: &bytes.Buffer{}}
	ts.start(t)
	t.Cleanup(func() { ts.stop() })

	ctx := context.Background()
	h := &harness{t: t, st: st, temporal: ts, http: http.Client{Timeout: 30 * time.Second}}
	var err error
	if h.bankToken, err = st.CreateToken(ctx, "bank", "1234"); err != nil {
		t.Fatal(err)
	}
	if h.postToken, err = st.CreateToken(ctx, "post", "post"); err != nil {
		t.Fatal(err)
	}
	env := testenv.ProcessEnv{TemporalAddress: ts.address(), CodecKey: "faults:" + randomKey(t), HashKey: randomKey(t),
		LetterKeyDir: filepath.Join(t.TempDir(), "letter-keys")}.Environ(st, testenv.Location(t, st))
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	h.worker = testenv.StartProcess(t, env, "", "worker")
	h.api = testenv.StartProcess(t, append(env, "NEMID_HTTP_ADDR="+addr, "NEMID_RATE_LIMIT=1000"), addr, "api")
	return h
}

type result struct {
	inFlight, lost, duplicated, unexpected int
	problems                               []string
}

// runFault applies perFault bank applications, injects the fault once a
// third of them are accepted, and then waits for every one to reach
// awaiting_activation (both letters posted and dispatched).
func (h *harness) runFault(round int, name string, inject func()) result {
	t := h.t
	ctx := context.Background()
	cprs := h.people(round)
	ids := make([]string, len(cprs))
	var accepted atomic.Int64
	var wg sync.WaitGroup
	next := make(chan int)
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ids[i] = h.apply(cprs[i])
				accepted.Add(1)
			}
		}()
	}
	go func() {
		for i := range cprs {
			next <- i
		}
		close(next)
	}()

	for accepted.Load() < int64(len(cprs)/3) {
		time.Sleep(50 * time.Millisecond)
	}
	// In flight: every application of the round not yet at its goal.
	done := 0
	for _, id := range ids {
		if id != "" && h.status(ctx, id) == workflows.StatusAwaitingActivation {
			done++
		}
	}
	before := len(h.unexpectedAnswers())
	h.down.Store(true)
	t.Logf("%s: injecting with %d of %d accepted", name, accepted.Load(), len(cprs))
	inject()
	h.down.Store(false)
	wg.Wait()

	r := result{inFlight: len(cprs) - done}
	deadline := time.Now().Add(settle)
	for {
		pending := 0
		for _, id := range ids {
			if h.status(ctx, id) != workflows.StatusAwaitingActivation {
				pending++
			}
		}
		if pending == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	for i, id := range ids {
		if s := h.status(ctx, id); s != workflows.StatusAwaitingActivation {
			r.lost++
			r.problems = append(r.problems, fmt.Sprintf("issuance %s (application %d) is %q, not %s", id, i, s, workflows.StatusAwaitingActivation))
			continue
		}
		dup := false
		for _, c := range []struct {
			what, query string
			most        int // and at least most, unless it is a fee
		}{
			{"credentials", "SELECT COUNT(*) FROM credentials WHERE issuance_id = ?", 1},
			{"code cards", "SELECT COUNT(*) FROM code_cards k JOIN credentials c ON c.id = k.credential_id WHERE c.issuance_id = ?", 1},
			{"code card letters", "SELECT COUNT(*) FROM letters WHERE issuance_id = ? AND kind = 'code_card'", 1},
			{"password letters", "SELECT COUNT(*) FROM letters WHERE issuance_id = ? AND kind = 'password'", 1},
			{"letters", "SELECT COUNT(*) FROM letters WHERE issuance_id = ?", 2},
			{"fees", "SELECT COUNT(*) FROM fees WHERE issuance_id = ?", 1},
		} {
			var n int
			if err := h.st.ScanForTests(ctx, &n, c.query, id); err != nil {
				t.Fatalf("count %s: %v", c.what, err)
			}
			if n > c.most || (n < c.most && c.what != "fees") {
				dup = true
				r.problems = append(r.problems, fmt.Sprintf("issuance %s has %d %s, want %d", id, n, c.what, c.most))
			}
		}
		if dup {
			r.duplicated++
		}
	}
	// One issuance per application: nothing accepted twice, no orphan row.
	var total int
	if err := h.st.ScanForTests(ctx, &total, "SELECT COUNT(*) FROM issuances"); err != nil {
		t.Fatal(err)
	}
	h.applied += len(cprs)
	if want := h.applied; total != want {
		r.duplicated += total - want
		r.problems = append(r.problems, fmt.Sprintf("%d issuances in the database after %d applications", total, want))
	}
	after := h.unexpectedAnswers()
	r.unexpected = len(after) - before
	for _, a := range after[before:] {
		r.problems = append(r.problems, "unexpected answer: "+a)
	}
	return r
}

// apply sends one bank application until it has an answer that is not a
// refused connection or a 503, always with the same Idempotency-Key, and
// returns the issuance id.
func (h *harness) apply(cpr string) string {
	key := uuid.NewString()
	body := map[string]any{"path": "bank", "cpr": cpr, "bank": "1234", "agreement_id": "A-1", "photo_id_shown": false}
	for deadline := time.Now().Add(settle); time.Now().Before(deadline); {
		status, out, err := h.call(http.MethodPost, "/v1/issuances", h.bankToken, key, body)
		problem, _ := out["error"].(map[string]any) // {"error":{"code","message",…}}
		switch {
		case err != nil || status == http.StatusServiceUnavailable:
		case status == http.StatusConflict && problem["code"] == "idempotency_in_progress":
			// A killed API's claim on the key: "retry shortly" until its
			// lease ends (store.IdempotencyLease) and the retry runs.
			h.inProgress.Add(1)
		case status == http.StatusCreated:
			return out["id"].(string)
		case status == http.StatusConflict && problem["code"] == "open_issuance":
			// The first attempt was accepted but its answer was lost, and the
			// key no longer replays it: the conflict names the issuance.
			return problem["issuance_id"].(string)
		default:
			h.record(fmt.Sprintf("POST /v1/issuances: %d %v", status, out))
		}
		time.Sleep(300 * time.Millisecond)
	}
	return "" // no answer in all that time: counted as lost
}

// postProvider is the print-and-post company: it fetches the queued
// letters and reports each dispatched, retrying whatever fails.
func (h *harness) postProvider(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		status, out, err := h.call(http.MethodGet, "/v1/letters?status=queued&limit=500", h.postToken, "", nil)
		if err == nil && status == http.StatusOK {
			items, _ := out["items"].([]any)
			for _, it := range items {
				id, _ := it.(map[string]any)["id"].(string)
				s, o, err := h.call(http.MethodPost, "/v1/letters/"+id+"/dispatched", h.postToken, "", nil)
				switch {
				case err != nil || s == http.StatusServiceUnavailable: // the next round retries it
				case s == http.StatusOK:
					h.dispatched.Add(1)
				default:
					h.record(fmt.Sprintf("POST /v1/letters/{id}/dispatched: %d %v", s, o))
				}
			}
		} else if err == nil && status != http.StatusServiceUnavailable {
			h.record(fmt.Sprintf("GET /v1/letters: %d %v", status, out))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func (h *harness) call(method, path, token, key string, body any) (int, map[string]any, error) {
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.api.URL+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := h.http.Do(req)
	if err != nil {
		return 0, nil, err // refused while the API is down, or cut off by its death
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, err
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out, nil
}

func (h *harness) record(answer string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down.Load() {
		answer += " (while a dependency was down)"
	}
	h.unexpected = append(h.unexpected, answer)
}

func (h *harness) unexpectedAnswers() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.unexpected...)
}

// status reads an issuance's status from the database ("" while it cannot).
func (h *harness) status(ctx context.Context, id string) string {
	if id == "" {
		return ""
	}
	iss, err := h.st.GetIssuance(ctx, id, store.Scope{})
	if err != nil {
		return ""
	}
	return iss.Status
}

// people writes perFault synthetic adults with Danish addresses into the
// register, distinct per round.
func (h *harness) people(round int) []string {
	seen := map[string]bool{}
	var people []store.Person
	var cprs []string
	for len(cprs) < perFault {
		born := time.Date(1940+15*round, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, mrand.IntN(14*365))
		cpr := born.Format("020106") + fmt.Sprintf("%d%03d", 1+mrand.IntN(3), mrand.IntN(1000))
		if seen[cpr] {
			continue
		}
		seen[cpr] = true
		cprs = append(cprs, cpr)
		people = append(people, store.Person{CPR: cpr, Name: "Fejl Test " + cpr[:6], Address: "Testvej 1", Postcode: "1000",
			City: "København K", Country: "DK", UpdatedAt: time.Now().UTC()})
	}
	if err := h.st.UpsertPersons(context.Background(), people); err != nil {
		h.t.Fatal(err)
	}
	return cprs
}

// restartPostgres restarts the local cluster, after waiting a while for
// other test processes on this machine to finish (they would fail).
func (h *harness) restartPostgres() {
	t := h.t
	for wait := 0; wait < 60; wait++ {
		others := otherTestProcesses()
		if others == 0 {
			break
		}
		if wait == 0 {
			t.Logf("waiting up to a minute for %d other test processes before restarting Postgres", others)
		}
		time.Sleep(time.Second)
	}
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(versions) != 1 {
		t.Fatalf("one Postgres version under /etc/postgresql expected: %v", err)
	}
	out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", versions[0].Name(), "main", "restart").CombinedOutput()
	if err != nil {
		t.Fatalf("restart Postgres: %v\n%s", err, out)
	}
	t.Log("Postgres restarted")
	for range 60 {
		if exec.Command("pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q").Run() == nil {
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatal("Postgres not ready a minute after its restart")
}

// otherTestProcesses counts `go test` runs and test binaries on this
// machine other than this one.
func otherTestProcesses() int {
	out, _ := exec.Command("pgrep", "-f", `go test|\.test `).Output()
	n := 0
	for _, f := range strings.Fields(string(out)) {
		pid, _ := strconv.Atoi(f)
		if pid != os.Getpid() && pid != os.Getppid() {
			n++
		}
	}
	return n
}

// devServer is a Temporal dev server process whose state lives in a file,
// so it survives being killed and started again on the same ports.
type devServer struct {
	cli, dbFile                 string
	port, httpPort, metricsPort int
	logs                        *bytes.Buffer
	cmd                         *exec.Cmd
	done                        chan error
}

func (d *devServer) address() string { return fmt.Sprintf("127.0.0.1:%d", d.port) }

func (d *devServer) start(t *testing.T) {
	t.Helper()
	d.cmd = exec.Command(d.cli, "server", "start-dev", "--headless", "--ip", "127.0.0.1",
		"--db-filename", d.dbFile, "--port", strconv.Itoa(d.port), "--http-port", strconv.Itoa(d.httpPort),
		"--metrics-port", strconv.Itoa(d.metricsPort), "--log-level", "error")
	d.logs.Reset()
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start the Temporal dev server: %v", err)
	}
	d.done = make(chan error, 1)
	go func() { d.done <- d.cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-d.done:
			t.Fatalf("the Temporal dev server exited: %v\n%s", err, d.logs)
		default:
		}
		c, err := client.Dial(client.Options{HostPort: d.address(), Namespace: "default", Logger: quiet{}})
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
			cancel()
			c.Close()
			if err == nil {
				return
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("the Temporal dev server at %s is not ready after 2 minutes\n%s", d.address(), d.logs)
}

func (d *devServer) kill(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-d.done
	d.cmd = nil
}

func (d *devServer) stop() {
	if d.cmd != nil {
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomKey(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func tail(s string) string {
	if len(s) > 8000 {
		return "…" + s[len(s)-8000:]
	}
	return s
}
