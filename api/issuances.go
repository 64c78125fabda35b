package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// Paths accepted by POST /v1/issuances. Bank and abroad are refused until
// their workflows exist, rather than accepted by a stub.
var acceptedPaths = []string{"counter"}

// issuanceRequest is the union of the three paths' bodies (DESIGN.md §4).
type issuanceRequest struct {
	Path                 string       `json:"path"`
	CPR                  string       `json:"cpr"`
	Centre               string       `json:"centre"`
	Documents            []documentIn `json:"documents"`
	CheckQuestionsPassed bool         `json:"check_questions_passed"`
	Witness              *witnessIn   `json:"witness"`
	Bank                 string       `json:"bank"`
	AgreementID          string       `json:"agreement_id"`
	PhotoIDShown         *bool        `json:"photo_id_shown"`
	Document             *documentIn  `json:"document"`
	Address              *addressIn   `json:"address"`
	Representation       string       `json:"representation"`
}

type documentIn struct {
	Type     string `json:"type"`
	Number   string `json:"number"`
	Expires  string `json:"expires"`
	Issued   string `json:"issued"`
	ShowsCPR bool   `json:"shows_cpr"`
}

type witnessIn struct {
	CPR            string      `json:"cpr"`
	PhotoID        *documentIn `json:"photo_id"`
	SwornStatement bool        `json:"sworn_statement"`
}

type addressIn struct {
	Lines    []string `json:"lines"`
	Postcode string   `json:"postcode"`
	City     string   `json:"city"`
	Country  string   `json:"country"`
}

func (s *Server) createIssuance(c echo.Context) error {
	var req issuanceRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	switch req.Path {
	case "counter":
		return s.createCounterIssuance(c, req)
	case "":
		return badRequest("path is required; accepted: %s", strings.Join(acceptedPaths, ", "))
	}
	return badRequest("path %q is not accepted; accepted: %s", req.Path, strings.Join(acceptedPaths, ", "))
}

func (s *Server) createCounterIssuance(c echo.Context, req issuanceRequest) error {
	p, err := requireRole(c, RoleCaseworker)
	if err != nil {
		return err
	}
	if req.Centre == "" {
		req.Centre = p.Scope
	}
	if req.Centre != p.Scope {
		return newError(http.StatusForbidden, "forbidden", "your token is for centre %s, not %s", p.Scope, req.Centre)
	}
	ctx := c.Request().Context()
	cpr, violations, err := s.evaluateCounter(c, req)
	if err != nil {
		return err
	}
	if len(violations) > 0 {
		return ruleViolations(violations)
	}
	now := s.now()
	deadline := now.Add(s.cfg.DeliveryWindow)
	iss := store.Issuance{
		ID: uuid.Must(uuid.NewV7()).String(), Path: req.Path, Status: workflows.StatusReceived,
		CPRHash: domain.CPRLookupHash(s.hashKey, cpr), CPRMasked: cpr.Masked(), Centre: &req.Centre,
		Reasons: "[]", Deadline: &deadline, CreatedAt: now, UpdatedAt: now,
		Events: []store.Event{{DedupeKey: "received", At: now, Type: "received", Actor: p.Actor(),
			Detail: "application accepted at centre " + req.Centre}},
	}
	if err := s.store.CreateIssuance(ctx, &iss, nil); err != nil {
		var open *store.OpenIssuanceError
		if errors.As(err, &open) {
			return &Error{Status: http.StatusConflict, Code: "open_issuance",
				Message: "this person already has an open issuance", IssuanceID: open.ID}
		}
		return fmt.Errorf("store issuance: %w", err)
	}
	in := workflows.IssuanceInput{IssuanceID: iss.ID, Path: iss.Path, CPR: cpr.String(), Centre: req.Centre, DeliveryDeadline: deadline}
	if err := s.startWorkflow(c, workflows.CounterIssuanceWorkflow, in); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewIssuance(iss))
}

// startWorkflow starts the issuance's workflow; when that fails the accepted
// row is removed again, so the client may simply retry.
func (s *Server) startWorkflow(c echo.Context, name string, in workflows.IssuanceInput) error {
	ctx := c.Request().Context()
	opts := client.StartWorkflowOptions{ID: workflows.IssuanceWorkflowID(in.IssuanceID), TaskQueue: s.queue}
	_, err := s.temporal.ExecuteWorkflow(ctx, opts, name, in)
	if err == nil {
		return nil
	}
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return newError(http.StatusConflict, "already_started", "the issuance's workflow is already running")
	}
	s.log.ErrorContext(ctx, "start workflow failed; removing the issuance", "issuance_id", in.IssuanceID, "error", err.Error())
	if derr := s.store.DeleteIssuance(ctx, in.IssuanceID); derr != nil {
		s.log.ErrorContext(ctx, "remove issuance after failed start", "issuance_id", in.IssuanceID, "error", derr.Error())
	}
	return unavailable("the workflow engine")
}

