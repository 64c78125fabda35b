package loadgen

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/opennemid/nemid/worker"
)

// The engine baseline: bare workflows of the same shape as a path's
// issuance workflow (the same activities, local activities, timers,
// Updates and signals in the same order, read from its histories), each
// step a no-op, driven at the same concurrency on the same server, with a
// worker in this process using the binary's worker options on a task
// queue of its own. Its clients send each Update and signal as soon as the
// previous Update has answered: humans with no think time and no polling.
// What the system does beyond that — HTTP, the database, printing, the
// humans' polling — is what the ratio to it measures.
const (
	BaselineWorkflowName = "LoadBaseline"
	baselineActivityName = "LoadBaselineNoop"
	baselineUpdate       = "step"
	baselineSignal       = "step"
	baselineWait         = 24 * time.Hour // a durable deadline on each wait, as the issuance's waits have
)

// BaselineWorkflow runs a canonical shape (see Cost.Shape) with no-op steps. An Update
// answers once the workflow has taken the steps that follow it and reached
// its next wait, as the issuance's Updates answer once their transition is
// recorded.
func BaselineWorkflow(ctx workflow.Context, shape string) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 30 * time.Second})
	var arrived, consumed, signals, signalsConsumed int
	waiting, done := false, false
	err := workflow.SetUpdateHandler(ctx, baselineUpdate, func(ctx workflow.Context) error {
		arrived++
		n := arrived
		return workflow.Await(ctx, func() bool { return consumed >= n && (waiting || done) })
	})
	if err != nil {
		return err
	}
	ch := workflow.GetSignalChannel(ctx, baselineSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for ch.Receive(ctx, nil) {
			signals++
		}
	})
	var timers []func() // what cancels the timers running beside the next wait
	stopTimers := func() {
		for _, cancel := range timers {
			cancel()
		}
		timers = nil
	}
	for i := 0; i < len(shape); i++ {
		switch step := shape[i]; step {
		case shapeActivity, shapeLocalActivity:
			var f workflow.Future
			if step == shapeActivity {
				f = workflow.ExecuteActivity(ctx, baselineActivityName)
			} else {
				f = workflow.ExecuteLocalActivity(ctx, noop)
			}
			// The timers of the wait that follows start in the same
			// workflow task as this activity: started at the wait, they
			// would never reach history when the wait is already over
			// (the client sends at once), whereas the issuance's humans
			// act only once the system shows the wait.
			n := leadingTimers(shape[i+1:])
			if n > 0 {
				timers = append(timers, startTimers(ctx, n))
				i += n
			}
			err = f.Get(ctx, nil)
		case shapeTimer: // a wait's timers with no activity before them
			n := leadingTimers(shape[i:])
			timers = append(timers, startTimers(ctx, n))
			i += n - 1
		case shapeUpdate:
			waiting = true
			err = workflow.Await(ctx, func() bool { return arrived > consumed })
			consumed++
			waiting = false
			stopTimers()
		case shapeSignal:
			waiting = true
			err = workflow.Await(ctx, func() bool { return signals > signalsConsumed })
			signalsConsumed++
			waiting = false
			stopTimers()
		default:
			err = fmt.Errorf("unknown step %q in shape %q", step, shape)
		}
		if err != nil {
			return err
		}
	}
	done = true
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// leadingTimers counts the timers at the start of shape.
func leadingTimers(shape string) int {
	n := 0
	for n < len(shape) && shape[n] == shapeTimer {
		n++
	}
	return n
}

// startTimers starts n durable timers, as the issuance's waits run a
// deadline (and a reminder) beside them, and answers what cancels them.
func startTimers(ctx workflow.Context, n int) func() {
	timerCtx, cancel := workflow.WithCancel(ctx)
	for range n {
		workflow.NewTimer(timerCtx, baselineWait)
	}
	return cancel
}

func noop(context.Context) error { return nil }

// baselineRun is one bare workflow driven by its client.
type baselineRun struct {
	path          string
	began, closed time.Time
	workflowID    string
}

// baselineResult is the baseline's part of the report.
type baselineResult struct {
	Queue    string
	Window   time.Duration
	Runs     int
	Failed   int
	ByPath   map[string][]time.Duration // path → start-to-close durations
	Shapes   map[string]string          // path → the shape replayed
	Cost     map[string]PathCost        // path → cost read back from the baseline's own histories
	firstErr error
}

