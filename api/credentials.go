package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
)

// credentialRoutes registers the credential's later life (DESIGN.md §6):
// the person's own block and password change (session), and support's
// finding, blocking, unblocking and unlocking of a NemID (caseworkers of
// any centre, since people walk into any centre, and admins).
func (s *Server) credentialRoutes(e *echo.Echo) {
	c := &citizenAPI{Server: s, loginFloor: &answerFloor{}, activationFloor: &answerFloor{}}
	e.POST("/v1/me/block", c.blockMe, c.limitAddress, s.idempotent)
	e.POST("/v1/me/password", c.changePassword, c.limitAddress, s.idempotent)

	staff := e.Group("/v1/credentials", s.authenticate, s.idempotent)
	staff.POST("/search", c.searchCredential)
	staff.GET("/:user_id", c.getCredential)
	staff.POST("/:user_id/block", c.blockCredential)
	staff.POST("/:user_id/unblock", c.unblockCredential)
	staff.POST("/:user_id/unlock", c.unlock)
}

type credentialCardView struct {
	CardNumber string `json:"card_number"`
	Status     string `json:"status"`
	Unspent    int    `json:"unspent"`
}

// credentialView is what support sees of a NemID: never a secret, never
// the CPR.
type credentialView struct {
	UserID     string               `json:"user_id"`
	IssuanceID string               `json:"issuance_id"`
	Status     string               `json:"status"`
	Cards      []credentialCardView `json:"cards"`
}

func (c *citizenAPI) viewCredential(ctx context.Context, cred store.Credential) (credentialView, error) {
	cards, err := c.store.CardUsageOf(ctx, cred.ID)
	if err != nil {
		return credentialView{}, err
	}
	v := credentialView{UserID: cred.UserID, IssuanceID: cred.IssuanceID, Status: cred.State(),
		Cards: make([]credentialCardView, 0, len(cards))}
	for _, card := range cards {
		v.Cards = append(v.Cards, credentialCardView{CardNumber: card.CardNumber, Status: card.State(), Unspent: card.Unspent})
	}
	return v, nil
}

// respondCredential answers a credential as it is now, read after the
// write that came before: the 2xx shows the write's effect.
func (c *citizenAPI) respondCredential(ec echo.Context, credentialID string) error {
	ctx := ec.Request().Context()
	cred, err := c.store.CredentialByID(ctx, credentialID)
	if err != nil {
		return err
	}
	v, err := c.viewCredential(ctx, cred)
	if err != nil {
		return err
	}
	return ec.JSON(http.StatusOK, v)
}

// staffCredential loads the credential of the path's user_id for a
// caseworker or an admin; 404 when there is none.
func (c *citizenAPI) staffCredential(ec echo.Context) (Principal, store.Credential, error) {
	p, err := requireRole(ec, RoleCaseworker, RoleAdmin)
	if err != nil {
		return p, store.Credential{}, err
	}
	cred, err := c.store.CredentialByUserID(ec.Request().Context(), ec.Param("user_id"))
	if errors.Is(err, store.ErrNotFound) {
		return p, cred, notFoundError("credential")
	}
	return p, cred, err
}

func (c *citizenAPI) getCredential(ec echo.Context) error {
	p, cred, err := c.staffCredential(ec)
	if err != nil {
		return err
	}
	return c.respondLookedUp(ec, p, cred)
}

// respondLookedUp answers a credential support looked up, after the
// lookup is in the audit log (DESIGN.md §6: both lookups are audited).
func (c *citizenAPI) respondLookedUp(ec echo.Context, p Principal, cred store.Credential) error {
	e := p.audit(store.AuditCredentialLookedUp, store.CredentialTarget(cred.UserID))
	if err := c.store.Audited(ec.Request().Context(), e, nil); err != nil {
		return fmt.Errorf("audit the lookup of credential %s: %w", cred.ID, err)
	}
	return c.respondCredential(ec, cred.ID)
}

type credentialSearch struct {
	CPR string `json:"cpr"`
}

