package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Accepting an application is the workflow's first step, not the API's.
//
// Why: the API used to write the row and then start the workflow, two
// steps that a client disconnect, a crash or an unreachable Temporal could
// separate, leaving a received row without a workflow (which the
// one-open-per-CPR index then held against the person for good) and a
// spent witness statement that no delete gave back. Now the API makes one
// call, Update-with-Start: the workflow and its accept Update begin
// together or not at all, and the workflow itself records the row, its
// received event and the witness statement in one transaction, guarded by
// the one-open-per-CPR index and the witness limit (AcceptIssuance).
//
// What it guarantees: there is never a row without a running workflow,
// because only the workflow writes it; a failed start has written nothing,
// so the person can apply again at once; a retried request (the same
// Idempotency-Key gives the same issuance id, so the same workflow id and
// accept Update id) attaches to the workflow and the Update already there
// and hears the same answer; and an application refused by the guards
// (another open issuance, the witness's limit reached meanwhile) ends its
// workflow without a row, so it leaves nothing behind.

// changeAcceptInWorkflow names the GetVersion change that moved acceptance
// into the workflow: histories recorded before it start with the row
// already written and go straight to the register check.
const changeAcceptInWorkflow = "accept-in-workflow"

// accept runs the accept step. It reports false when the application was
// refused: the workflow then ends without having written anything.
func (w *issuanceRun) accept(ctx workflow.Context) (bool, error) {
	if !w.acceptsInWorkflow(ctx) || w.in.Acceptance == nil {
		// Started by an API that wrote the row itself before the start.
		return true, nil
	}
	in := AcceptInput{IssuanceID: w.in.IssuanceID, Path: w.in.Path, Deadline: w.in.DeliveryDeadline, Acceptance: *w.in.Acceptance}
	var out AcceptOutcome
	err := w.db.execute(ctx, ActivityAcceptIssuance, in).Get(ctx, &out)
	if err != nil {
		w.acceptFailed = true
		return false, fmt.Errorf("accept the application: %w", err)
	}
	w.accepted = &AcceptResult{AcceptOutcome: out, Application: in}
	if out.Outcome != AcceptAccepted {
		w.ending = true
		w.setState(StatusRefused, nil)
		return false, nil
	}
	return true, nil
}

// acceptsInWorkflow reports whether this run records its own row: always
// from changeLocalDBSteps on, which implies it; before that, as
// changeAcceptInWorkflow recorded.
func (w *issuanceRun) acceptsInWorkflow(ctx workflow.Context) bool {
	return w.db.local || workflow.GetVersion(ctx, changeAcceptInWorkflow, workflow.DefaultVersion, 1) >= 1
}

func (w *issuanceRun) validateAccept(ctx workflow.Context, req AcceptRequest) error {
	if w.in.Acceptance == nil {
		return temporal.NewApplicationError("this issuance was accepted before its workflow started", ErrTypeConflict)
	}
	if req.IssuanceID != w.in.IssuanceID {
		return temporal.NewApplicationError("the accept Update names another issuance", ErrTypeInvalid)
	}
	return nil
}

// handleAccept answers once the accept step has decided: the caller's 201,
// 409 or 422 is what the database recorded, or refused to record.
func (w *issuanceRun) handleAccept(ctx workflow.Context, req AcceptRequest) (AcceptResult, error) {
	if err := workflow.Await(ctx, func() bool { return w.accepted != nil || w.acceptFailed }); err != nil {
		return AcceptResult{}, err
	}
	if w.accepted == nil {
		return AcceptResult{}, temporal.NewApplicationError("the application could not be recorded", "accept_failed")
	}
	return *w.accepted, nil
}
