package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"

	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

type letterView struct {
	ID         string          `json:"id"`
	IssuanceID string          `json:"issuance_id"`
	Kind       string          `json:"kind"`
	Status     string          `json:"status"`
	Recipient  store.Recipient `json:"recipient"`
	CreatedAt  time.Time       `json:"created_at"`
}

func viewLetter(l store.Letter) letterView {
	r := l.RecipientOf()
	if r.Lines == nil {
		r.Lines = []string{}
	}
	return letterView{ID: l.ID, IssuanceID: l.IssuanceID, Kind: l.Kind, Status: l.Status, Recipient: r, CreatedAt: stamp(l.CreatedAt)}
}

// listLetters is the print-and-post provider's queue, oldest first.
func (s *Server) listLetters(c echo.Context) error {
	if _, err := requireRole(c, RolePost, RoleAdmin); err != nil {
		return err
	}
	limit, after, err := pageParams(c)
	if err != nil {
		return err
	}
	status := c.QueryParam("status")
	if status != "" && status != store.LetterQueued && status != store.LetterDispatched {
		return badRequest("status must be queued or dispatched")
	}
	rows, more, err := s.store.ListLetters(c.Request().Context(), store.LetterFilter{Status: status, After: after, Limit: limit})
	if err != nil {
		return err
	}
	out := listView[letterView]{Items: make([]letterView, 0, len(rows))}
	for _, l := range rows {
		out.Items = append(out.Items, viewLetter(l))
	}
	if more {
		out.NextCursor = encodeCursor(rows[len(rows)-1].ID)
	}
	return c.JSON(http.StatusOK, out)
}

// letterPDF serves a queued letter; once dispatched its PDF is purged: 410.
func (s *Server) letterPDF(c echo.Context) error {
	if _, err := requireRole(c, RolePost); err != nil {
		return err
	}
	l, err := s.store.PostalLetter(c.Request().Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return notFoundError("letter")
	}
	if err != nil {
		return err
	}
	if l.PDF == nil {
		return newError(http.StatusGone, "gone", "the letter was dispatched and its PDF purged")
	}
	c.Response().Header().Set("Content-Disposition", `inline; filename="`+l.ID+`.pdf"`)
	return c.Blob(http.StatusOK, "application/pdf", l.PDF)
}

// letterDispatched records the dispatch (idempotently: a repeat answers the
// same) and tells the issuance's workflow every time, so a signal lost to an
// outage is delivered by the provider's retry.
func (s *Server) letterDispatched(c echo.Context) error {
	if _, err := requireRole(c, RolePost); err != nil {
		return err
	}
	ctx := c.Request().Context()
	l, err := s.store.MarkDispatched(ctx, c.Param("id"), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return notFoundError("letter")
	}
	if err != nil {
		return err
	}
	err = s.temporal.SignalWorkflow(ctx, workflows.IssuanceWorkflowID(l.IssuanceID), "", workflows.SignalLetterDispatched,
		workflows.LetterDispatched{LetterID: l.ID})
	var notFound *serviceerror.NotFound
	if err != nil && !errors.As(err, &notFound) { // a finished workflow no longer waits for letters
		return err
	}
	return c.JSON(http.StatusOK, viewLetter(l))
}
