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
	"github.com/opennemid/nemid/workflows"
)

// selfServiceRoutes registers the citizen's routes of the credential's
// later life (DESIGN.md §6): a lost card, extra cards, a forgotten
// password. Like every citizen route they skip the idempotency store; each
// is idempotent by design instead (a repeated lost-card report joins the
// first, a reset start shows the same key).
func (c *citizenAPI) selfServiceRoutes(e *echo.Echo) {
	c.resetFloor, c.resetAnswerFloor = &answerFloor{}, &answerFloor{}
	e.POST("/v1/lost-card", c.reportLostCard, c.limitAddress, c.idempotent)
	e.POST("/v1/me/extra-cards", c.orderExtraCard, c.limitAddress, c.idempotent)
	e.POST("/v1/password-resets", c.startReset, c.limitAddress, c.idempotent)
	e.POST("/v1/password-resets/:id", c.answerReset, c.limitAddress, c.idempotent)
}

type lostCardRequest struct {
	UserID   string `json:"user_id"`
	Password string `json:"password"`
}

type lostCardView struct {
	BlockedCards  []string `json:"blocked_cards"`
	NewCardLetter bool     `json:"new_card_letter"`
}

// reportLostCard blocks every card of the NemID and orders a new one
// (POST /v1/lost-card {user_id, password}: the card is gone, so no code).
// The password is checked like a logon's: a wrong one is a failed attempt.
// The block is the API's decision and takes effect before the answer; the
// new card is minted by a CardOrder workflow whose id names the order, so
// a repeated or concurrent report mints one card.
func (c *citizenAPI) reportLostCard(ec echo.Context) error {
	began := time.Now()
	var req lostCardRequest
	if err := decodeStrict(ec, &req); err != nil {
		return err
	}
	if err := requireFields([2]string{"user_id", req.UserID}, [2]string{"password", req.Password}); err != nil {
		return err
	}
	ctx := ec.Request().Context()
	if err := c.limitUser(ctx, req.UserID); err != nil {
		return err
	}
	cred, attemptID, err := c.checkPassword(ctx, began, req.UserID, req.Password)
	if err != nil {
		return err
	}
	report, err := c.store.ReportLostCard(context.WithoutCancel(ctx), cred.ID, attemptID, uuid.NewString(), c.now())
	if errors.Is(err, store.ErrLocked) {
		return locked()
	}
	if err != nil {
		return fmt.Errorf("report lost card: %w", err)
	}
	if err := c.startCardOrder(ctx, report.Order); err != nil {
		return err
	}
	if report.Blocked == nil {
		report.Blocked = []string{}
	}
	return ec.JSON(http.StatusOK, lostCardView{BlockedCards: report.Blocked, NewCardLetter: true})
}

// checkPassword is the password step a logon and a lost-card report share:
// an unknown user ID or a NemID without a password costs a dummy hash and
// answers 401, a locked one 423; a wrong password is a failed attempt. It
// returns the attempt of the right password, to end with the step.
func (c *citizenAPI) checkPassword(ctx context.Context, began time.Time, userID, password string) (store.Credential, string, error) {
	cred, err := c.credentialForStart(ctx, userID)
	var wrong *Error
	if errors.As(err, &wrong) {
		return cred, "", evenly(c.loginFloor, began, spendLikeAPassword(password, wrong))
	}
	if err != nil {
		return cred, "", err
	}
	if err := refusal(cred); err != nil {
		return cred, "", err
	}
	if cred.PasswordHash == nil || cred.Status != store.CredentialActive {
		// Nothing to guess: an unactivated or revoked NemID has no password.
		return cred, "", evenly(c.loginFloor, began, spendLikeAPassword(password, wrongSecret()))
	}
	attemptID, err := c.beginAttempt(ctx, cred)
	if err != nil {
		return cred, "", err
	}
	ok, stale, err := domain.VerifyPassword(c.hashKeys, *cred.PasswordHash, password)
	if err != nil {
		c.releaseAttempt(ctx, attemptID)
		return cred, "", fmt.Errorf("verify password of credential %s: %w", cred.ID, err)
	}
	if !ok {
		return cred, "", evenly(c.loginFloor, began, c.failAttempt(ctx, attemptID, cred, wrongSecret()))
	}
	if stale {
		c.rehash(ctx, cred, password)
	}
	return cred, attemptID, nil
}