// searchCredential finds a person's current NemID by CPR (in the body: a
// CPR never travels in a URL), through the keyed lookup hash.
func (c *citizenAPI) searchCredential(ec echo.Context) error {
	p, err := requireRole(ec, RoleCaseworker, RoleAdmin)
	if err != nil {
		return err
	}
	var req credentialSearch
	if err := decodeStrict(ec, &req); err != nil {
		return err
	}
	if err := requireFields([2]string{"cpr", req.CPR}); err != nil {
		return err
	}
	cpr, err := domain.ParseCPR(req.CPR, c.now())
	if err != nil {
		return ruleViolations([]Detail{{Code: domain.CodeCPRInvalid, Message: "the CPR number is invalid: " + err.Error()}})
	}
	cred, err := c.store.CurrentCredentialOf(ec.Request().Context(), domain.CPRLookupHash(c.hashKey, cpr))
	if errors.Is(err, store.ErrNotFound) {
		return notFoundError("credential")
	}
	if err != nil {
		return err
	}
	return c.respondLookedUp(ec, p, cred)
}

type blockRequest struct {
	Reason string `json:"reason"`
}

// blockCredential: support blocks a NemID (any caseworker, or an admin).
func (c *citizenAPI) blockCredential(ec echo.Context) error {
	p, cred, err := c.staffCredential(ec)
	if err != nil {
		return err
	}
	var req blockRequest
	if err := decodeStrict(ec, &req); err != nil {
		return err
	}
	if err := requireFields([2]string{"reason", req.Reason}); err != nil {
		return err
	}
	ev := store.Event{DedupeKey: "blocked:" + uuid.NewString(), At: c.now(), Type: "blocked", Actor: p.Actor(), ActorName: p.ActorName(),
		Detail: "blocked by support: " + req.Reason}
	if err := c.block(ec.Request().Context(), cred, ev, p.audit(store.AuditCredentialBlocked, store.CredentialTarget(cred.UserID))); err != nil {
		return err
	}
	return c.respondCredential(ec, cred.ID)
}

// blockMe: the person blocks their own NemID from a session (which ends
// with every other one). The body is empty or {}.
func (c *citizenAPI) blockMe(ec echo.Context) error {
	_, cred, err := c.session(ec)
	if err != nil {
		return err
	}
	if err := decodeOptionalEmpty(ec); err != nil {
		return err
	}
	ev := store.Event{DedupeKey: "blocked:" + uuid.NewString(), At: c.now(), Type: "blocked", Actor: "citizen",
		Detail: "blocked by the person"}
	audit := store.AuditEntry{Actor: "citizen", Action: store.AuditCredentialBlocked, Target: store.CredentialTarget(cred.UserID)}
	if err := c.block(ec.Request().Context(), cred, ev, audit); err != nil {
		return err
	}
	noStore(ec)
	return ec.JSON(http.StatusOK, map[string]string{"user_id": cred.UserID, "status": store.StateBlocked})
}

// block records a block before answering (read your writes); the write
// completes even if the client hangs up.
func (c *citizenAPI) block(ctx context.Context, cred store.Credential, ev store.Event, audit store.AuditEntry) error {
	_, err := c.store.Block(context.WithoutCancel(ctx), cred.ID, ev, audit)
	if errors.Is(err, store.ErrCredentialRevoked) {
		return newError(http.StatusConflict, "conflict", "the NemID is revoked")
	}
	if err != nil {
		return fmt.Errorf("block credential %s: %w", cred.ID, err)
	}
	return nil
}

type unblockRequest struct {
	Document *domain.Document `json:"document"`
	CPR      string           `json:"cpr"`
}

// unblockCredential lifts a block (and a lock, and the failure count) after
// a caseworker of any centre or an admin checked the person's photo ID; the
// CPR the person gives must be the credential's (422 person_mismatch, also
// when missing). Only the document's type is recorded, never its number.
func (c *citizenAPI) unblockCredential(ec echo.Context) error {
	p, cred, err := c.staffCredential(ec)
	if err != nil {
		return err
	}
	var req unblockRequest
	if err := decodeStrict(ec, &req); err != nil {
		return err
	}
	now := c.now()
	if err := c.identityChecked(req.CPR, req.Document, cred, now); err != nil {
		return err
	}
	ev := store.Event{DedupeKey: "unblocked:" + uuid.NewString(), At: now, Type: "unblocked", Actor: p.Actor(), ActorName: p.ActorName(),
		Detail: "unblocked after an identity check (" + string(req.Document.Type) + ")"}
	audit := p.audit(store.AuditCredentialUnblocked, store.CredentialTarget(cred.UserID))
	_, err = c.store.Unblock(context.WithoutCancel(ec.Request().Context()), cred.ID, ev, audit)
	if errors.Is(err, store.ErrCredentialRevoked) {
		return newError(http.StatusConflict, "conflict", "the NemID is revoked")
	}
	if err != nil {
		return fmt.Errorf("unblock credential %s: %w", cred.ID, err)
	}
	return c.respondCredential(ec, cred.ID)
}

