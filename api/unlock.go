package api

import (
	"errors"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/store"
)

type unlockView struct {
	UserID         string `json:"user_id"`
	Status         string `json:"status"`
	Locked         bool   `json:"locked"`
	FailedAttempts int    `json:"failed_attempts"`
	WasLocked      bool   `json:"was_locked"`
}

// unlock clears a credential's lock and failure count after a caseworker
// (or admin) checked the person's ID, and records it on the issuance's
// timeline as `unlocked`. Like every staff action it stays within scope: a
// caseworker unlocks credentials issued at their own centre, and another
// centre's answers 404 without revealing that it exists.
func (c *citizenAPI) unlock(ec echo.Context) error {
	p, err := requireRole(ec, RoleCaseworker, RoleAdmin)
	if err != nil {
		return err
	}
	ctx := ec.Request().Context()
	cred, err := c.store.CredentialByUserID(ctx, ec.Param("user_id"))
	if errors.Is(err, store.ErrNotFound) {
		return notFoundError("credential")
	}
	if err != nil {
		return err
	}
	if _, err := c.store.GetIssuance(ctx, cred.IssuanceID, p.storeScope()); errors.Is(err, store.ErrNotFound) {
		return notFoundError("credential")
	} else if err != nil {
		return err
	}
	now := c.now()
	ev := store.Event{DedupeKey: "unlocked:" + uuid.NewString(), At: now, Type: "unlocked", Actor: p.Actor(), ActorName: p.ActorName(),
		Detail: "credential unlocked after an identity check"}
	wasLocked, err := c.store.Unlock(ctx, cred.ID, ev, p.audit(store.AuditCredentialUnlocked, store.CredentialTarget(cred.UserID)))
	if err != nil {
		return err
	}
	return ec.JSON(http.StatusOK, unlockView{UserID: cred.UserID, Status: cred.Status, WasLocked: wasLocked})
}
