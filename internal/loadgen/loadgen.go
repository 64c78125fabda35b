// Package loadgen drives the whole system as its humans do — caseworkers,
// banks, people abroad, embassies, the post provider and citizens — for
// the three issuance paths in a mix, end to end from the application to
// an active NemID and one logon. It measures throughput and latency over
// HTTP, reads the engine's cost per issuance from the Temporal server's
// histories, and runs a bare-workflow baseline of the same shape on the
// same server in the same run (baseline.go).
//
// It writes only what the world outside the system owns (the CPR register
// and the staff's tokens, Outside); everything else goes through the API.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/opennemid/nemid/store"
)

// Options of a run; zero values take the defaults of Defaults.
type Options struct {
	N           int           // issuances to complete (a cap when Duration is set)
	Concurrency int           // issuances in flight at once
	Mix         Mix           // path weights
	Duration    time.Duration // stop starting new issuances after this; 0: none
	APIs        []string      // API base URLs, used round-robin
	Baseline    bool          // run the engine baseline after the load
	Sample      int           // workflows per path whose histories are read
	FeeDKK      int           // what a person pays at the representation (NEMID_ABROAD_FEE_DKK)

	Outside  Outside       // the register and the token store
	Temporal client.Client // the server the system runs on: histories and the baseline
	Extract  Extractor     // how a person reads a PDF; GoExtractor by default

	PollInterval  time.Duration // how often staff consoles and the post look again
	StepTimeout   time.Duration // the longest any one human waits for the system
	ProgressEvery time.Duration
	Out           io.Writer // the progress line (and the report, which Report.Print writes)
	Log           io.Writer // failures, one line each
}

