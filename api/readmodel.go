package api

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// countsView is GET /v1/issuances/counts: every status, with 0 for none.
type countsView struct {
	Counts map[string]int64 `json:"counts"`
	Total  int64            `json:"total"`
}

// countIssuances answers how many issuances the caller's read scope holds
// per status (the console's header), from the counters kept beside the
// issuances (store.CountIssuances): its cost does not grow with the table.
// The list's filters other than status narrow it the same way.
func (s *Server) countIssuances(c echo.Context) error {
	p, err := requireRole(c, RoleCaseworker, RoleEmbassy, RoleBank, RoleAdmin)
	if err != nil {
		return err
	}
	if err := oneOf("path", c.QueryParam("path"), domain.Paths()); err != nil {
		return err
	}
	f := store.CountFilter{Scope: p.readScope(), Path: c.QueryParam("path"), Centre: c.QueryParam("centre"),
		Rep: c.QueryParam("representation"), BankID: c.QueryParam("bank")}
	counts, err := s.store.CountIssuances(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := countsView{Counts: make(map[string]int64, len(workflows.Statuses()))}
	for _, st := range workflows.Statuses() {
		out.Counts[st] = counts[st]
		out.Total += counts[st]
	}
	return c.JSON(http.StatusOK, out)
}

// issuanceSearch is POST /v1/issuances/search: a CPR never travels in a URL.
type issuanceSearch struct {
	CPR    string `json:"cpr"`
	Limit  *int   `json:"limit"`
	Cursor string `json:"cursor"`
}

// searchIssuances lists a person's issuances in the caller's read scope,
// newest first, found through the CPR's keyed lookup hash (the issuances
// keep no CPR). Looking a person up is audited like a credential lookup,
// whether or not anything is found: the entry names the lookup hash
// (target person:<hash>), never the CPR.
func (s *Server) searchIssuances(c echo.Context) error {
	p, err := requireRole(c, RoleCaseworker, RoleEmbassy, RoleBank, RoleAdmin)
	if err != nil {
		return err
	}
	var req issuanceSearch
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	if err := requireFields([2]string{"cpr", req.CPR}); err != nil {
		return err
	}
	limit := defaultLimit
	if req.Limit != nil {
		if *req.Limit < 1 || *req.Limit > maxLimit {
			return badRequest("limit must be a whole number from 1 to %d", maxLimit)
		}
		limit = *req.Limit
	}
	after, err := decodeCursor(req.Cursor)
	if err != nil {
		return err
	}
	cpr, err := domain.ParseCPR(req.CPR, s.now())
	if err != nil {
		return ruleViolations([]Detail{{Code: domain.CodeCPRInvalid, Message: "the CPR number is invalid: " + err.Error()}})
	}
	hash := domain.CPRLookupHash(s.hashKey, cpr)
	ctx := c.Request().Context()
	rows, more, err := s.store.ListIssuances(ctx, store.ListFilter{Scope: p.readScope(), CPRHash: hash, After: after, Limit: limit})
	if err != nil {
		return err
	}
	if err := s.store.Audited(ctx, p.audit(store.AuditIssuancesSearched, store.PersonTarget(hash)), nil); err != nil {
		return fmt.Errorf("audit a search by CPR: %w", err)
	}
	return s.respondIssuancePage(c, rows, more)
}
