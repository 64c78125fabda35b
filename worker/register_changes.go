package worker

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/opennemid/nemid/workflows"
)

// StartRegisterChanges makes sure the task queue's register-changes
// workflow runs (workflows.RegisterChanges): every worker calls it as it
// starts, and the first start wins; the others attach to the running one.
// The workflow, not this process, keeps the sweep going, so it survives
// any worker's crash.
func StartRegisterChanges(ctx context.Context, c client.Client, taskQueue string, every time.Duration) error {
	opts := client.StartWorkflowOptions{ID: workflows.RegisterChangesWorkflowID(taskQueue), TaskQueue: taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE}
	if _, err := c.ExecuteWorkflow(ctx, opts, workflows.RegisterChangesWorkflow, workflows.RegisterChangesInput{Every: every}); err != nil {
		return fmt.Errorf("start the register-changes workflow: %w", err)
	}
	return nil
}
