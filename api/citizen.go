package api

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/register"
	"github.com/opennemid/nemid/store"
)

// citizenAPI serves the routes citizens call with their credentials rather
// than a token, rate limited per client address and per user ID.
type citizenAPI struct {
	*Server
}

// citizenRoutes registers the routes citizens call with their credentials
// rather than a token: activation, logon, /v1/me, and support. None of them
// goes through the idempotency store: a stored logon answer would keep a
// session token in plaintext. Unlock is staff's, on a group of its own.
func (s *Server) citizenRoutes(e *echo.Echo) {
	c := &citizenAPI{Server: s}
	e.POST("/v1/activations", c.startActivation, c.limitAddress)
	e.POST("/v1/activations/:id", c.answerActivation, c.limitAddress)
	e.POST("/v1/logins", c.startLogin, c.limitAddress)
	e.POST("/v1/logins/:id", c.answerLogin, c.limitAddress)
	e.GET("/v1/me", c.me, c.limitAddress)
	e.GET("/v1/support", c.support, c.limitAddress)

	staff := e.Group("/v1/credentials", s.authenticate, s.idempotent)
	staff.POST("/:user_id/unlock", c.unlock)
}

// Defaults of DESIGN.md §5, for a Config not read from the environment.
const (
	defaultRateLimit    = 20
	defaultChallengeTTL = 5 * time.Minute
	defaultSessionTTL   = 15 * time.Minute
)

func (c *citizenAPI) challengeTTL() time.Duration {
	if c.cfg.ChallengeTTL > 0 {
		return c.cfg.ChallengeTTL
	}
	return defaultChallengeTTL
}

func (c *citizenAPI) sessionTTL() time.Duration {
	if c.cfg.SessionTTL > 0 {
		return c.cfg.SessionTTL
	}
	return defaultSessionTTL
}

// challengeView is the answer to starting a challenge; the id field is
// activation_id or login_id.
func challengeView(idField string, ch store.Challenge) map[string]string {
	return map[string]string{idField: ch.ID, "card_number": ch.CardNumber, "key": ch.Key}
}

// Citizen errors. Unknown user IDs answer exactly like wrong passwords.
func wrongSecret() *Error {
	return newError(http.StatusUnauthorized, "invalid_credentials", "the user ID or password is wrong")
}

func wrongCode() *Error {
	return newError(http.StatusUnauthorized, "invalid_code", "the code is wrong; start again for a new key")
}

func challengeExpired() *Error {
	return newError(http.StatusUnauthorized, "challenge_expired", "the challenge expired; start again for a new key")
}

func challengeClosed() *Error {
	return newError(http.StatusUnauthorized, "challenge_closed", "the challenge was already answered; start again for a new key")
}

func locked() *Error {
	return newError(http.StatusLocked, "locked",
		"the NemID is locked after 3 failed attempts; call support on "+domain.SupportPhone+" or show ID at a Citizen Service centre")
}

// settled loads a credential with its expired challenges counted.
func (c *citizenAPI) settled(ctx context.Context, credentialID string) (store.Credential, error) {
	cred, err := c.store.SettleExpired(ctx, credentialID, c.now())
	if err != nil {
		return store.Credential{}, fmt.Errorf("settle expired challenges: %w", err)
	}
	return cred, nil
}

// credentialForStart finds the credential a challenge is started for and
// settles its expired challenges. An unknown user ID is a wrong secret.
func (c *citizenAPI) credentialForStart(ctx context.Context, userID string) (store.Credential, error) {
	cred, err := c.store.CredentialByUserID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Credential{}, wrongSecret()
	}
	if err != nil {
		return store.Credential{}, err
	}
	return c.settled(ctx, cred.ID)
}

// failed counts a wrong secret; the answer is 401 whatever the count.
func (c *citizenAPI) failed(ctx context.Context, cred store.Credential, answer *Error) error {
	if _, err := c.store.RecordFailure(ctx, cred.ID, c.now()); err != nil {
		return fmt.Errorf("record failed attempt: %w", err)
	}
	return answer
}

// openChallenge starts (or returns the open) challenge of a kind, with a
// key drawn from a cryptographic source.
func (c *citizenAPI) openChallenge(ctx context.Context, cred store.Credential, kind string) (store.Challenge, error) {
	now := c.now()
	ch := store.Challenge{ID: uuid.NewString(), Kind: kind, CredentialID: cred.ID, CreatedAt: now, ExpiresAt: now.Add(c.challengeTTL())}
	ch, _, err := c.store.OpenChallenge(ctx, ch, randomIndex)
	if errors.Is(err, store.ErrNoCodesLeft) {
		return ch, newError(http.StatusConflict, "no_codes_left", "every code on your cards is used; call support for a new card")
	}
	if err != nil {
		return ch, fmt.Errorf("open %s challenge: %w", kind, err)
	}
	return ch, nil
}