func noCard() *Error {
	return newError(http.StatusConflict, "no_card",
		"your code cards are blocked and the new card is on its way; log on when it has arrived")
}

// refuseWithoutCard answers 409 no_card, after a right password, while the
// cards are blocked and the new card's letter is not dispatched: nothing is
// counted and no challenge opens. It also starts the order's workflow again
// (a no-op once started), so a report whose start failed is finished by the
// next logon.
func (c *citizenAPI) refuseWithoutCard(ctx context.Context, cred store.Credential, attemptID string) error {
	order, pending, err := c.store.AwaitingNewCard(ctx, cred.ID)
	if err != nil {
		c.releaseAttempt(ctx, attemptID)
		return fmt.Errorf("check for a lost-card report: %w", err)
	}
	if !pending {
		return nil
	}
	c.releaseAttempt(ctx, attemptID)
	if err := c.startCardOrder(ctx, order); err != nil {
		return err
	}
	return noCard()
}

// startCardOrder starts the workflow that mints an order's card; one that
// already ran or runs (a repeated request) is the same order: nothing to do.
func (c *citizenAPI) startCardOrder(ctx context.Context, o store.CardOrder) error {
	return c.startOnce(context.WithoutCancel(ctx), workflows.CardOrderWorkflowID(o.CredentialID, o.Kind, o.N), workflows.CardOrderWorkflow,
		workflows.CardOrderInput{OrderID: o.ID, CredentialID: o.CredentialID})
}

type extraCardView struct {
	OrderID string `json:"order_id"`
	Kind    string `json:"kind"`
	Status  string `json:"status"`
}

// orderExtraCard orders an extra code card for the session's NemID
// (POST /v1/me/extra-cards, empty body or {}): 201 {order_id, kind:
// "extra_card", status: "queued"}; the card and its number appear in
// /v1/me once minted. At most store.MaxExtraCards unspent extra cards, decided
// atomically: 409 extra_card_limit after.
func (c *citizenAPI) orderExtraCard(ec echo.Context) error {
	ctx := ec.Request().Context()
	cred, err := c.sessionCredential(ec)
	if err != nil {
		return err
	}
	if err := decodeOptionalEmpty(ec); err != nil {
		return err
	}
	if cred.Status != store.CredentialActive || cred.Locked() {
		return sessionEnded()
	}
	order, err := c.store.OrderExtraCard(ctx, cred.ID, uuid.NewString(), c.now())
	if errors.Is(err, store.ErrTooManyExtraCards) {
		return newError(http.StatusConflict, "extra_card_limit", "you already have %d unused extra code cards", store.MaxExtraCards)
	}
	if err != nil {
		return fmt.Errorf("order extra card: %w", err)
	}
	if err := c.startCardOrder(ctx, order); err != nil {
		return err
	}
	return ec.JSON(http.StatusCreated, extraCardView{OrderID: order.ID, Kind: store.KindExtraCard, Status: store.OrderQueued})
}

// sessionCredential is the credential of the bearer session, or a 401.
func (c *citizenAPI) sessionCredential(ec echo.Context) (store.Credential, error) {
	token, err := sessionToken(ec)
	if err != nil {
		return store.Credential{}, err
	}
	ctx := ec.Request().Context()
	sess, err := c.store.SessionByTokenHash(ctx, store.HashToken(token), c.now())
	if errors.Is(err, store.ErrNotFound) {
		return store.Credential{}, sessionEnded()
	}
	if err != nil {
		return store.Credential{}, err
	}
	cred, err := c.store.CredentialByID(ctx, sess.CredentialID)
	if err != nil {
		return store.Credential{}, fmt.Errorf("load credential of session: %w", err)
	}
	return cred, nil
}
