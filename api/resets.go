package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

type resetStart struct {
	UserID string `json:"user_id"`
}

type resetAnswer struct {
	Code string `json:"code"`
}

type resetView struct {
	ResetID   string    `json:"reset_id"`
	Status    string    `json:"status"`
	ExpiresAt time.Time `json:"expires_at"`
}

// startReset starts a forgotten-password reset (POST /v1/password-resets
// {user_id}): 201 {reset_id, card_number, key}, the code beside that key
// proving the card. Until the reset challenge is answered every start
// shows the same card and key. An unknown NemID number (or one with
// nothing to reset) gets a decoy of the same shape, the same key for the
// same number, whose every answer is 401; every 201 is held to one floor,
// so neither shape nor time tells whether the number exists.
func (c *citizenAPI) startReset(ec echo.Context) error {
	began := time.Now()
	var req resetStart
	if err := decodeStrict(ec, &req); err != nil {
		return err
	}
	if err := requireFields([2]string{"user_id", req.UserID}); err != nil {
		return err
	}
	ctx := ec.Request().Context()
	if err := c.limitUser(ctx, req.UserID); err != nil {
		return err
	}
	view, err := c.resetChallenge(ctx, req.UserID)
	if err != nil {
		return err
	}
	c.resetFloor.hold(began)
	noStore(ec)
	return ec.JSON(http.StatusCreated, view)
}

// resetChallenge opens (or shows again) the reset challenge of a NemID
// number, or makes its decoy.
func (c *citizenAPI) resetChallenge(ctx context.Context, userID string) (map[string]string, error) {
	cred, err := c.credentialForStart(ctx, userID)
	var wrong *Error
	if errors.As(err, &wrong) {
		return c.decoyReset(ctx, userID)
	}
	if err != nil {
		return nil, err
	}
	decoy, err := c.resetRefusal(ctx, cred)
	if err != nil {
		return nil, err
	}
	if decoy {
		return c.decoyReset(ctx, userID)
	}
	now := c.now()
	ch := store.Challenge{ID: uuid.NewString(), Kind: store.ChallengeReset, CredentialID: cred.ID, CreatedAt: now, ExpiresAt: now.Add(c.challengeTTL())}
	ch, _, err = c.store.OpenChallenge(ctx, ch, "", randomIndex)
	switch {
	case errors.Is(err, store.ErrLocked):
		return nil, locked()
	case errors.Is(err, store.ErrNoCard):
		return nil, noCard()
	case errors.Is(err, store.ErrNoCodesLeft):
		return nil, newError(http.StatusConflict, "no_codes_left", "every code on your cards is used; call support for a new card")
	case err != nil:
		return nil, fmt.Errorf("open reset challenge: %w", err)
	}
	return challengeView("reset_id", ch), nil
}

// resetRefusal decides, before any key is shown or any code checked,
// whether a NemID may be reset. It is the one place for that decision: a
// NemID locked by a wrong code answers 423 (only a centre can help; one
// locked by wrong passwords may be reset), and a NemID that is not active
// (unactivated, revoked) has nothing to reset: decoy reports true, and the
// caller answers as for an unknown number. A blocked NemID answers 423
// blocked (DESIGN.md §6): only a centre lifts a block.
func (c *citizenAPI) resetRefusal(_ context.Context, cred store.Credential) (decoy bool, err error) {
	if cred.Blocked() {
		return false, blockedError()
	}
	if cred.Locked() && !cred.ResettableLock() {
		return false, locked()
	}
	if cred.Status != store.CredentialActive || cred.PasswordHash == nil {
		return true, nil
	}
	return false, nil
}

// decoyReset is the answer for a number with no reset, behaving as a real
// reset does (DESIGN.md §6: no NemID-number oracle): the shape of a real
// one; a card and key derived from the number with the lookup key and the
// decoy's wrong answers so far, so repeating the start shows the same card
// and key until it is answered, and a wrong answer draws a new key, like a
// real reset; an id that stays for one challenge TTL; and, after three
// wrong answers, 423 locked, as a NemID locked by wrong codes answers. Its
// state (store.DecoyReset) is kept under a MAC of the number; every answer
// to it is 401 like a wrong code.
func (c *citizenAPI) decoyReset(ctx context.Context, userID string) (map[string]string, error) {
	mac := hmac.New(sha256.New, c.hashKey)
	mac.Write([]byte("reset-decoy\x00" + userID))
	numberMAC := mac.Sum(nil)
	wrong, err := c.store.DecoyWrongAnswers(ctx, hex.EncodeToString(numberMAC))
	if err != nil {
		return nil, err
	}
	if wrong >= store.MaxFailedAttempts {
		return nil, locked()
	}
	card := 1_000_000_000 + binary.BigEndian.Uint64(numberMAC[0:8])%9_000_000_000
	mac.Write([]byte("\x00" + strconv.Itoa(wrong)))
	keyed := mac.Sum(nil)
	key := binary.BigEndian.Uint64(keyed[0:8]) % 10_000
	window := c.now().UnixNano() / int64(c.challengeTTL())
	mac.Write([]byte("\x00" + strconv.FormatInt(window, 10)))
	id, _ := uuid.FromBytes(mac.Sum(nil)[:16]) // 16 bytes: cannot fail
	id[6] = (id[6] & 0x0f) | 0x40              // version 4, as uuid.NewString
	id[8] = (id[8] & 0x3f) | 0x80              // RFC 4122 variant
	if err := c.store.ShowDecoyReset(ctx, hex.EncodeToString(numberMAC), id.String(), c.now()); err != nil {
		return nil, err
	}
	return map[string]string{"reset_id": id.String(), "card_number": strconv.FormatUint(card, 10), "key": fmt.Sprintf("%04d", key)}, nil
}

