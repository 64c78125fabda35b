package api

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// startOnce starts the workflow id unless it already runs or ran: ids that
// name one decision (a card order, a replacement card, a reset) make a
// repeated or concurrent request start it exactly once, and the repeat is
// not an error.
func (s *Server) startOnce(ctx context.Context, id, workflow string, in any) error {
	opts := client.StartWorkflowOptions{ID: id, TaskQueue: s.queue,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true}
	_, err := s.temporal.ExecuteWorkflow(ctx, opts, workflow, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	return nil
}
