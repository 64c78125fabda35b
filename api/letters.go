package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"

	"github.com/opennemid/nemid/internal/letterkeys"
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

func viewLetter(l store.Letter) (letterView, error) {
	r, err := l.RecipientOf()
	if err != nil {
		return letterView{}, err
	}
	if r.Lines == nil {
		r.Lines = []string{}
	}
	return letterView{ID: l.ID, IssuanceID: l.IssuanceID, Kind: l.Kind, Status: l.Status, Recipient: r, CreatedAt: stamp(l.CreatedAt)}, nil
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
		v, err := viewLetter(l)
		if err != nil {
			return err
		}
		out.Items = append(out.Items, v)
	}
	if more {
		out.NextCursor = encodeCursor(rows[len(rows)-1].ID)
	}
	return c.JSON(http.StatusOK, out)
}

// letterPDF serves a queued letter, unsealed with its key; once dispatched
// its key is destroyed and its column purged: 410.
func (s *Server) letterPDF(c echo.Context) error {
	p, err := requireRole(c, RolePost)
	if err != nil {
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
		return errLetterGone()
	}
	pdf, err := s.unseal(l)
	if errors.Is(err, letterkeys.ErrNoKey) {
		return errLetterGone()
	}
	if err != nil {
		return err
	}
	// Audited before it is served: a fetch the log cannot record is refused.
	if err := s.store.Audited(c.Request().Context(), p.audit(store.AuditLetterPDFFetched, store.LetterTarget(l.ID)), nil); err != nil {
		return err
	}
	return servePDF(c, l.ID+".pdf", pdf)
}

func errLetterGone() error {
	return newError(http.StatusGone, "gone", "the letter was dispatched and its PDF purged")
}

// unseal opens a stored letter PDF with the letter's key. letterkeys.ErrNoKey
// means the letter is gone (410), whatever the row still says: the key is
// destroyed before the row is updated.
func (s *Server) unseal(l store.Letter) ([]byte, error) {
	if s.keys == nil {
		return nil, errors.New("no letter key directory configured (NEMID_LETTER_KEY_DIR)")
	}
	return s.keys.Unseal(l.ID, l.PDF)
}

// destroyKey destroys a letter's key; repeating it is harmless.
func (s *Server) destroyKey(letterID string) error {
	if s.keys == nil {
		return errors.New("no letter key directory configured (NEMID_LETTER_KEY_DIR)")
	}
	return s.keys.Destroy(letterID)
}

// servePDF answers a document that holds printed secrets: never cached.
func servePDF(c echo.Context, filename string, pdf []byte) error {
	c.Response().Header().Set("Content-Disposition", `inline; filename="`+filename+`"`)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "application/pdf", pdf)
}

// letterDispatched records the dispatch (idempotently: a repeat answers the
// same). The letter's key is destroyed first: the provider has printed it,
// and a failure after that leaves at worst a queued letter whose PDF is
// already gone (410), never a dispatched one whose key survives. The
// issuance's workflow is told next, and only then does the letter leave
// the queue: a crash between any two steps leaves it queued, so the
// provider's next round reports it again and the workflow hears of it
// (a repeated signal changes nothing). Told after the move instead, a
// crash in between would strand the issuance in letters_posted. The move
// is audited in its transaction; a repeat changes nothing and is not.
func (s *Server) letterDispatched(c echo.Context) error {
	p, err := requireRole(c, RolePost)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	existing, err := s.store.PostalLetter(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return notFoundError("letter")
	}
	if err != nil {
		return err
	}
	if existing.Status == store.LetterWithdrawn {
		return newError(http.StatusGone, "withdrawn", "the letter was withdrawn (its NemID was revoked): do not post it")
	}
	at := s.now() // before the signal, so the timeline shows the dispatch before what it caused
	if err := s.destroyKey(existing.ID); err != nil {
		return err
	}
	err = s.temporal.SignalWorkflow(ctx, workflows.IssuanceWorkflowID(existing.IssuanceID), "", workflows.SignalLetterDispatched,
		workflows.LetterDispatched{LetterID: existing.ID})
	var notFound *serviceerror.NotFound
	if err != nil && !errors.As(err, &notFound) { // a finished workflow no longer waits for letters
		return err
	}
	l, err := s.store.MarkDispatched(ctx, existing.ID, at, p.ActorName(), p.audit(store.AuditLetterDispatched, store.LetterTarget(existing.ID)))
	if errors.Is(err, store.ErrNotFound) {
		return notFoundError("letter")
	}
	if err != nil {
		return err
	}
	v, err := viewLetter(l)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}