// answerReset checks the code of a reset challenge
// (POST /v1/password-resets/{id} {code}): right, it opens the reset and
// starts its workflow, which prints the temporary password: 200 {reset_id,
// status, expires_at}. A wrong code is a failed attempt. Every answer that
// is not a success, a lock or a limit is the same 401 invalid_code, held to
// one floor, whether the code was wrong, the challenge expired or closed,
// or the reset a decoy.
func (c *citizenAPI) answerReset(ec echo.Context) error {
	began := time.Now()
	var req resetAnswer
	if err := decodeStrict(ec, &req); err != nil {
		return err
	}
	if err := requireFields([2]string{"code", req.Code}); err != nil {
		return err
	}
	ctx := ec.Request().Context()
	view, err := c.confirmReset(ctx, ec.Param("id"), req.Code)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusUnauthorized {
		return evenly(c.resetAnswerFloor, began, wrongCode())
	}
	if err != nil {
		return err
	}
	return ec.JSON(http.StatusOK, view)
}

func (c *citizenAPI) confirmReset(ctx context.Context, id, code string) (resetView, error) {
	ch, err := c.store.ChallengeByID(ctx, id, store.ChallengeReset)
	if errors.Is(err, store.ErrNotFound) {
		// Perhaps a decoy's challenge: its wrong answer counts, as a real one's would.
		if _, err := c.store.AnswerDecoyReset(ctx, id, c.now()); err != nil {
			return resetView{}, err
		}
		return resetView{}, wrongCode()
	}
	if err != nil {
		return resetView{}, err
	}
	cred, err := c.store.CredentialByID(ctx, ch.CredentialID)
	if err != nil {
		return resetView{}, fmt.Errorf("load credential of reset: %w", err)
	}
	if err := c.limitUser(ctx, cred.UserID); err != nil {
		return resetView{}, err
	}
	if cred, err = c.settled(ctx, cred.ID); err != nil {
		return resetView{}, err
	}
	if decoy, err := c.resetRefusal(ctx, cred); err != nil || decoy {
		return resetView{}, orWrongCode(err)
	}
	attemptID, err := c.claim(ctx, ch)
	if err != nil {
		return resetView{}, err
	}
	if err := c.checkCode(ctx, ch, attemptID, code); err != nil {
		return resetView{}, err
	}
	now := c.now()
	reset := store.PasswordReset{ID: ch.ID, CredentialID: cred.ID, CreatedAt: now, ExpiresAt: now.Add(c.activationWindow())}
	iss, err := c.store.GetIssuance(ctx, cred.IssuanceID, store.Scope{})
	if err != nil {
		c.releaseAttempt(ctx, attemptID)
		return resetView{}, fmt.Errorf("load issuance of credential: %w", err)
	}
	reset.Representation = iss.Representation
	err = c.store.Succeed(context.WithoutCancel(ctx), store.Success{ChallengeID: ch.ID, AttemptID: attemptID, At: now, Reset: &reset})
	if err := succeeded(err); err != nil {
		return resetView{}, err
	}
	in := workflows.ResetInput{ResetID: reset.ID, CredentialID: cred.ID, Deadline: reset.ExpiresAt, Abroad: iss.Path == domain.PathAbroad}
	if err := c.startResetWorkflow(ctx, in); err != nil {
		return resetView{}, err
	}
	c.afterSpend(ctx, cred.ID)
	return resetView{ResetID: reset.ID, Status: store.ResetRequested, ExpiresAt: reset.ExpiresAt}, nil
}

// orWrongCode is err, or the 401 of a wrong code when there is none.
func orWrongCode(err error) error {
	if err != nil {
		return err
	}
	return wrongCode()
}

