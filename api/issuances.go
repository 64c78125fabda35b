package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// issuanceRequest is the union of the three paths' bodies (DESIGN.md §4);
// documents, witness and address decode straight into the domain's types.
type issuanceRequest struct {
	Path                 string            `json:"path"`
	CPR                  string            `json:"cpr"`
	Centre               string            `json:"centre"`
	Documents            []domain.Document `json:"documents"`
	CheckQuestionsPassed bool              `json:"check_questions_passed"`
	Witness              *domain.Witness   `json:"witness"`
	Bank                 string            `json:"bank"`
	AgreementID          string            `json:"agreement_id"`
	PhotoIDShown         *bool             `json:"photo_id_shown"`
	Document             *domain.Document  `json:"document"`
	Address              *domain.Address   `json:"address"`
	Representation       string            `json:"representation"`
}

func (s *Server) createIssuance(c echo.Context) error {
	var req issuanceRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	switch req.Path {
	case "counter":
		return s.createCounterIssuance(c, req)
	case "bank":
		return s.createBankIssuance(c, req)
	case "abroad":
		return s.createAbroadIssuance(c, req)
	case "":
		return badRequest("path is required; accepted: %s", strings.Join(domain.Paths(), ", "))
	}
	return badRequest("path %q is not accepted; accepted: %s", req.Path, strings.Join(domain.Paths(), ", "))
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
	row, err := s.acceptCounter(c, p, req)
	if err != nil {
		return err
	}
	return respondIssuance(c, http.StatusCreated, row)
}

// acceptCounter checks a counter application at req.Centre and accepts it:
// the row as recorded, or the error to answer. A check-in at an
// appointment (appointments.go) applies through it too.
func (s *Server) acceptCounter(c echo.Context, p Principal, req issuanceRequest) (store.Issuance, error) {
	ctx := c.Request().Context()
	now := s.now()
	// The store's centres are the ones in force (imported ones too); the
	// workflow addresses later letters care of the one it carries.
	centre, err := s.store.GetCentre(ctx, req.Centre)
	if errors.Is(err, store.ErrNotFound) {
		return store.Issuance{}, newError(http.StatusForbidden, "forbidden", "your token's centre %s is not a centre (GET /v1/centres)", req.Centre)
	}
	if err != nil {
		return store.Issuance{}, err
	}
	app := domain.CounterApplication{CPR: req.CPR, Documents: req.Documents,
		CheckQuestionsPassed: req.CheckQuestionsPassed, Witness: req.Witness}
	facts := domain.CounterFacts{Today: now, ShortStay: s.cfg.ShortStay}
	cpr, person, err := s.applicant(ctx, req.CPR, now)
	if err != nil {
		return store.Issuance{}, err
	}
	facts.Person = person
	id := s.issuanceID(c)
	witnessCPR, witnessHash, hasWitness := s.witnessHash(req.Witness, now)
	if hasWitness {
		// The register must hold the witness, alive (witness_unknown); the
		// accept step checks again inside its transaction.
		if facts.Witness, err = s.register.Lookup(ctx, witnessCPR); err != nil {
			return store.Issuance{}, err
		}
		// A retry must not count the statement its own first attempt recorded.
		since := domain.WitnessWindowStart(now)
		if facts.WitnessStatements, err = s.store.CountWitnessStatements(ctx, witnessHash, since, id); err != nil {
			return store.Issuance{}, err
		}
	}
	outcome, violations := domain.EvaluateCounter(app, facts)
	if len(violations) > 0 {
		return store.Issuance{}, ruleViolations(details(violations))
	}
	in := s.issuanceInput(id, "counter", cpr, outcome, now)
	in.Centre = req.Centre
	issuing := centre.Centre()
	in.IssuingCentre = &issuing
	detail := "application accepted at centre " + req.Centre + ": " + outcome.Reason
	if outcome.Note != "" {
		// A photo ID set aside is noted on the received event, not refused.
		detail += " " + outcome.Note
	}
	acc := s.acceptance(p, cpr, outcome, now, detail)
	acc.Centre = &req.Centre
	if outcome.WitnessStatement {
		acc.Witness = &workflows.WitnessStatement{WitnessCPRHash: witnessHash,
			Since: domain.WitnessWindowStart(now), Limit: domain.WitnessStatementLimit}
	}
	return s.accepted(c, workflows.CounterIssuanceWorkflow, in, acc)
}

