package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/opennemid/nemid/activities"
	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// Accepting an application is one call to Temporal: Update-with-Start of
// the issuance's workflow and its accept Update. The API has checked every
// rule it can (all broken ones answer one 422 before anything else); the
// workflow's first step records the row and its guards decide the rest
// (workflows/accept.go says why and what that guarantees). The API writes
// nothing itself, so it has nothing to undo: whatever happens to this
// request, there is either no workflow and no row, or a workflow that
// records (or refuses) the application on its own.

// acceptWait bounds how long a request waits for the accept step. Past it
// the answer is 503; the workflow goes on, and a retry with the same
// Idempotency-Key attaches to it. It stays below store.IdempotencyLease.
const acceptWait = 20 * time.Second

// acceptIssuance starts the issuance's workflow with its accept Update and
// answers what the accept step decided: 201 with the row as recorded, 409
// open_issuance with the open one's id, or 422 witness_limit or
// witness_unknown.
func (s *Server) acceptIssuance(c echo.Context, workflow string, in workflows.IssuanceInput, acc workflows.Acceptance) error {
	row, err := s.accepted(c, workflow, in, acc)
	if err != nil {
		return err
	}
	return respondIssuance(c, http.StatusCreated, row)
}

// accepted is acceptIssuance without the answer: the row as recorded, or
// the error the caller answers (409 open_issuance, 422, 503).
func (s *Server) accepted(c echo.Context, workflow string, in workflows.IssuanceInput, acc workflows.Acceptance) (store.Issuance, error) {
	in.Acceptance = &acc
	res, err := s.acceptInWorkflow(c.Request().Context(), workflow, in)
	if err != nil {
		return store.Issuance{}, err
	}
	switch res.Outcome {
	case workflows.AcceptAccepted:
		return activities.ReceivedRow(res.Application), nil
	case workflows.AcceptOpenIssuance:
		return store.Issuance{}, &Error{Status: http.StatusConflict, Code: "open_issuance",
			Message: "this person already has an open issuance", IssuanceID: res.OpenIssuanceID}
	case workflows.AcceptWitnessLimit:
		return store.Issuance{}, ruleViolations([]Detail{{Code: domain.CodeWitnessLimit,
			Message: "the witness already has 3 accepted statements in the preceding 120 days"}})
	case workflows.AcceptWitnessUnknown:
		return store.Issuance{}, ruleViolations([]Detail{{Code: domain.CodeWitnessUnknown,
			Message: "the CPR register holds no living person with the witness's CPR number"}})
	}
	return store.Issuance{}, fmt.Errorf("accept issuance %s: unknown outcome %q", in.IssuanceID, res.Outcome)
}

// acceptInWorkflow is the one Temporal call. USE_EXISTING attaches a retry
// to the workflow its first attempt started, and the Update id derived from
// the issuance id attaches it to the same Update, so it hears the same
// answer. REJECT_DUPLICATE keeps a retry from starting a second run once
// the first has ended (a refused application ends at once); the ended
// run's Update still has the answer.
func (s *Server) acceptInWorkflow(parent context.Context, name string, in workflows.IssuanceInput) (workflows.AcceptResult, error) {
	ctx, cancel := context.WithTimeout(parent, acceptWait)
	defer cancel()
	workflowID, updateID := workflows.IssuanceWorkflowID(in.IssuanceID), workflows.AcceptUpdateID(in.IssuanceID)
	start := s.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{ID: workflowID, TaskQueue: s.queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE}, name, in)
	handle, err := s.temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{WorkflowID: workflowID, UpdateID: updateID, UpdateName: workflows.UpdateAccept,
			Args: []any{workflows.AcceptRequest{IssuanceID: in.IssuanceID}}, WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	var ended *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &ended) {
		handle, err = s.temporal.GetWorkflowUpdateHandle(client.GetWorkflowUpdateHandleOptions{WorkflowID: workflowID, UpdateID: updateID}), nil
	}
	var res workflows.AcceptResult
	if err == nil {
		err = handle.Get(ctx, &res)
	}
	switch {
	case err == nil:
		return res, nil
	case parent.Err() != nil:
		// The client is gone. The workflow, if it started, goes on alone.
		return res, parent.Err()
	}
	var refused *temporal.ApplicationError
	if errors.As(err, &refused) {
		return res, fmt.Errorf("accept issuance %s: %w", in.IssuanceID, err)
	}
	s.log.ErrorContext(parent, "accept issuance: the workflow engine did not answer", "issuance_id", in.IssuanceID, "error", err.Error())
	return res, unavailable("the workflow engine")
}

// issuanceID names a new issuance. With an Idempotency-Key it is the same
// for every attempt of the request, so a retry reaches the workflow (and
// the accept Update) of its first attempt: a keyed MAC of the principal,
// the key, the request and the key's first use, laid out as a UUIDv7 whose
// time is that first use, so ids stay in creation order. Without a key it
// is a fresh UUIDv7. Nothing personal can be read from it.
func (s *Server) issuanceID(c echo.Context) string {
	claim, ok := c.Get(idempotencyClaim).(store.IdempotencyKey)
	if !ok {
		return uuid.Must(uuid.NewV7()).String()
	}
	ms := claim.CreatedAt.UnixMilli()
	mac := hmac.New(sha256.New, s.hashKey)
	for _, part := range []string{"issuance-id", claim.Principal, claim.Key, claim.RequestHash, strconv.FormatInt(ms, 10)} {
		mac.Write([]byte(part))
		mac.Write([]byte{0})
	}
	var u uuid.UUID
	var stamp [8]byte
	binary.BigEndian.PutUint64(stamp[:], uint64(ms))
	copy(u[:6], stamp[2:])
	copy(u[6:], mac.Sum(nil))
	u[6] = u[6]&0x0f | 0x70 // version 7
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return u.String()
}