// runBaselineLoad starts a worker on a queue of its own and drives one bare
// workflow per entry of paths at the given concurrency.
func runBaselineLoad(ctx context.Context, tc client.Client, paths []string, shapes map[string]string, concurrency, sample int) (*baselineResult, error) {
	queue := "nemid-load-baseline-" + uuid.NewString()
	w := sdkworker.New(tc, queue, worker.Options())
	w.RegisterWorkflowWithOptions(BaselineWorkflow, workflow.RegisterOptions{Name: BaselineWorkflowName})
	w.RegisterActivityWithOptions(noop, activity.RegisterOptions{Name: baselineActivityName})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start the baseline worker: %w", err)
	}
	defer w.Stop()

	res := &baselineResult{Queue: queue, ByPath: map[string][]time.Duration{}, Shapes: shapes, Cost: map[string]PathCost{}}
	runs := make([]baselineRun, len(paths))
	next := make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	began := time.Now()
	for range concurrency {
		wg.Go(func() {
			for i := range next {
				run := baselineRun{path: paths[i], workflowID: fmt.Sprintf("load-baseline/%s/%d", queue, i), began: time.Now()}
				err := driveBaseline(ctx, tc, queue, run.workflowID, shapes[run.path])
				run.closed = time.Now()
				mu.Lock()
				runs[i] = run
				if err != nil {
					res.Failed++
					if res.firstErr == nil {
						res.firstErr = fmt.Errorf("baseline %s workflow: %w", run.path, err)
					}
				}
				mu.Unlock()
			}
		})
	}
	for i := range paths {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	last := began
	ids := map[string][]string{}
	for _, r := range runs {
		res.ByPath[r.path] = append(res.ByPath[r.path], r.closed.Sub(r.began))
		if r.closed.After(last) {
			last = r.closed
		}
		ids[r.path] = append(ids[r.path], r.workflowID)
	}
	res.Runs, res.Window = len(runs), last.Sub(began)
	for path, list := range ids {
		var costs []Cost
		for _, id := range sampleEvenly(list, sample) {
			c, err := workflowCost(ctx, tc, id)
			if err != nil {
				return res, err
			}
			costs = append(costs, c)
		}
		res.Cost[path] = meanCost(costs)
	}
	return res, res.firstErr
}

// driveBaseline plays the humans of one bare workflow: the first Update
// starts it (Update-with-Start, as an application does), then every
// Update and signal of the shape follows in order; then it waits for the
// workflow to close.
func driveBaseline(ctx context.Context, tc client.Client, queue, workflowID, shape string) error {
	var human []rune
	for _, step := range shape {
		if step == shapeUpdate || step == shapeSignal {
			human = append(human, step)
		}
	}
	startOptions := client.StartWorkflowOptions{ID: workflowID, TaskQueue: queue}
	if len(human) > 0 && human[0] == shapeUpdate {
		start := tc.NewWithStartWorkflowOperation(client.StartWorkflowOptions{ID: workflowID, TaskQueue: queue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING}, BaselineWorkflowName, shape)
		h, err := tc.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: start,
			UpdateOptions: client.UpdateWorkflowOptions{WorkflowID: workflowID, UpdateName: baselineUpdate, WaitForStage: client.WorkflowUpdateStageCompleted}})
		if err != nil {
			return err
		}
		if err := h.Get(ctx, nil); err != nil {
			return err
		}
		human = human[1:]
	} else if _, err := tc.ExecuteWorkflow(ctx, startOptions, BaselineWorkflowName, shape); err != nil {
		return err
	}
	for _, step := range human {
		var err error
		if step == shapeSignal {
			err = tc.SignalWorkflow(ctx, workflowID, "", baselineSignal, nil)
		} else {
			err = updateBaseline(ctx, tc, workflowID)
		}
		if err != nil {
			return err
		}
	}
	return tc.GetWorkflow(ctx, workflowID, "").Get(ctx, nil)
}

func updateBaseline(ctx context.Context, tc client.Client, workflowID string) error {
	h, err := tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflowID, UpdateName: baselineUpdate,
		WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		return err
	}
	return h.Get(ctx, nil)
}