const maxAgreementIDLen = 100

// createBankIssuance accepts a bank's application for a customer with an
// online banking agreement: always two letters to the registered address,
// with public digital signature only when the bank saw photo ID.
func (s *Server) createBankIssuance(c echo.Context, req issuanceRequest) error {
	p, err := requireRole(c, RoleBank)
	if err != nil {
		return err
	}
	if req.Bank == "" {
		req.Bank = p.Scope
	}
	if req.Bank != p.Scope {
		return newError(http.StatusForbidden, "forbidden", "your token is for bank %s, not %s", p.Scope, req.Bank)
	}
	if strings.TrimSpace(req.AgreementID) == "" || len(req.AgreementID) > maxAgreementIDLen {
		return badRequest("agreement_id is required, at most %d characters: the customer's online banking agreement", maxAgreementIDLen)
	}
	if req.PhotoIDShown == nil {
		return badRequest("photo_id_shown is required: true when the bank checked the customer's photo ID")
	}
	ctx := c.Request().Context()
	now := s.now()
	facts := domain.BankFacts{Today: now}
	cpr, person, err := s.applicant(ctx, req.CPR, now)
	if err != nil {
		return err
	}
	facts.Person = person
	outcome, violations := domain.EvaluateBank(domain.BankApplication{CPR: req.CPR, PhotoIDShown: *req.PhotoIDShown}, facts)
	if len(violations) > 0 {
		return ruleViolations(details(violations))
	}
	id := s.issuanceID(c)
	detail := fmt.Sprintf("application from bank %s under agreement %s: %s", req.Bank, req.AgreementID, outcome.Reason)
	acc := s.acceptance(p, cpr, outcome, now, detail)
	acc.Bank = &req.Bank
	return s.acceptIssuance(c, workflows.BankIssuanceWorkflow, s.issuanceInput(id, "bank", cpr, outcome, now), acc)
}

// applicant parses the CPR number and finds the person in the register. A
// malformed number is no error here: the domain's evaluation reports it
// as cpr_invalid together with every other broken rule.
func (s *Server) applicant(ctx context.Context, raw string, now time.Time) (domain.CPR, *domain.Person, error) {
	cpr, err := domain.ParseCPR(raw, now)
	if err != nil {
		return cpr, nil, nil
	}
	person, err := s.register.Lookup(ctx, cpr)
	return cpr, person, err
}

// issuanceInput is what every path's workflow starts with; the path's own
// fields and the acceptance are added by its handler.
func (s *Server) issuanceInput(id, path string, cpr domain.CPR, outcome domain.Outcome, now time.Time) workflows.IssuanceInput {
	return workflows.IssuanceInput{IssuanceID: id, Path: path, CPR: cpr.String(),
		Delivery: string(outcome.Delivery), DeliveryDeadline: now.Add(s.cfg.DeliveryWindow),
		ActivationWindow: s.cfg.ActivationWindow, ReminderBefore: s.cfg.ReminderBefore}
}

// witnessHash is a witness's CPR and its lookup hash, when one parses.
func (s *Server) witnessHash(w *domain.Witness, now time.Time) (domain.CPR, string, bool) {
	if w == nil {
		return domain.CPR{}, "", false
	}
	c, err := domain.ParseCPR(w.CPR, now)
	if err != nil {
		return domain.CPR{}, "", false
	}
	return c, domain.CPRLookupHash(s.hashKey, c), true
}

// acceptance is the row an eligible application becomes, as its
// workflow's accept step records it; the path's own fields are added by
// its handler. A staff principal's token id makes the accept step audit
// the creation; an anonymous order has none.
func (s *Server) acceptance(p Principal, cpr domain.CPR, outcome domain.Outcome, now time.Time, detail string) workflows.Acceptance {
	return workflows.Acceptance{CPRHash: domain.CPRLookupHash(s.hashKey, cpr), CPRMasked: cpr.Masked(),
		PublicSignature: outcome.PublicSignature, At: now, Actor: p.Actor(), ActorName: p.Name, ActorTokenID: p.TokenID, Detail: detail}
}

func details(vs []domain.Violation) []Detail {
	out := make([]Detail, len(vs))
	for i, v := range vs {
		out[i] = Detail{Code: v.Code, Message: v.Message}
	}
	return out
}

