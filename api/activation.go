package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

type activationStart struct {
	UserID            string `json:"user_id"`
	TemporaryPassword string `json:"temporary_password"`
}

type activationAnswer struct {
	Code        string `json:"code"`
	NewPassword string `json:"new_password"`
}

// startActivation checks the NemID number and temporary password and asks
// for the code beside a key the system picked: 201 {activation_id,
// card_number, key}. Until that key is answered, every start asks the same
// one, also after the challenge expired.
func (c *citizenAPI) startActivation(ec echo.Context) error {
	began := time.Now()
	var req activationStart
	if err := decodeStrict(ec, &req); err != nil {
		return err
	}
	if err := requireFields([2]string{"user_id", req.UserID}, [2]string{"temporary_password", req.TemporaryPassword}); err != nil {
		return err
	}
	ctx := ec.Request().Context()
	if err := c.limitUser(ctx, req.UserID); err != nil {
		return err
	}
	cred, err := c.credentialForStart(ctx, req.UserID)
	var wrong *Error
	if errors.As(err, &wrong) {
		return evenly(c.activationFloor, began, wrong)
	}
	if err != nil {
		return err
	}
	if cred.Blocked() {
		return blockedError()
	}
	if reset, found, err := c.openResetOf(ctx, cred); err != nil {
		return err
	} else if found && cred.Status == store.CredentialActive {
		ch, err := c.startResetActivation(ctx, began, cred, reset, req.TemporaryPassword)
		if err != nil {
			return err
		}
		noStore(ec)
		return ec.JSON(http.StatusCreated, challengeView("activation_id", ch))
	}
	attemptID, err := c.beginAttempt(ctx, cred)
	if err != nil {
		return err
	}
	if !domain.VerifyTemporaryPassword(c.hashKeys, cred.UserID, req.TemporaryPassword, cred.TemporaryPasswordMAC) {
		return evenly(c.activationFloor, began, c.failAttempt(ctx, attemptID, cred, wrongSecret()))
	}
	if err := c.awaitingActivation(ctx, cred); err != nil {
		c.releaseAttempt(ctx, attemptID)
		return err
	}
	ch, err := c.openChallenge(ctx, cred, store.ChallengeActivation, attemptID)
	if err != nil {
		return err
	}
	noStore(ec)
	return ec.JSON(http.StatusCreated, challengeView("activation_id", ch))
}

// answerActivation checks the code and the new password, spends the code
// and keeps the password's hash on the answered challenge, then tells the
// issuance's workflow, with the challenge id only, that the credential is
// activated. The workflow's activity records the issuance active and moves
// the hash into the credential in one transaction, before the Update
// answers: the 200 is visible to the next logon.
func (c *citizenAPI) answerActivation(ec echo.Context) error {
	var req activationAnswer
	if err := decodeStrict(ec, &req); err != nil {
		return err
	}
	if err := requireFields([2]string{"code", req.Code}, [2]string{"new_password", req.NewPassword}); err != nil {
		return err
	}
	ctx := ec.Request().Context()
	ch, cred, err := c.answeredChallenge(ctx, ec.Param("id"), store.ChallengeActivation)
	if err != nil {
		return err
	}
	reset, err := c.activationFor(ctx, cred)
	if err != nil {
		return err
	}
	// The policy first: a 422 leaves the challenge open, spends nothing and
	// says nothing about the code.
	if err := c.checkPasswordPolicy(ctx, cred, req.NewPassword); err != nil {
		return err
	}
	hash, err := domain.HashPassword(c.hashKeys, req.NewPassword)
	if err != nil {
		return fmt.Errorf("hash the new password: %w", err)
	}
	attemptID, err := c.claim(ctx, ch)
	if err != nil {
		return err
	}
	if err := c.checkCode(ctx, ch, attemptID, req.Code); err != nil {
		return err
	}
	err = c.store.Succeed(context.WithoutCancel(ctx), store.Success{ChallengeID: ch.ID, AttemptID: attemptID, At: c.now(), PasswordHash: hash, Reset: reset})
	if err := succeeded(err); err != nil {
		return err
	}
	// The code is spent: finish even if the client hangs up, so the
	// activation it paid for is not left waiting for a second code.
	updateCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), activationUpdateTimeout)
	defer cancel()
	if reset != nil {
		err = c.activateReset(updateCtx, *reset, ch.ID)
	} else {
		err = c.activate(updateCtx, cred, ch.ID)
	}
	if err != nil {
		return err
	}
	c.afterSpend(ctx, cred.ID)
	return ec.JSON(http.StatusOK, map[string]string{"status": workflows.StatusActive, "user_id": cred.UserID})
}

// activationFor is what an answered activation activates: the issuance
// (nil) while it awaits activation, or the open password reset of an
// active NemID (DESIGN.md §6; the issuance's status does not change);
// otherwise 409.
func (c *citizenAPI) activationFor(ctx context.Context, cred store.Credential) (*store.PasswordReset, error) {
	if cred.Status != store.CredentialActive {
		return nil, c.awaitingActivation(ctx, cred)
	}
	reset, found, err := c.openResetOf(ctx, cred)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, newError(http.StatusConflict, "conflict", "the NemID is active and has no open password reset")
	}
	return &reset, nil
}

// awaitingActivation answers 409 unless the credential is unactivated and
// its issuance waits for the activation. The read model follows the
// workflow, so this status means the workflow accepts the Update too.
func (c *citizenAPI) awaitingActivation(ctx context.Context, cred store.Credential) error {
	iss, err := c.store.GetIssuance(ctx, cred.IssuanceID, store.Scope{})
	if err != nil {
		return fmt.Errorf("load issuance of credential: %w", err)
	}
	if cred.Status != store.CredentialPending || iss.Status != workflows.StatusAwaitingActivation {
		return newError(http.StatusConflict, "conflict", "the issuance is %s, not awaiting activation", iss.Status)
	}
	return nil
}

// checkPasswordPolicy answers 422 with one password_policy detail per
// broken rule. The CPR rules need the CPR, found in the register by the
// credential's lookup hash; a person gone from the register is checked
// without them.
func (c *citizenAPI) checkPasswordPolicy(ctx context.Context, cred store.Credential, password string) error {
	person, err := c.personOf(ctx, cred.CPRHash)
	if err != nil {
		return err
	}
	var cpr domain.CPR
	if person != nil {
		cpr = person.CPR
	}
	if vs := domain.PasswordViolations(password, cpr, cred.UserID); len(vs) > 0 {
		return ruleViolations(details(vs))
	}
	return nil
}

// activationUpdateTimeout bounds the wait for the workflow's answer; the
// Update, once admitted, completes all the same.
const activationUpdateTimeout = time.Minute

// activate sends the workflow the activation Update and waits for its
// answer, which comes once the issuance and the credential are recorded
// active. The Update's id is the challenge's, so a repeat of the same
// activation is the same Update. Should it be refused (the issuance was
// cancelled or expired meanwhile), the credential stays pending and is
// revoked with its issuance.
func (c *citizenAPI) activate(ctx context.Context, cred store.Credential, activationID string) error {
	handle, err := c.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.IssuanceWorkflowID(cred.IssuanceID), UpdateName: workflows.UpdateActivate,
		UpdateID: "activate/" + activationID,
		Args:     []any{workflows.ActivationRequest{ActivationID: activationID}}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	return handle.Get(ctx, nil)
}
