package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"github.com/opennemid/nemid/internal/letterkeys"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// handover tells the workflow the caseworker is handing over, then answers
// the held PDF (code card and password on separate pages) exactly once; its
// key is destroyed and its column purged as it is served, so a second call
// is 410.
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
			Args: []any{workflows.HandoverRequest{Actor: p.Actor(), ActorName: p.Name, ActorTokenID: p.TokenID}}, WaitForStage: client.WorkflowUpdateStageCompleted,
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
	pdf, err := s.takeHandoverDocument(ctx, iss.ID, p.audit(store.AuditHandoverPDFFetched, store.IssuanceTarget(iss.ID)))
	if err != nil {
		return err
	}
	return servePDF(c, "handover-"+iss.ID+".pdf", pdf)
}

// takeHandoverDocument unseals the held document, destroys its key and then
// marks it handed over; of concurrent calls only the one whose mark
// succeeds serves it, and its audit entry is written with that mark. A
// failure after the key is destroyed loses the document (410 from then on)
// rather than leave a key for a printed one.
func (s *Server) takeHandoverDocument(ctx context.Context, issuanceID string, audit store.AuditEntry) ([]byte, error) {
	gone := newError(http.StatusGone, "gone", "the handover document was already printed (or the issuance ended) and has been purged")
	l, err := s.store.HeldHandoverDocument(ctx, issuanceID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, newError(http.StatusConflict, "conflict", "this issuance is delivered by letters, not handed over")
	case errors.Is(err, store.ErrGone):
		return nil, gone
	case err != nil:
		return nil, err
	}
	pdf, err := s.unseal(l)
	if errors.Is(err, letterkeys.ErrNoKey) {
		return nil, gone
	}
	if err != nil {
		return nil, err
	}
	if err := s.destroyKey(l.ID); err != nil {
		return nil, err
	}
	err = s.store.MarkHandedOver(ctx, l.ID, s.now(), audit)
	if errors.Is(err, store.ErrGone) {
		return nil, gone
	}
	if err != nil {
		return nil, err
	}
	return pdf, nil
}