// session is the bearer session's token hash and credential, or a 401.
func (c *citizenAPI) session(ec echo.Context) (string, store.Credential, error) {
	token, err := sessionToken(ec)
	if err != nil {
		return "", store.Credential{}, err
	}
	hash := store.HashToken(token)
	_, cred, err := c.store.SessionCredential(ec.Request().Context(), hash, c.now())
	if errors.Is(err, store.ErrNotFound) {
		return "", cred, sessionEnded()
	}
	if err != nil {
		return "", cred, err
	}
	return hash, cred, nil
}

type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword replaces the password of a logged-on person. The policy
// is checked first (a 422 says nothing about the current password and
// counts nothing); the current password is then checked through the
// attempt machinery like a logon's, so a wrong one is a failed attempt and
// the third locks. The new hash, the end of every other session and the
// timeline event are one write; the asking session stays.
func (c *citizenAPI) changePassword(ec echo.Context) error {
	keep, cred, err := c.session(ec)
	if err != nil {
		return err
	}
	var req passwordChange
	if err := decodeStrict(ec, &req); err != nil {
		return err
	}
	if err := requireFields([2]string{"current_password", req.CurrentPassword}, [2]string{"new_password", req.NewPassword}); err != nil {
		return err
	}
	ctx := ec.Request().Context()
	if err := c.limitUser(ctx, cred.UserID); err != nil {
		return err
	}
	if err := refusal(cred); err != nil {
		return err
	}
	if cred.PasswordHash == nil || cred.Status != store.CredentialActive {
		return sessionEnded()
	}
	if err := c.checkPasswordPolicy(ctx, cred, req.NewPassword); err != nil {
		return err
	}
	newHash, err := domain.HashPassword(c.hashKeys, req.NewPassword)
	if err != nil {
		return fmt.Errorf("hash the new password: %w", err)
	}
	attemptID, err := c.beginAttempt(ctx, cred)
	if err != nil {
		return err
	}
	ok, _, err := domain.VerifyPassword(c.hashKeys, *cred.PasswordHash, req.CurrentPassword)
	if err != nil {
		c.releaseAttempt(ctx, attemptID)
		return fmt.Errorf("verify password of credential %s: %w", cred.ID, err)
	}
	if !ok {
		return c.failAttempt(ctx, attemptID, cred, newError(http.StatusUnauthorized, "invalid_credentials", "the current password is wrong"))
	}
	err = c.store.ChangePassword(context.WithoutCancel(ctx), store.PasswordChange{CredentialID: cred.ID, AttemptID: attemptID,
		Verified: *cred.PasswordHash, NewHash: newHash, KeepSession: keep,
		Event: store.Event{DedupeKey: "password_changed:" + uuid.NewString(), At: c.now(), Type: "password_changed", Actor: "citizen",
			Detail: "password changed by the person; other sessions ended"}})
	if err != nil { // nothing was written: the attempt is given back uncounted
		c.releaseAttempt(ctx, attemptID)
	}
	switch {
	case errors.Is(err, store.ErrBlocked):
		return blockedError()
	case errors.Is(err, store.ErrLocked):
		return locked()
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrNotActive):
		return sessionEnded()
	case errors.Is(err, store.ErrPasswordChanged):
		return newError(http.StatusConflict, "conflict", "the password was changed meanwhile; log on again")
	case err != nil:
		return fmt.Errorf("change password: %w", err)
	}
	noStore(ec)
	return ec.JSON(http.StatusOK, map[string]string{"user_id": cred.UserID, "status": "password_changed"})
}

// identityChecked is the counter's identity check before a lock or block is
// lifted (DESIGN.md §4, §6): a valid photo ID, and the CPR number the
// person gives must be the NemID holder's (422 person_mismatch, also when
// it is missing), every broken rule in one 422.
func (c *citizenAPI) identityChecked(cpr string, doc *domain.Document, cred store.Credential, now time.Time) error {
	if doc == nil {
		return badRequest("document is required: the photo ID the person shows")
	}
	broken := append(c.personMismatch(cpr, cred.CPRHash, now), domain.PhotoIDViolations(*doc, now)...)
	if len(broken) > 0 {
		return ruleViolations(details(broken))
	}
	return nil
}
