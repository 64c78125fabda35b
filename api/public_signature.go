package api

import (
	"crypto/hmac"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

type publicSignatureRequest struct {
	CPR      string           `json:"cpr"`
	Document *domain.Document `json:"document"`
}

// upgradePublicSignature: a NemID a bank issued without seeing photo ID
// cannot sign as a public digital signature until the person shows photo ID
// at a Citizen Service centre — any centre, so a caseworker reaches every
// bank-issued NemID here, while other centres' counter issuances stay 404.
// The upgrade is tied to the person: the body carries the CPR number the
// caseworker read from the person's ID, and it must be the issuance's
// (person_mismatch otherwise, also when it is missing). Broken rules (422)
// are reported before a state that forbids the upgrade (409). Only the
// check's outcome and the document's type are recorded, never its number
// or the CPR.
func (s *Server) upgradePublicSignature(c echo.Context) error {
	p, err := requireRole(c, RoleCaseworker)
	if err != nil {
		return err
	}
	var req publicSignatureRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	if req.Document == nil {
		return badRequest("document is required: the photo ID the person shows")
	}
	ctx := c.Request().Context()
	iss, err := s.store.GetIssuance(ctx, c.Param("id"), store.Scope{})
	if errors.Is(err, store.ErrNotFound) || (err == nil && iss.Path != domain.PathBank && !sameCentre(iss, p.Scope)) {
		return notFoundError("issuance")
	}
	if err != nil {
		return err
	}
	now := s.now()
	vs := s.personMismatch(req.CPR, iss.CPRHash, now)
	vs = append(vs, domain.PhotoIDViolations(*req.Document, now)...)
	if len(vs) > 0 {
		return ruleViolations(details(vs))
	}
	if err := upgradable(iss); err != nil {
		return err
	}
	ev := store.Event{DedupeKey: "public_signature_upgraded", At: now, Type: "public_signature_upgraded", Actor: p.Actor(), ActorName: p.ActorName(),
		Detail: "photo ID (" + string(req.Document.Type) + ") checked at centre " + p.Scope + ": usable as a public digital signature"}
	if err := s.store.UpgradePublicSignature(ctx, iss.ID, ev, p.audit(store.AuditPublicSignatureUpgraded, store.IssuanceTarget(iss.ID))); errors.Is(err, store.ErrNotUpgradable) {
		return newError(http.StatusConflict, "conflict", "the issuance changed meanwhile and can no longer be upgraded")
	} else if err != nil {
		return err
	}
	upgraded, err := s.store.GetIssuance(ctx, iss.ID, store.Scope{})
	if err != nil {
		return err
	}
	return respondIssuance(c, http.StatusOK, upgraded)
}

func sameCentre(iss store.Issuance, centre string) bool {
	return iss.Centre != nil && *iss.Centre == centre
}

// upgradable says why an issuance cannot gain public digital signature:
// only a bank-issued NemID without it, still pending or active, can.
func upgradable(iss store.Issuance) error {
	switch {
	case iss.Path != domain.PathBank:
		return newError(http.StatusConflict, "conflict", "only a NemID issued by a bank is upgraded; this one was issued on the %s path", iss.Path)
	case iss.PublicSignature != nil && *iss.PublicSignature:
		return newError(http.StatusConflict, "conflict", "this NemID is already usable as a public digital signature")
	case workflows.EndedUnused(iss.Status):
		return newError(http.StatusConflict, "conflict", "the issuance is %s", iss.Status)
	}
	return nil
}

// personMismatch checks that raw is the CPR number whose lookup hash an
// issuance or credential carries: a missing, malformed or other number is
// person_mismatch. The message never repeats the number.
func (s *Server) personMismatch(raw, cprHash string, now time.Time) []domain.Violation {
	mismatch := []domain.Violation{{Code: domain.CodePersonMismatch,
		Message: "The CPR number given is not that of the person this NemID was issued to; give the CPR number of the person present."}}
	if strings.TrimSpace(raw) == "" {
		mismatch[0].Message = "The CPR number of the person present is required, to tie the check to this NemID."
		return mismatch
	}
	cpr, err := domain.ParseCPR(raw, now)
	if err != nil || !hmac.Equal([]byte(domain.CPRLookupHash(s.hashKey, cpr)), []byte(cprHash)) {
		return mismatch
	}
	return nil
}
