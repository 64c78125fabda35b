package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/store"
)

// auditRoutes serves the audit log to admins (DESIGN.md §8).
func (s *Server) auditRoutes(staff *echo.Group) {
	staff.GET("/audit", s.listAudit)
}

// audit is the audit entry of action on target by this principal. Only the
// token's id travels: the store takes the token's name from it
// (store.AuditEntry.TokenID), so actor_name follows the token.
func (p Principal) audit(action, target string) store.AuditEntry {
	return store.AuditEntry{Actor: p.Actor(), TokenID: p.TokenID, Action: action, Target: target}
}

type auditView struct {
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	ActorName *string   `json:"actor_name"`
	Action    string    `json:"action"`
	Target    string    `json:"target"`
	Outcome   string    `json:"outcome"`
	Hash      string    `json:"hash"`
}

// listAudit pages the log newest first: from/to are RFC 3339 instants
// (inclusive), action one of the audited actions.
func (s *Server) listAudit(c echo.Context) error {
	if _, err := requireRole(c, RoleAdmin); err != nil {
		return err
	}
	limit, after, err := pageParams(c)
	if err != nil {
		return err
	}
	f := store.AuditFilter{Limit: limit, Action: c.QueryParam("action")}
	if after != "" {
		if f.Before, err = strconv.ParseInt(after, 10, 64); err != nil || f.Before < 1 {
			return badRequest("cursor is not one this API issued")
		}
	}
	if err := oneOf("action", f.Action, store.AuditActions()); err != nil {
		return err
	}
	if f.From, err = instantParam(c, "from"); err != nil {
		return err
	}
	if f.To, err = instantParam(c, "to"); err != nil {
		return err
	}
	if f.From != nil && f.To != nil && f.From.After(*f.To) {
		return badRequest("from must not be after to")
	}
	rows, more, err := s.store.ListAudit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := listView[auditView]{Items: make([]auditView, 0, len(rows))}
	for _, e := range rows {
		out.Items = append(out.Items, auditView{Seq: e.Seq, At: stamp(e.At), Actor: e.Actor, ActorName: e.ActorName,
			Action: e.Action, Target: e.Target, Outcome: e.Outcome, Hash: e.Hash})
	}
	if more {
		out.NextCursor = encodeCursor(strconv.FormatInt(rows[len(rows)-1].Seq, 10))
	}
	return c.JSON(http.StatusOK, out)
}

// instantParam reads an optional RFC 3339 instant from the query.
func instantParam(c echo.Context, name string) (*time.Time, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return nil, badRequest("%s must be an RFC 3339 instant such as 2025-01-31T12:00:00Z", name)
	}
	return &t, nil
}
