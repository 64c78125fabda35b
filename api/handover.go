package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// handover tells the workflow the caseworker is handing over, then answers
// the held PDF (code card and password on separate pages) exactly once; it
// is purged as it is served, so a second call is 410.
func (s *Server) handover(c echo.Context) error {
	p, err := requireRole(c, RoleCaseworker)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	iss, err := s.scopedIssuance(c, p)
	if err != nil {
		return err
	}
	switch iss.Status {
	case workflows.StatusAwaitingHandover:
		handle, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: workflows.IssuanceWorkflowID(iss.ID), UpdateName: workflows.UpdateHandover,
			Args: []any{workflows.HandoverRequest{Actor: p.Actor()}}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err != nil {
			return err
		}
		if err := handle.Get(ctx, nil); err != nil {
			return err
		}
	case workflows.StatusReceived:
		return newError(http.StatusConflict, "conflict", "the documents are still being printed; try again in a moment")
	}
	pdf, err := s.store.TakeHandoverDocument(ctx, iss.ID, s.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return newError(http.StatusConflict, "conflict", "this issuance is delivered by letters, not handed over")
	case errors.Is(err, store.ErrGone):
		return newError(http.StatusGone, "gone", "the handover document was already printed (or the issuance ended) and has been purged")
	case err != nil:
		return err
	}
	c.Response().Header().Set("Content-Disposition", `inline; filename="handover-`+iss.ID+`.pdf"`)
	return c.Blob(http.StatusOK, "application/pdf", pdf)
}
