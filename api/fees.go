package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
)

// feeRoutes serves the fees ledger (DESIGN.md §4).
func (s *Server) feeRoutes(staff *echo.Group) {
	staff.GET("/fees", s.listFees)
}

type feeView struct {
	IssuanceID     string    `json:"issuance_id"`
	Representation string    `json:"representation"`
	AmountDKK      int       `json:"amount_dkk"`
	Receipt        string    `json:"receipt"`
	ActorName      *string   `json:"actor_name"` // the confirming token's name
	At             time.Time `json:"at"`
}

type feeLedgerView struct {
	Items      []feeView `json:"items"`
	TotalDKK   int64     `json:"total_dkk"`
	Count      int64     `json:"count"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

// listFees is the fees ledger, newest first and keyset paged, with the
// total and the count of the whole filtered range. An embassy reads its
// own representation's fees (the default; another representation is 403),
// an admin every representation's or one's. from and to are inclusive
// Europe/Copenhagen dates.
func (s *Server) listFees(c echo.Context) error {
	p, err := requireRole(c, RoleEmbassy, RoleAdmin)
	if err != nil {
		return err
	}
	rep := c.QueryParam("representation")
	switch {
	case p.Role == RoleEmbassy && rep == "":
		rep = p.Scope
	case p.Role == RoleEmbassy && rep != p.Scope:
		return newError(http.StatusForbidden, "forbidden", "your token is for representation %s, not %s", p.Scope, rep)
	case rep != "":
		if _, ok := domain.FindRepresentation(domain.BuiltinRepresentations(), rep); !ok {
			return badRequest("representation %q is unknown", rep)
		}
	}
	from, until, err := copenhagenDates(c.QueryParam("from"), c.QueryParam("to"))
	if err != nil {
		return err
	}
	limit, rawCursor, err := pageParams(c)
	if err != nil {
		return err
	}
	f := store.FeeFilter{Representation: rep, From: from, Until: until, Limit: limit}
	if rawCursor != "" {
		cur, err := decodeFeeCursor(rawCursor)
		if err != nil {
			return err
		}
		f.After = &cur
	}
	page, err := s.store.ListFees(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := feeLedgerView{Items: make([]feeView, 0, len(page.Items)), TotalDKK: page.TotalDKK, Count: page.Count}
	for _, fee := range page.Items {
		out.Items = append(out.Items, feeView{IssuanceID: fee.IssuanceID, Representation: fee.Representation,
			AmountDKK: fee.AmountDKK, Receipt: fee.Receipt, ActorName: fee.ActorName, At: stamp(fee.PaidAt)})
	}
	if page.More {
		last := page.Items[len(page.Items)-1]
		out.NextCursor = encodeCursor(last.PaidAt.UTC().Format(time.RFC3339Nano) + " " + last.ID)
	}
	return c.JSON(http.StatusOK, out)
}

// copenhagenDates turns inclusive Europe/Copenhagen dates (either may be
// empty) into the instants [from, until): from's midnight and the midnight
// after to, both in Copenhagen, so a day is 23 or 25 hours at a clock change.
func copenhagenDates(rawFrom, rawTo string) (from, until time.Time, err error) {
	var first, last domain.Date
	if rawFrom != "" {
		if first, err = domain.ParseDate(rawFrom); err != nil {
			return from, until, badRequest("from must be a date YYYY-MM-DD")
		}
		from = first.In(domain.Copenhagen())
	}
	if rawTo != "" {
		if last, err = domain.ParseDate(rawTo); err != nil {
			return from, until, badRequest("to must be a date YYYY-MM-DD")
		}
		until = last.AddDays(1).In(domain.Copenhagen())
	}
	if rawFrom != "" && rawTo != "" && last.Before(first) {
		return from, until, badRequest("from must not be after to")
	}
	return from, until, nil
}

func decodeFeeCursor(raw string) (store.FeeCursor, error) {
	at, id, ok := strings.Cut(raw, " ")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil || id == "" {
		return store.FeeCursor{}, badRequest("cursor is not one this API issued")
	}
	return store.FeeCursor{PaidAt: t, ID: id}, nil
}