func (c *citizenAPI) activationWindow() time.Duration {
	if c.cfg.ActivationWindow > 0 {
		return c.cfg.ActivationWindow
	}
	return 720 * time.Hour
}

func (c *citizenAPI) startResetWorkflow(ctx context.Context, in workflows.ResetInput) error {
	return c.startOnce(context.WithoutCancel(ctx), workflows.PasswordResetWorkflowID(in.ResetID), workflows.PasswordResetWorkflow, in)
}

// openResetOf is the credential's reset whose temporary password may be
// used now; found reports whether there is one.
func (c *citizenAPI) openResetOf(ctx context.Context, cred store.Credential) (store.PasswordReset, bool, error) {
	r, err := c.store.OpenResetOf(ctx, cred.ID, c.now())
	if errors.Is(err, store.ErrNotFound) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("find the open password reset: %w", err)
	}
	return r, true, nil
}

// startResetActivation is POST /v1/activations for an active NemID: the
// temporary password of its open reset. A NemID locked by wrong passwords
// may take this step (the reset's code restored its budget); a wrong
// temporary password is a failed attempt.
func (c *citizenAPI) startResetActivation(ctx context.Context, began time.Time, cred store.Credential, reset store.PasswordReset, password string) (store.Challenge, error) {
	if decoy, err := c.resetRefusal(ctx, cred); err != nil || decoy {
		return store.Challenge{}, orWrongSecret(err)
	}
	attemptID, err := afterChecksInFlight(ctx, func() (string, error) { return c.store.BeginResetAttempt(ctx, cred.ID, c.now()) })
	if errors.Is(err, store.ErrLocked) {
		return store.Challenge{}, locked()
	}
	if err != nil {
		return store.Challenge{}, fmt.Errorf("begin attempt: %w", err)
	}
	if reset.TemporaryPasswordMAC == nil || !domain.VerifyTemporaryPassword(c.hashKeys, cred.UserID, password, *reset.TemporaryPasswordMAC) {
		return store.Challenge{}, evenly(c.activationFloor, began, c.failAttempt(ctx, attemptID, cred, wrongSecret()))
	}
	return c.openChallenge(ctx, cred, store.ChallengeActivation, attemptID)
}

func orWrongSecret(err error) error {
	if err != nil {
		return err
	}
	return wrongSecret()
}

// activateReset sends the reset's workflow the activation Update and waits
// until the new password, the lifted lock and the ended sessions are
// recorded.
func (c *citizenAPI) activateReset(ctx context.Context, reset store.PasswordReset, activationID string) error {
	handle, err := c.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.PasswordResetWorkflowID(reset.ID), UpdateName: workflows.UpdateActivate,
		UpdateID: "activate/" + activationID,
		Args:     []any{workflows.ActivationRequest{ActivationID: activationID}}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	return handle.Get(ctx, nil)
}

// resetPickup is the representation's confirmation, on
// POST /v1/issuances/{id}/pickup of an active abroad NemID, that it handed
// over the sealed letter of the NemID's password reset: the same document
// and fee checks as at issuance; the reset's workflow records the pickup
// and the fee on the reset and opens it.
func (s *Server) resetPickup(c echo.Context, p Principal, iss store.Issuance, shown domain.Pickup) error {
	ctx := c.Request().Context()
	cred, err := s.store.CredentialOfIssuance(ctx, iss.ID)
	if err != nil {
		return fmt.Errorf("load credential of issuance %s: %w", iss.ID, err)
	}
	reset, err := s.store.ResetAwaitingPickupOf(ctx, cred.ID, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return newError(http.StatusConflict, "conflict", "the issuance is %s and no password reset awaits a pickup", iss.Status)
	}
	if err != nil {
		return err
	}
	documentHash := ""
	if iss.DocumentHash != nil {
		documentHash = *iss.DocumentHash
	}
	if vs := domain.PickupViolations(shown, s.hashKeys, documentHash, s.cfg.AbroadFeeDKK); len(vs) > 0 {
		return ruleViolations(details(vs))
	}
	handle, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.PasswordResetWorkflowID(reset.ID), UpdateName: workflows.UpdatePickup,
		UpdateID:     "pickup/" + reset.ID,
		Args:         []any{workflows.ResetPickupRecord{Actor: p.Actor(), ActorName: p.Name, ActorTokenID: p.TokenID, FeeDKK: shown.FeePaidDKK, Receipt: strings.TrimSpace(shown.Receipt)}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	if err := handle.Get(ctx, nil); err != nil {
		return fmt.Errorf("pickup of password reset %s: %w", reset.ID, err)
	}
	return s.respondIssuance(c, iss.ID, p)
}
