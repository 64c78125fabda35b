package loadgen

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"
)

// Report is what a run measured.
type Report struct {
	Options Options
	Started time.Time

	// Window runs from the first application to the last activation.
	Window    time.Duration
	Journeys  int                        // journeys started
	Active    map[string]int             // path → issuances that reached active
	LoggedOn  map[string]int             // path → people who then logged on
	Failed    map[string]map[string]int  // path → failing step → journeys
	ToActive  map[string][]time.Duration // path → application-to-active
	Routes    []RouteSummary
	Errors    map[RouteStatus]int
	Calls     int
	Cost      map[string]PathCost // path → engine cost per issuance
	Baseline  *baselineResult
	completed map[string][]string // path → issuance ids that reached active, in start order
	order     []string            // the path of each issuance that reached active, in start order
}

// TotalActive is the number of issuances that reached active.
func (r *Report) TotalActive() int { return sum(r.Active) }

// TotalLoggedOn is the number of people who logged on after activating.
func (r *Report) TotalLoggedOn() int { return sum(r.LoggedOn) }

// TotalFailed is the number of journeys that did not end in a logon.
func (r *Report) TotalFailed() int {
	n := 0
	for _, steps := range r.Failed {
		n += sum(steps)
	}
	return n
}

// TotalErrors counts every API answer that was not a success.
func (r *Report) TotalErrors() int { return sum(r.Errors) }

// Rate is issuances per second end to end, application to active.
func (r *Report) Rate() float64 { return perSecond(r.TotalActive(), r.Window) }

// PathRate is one path's share of Rate.
func (r *Report) PathRate(path string) float64 { return perSecond(r.Active[path], r.Window) }

// BaselineRate is the bare workflows' rate (all paths), or 0 without a baseline.
func (r *Report) BaselineRate() float64 {
	if r.Baseline == nil {
		return 0
	}
	return perSecond(r.Baseline.Runs, r.Baseline.Window)
}

// BaselinePathRate is one path's share of BaselineRate.
func (r *Report) BaselinePathRate(path string) float64 {
	if r.Baseline == nil {
		return 0
	}
	return perSecond(len(r.Baseline.ByPath[path]), r.Baseline.Window)
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func sum[K comparable](m map[K]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// load takes what the journeys and the API calls measured.
func (r *Report) load(run *runner, outcomes []outcome) {
	r.Journeys = len(outcomes)
	r.Active, r.LoggedOn, r.Failed = map[string]int{}, map[string]int{}, map[string]map[string]int{}
	r.ToActive, r.completed = map[string][]time.Duration{}, map[string][]string{}
	sort.Slice(outcomes, func(i, j int) bool { return outcomes[i].j.applied.Before(outcomes[j].j.applied) })
	var first, last time.Time
	for _, o := range outcomes {
		j := o.j
		if first.IsZero() && !j.applied.IsZero() {
			first = j.applied
		}
		if !j.active.IsZero() {
			r.Active[j.path]++
			r.ToActive[j.path] = append(r.ToActive[j.path], j.active.Sub(j.applied))
			r.completed[j.path] = append(r.completed[j.path], j.id)
			r.order = append(r.order, j.path)
			if j.active.After(last) {
				last = j.active
			}
		}
		if o.err == nil {
			r.LoggedOn[j.path]++
			continue
		}
		if r.Failed[j.path] == nil {
			r.Failed[j.path] = map[string]int{}
		}
		r.Failed[j.path][o.failedAt]++
	}
	if !last.IsZero() {
		r.Window = last.Sub(first)
	}
	r.Routes, r.Errors, r.Calls = run.calls.snapshot()
}

// engineCost reads a sample of each path's issuance histories.
func (r *Report) engineCost(ctx context.Context, tc client.Client, sample int) error {
	r.Cost = map[string]PathCost{}
	for path, ids := range r.completed {
		var costs []Cost
		for _, id := range sampleEvenly(ids, sample) {
			c, err := workflowCost(ctx, tc, IssuanceWorkflowID(id))
			if err != nil {
				return err
			}
			costs = append(costs, c)
		}
		r.Cost[path] = meanCost(costs)
	}
	return nil
}

// IssuanceWorkflowID is workflows.IssuanceWorkflowID: the load knows the
// system from outside, by the contract's naming only.
func IssuanceWorkflowID(issuanceID string) string { return "issuance/" + issuanceID }

// runBaseline drives one bare workflow for each issuance that reached
// active, of its path's shape, in the same order, at the same concurrency.
func (r *Report) runBaseline(ctx context.Context, o Options) error {
	shapes := map[string]string{}
	for path, c := range r.Cost {
		shapes[path] = c.Shape
	}
	if len(r.order) == 0 {
		return fmt.Errorf("no issuance reached active: nothing to compare with a baseline")
	}
	res, err := runBaselineLoad(ctx, o.Temporal, r.order, shapes, o.Concurrency, o.Sample)
	r.Baseline = res
	return err
}

// Print writes the report.
func (r *Report) Print(w io.Writer) {
	o := r.Options
	fmt.Fprintf(w, "\nnemid load: %d issuances asked, concurrency %d, mix %s, API %s\n", o.N, o.Concurrency, o.Mix, strings.Join(o.APIs, ","))
	if o.Duration > 0 {
		fmt.Fprintf(w, "  new issuances started for %s\n", o.Duration)
	}
	fmt.Fprintf(w, "\nEnd to end (application → active, then one logon): %d of %d started reached active, %d logged on, %d failed\n",
		r.TotalActive(), r.Journeys, r.TotalLoggedOn(), r.TotalFailed())
	fmt.Fprintf(w, "  %.2f issuances/s over %.1f s (first application to last activation)\n", r.Rate(), r.Window.Seconds())

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "\nApplication → active, per path")
	fmt.Fprintln(tw, "path\tactive\tissuances/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\t")
	for _, p := range byPath(r.ToActive) {
		s := Summarize(r.ToActive[p])
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%s\t%s\t%s\t%s\t\n", p, r.Active[p], r.PathRate(p), msec(s.P50), msec(s.P95), msec(s.P99), msec(s.Max))
	}
	_ = tw.Flush()

	fmt.Fprintf(w, "\nAPI calls (%d), by route\n", r.Calls)
	fmt.Fprintln(tw, "route\tcalls\tp50 ms\tp95 ms\tp99 ms\tmax ms\t")
	for _, rs := range r.Routes {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\n", rs.Route, rs.Count, msec(rs.P50), msec(rs.P95), msec(rs.P99), msec(rs.Max))
	}
	_ = tw.Flush()

	fmt.Fprintf(w, "\nErrors by status and route: %d\n", r.TotalErrors())
	keys := make([]RouteStatus, 0, len(r.Errors))
	for k := range r.Errors {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Status != keys[j].Status {
			return keys[i].Status < keys[j].Status
		}
		return keys[i].Route < keys[j].Route
	})
	for _, k := range keys {
		status := fmt.Sprint(k.Status)
		if k.Status == StatusTransportError {
			status = "no answer"
		}
		fmt.Fprintf(w, "  %-9s %-40s %d\n", status, k.Route, r.Errors[k])
	}
	for _, p := range Paths {
		for step, n := range r.Failed[p] {
			fmt.Fprintf(w, "  %s journeys failed at %q: %d\n", p, step, n)
		}
	}

	fmt.Fprintln(w, "\nEngine cost per issuance (mean over sampled histories; A activity, L local activity, U Update, S signal, T timer)")
	r.printCost(tw, r.Cost)
	if r.Baseline != nil {
		r.printBaseline(w, tw)
	}
}