func randomIndex(n int) (int, error) {
	i, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, err
	}
	return int(i.Int64()), nil
}

// answeredChallenge loads a challenge being answered and its credential,
// and decides everything that needs no secret: unknown (404), expired
// (401, counted for a logon), locked (423), already closed (401).
func (c *citizenAPI) answeredChallenge(ctx context.Context, id, kind string) (store.Challenge, store.Credential, error) {
	ch, err := c.store.ChallengeByID(ctx, id, kind)
	if errors.Is(err, store.ErrNotFound) {
		return ch, store.Credential{}, notFoundError(kind + " challenge")
	}
	if err != nil {
		return ch, store.Credential{}, err
	}
	cred, err := c.store.CredentialByID(ctx, ch.CredentialID)
	if err != nil {
		return ch, cred, fmt.Errorf("load credential of challenge: %w", err)
	}
	if err := c.limitUser(ctx, cred.UserID); err != nil {
		return ch, cred, err
	}
	if cred.Locked() {
		return ch, cred, locked()
	}
	// Settling counts this challenge when it expired unanswered; the answer
	// says so even when that count is the one that locks.
	expired := ch.Expired(c.now()) || ch.Status == store.ChallengeExpired
	if cred, err = c.settled(ctx, cred.ID); err != nil {
		return ch, cred, err
	}
	switch {
	case expired:
		return ch, cred, challengeExpired()
	case cred.Locked():
		return ch, cred, locked()
	case ch.Status != store.ChallengeOpen:
		return ch, cred, challengeClosed()
	}
	return ch, cred, nil
}

// checkCode verifies the answered code against the stored MAC in constant
// time; a wrong code ends the challenge and counts as a failed attempt. The
// right code, spent meanwhile by a concurrent logon, ends it uncounted.
func (c *citizenAPI) checkCode(ctx context.Context, ch store.Challenge, code string) error {
	stored, err := c.store.CodeOf(ctx, ch.CardNumber, ch.Key)
	if err != nil {
		return fmt.Errorf("load code of key: %w", err)
	}
	right := domain.VerifyCodeMAC(c.hashKey, ch.CardNumber, ch.Key, code, stored.CodeMAC)
	if right && stored.SpentAt == nil {
		return nil
	}
	status, answer := store.ChallengeFailed, wrongCode()
	if right {
		status, answer = store.ChallengeSuperseded, challengeClosed()
	}
	_, err = c.store.CloseChallenge(ctx, ch.ID, status, !right, c.now())
	if errors.Is(err, store.ErrChallengeClosed) {
		return challengeClosed()
	}
	if err != nil {
		return fmt.Errorf("end challenge after a wrong code: %w", err)
	}
	return answer
}

// succeeded maps the store's refusals of a correct answer that lost a race.
func succeeded(err error) error {
	switch {
	case errors.Is(err, store.ErrChallengeClosed), errors.Is(err, store.ErrCodeSpent):
		return challengeClosed()
	case errors.Is(err, store.ErrLocked):
		return locked()
	case err != nil:
		return fmt.Errorf("record answered challenge: %w", err)
	}
	return nil
}

// personOf finds the register's record for a credential's CPR hash; nil
// when the register no longer knows the person.
func (c *citizenAPI) personOf(ctx context.Context, cprHash string) (*domain.Person, error) {
	now := c.now()
	row, err := c.store.PersonByCPRHash(ctx, cprHash, cprHasher(c.hashKey, now))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up the person: %w", err)
	}
	cpr, err := domain.ParseCPR(row.CPR, now)
	if err != nil {
		return nil, fmt.Errorf("parse the register's CPR: %w", err)
	}
	return register.ToDomain(row, cpr)
}

// dummyHash is verified for unknown user IDs, so that a logon for one takes
// as long as a wrong password and does not reveal that the ID is unknown.
var dummyHash = sync.OnceValues(func() (string, error) { return domain.HashPassword("not-a-password-0") })

// requireFields answers 400 naming the first missing field.
func requireFields(fields ...[2]string) error {
	for _, f := range fields {
		if f[1] == "" {
			return badRequest("%s is required", f[0])
		}
	}
	return nil
}

// cprHasher computes the register's lookup hash of a plain CPR, for
// store.PersonByCPRHash.
func cprHasher(key []byte, now time.Time) func(string) (string, error) {
	return func(raw string) (string, error) {
		cpr, err := domain.ParseCPR(raw, now)
		if err != nil {
			return "", err
		}
		return domain.CPRLookupHash(key, cpr), nil
	}
}
