package loadgen

import (
	"context"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

// Cost is what the engine did for one workflow, read from its history.
// Payloads stay encrypted: only events are counted.
type Cost struct {
	Activities      int // ActivityTaskScheduled
	LocalActivities int // MarkerRecorded of a local activity
	WorkflowTasks   int // WorkflowTaskCompleted
	Updates         int // WorkflowExecutionUpdateAccepted
	Signals         int // WorkflowExecutionSignaled
	Timers          int // TimerStarted
	Events          int // every event
	// Shape is the order of the steps that make the workflow's shape, one
	// letter each: A activity, L local activity, U Update, S signal, T
	// timer, as history recorded them. The baseline replays its canonical
	// form (canonicalShape) with no-op steps.
	Shape string
}

// Step letters of Cost.Shape.
const (
	shapeActivity      = 'A'
	shapeLocalActivity = 'L'
	shapeUpdate        = 'U'
	shapeSignal        = 'S'
	shapeTimer         = 'T'
)

// countEvent adds one history event to c.
func (c *Cost) countEvent(e *historypb.HistoryEvent) {
	c.Events++
	var step byte
	switch e.GetEventType() {
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
		c.Activities++
		step = shapeActivity
	case enumspb.EVENT_TYPE_MARKER_RECORDED:
		if e.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity" {
			c.LocalActivities++
			step = shapeLocalActivity
		}
	case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
		c.WorkflowTasks++
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
		c.Updates++
		step = shapeUpdate
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
		c.Signals++
		step = shapeSignal
	case enumspb.EVENT_TYPE_TIMER_STARTED:
		c.Timers++
		step = shapeTimer
	}
	if step != 0 {
		c.Shape += string(step)
	}
}

// workflowCost waits (up to a minute) for a workflow to close and counts
// its history.
func workflowCost(ctx context.Context, tc client.Client, workflowID string) (Cost, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		d, err := tc.DescribeWorkflowExecution(ctx, workflowID, "")
		if err != nil {
			return Cost{}, fmt.Errorf("describe %s: %w", workflowID, err)
		}
		if d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			break
		}
		if time.Now().After(deadline) {
			return Cost{}, fmt.Errorf("%s still runs a minute after its issuance was active", workflowID)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return Cost{}, err
		}
	}
	var c Cost
	iter := tc.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			return Cost{}, fmt.Errorf("history of %s: %w", workflowID, err)
		}
		c.countEvent(e)
	}
	return c, nil
}

// PathCost is the mean cost per workflow over a sample, and the
// canonical shape most of the sample shares.
type PathCost struct {
	Sampled                                                                      int
	Activities, LocalActivities, WorkflowTasks, Updates, Signals, Timers, Events float64
	Shape                                                                        string
	ShapesSeen                                                                   int // distinct shapes in the sample (1 when every run took the same steps)
}

// meanCost averages costs and picks the most common shape.
func meanCost(costs []Cost) PathCost {
	var p PathCost
	if len(costs) == 0 {
		return p
	}
	shapes := map[string]int{}
	for _, c := range costs {
		p.Activities += float64(c.Activities)
		p.LocalActivities += float64(c.LocalActivities)
		p.WorkflowTasks += float64(c.WorkflowTasks)
		p.Updates += float64(c.Updates)
		p.Signals += float64(c.Signals)
		p.Timers += float64(c.Timers)
		p.Events += float64(c.Events)
		shapes[canonicalShape(c.Shape)]++
	}
	n := float64(len(costs))
	p.Sampled = len(costs)
	p.Activities /= n
	p.LocalActivities /= n
	p.WorkflowTasks /= n
	p.Updates /= n
	p.Signals /= n
	p.Timers /= n
	p.Events /= n
	p.ShapesSeen = len(shapes)
	for s, k := range shapes {
		if k > shapes[p.Shape] || (k == shapes[p.Shape] && s < p.Shape) {
			p.Shape = s
		}
	}
	return p
}

// canonicalShape moves the timers of each wait to its front: between two
// activities, the timers a wait starts and the Updates and signals that end
// it land in history in an order that depends on timing (an Update that
// arrives while the workflow task that starts the timers runs is recorded
// before them), not on the workflow.
func canonicalShape(shape string) string {
	var out, timers, humans strings.Builder
	flush := func() {
		out.WriteString(timers.String())
		out.WriteString(humans.String())
		timers.Reset()
		humans.Reset()
	}
	for i := 0; i < len(shape); i++ {
		switch shape[i] {
		case shapeTimer:
			timers.WriteByte(shape[i])
		case shapeUpdate, shapeSignal:
			humans.WriteByte(shape[i])
		default:
			flush()
			out.WriteByte(shape[i])
		}
	}
	flush()
	return out.String()
}

// sampleEvenly picks at most k of items, spread over the whole list.
func sampleEvenly[T any](items []T, k int) []T {
	if len(items) <= k {
		return items
	}
	out := make([]T, 0, k)
	for i := range k {
		out = append(out, items[i*len(items)/k])
	}
	return out
}

// describeShape spells a shape out for the report: "U 4A T S S A …".
func describeShape(shape string) string {
	var parts []string
	for i := 0; i < len(shape); {
		j := i
		for j < len(shape) && shape[j] == shape[i] {
			j++
		}
		if j-i > 1 {
			parts = append(parts, fmt.Sprintf("%d%c", j-i, shape[i]))
		} else {
			parts = append(parts, string(shape[i]))
		}
		i = j
	}
	return strings.Join(parts, " ")
}
