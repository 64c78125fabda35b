package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/workflows"
)

// Limits that keep an order's address inside the letter's window envelope.
const maxAddressLines, maxAddressField = 4, 100

// createAbroadIssuance accepts an online order from a person living abroad.
// Anyone may order (the person proves identity with the document and later
// at the representation), so anonymous orders are rate limited per client
// address, and every order per CPR number (limitOrdersFor). An anonymous
// order is no register oracle: until its document matches the register, it
// hears only abroad_document_mismatch besides what the request itself
// breaks (domain.AbroadFacts.Anonymous). Only a keyed MAC of the document
// number is kept, for comparing it at the pickup.
func (s *Server) createAbroadIssuance(c echo.Context, req issuanceRequest) error {
	p, signedIn := principalOf(c)
	if !signedIn {
		if err := s.limitOrderAddress(c); err != nil {
			return err
		}
		p = Principal{Role: "citizen", Scope: "online"}
	}
	if err := checkOrderShape(req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	now := s.now()
	// Counted before the register is read, the same way for a CPR number
	// the register knows and one it does not.
	if cpr, err := domain.ParseCPR(req.CPR, now); err == nil {
		if err := s.limitOrdersFor(ctx, cpr); err != nil {
			return err
		}
	}
	cpr, person, err := s.applicant(ctx, req.CPR, now)
	if err != nil {
		return err
	}
	facts := domain.AbroadFacts{Person: person, Today: now, Representations: domain.BuiltinRepresentations(), Anonymous: !signedIn}
	app := domain.AbroadApplication{CPR: req.CPR, Document: *req.Document, Address: *req.Address, Representation: req.Representation}
	outcome, violations := domain.EvaluateAbroad(app, facts)
	if len(violations) > 0 {
		return ruleViolations(details(violations))
	}
	rep := outcome.Representation.Code
	documentHash := domain.DocumentNumberHash(s.hashKeys, req.Document.Number)
	acc := s.acceptance(p, cpr, outcome, now, "ordered online from abroad: "+outcome.Reason)
	acc.Representation, acc.DocumentHash = &rep, &documentHash
	a := req.Address
	in := s.issuanceInput(s.issuanceID(c), "abroad", cpr, outcome, now)
	in.Representation, in.PickupWindow = rep, s.cfg.PickupWindow
	in.OrderAddress = &workflows.Recipient{Lines: a.Lines, Postcode: a.Postcode, City: a.City, Country: strings.ToUpper(a.Country)}
	return s.acceptIssuance(c, workflows.AbroadIssuanceWorkflow, in, acc)
}

// checkOrderShape refuses an order that lacks what every rule needs, or
// whose address would not fit the envelope's window: a 400, not a rule.
func checkOrderShape(req issuanceRequest) error {
	switch {
	case req.Document == nil:
		return badRequest("document is required: the Danish passport or driving licence the order is made with")
	case req.Address == nil:
		return badRequest("address is required: where the code card is sent")
	case strings.TrimSpace(req.Representation) == "":
		return badRequest("representation is required: where the temporary password is collected")
	}
	a := req.Address
	if len(a.Lines) == 0 || len(a.Lines) > maxAddressLines || strings.TrimSpace(a.City) == "" {
		return badRequest("address needs 1 to %d lines and a city", maxAddressLines)
	}
	for _, f := range append([]string{a.Postcode, a.City, a.Country}, a.Lines...) {
		if len(f) > maxAddressField || strings.ContainsAny(f, "\r\n") {
			return badRequest("address fields are single lines of at most %d characters", maxAddressField)
		}
	}
	return nil
}

type pickupRequest struct {
	DocumentNumber string `json:"document_number"`
	FeePaidDKK     *int   `json:"fee_paid_dkk"`
	Receipt        string `json:"receipt"`
}

const maxReceiptLen = 100

// pickup confirms, for the representation holding the sealed letter, that
// the person showed the order's document and paid the fee. The checks are
// the API's (the document number never reaches the workflow); the Update
// records the pickup and the fee once and opens the activation window.
func (s *Server) pickup(c echo.Context) error {
	p, err := requireRole(c, RoleEmbassy)
	if err != nil {
		return err
	}
	var req pickupRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	if req.FeePaidDKK == nil || *req.FeePaidDKK < 0 {
		return badRequest("fee_paid_dkk is required: the whole kroner paid, zero or more")
	}
	if strings.TrimSpace(req.Receipt) == "" || len(req.Receipt) > maxReceiptLen {
		return badRequest("receipt is required, at most %d characters: the receipt number of the fee", maxReceiptLen)
	}
	ctx := c.Request().Context()
	iss, err := s.scopedIssuance(c, p)
	if err != nil {
		return err
	}
	if iss.Status == workflows.StatusActive && iss.Path == domain.PathAbroad {
		return s.resetPickup(c, p, iss, domain.Pickup{DocumentNumber: req.DocumentNumber, FeePaidDKK: *req.FeePaidDKK, Receipt: req.Receipt})
	}
	if iss.Status != workflows.StatusAwaitingPickup {
		return newError(http.StatusConflict, "conflict", "the issuance is %s, not awaiting a pickup", iss.Status)
	}
	documentHash := ""
	if iss.DocumentHash != nil {
		documentHash = *iss.DocumentHash
	}
	shown := domain.Pickup{DocumentNumber: req.DocumentNumber, FeePaidDKK: *req.FeePaidDKK, Receipt: req.Receipt}
	if vs := domain.PickupViolations(shown, s.hashKeys, documentHash, s.cfg.AbroadFeeDKK); len(vs) > 0 {
		return ruleViolations(details(vs))
	}
	handle, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.IssuanceWorkflowID(iss.ID), UpdateName: workflows.UpdatePickup,
		Args:         []any{workflows.PickupRequest{Actor: p.Actor(), ActorName: p.Name, ActorTokenID: p.TokenID, FeePaidDKK: *req.FeePaidDKK, Receipt: strings.TrimSpace(req.Receipt)}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	if err := handle.Get(ctx, nil); err != nil {
		return fmt.Errorf("pickup of %s: %w", iss.ID, err)
	}
	return s.respondIssuance(c, iss.ID, p)
}