func (r *Report) printCost(tw *tabwriter.Writer, costs map[string]PathCost) {
	fmt.Fprintln(tw, "path\tsampled\tactivities\tlocal\twf tasks\tupdates\tsignals\ttimers\tevents\t  shape")
	for _, p := range byPath(costs) {
		c := costs[p]
		shape := describeShape(c.Shape)
		if c.ShapesSeen > 1 {
			shape += fmt.Sprintf(" (most common of %d shapes)", c.ShapesSeen)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t  %s\n", p, c.Sampled, c.Activities, c.LocalActivities,
			c.WorkflowTasks, c.Updates, c.Signals, c.Timers, c.Events, shape)
	}
	_ = tw.Flush()
}

func (r *Report) printBaseline(w io.Writer, tw *tabwriter.Writer) {
	b := r.Baseline
	fmt.Fprintf(w, "\nEngine baseline: %d bare workflows of the same shapes (no-op steps; Updates and signals sent at once), same mix and concurrency,\n", b.Runs)
	fmt.Fprintf(w, "same server, worker.Options() on queue %s: %.2f workflows/s over %.1f s", b.Queue, r.BaselineRate(), b.Window.Seconds())
	if b.Failed > 0 {
		fmt.Fprintf(w, " (%d FAILED)", b.Failed)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(tw, "path\tours/s\tbaseline/s\tratio\tours p50 ms\tbaseline p50 ms\tours p95 ms\tbaseline p95 ms\t")
	for _, p := range byPath(b.ByPath) {
		ours, base := Summarize(r.ToActive[p]), Summarize(b.ByPath[p])
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t\n", p, r.PathRate(p), r.BaselinePathRate(p),
			ratio(r.PathRate(p), r.BaselinePathRate(p)), msec(ours.P50), msec(base.P50), msec(ours.P95), msec(base.P95))
	}
	fmt.Fprintf(tw, "mix\t%.2f\t%.2f\t%.2f\t\t\t\t\t\n", r.Rate(), r.BaselineRate(), ratio(r.Rate(), r.BaselineRate()))
	_ = tw.Flush()
	fmt.Fprintln(w, "  (per-path rates are each path's share of its mixed run; run --mix bank=1 for one path alone)")
	fmt.Fprintln(w, "\nBaseline cost per workflow, read back from its histories")
	r.printCost(tw, b.Cost)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func msec(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