// Defaults fills the zero fields of o.
func (o Options) Defaults() Options {
	if o.N == 0 {
		o.N = 200
	}
	if o.Concurrency == 0 {
		o.Concurrency = 20
	}
	if o.Mix == nil {
		o.Mix = EvenMix()
	}
	if o.Sample == 0 {
		o.Sample = 30
	}
	if o.FeeDKK == 0 {
		o.FeeDKK = 200
	}
	if o.Extract == nil {
		o.Extract = GoExtractor
	}
	if o.PollInterval == 0 {
		o.PollInterval = 100 * time.Millisecond
	}
	if o.StepTimeout == 0 {
		o.StepTimeout = 2 * time.Minute
	}
	if o.ProgressEvery == 0 {
		o.ProgressEvery = 2 * time.Second
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

// runner is one run's shared state.
type runner struct {
	opts     Options
	api      *api
	calls    *calls
	staff    staff
	post     *postProvider
	progress *progress
	// outMu orders the writes to Out and Log: they may be one writer
	// (a terminal, a test's buffer), written by the progress line and by
	// failing journeys at once.
	outMu  sync.Mutex
	logged int
}

// maxLogged bounds the failure lines: the report counts them all.
const maxLogged = 20

func (r *runner) logf(format string, args ...any) {
	r.outMu.Lock()
	defer r.outMu.Unlock()
	r.logged++
	if r.logged <= maxLogged {
		fmt.Fprintf(r.opts.Log, "load: "+format+"\n", args...)
	} else if r.logged == maxLogged+1 {
		fmt.Fprintln(r.opts.Log, "load: further failures only counted")
	}
}

func (r *runner) extract(ctx context.Context, pdf []byte) (string, error) {
	return r.opts.Extract(ctx, pdf)
}

// Run performs a load run and reports it.
func Run(ctx context.Context, o Options) (*Report, error) {
	o = o.Defaults()
	switch {
	case o.Outside == nil:
		return nil, errors.New("loadgen: Options.Outside (the register and token store) is required")
	case o.Temporal == nil:
		return nil, errors.New("loadgen: Options.Temporal is required")
	case len(o.APIs) == 0:
		return nil, errors.New("loadgen: no API URL")
	case o.N < 1 || o.Concurrency < 1 || o.Sample < 1:
		return nil, errors.New("loadgen: N, concurrency and sample must be at least 1")
	}
	r := &runner{opts: o, calls: newCalls()}
	r.api = newAPI(o.APIs, o.Concurrency, r.calls)
	r.post = newPostProvider(r)
	paths := o.Mix.Sequence(o.N)
	people, err := syntheticPeople(ctx, o.Outside, paths, time.Now())
	if err != nil {
		return nil, err
	}
	if r.staff, err = staffTokens(ctx, o.Outside, people); err != nil {
		return nil, err
	}
	report := &Report{Options: o, Started: time.Now()}
	journeys := r.drive(ctx, paths, people)
	report.load(r, journeys)
	if ctx.Err() != nil {
		return report, ctx.Err()
	}
	if err := report.engineCost(ctx, o.Temporal, o.Sample); err != nil {
		return report, err
	}
	if o.Baseline {
		if err := report.runBaseline(ctx, o); err != nil {
			return report, err
		}
	}
	return report, nil
}

// staffTokens creates the synthetic staff's tokens, named so the timeline
// and the token list show whose they are; they expire after a day.
func staffTokens(ctx context.Context, out Outside, people []person) (staff, error) {
	issue := func(role, scope string) (string, error) {
		_, tok, err := out.IssueToken(ctx, store.NewToken{Role: role, Scope: scope, Name: "Load " + role + " " + scope, TTL: 24 * time.Hour}, nil)
		if err != nil {
			return "", fmt.Errorf("create the load's %s:%s token: %w", role, scope, err)
		}
		return tok, nil
	}
	var s staff
	var err error
	if s.caseworker, err = issue("caseworker", loadCentre); err != nil {
		return s, err
	}
	if s.bank, err = issue("bank", loadBank); err != nil {
		return s, err
	}
	if s.post, err = issue("post", "post"); err != nil {
		return s, err
	}
	s.embassies = map[string]string{}
	for _, p := range people {
		code := p.representation.Code
		if code == "" || s.embassies[code] != "" {
			continue
		}
		if s.embassies[code], err = issue("embassy", code); err != nil {
			return s, err
		}
	}
	return s, nil
}

// outcome is how one journey ended.
type outcome struct {
	j        *journey
	failedAt string // the step that failed; "" when the person logged on
	err      error
}

// drive runs the journeys at the configured concurrency, with the post
// provider and the progress line beside them, and waits for them all.
func (r *runner) drive(ctx context.Context, paths []string, people []person) []outcome {
	o := r.opts
	r.progress = newProgress(o.Out, &r.outMu, r.calls)
	postCtx, stopPost := context.WithCancel(ctx)
	var background sync.WaitGroup
	background.Go(func() { r.post.run(postCtx, min(8, max(2, o.Concurrency/4))) })
	background.Go(func() { r.progress.run(postCtx, o.ProgressEvery) })

	var stopStarting <-chan time.Time
	if o.Duration > 0 {
		t := time.NewTimer(o.Duration)
		defer t.Stop()
		stopStarting = t.C
	}
	outcomes := make([]outcome, 0, len(paths))
	var mu sync.Mutex
	var inFlight sync.WaitGroup
	slots := make(chan struct{}, o.Concurrency)
start:
	for i, path := range paths {
		select {
		case slots <- struct{}{}:
		case <-stopStarting:
			break start
		case <-ctx.Done():
			break start
		}
		select { // a slot and the end of the duration at once: the duration wins
		case <-stopStarting:
			break start
		default:
		}
		j := &journey{path: path, person: people[i]}
		r.progress.started.Add(1)
		inFlight.Go(func() {
			defer func() { <-slots }()
			step, err := r.run(ctx, j)
			defer r.progress.finished.Add(1)
			if err != nil {
				r.progress.failed.Add(1)
				if ctx.Err() == nil {
					r.logf("%s issuance %s failed at %s: %v", j.path, j.id, step, err)
				}
			}
			mu.Lock()
			outcomes = append(outcomes, outcome{j: j, failedAt: step, err: err})
			mu.Unlock()
		})
	}
	inFlight.Wait()
	stopPost()
	background.Wait()
	r.progress.line() // the last state
	return outcomes
}

// progress is the line printed while the run goes on.
type progress struct {
	out                               io.Writer
	outMu                             *sync.Mutex // the runner's, shared with its failure log
	calls                             *calls
	began                             time.Time
	started, active, failed, finished atomic.Int64
	activeByPath                      sync.Map // path → *atomic.Int64
}

func newProgress(out io.Writer, outMu *sync.Mutex, c *calls) *progress {
	return &progress{out: out, outMu: outMu, calls: c, began: time.Now()}
}

func (p *progress) activated(path string) {
	p.active.Add(1)
	n, _ := p.activeByPath.LoadOrStore(path, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
}

func (p *progress) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.line()
		}
	}
}

func (p *progress) line() {
	elapsed := time.Since(p.began)
	started, active, failed, finished := p.started.Load(), p.active.Load(), p.failed.Load(), p.finished.Load()
	p.outMu.Lock()
	defer p.outMu.Unlock()
	fmt.Fprintf(p.out, "%7.1fs  started %5d  active %5d  in flight %4d  failed %3d  API errors %4d  %6.2f active/s\n",
		elapsed.Seconds(), started, active, started-finished, failed, p.calls.errorCount(), float64(active)/elapsed.Seconds())
}

// byPath groups values per path in report order.
func byPath[T any](m map[string]T) []string {
	var out []string
	for _, p := range Paths {
		if _, ok := m[p]; ok {
			out = append(out, p)
		}
	}
	return out
}
