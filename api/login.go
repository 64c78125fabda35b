package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

type loginStart struct {
	UserID   string `json:"user_id"`
	Password string `json:"password"`
}

type loginAnswer struct {
	Code string `json:"code"`
}

type sessionView struct {
	SessionToken string    `json:"session_token"`
	ExpiresAt    time.Time `json:"expires_at"`
}

// startLogin checks the user ID and password and asks for the code beside
// a key picked among the unspent codes: 201 {login_id, card_number, key}.
func (c *citizenAPI) startLogin(ec echo.Context) error {
	began := time.Now()
	var req loginStart
	if err := decodeStrict(ec, &req); err != nil {
		return err
	}
	if err := requireFields([2]string{"user_id", req.UserID}, [2]string{"password", req.Password}); err != nil {
		return err
	}
	ch, err := c.logonPassword(ec.Request().Context(), began, req.UserID, req.Password)
	if err != nil {
		return err
	}
	noStore(ec)
	return ec.JSON(http.StatusCreated, challengeView("login_id", ch))
}

// logonPassword is the first step of every logon, whichever door the
// person came through (POST /v1/logins, the OpenID provider's login page):
// the per-user limit, the block and the lock (refusal, decided before the
// password is checked and again as the challenge opens, see
// store.BeginAttempt), the password (a wrong one is a failed attempt),
// no_card after a lost-card report, and the challenge: the key of an
// unspent code of the oldest card with any.
func (c *citizenAPI) logonPassword(ctx context.Context, began time.Time, userID, password string) (store.Challenge, error) {
	if err := c.limitUser(ctx, userID); err != nil {
		return store.Challenge{}, err
	}
	cred, attemptID, err := c.checkPassword(ctx, began, userID, password)
	if err != nil {
		return store.Challenge{}, err
	}
	if err := c.refuseWithoutCard(ctx, cred, attemptID); err != nil {
		return store.Challenge{}, err
	}
	return c.openChallenge(ctx, cred, store.ChallengeLogon, attemptID)
}

// rehash rewrites a verified password's hash under the current pepper key
// (after a key rotation, or for a hash from before the pepper). A failure
// is logged: the old hash keeps verifying, and the next logon tries again.
func (c *citizenAPI) rehash(ctx context.Context, cred store.Credential, password string) {
	hash, err := domain.HashPassword(c.hashKeys, password)
	if err == nil {
		err = c.store.RehashPassword(ctx, cred.ID, *cred.PasswordHash, hash)
	}
	if err != nil {
		c.log.ErrorContext(ctx, "rehash password under the current key", "credential_id", cred.ID, "error", err.Error())
	}
}

// spendLikeAPassword verifies against a dummy hash, so that an unknown user
// ID costs the time a wrong password does and cannot be told apart by it.
func spendLikeAPassword(password string, answer *Error) error {
	hash, err := dummyHash()
	if err != nil {
		return fmt.Errorf("dummy password hash: %w", err)
	}
	if _, _, err := domain.VerifyPassword(dummyKeys, hash, password); err != nil {
		return fmt.Errorf("verify dummy password: %w", err)
	}
	return answer
}

// answerLogin checks the code; right, it spends it and opens a session:
// 200 {session_token, expires_at}. Only the token's SHA-256 is stored.
func (c *citizenAPI) answerLogin(ec echo.Context) error {
	var req loginAnswer
	if err := decodeStrict(ec, &req); err != nil {
		return err
	}
	if err := requireFields([2]string{"code", req.Code}); err != nil {
		return err
	}
	token, err := newSessionToken()
	if err != nil {
		return err
	}
	var sess *store.Session
	_, err = c.logonCode(ec.Request().Context(), ec.Param("id"), req.Code, func(_ store.Credential, at time.Time, s *store.Success) {
		sess = &store.Session{TokenHash: store.HashToken(token), CreatedAt: at, ExpiresAt: at.Add(c.sessionTTL())}
		s.Session = sess
	})
	if err != nil {
		return err
	}
	// A session token is shown once: never kept for an Idempotency-Key
	// replay (which answers 410).
	answerOnce(ec)
	return ec.JSON(http.StatusOK, sessionView{SessionToken: token, ExpiresAt: sess.ExpiresAt})
}

// logonCode is the second step of every logon, whichever door: the
// challenge's state (unknown, expired and counted, closed, locked,
// blocked), the claim that lets one answer through, the code (a wrong one
// ends the challenge and is a failed attempt), and the success that spends
// it, to which finish adds what this door writes in the same transaction
// (a session, an OpenID authorization). Then the replacement card when the
// newest card is down to 20 codes.
func (c *citizenAPI) logonCode(ctx context.Context, challengeID, code string,
	finish func(cred store.Credential, at time.Time, s *store.Success)) (store.Credential, error) {
	ch, cred, err := c.answeredChallenge(ctx, challengeID, store.ChallengeLogon)
	if err != nil {
		return cred, err
	}
	attemptID, err := c.claim(ctx, ch)
	if err != nil {
		return cred, err
	}
	if err := c.checkCode(ctx, ch, attemptID, code); err != nil {
		return cred, err
	}
	success := store.Success{ChallengeID: ch.ID, AttemptID: attemptID, At: c.now()}
	finish(cred, success.At, &success)
	if err := succeeded(c.store.Succeed(context.WithoutCancel(ctx), success)); err != nil {
		return cred, err
	}
	c.afterSpend(ctx, cred.ID)
	return cred, nil
}

func newSessionToken() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generate session token: %w", err)
	}
	return "nemid_session_" + base64.RawURLEncoding.EncodeToString(raw), nil
}

// afterSpend starts the replacement card once the newest card is down to
// ReplacementThreshold unspent codes. The workflow id names the card to
// make, and a reject-duplicate start makes concurrent logons past the
// threshold start it exactly once. A failed start is logged, not answered:
// the logon succeeded, and the next logon tries the start again.
func (c *citizenAPI) afterSpend(ctx context.Context, credentialID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.replaceCardIfLow(ctx, credentialID); err != nil {
		c.log.ErrorContext(ctx, "start replacement card", "credential_id", credentialID, "error", err.Error())
	}
}

func (c *citizenAPI) replaceCardIfLow(ctx context.Context, credentialID string) error {
	cards, err := c.store.CardUsageOf(ctx, credentialID)
	if err != nil {
		return err
	}
	// The newest card that is not blocked: after a lost-card report the
	// old cards are blocked, and their replacement is the new card.
	var newest *store.CardUsage
	for i := range cards {
		if cards[i].Status == store.CardActive {
			newest = &cards[i]
		}
	}
	if newest == nil || newest.Unspent > workflows.ReplacementThreshold {
		return nil
	}
	in := workflows.ReplacementInput{CredentialID: credentialID, Seq: newest.Seq + 1}
	// Another logon may have started it: the card is made once.
	return c.startOnce(ctx, workflows.ReplacementWorkflowID(credentialID, in.Seq), workflows.ReplacementCardWorkflow, in)
}
