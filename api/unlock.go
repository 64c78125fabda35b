package api

import (
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
)

type unlockRequest struct {
	CPR      string           `json:"cpr"`
	Document *domain.Document `json:"document"`
}

type unlockView struct {
	UserID         string `json:"user_id"`
	Status         string `json:"status"`
	Locked         bool   `json:"locked"`
	FailedAttempts int    `json:"failed_attempts"`
	WasLocked      bool   `json:"was_locked"`
}

// unlock clears a credential's lock and failure count after a caseworker
// of any centre (people walk into any centre) or an admin checked the
// person's photo ID and CPR number (DESIGN.md §4: 422 person_mismatch when
// the CPR is not the holder's, also when it is missing). It is recorded on
// the issuance's timeline as `unlocked` and in the audit log; a block
// stays (only unblock lifts it).
func (c *citizenAPI) unlock(ec echo.Context) error {
	p, cred, err := c.staffCredential(ec)
	if err != nil {
		return err
	}
	var req unlockRequest
	if err := decodeStrict(ec, &req); err != nil {
		return err
	}
	now := c.now()
	if err := c.identityChecked(req.CPR, req.Document, cred, now); err != nil {
		return err
	}
	ev := store.Event{DedupeKey: "unlocked:" + uuid.NewString(), At: now, Type: "unlocked", Actor: p.Actor(), ActorName: p.ActorName(),
		Detail: "credential unlocked after an identity check (" + string(req.Document.Type) + ")"}
	audit := p.audit(store.AuditCredentialUnlocked, store.CredentialTarget(cred.UserID))
	ctx := ec.Request().Context()
	wasLocked, err := c.store.Unlock(ctx, cred.ID, ev, audit)
	if err != nil {
		return err
	}
	// The answer's status is the credential's state now, as
	// credential_status shows it: a block outlives the unlock.
	if cred, err = c.store.CredentialByID(ctx, cred.ID); err != nil {
		return fmt.Errorf("read the unlocked credential: %w", err)
	}
	return ec.JSON(http.StatusOK, unlockView{UserID: cred.UserID, Status: cred.State(), WasLocked: wasLocked})
}