// evaluateCounter checks every counter rule that can be checked at once.
func (s *Server) evaluateCounter(c echo.Context, req issuanceRequest) (domain.CPR, []Detail, error) {
	cpr, err := domain.ParseCPR(req.CPR, s.now())
	if err != nil {
		return cpr, []Detail{{Code: "cpr_invalid", Message: err.Error()}}, nil
	}
	if _, err := s.store.PersonByCPR(c.Request().Context(), cpr.String()); errors.Is(err, store.ErrNotFound) {
		return cpr, []Detail{{Code: "cpr_unknown", Message: "the CPR number is not in the CPR register"}}, nil
	} else if err != nil {
		return cpr, nil, err
	}
	return cpr, nil, nil
}

func (s *Server) getIssuance(c echo.Context) error {
	p, err := requireRole(c, RoleCaseworker, RoleEmbassy, RoleBank, RoleAdmin)
	if err != nil {
		return err
	}
	iss, err := s.store.GetIssuance(c.Request().Context(), c.Param("id"), p.storeScope())
	if errors.Is(err, store.ErrNotFound) {
		return notFoundError("issuance")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewIssuance(iss))
}

const defaultLimit, maxLimit = 50, 500

func (s *Server) listIssuances(c echo.Context) error {
	p, err := requireRole(c, RoleCaseworker, RoleEmbassy, RoleBank, RoleAdmin)
	if err != nil {
		return err
	}
	limit, after, err := pageParams(c)
	if err != nil {
		return err
	}
	f := store.ListFilter{Scope: p.storeScope(), Status: c.QueryParam("status"), Path: c.QueryParam("path"),
		Centre: c.QueryParam("centre"), Rep: c.QueryParam("representation"), BankID: c.QueryParam("bank"),
		After: after, Limit: limit}
	rows, more, err := s.store.ListIssuances(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if err := s.store.LoadEvents(c.Request().Context(), rows); err != nil {
		return err
	}
	out := listView[issuanceView]{Items: make([]issuanceView, 0, len(rows))}
	for _, r := range rows {
		out.Items = append(out.Items, viewIssuance(r))
	}
	if more {
		out.NextCursor = encodeCursor(rows[len(rows)-1].ID)
	}
	return c.JSON(http.StatusOK, out)
}

// pageParams reads limit (default 50, at most 500) and the opaque cursor.
func pageParams(c echo.Context) (int, string, error) {
	limit := defaultLimit
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxLimit {
			return 0, "", badRequest("limit must be a whole number from 1 to %d", maxLimit)
		}
		limit = n
	}
	after := ""
	if raw := c.QueryParam("cursor"); raw != "" {
		b, err := base64.RawURLEncoding.DecodeString(raw)
		if err != nil || !strings.HasPrefix(string(b), "v1:") {
			return 0, "", badRequest("cursor is not one this API issued")
		}
		after = strings.TrimPrefix(string(b), "v1:")
	}
	return limit, after, nil
}

func encodeCursor(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + lastID))
}

type cancelRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) cancelIssuance(c echo.Context) error {
	p, err := requireRole(c, RoleCaseworker, RoleAdmin)
	if err != nil {
		return err
	}
	var req cancelRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return ruleViolations([]Detail{{Code: "reason_required", Message: "give a reason for the cancellation"}})
	}
	ctx := c.Request().Context()
	iss, err := s.store.GetIssuance(ctx, c.Param("id"), p.storeScope())
	if errors.Is(err, store.ErrNotFound) {
		return notFoundError("issuance")
	}
	if err != nil {
		return err
	}
	if store.IsFinal(iss.Status) {
		return newError(http.StatusConflict, "conflict", "the issuance is already %s", iss.Status)
	}
	handle, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.IssuanceWorkflowID(iss.ID), UpdateName: workflows.UpdateCancel,
		Args:         []any{workflows.CancelRequest{Reason: req.Reason, Actor: p.Actor()}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	if err := handle.Get(ctx, nil); err != nil {
		return err
	}
	return s.respondIssuance(c, iss.ID, p)
}

func (s *Server) respondIssuance(c echo.Context, id string, p Principal) error {
	iss, err := s.store.GetIssuance(c.Request().Context(), id, p.storeScope())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewIssuance(iss))
}
