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
	Unspent    int    `json:"unspent"`
}

type meView struct {
	UserID    string     `json:"user_id"`
	CPRMasked string     `json:"cpr_masked"`
	Cards     []cardView `json:"cards"`
}

// me answers who a session belongs to, with the masked CPR and each card's
// count of unspent codes, oldest card first.
func (c *citizenAPI) me(ec echo.Context) error {
	token, ok := strings.CutPrefix(ec.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return newError(http.StatusUnauthorized, "unauthorized", "send Authorization: Bearer <session_token> from a logon")
	}
	ctx := ec.Request().Context()
	sess, err := c.store.SessionByTokenHash(ctx, store.HashToken(strings.TrimSpace(token)), c.now())
	if errors.Is(err, store.ErrNotFound) {
		return newError(http.StatusUnauthorized, "unauthorized", "unknown or expired session; log on again")
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
		out.Cards = append(out.Cards, cardView{CardNumber: card.CardNumber, Unspent: card.Unspent})
	}
	return ec.JSON(http.StatusOK, out)
}