func (s *Server) getIssuance(c echo.Context) error {
	p, err := requireRole(c, RoleCaseworker, RoleEmbassy, RoleBank, RoleAdmin)
	if err != nil {
		return err
	}
	iss, err := s.issuanceIn(c, p.readScope())
	if err != nil {
		return err
	}
	return respondIssuance(c, http.StatusOK, iss)
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
	if err := oneOf("status", c.QueryParam("status"), workflows.Statuses()); err != nil {
		return err
	}
	if err := oneOf("path", c.QueryParam("path"), domain.Paths()); err != nil {
		return err
	}
	f := store.ListFilter{Scope: p.readScope(), Status: c.QueryParam("status"), Path: c.QueryParam("path"),
		Centre: c.QueryParam("centre"), Rep: c.QueryParam("representation"), BankID: c.QueryParam("bank"),
		After: after, Limit: limit}
	rows, more, err := s.store.ListIssuances(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return s.respondIssuancePage(c, rows, more)
}

// respondIssuancePage answers a page of issuances, each with its timeline,
// in the contract's list shape.
func (s *Server) respondIssuancePage(c echo.Context, rows []store.Issuance, more bool) error {
	if err := s.store.LoadEvents(c.Request().Context(), rows); err != nil {
		return err
	}
	out := listView[issuanceView]{Items: make([]issuanceView, 0, len(rows))}
	for _, r := range rows {
		v, err := viewIssuance(r)
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

// oneOf refuses a filter value that can never match, so a typo is a 400
// rather than an empty list.
func oneOf(name, value string, allowed []string) error {
	if value == "" {
		return nil
	}
	for _, a := range allowed {
		if a == value {
			return nil
		}
	}
	return badRequest("%s must be one of %s", name, strings.Join(allowed, ", "))
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
	after, err := decodeCursor(c.QueryParam("cursor"))
	if err != nil {
		return 0, "", err
	}
	return limit, after, nil
}

// decodeCursor reads an opaque cursor this API issued; empty is the first page.
func decodeCursor(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || !strings.HasPrefix(string(b), "v1:") {
		return "", badRequest("cursor is not one this API issued")
	}
	return strings.TrimPrefix(string(b), "v1:"), nil
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
	iss, err := s.scopedIssuance(c, p)
	if err != nil {
		return err
	}
	if workflows.IsFinal(iss.Status) {
		return newError(http.StatusConflict, "conflict", "the issuance is already %s", iss.Status)
	}
	handle, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.IssuanceWorkflowID(iss.ID), UpdateName: workflows.UpdateCancel,
		Args:         []any{workflows.CancelRequest{Reason: req.Reason, Actor: p.Actor(), ActorName: p.Name, ActorTokenID: p.TokenID}},
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

// scopedIssuance loads the issuance named in the path for an action, within
// the caller's action scope: another centre's, representation's or bank's
// answers 404.
func (s *Server) scopedIssuance(c echo.Context, p Principal) (store.Issuance, error) {
	return s.issuanceIn(c, p.storeScope())
}

// issuanceIn loads the issuance named in the path within scope; outside it
// answers 404, so its existence is not revealed.
func (s *Server) issuanceIn(c echo.Context, scope store.Scope) (store.Issuance, error) {
	iss, err := s.store.GetIssuance(c.Request().Context(), c.Param("id"), scope)
	if errors.Is(err, store.ErrNotFound) {
		return iss, notFoundError("issuance")
	}
	return iss, err
}

func (s *Server) respondIssuance(c echo.Context, id string, p Principal) error {
	iss, err := s.store.GetIssuance(c.Request().Context(), id, p.readScope())
	if err != nil {
		return err
	}
	return respondIssuance(c, http.StatusOK, iss)
}

// liveState answers the workflow's own view (the state Query): the status
// and deadline it is waiting on right now, ahead of the read model.
func (s *Server) liveState(c echo.Context) error {
	p, err := requireRole(c, RoleCaseworker, RoleEmbassy, RoleBank, RoleAdmin)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	iss, err := s.issuanceIn(c, p.readScope())
	if err != nil {
		return err
	}
	res, err := s.temporal.QueryWorkflow(ctx, workflows.IssuanceWorkflowID(iss.ID), "", workflows.QueryState)
	if err != nil {
		return err
	}
	var state workflows.State
	if err := res.Get(&state); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": iss.ID, "status": state.Status, "deadline": stampPtr(state.Deadline)})
}
