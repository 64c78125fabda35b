package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/store"
)

type cardView struct {
	CardNumber string `json:"card_number"`
	Status     string `json:"status"` // active, blocked or spent
	Unspent    int    `json:"unspent"`
}

type meView struct {
	UserID    string     `json:"user_id"`
	CPRMasked string     `json:"cpr_masked"`
	Cards     []cardView `json:"cards"`
}

// sessionToken is the session token of Authorization: Bearer, or a 401.
func sessionToken(ec echo.Context) (string, error) {
	token, ok := strings.CutPrefix(ec.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return "", newError(http.StatusUnauthorized, "unauthorized", "send Authorization: Bearer <session_token> from a logon")
	}
	// Whatever a session's request answers is the person's own: no cache
	// keeps it (DESIGN.md §9).
	noStore(ec)
	return strings.TrimSpace(token), nil
}

func sessionEnded() *Error {
	return newError(http.StatusUnauthorized, "unauthorized", "unknown, ended or expired session; log on again")
}

// me answers who a session belongs to, with the masked CPR and each card's
// count of unspent codes, oldest card first.
func (c *citizenAPI) me(ec echo.Context) error {
	token, err := sessionToken(ec)
	if err != nil {
		return err
	}
	ctx := ec.Request().Context()
	sess, err := c.store.SessionByTokenHash(ctx, store.HashToken(token), c.now())
	if errors.Is(err, store.ErrNotFound) {
		return sessionEnded()
	}
	if err != nil {
		return err
	}
	cred, err := c.store.CredentialByID(ctx, sess.CredentialID)
	if err != nil {
		return fmt.Errorf("load credential of session: %w", err)
	}
	iss, err := c.store.GetIssuance(ctx, cred.IssuanceID, store.Scope{})
	if err != nil {
		return fmt.Errorf("load issuance of credential: %w", err)
	}
	cards, err := c.store.CardUsageOf(ctx, cred.ID)
	if err != nil {
		return err
	}
	out := meView{UserID: cred.UserID, CPRMasked: iss.CPRMasked, Cards: make([]cardView, 0, len(cards))}
	for _, card := range cards {
		out.Cards = append(out.Cards, cardView{CardNumber: card.CardNumber, Status: card.State(), Unspent: card.Unspent})
	}
	return ec.JSON(http.StatusOK, out)
}

// logout ends the session of the bearer token: 200 {}. The body is empty
// or {}; an ended or unknown session answers 401.
func (c *citizenAPI) logout(ec echo.Context) error {
	token, err := sessionToken(ec)
	if err != nil {
		return err
	}
	if err := decodeOptionalEmpty(ec); err != nil {
		return err
	}
	err = c.store.EndSession(ec.Request().Context(), store.HashToken(token), c.now())
	if errors.Is(err, store.ErrNotFound) {
		return sessionEnded()
	}
	if err != nil {
		return err
	}
	noStore(ec)
	return ec.JSON(http.StatusOK, struct{}{})
}
