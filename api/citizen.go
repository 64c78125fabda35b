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
	loginFloor, activationFloor *answerFloor // see evenly
	// resetFloor holds every reset start, resetAnswerFloor every 401 of a
	// reset's answer (decoys included): see decoyReset.
	resetFloor, resetAnswerFloor *answerFloor
}

// citizenRoutes registers the routes citizens call with their credentials
// rather than a token: activation, logon, /v1/me, and support. None of them
// goes through the idempotency store: a stored logon answer would keep a
// session token in plaintext. Support's routes on credentials are
// credentialRoutes'.
func (s *Server) citizenRoutes(e *echo.Echo) {
	c := &citizenAPI{Server: s, loginFloor: &answerFloor{}, activationFloor: &answerFloor{}}
	e.POST("/v1/activations", c.startActivation, c.limitAddress, s.idempotent)
	e.POST("/v1/activations/:id", c.answerActivation, c.limitAddress, s.idempotent)
	e.POST("/v1/logins", c.startLogin, c.limitAddress, s.idempotent)
	e.POST("/v1/logins/:id", c.answerLogin, c.limitAddress, s.idempotent)
	e.GET("/v1/me", c.me, c.limitAddress)
	e.POST("/v1/logout", c.logout, c.limitAddress, s.idempotent)
	e.GET("/v1/support", c.support, c.limitAddress)
	c.selfServiceRoutes(e)
	c.oidcRoutes(e)
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

// answerFloor is the least time a wrong user ID or secret takes to answer
// at the start of an activation or a logon. Both paths do most of the same
// work (an unknown user ID verifies a dummy password), and the floor hides
// what differs (database reads), so the answer time says nothing about
// whether a NemID number exists. It also slows guessing. The floor follows
// the load: it is at least minFloor, and half again as long as such answers
// have lately taken before being held, so a loaded machine (the password
// hash alone may then take longer than minFloor) still answers both alike.
type answerFloor struct {
	mu      sync.Mutex
	typical time.Duration // moving average of the unheld answer time
}

const (
	minFloor = 100 * time.Millisecond
	maxFloor = 2 * time.Second
)

// hold sleeps until the floor after began.
func (f *answerFloor) hold(began time.Time) {
	took := time.Since(began)
	f.mu.Lock()
	if f.typical == 0 {
		f.typical = took
	} else {
		f.typical = (7*f.typical + took) / 8
	}
	floor := min(max(minFloor, f.typical*3/2), maxFloor)
	f.mu.Unlock()
	time.Sleep(time.Until(began.Add(floor)))
}

// evenly holds a 401 back until the route's floor after the request began.
func evenly(floor *answerFloor, began time.Time, err error) error {
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusUnauthorized {
		floor.hold(began)
	}
	return err
}

// noStore marks an answer that carries a session token, a challenge or a
// PDF: no cache (browser, proxy) may keep it.
func noStore(ec echo.Context) {
	ec.Response().Header().Set(echo.HeaderCacheControl, "no-store")
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

// blockedError answers a blocked NemID: 423 before any secret is checked.
func blockedError() *Error {
	return newError(http.StatusLocked, "blocked",
		"the NemID is blocked; show photo ID at a Citizen Service centre to have it unblocked, or call support on "+domain.SupportPhone)
}

// refusal answers a credential that refuses every attempt, blocked first
// (a block outlasts an unlock), or nil.
func refusal(cred store.Credential) error {
	switch {
	case cred.Blocked():
		return blockedError()
	case cred.Locked():
		return locked()
	}
	return nil
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

// beginAttempt reserves the right to check one secret of a credential
// (store.BeginAttempt): 423 when it is locked or when the failures counted
// and the checks in flight could lock it. Every attempt begun ends in
// failAttempt, or in a release (right secret, or refused for another reason).
//
// While other checks in flight fill the budget it waits for them (they take
// milliseconds): if they were wrong the credential locks and this answers
// 423 unchecked; if they were right this one goes ahead. A person logging on
// from two devices at once is never refused for it.
func (c *citizenAPI) beginAttempt(ctx context.Context, cred store.Credential) (string, error) {
	id, err := afterChecksInFlight(ctx, func() (string, error) { return c.store.BeginAttempt(ctx, cred.ID, c.now()) })
	if errors.Is(err, store.ErrBlocked) {
		return "", blockedError()
	}
	if errors.Is(err, store.ErrLocked) {
		return "", locked()
	}
	if err != nil {
		return "", fmt.Errorf("begin attempt: %w", err)
	}
	return id, nil
}

// afterChecksInFlight runs begin (an attempt's start) again while other
// secret checks in flight fill the failure budget, for up to attemptWait;
// checks stuck in flight longer than that answer ErrLocked, unchecked.
func afterChecksInFlight(ctx context.Context, begin func() (string, error)) (string, error) {
	deadline := time.Now().Add(attemptWait)
	for {
		id, err := begin()
		if !errors.Is(err, store.ErrAttemptsInFlight) {
			return id, err
		}
		if !time.Now().Before(deadline) {
			return "", store.ErrLocked
		}
		if err := sleepCtx(ctx, attemptPoll); err != nil {
			return "", err
		}
	}
}

// How long a secret check waits for others in flight, and how often it looks.
const (
	attemptWait = 5 * time.Second
	attemptPoll = 10 * time.Millisecond
)

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// failAttempt counts a wrong secret; the answer is 401 whatever the count.
// The count is written even when the client has gone: hanging up must not
// make a wrong guess free.
func (c *citizenAPI) failAttempt(ctx context.Context, attemptID string, cred store.Credential, answer *Error) error {
	if _, err := c.store.FailAttempt(context.WithoutCancel(ctx), attemptID, cred.ID, c.now()); err != nil {
		return fmt.Errorf("record failed attempt: %w", err)
	}
	return answer
}

// releaseAttempt ends an attempt that counted nothing. A failure to write
// it is only logged: the attempt then stops holding its place after
// store.AttemptLease.
func (c *citizenAPI) releaseAttempt(ctx context.Context, attemptID string) {
	if err := c.store.PassAttempt(context.WithoutCancel(ctx), attemptID); err != nil {
		c.log.ErrorContext(ctx, "release attempt", "error", err.Error())
	}
}

// openChallenge ends the attempt whose secret was right and starts (or
// returns the open) challenge of a kind, with a key drawn from a
// cryptographic source; 423 when the credential locked meanwhile.
func (c *citizenAPI) openChallenge(ctx context.Context, cred store.Credential, kind, attemptID string) (store.Challenge, error) {
	now := c.now()
	ch := store.Challenge{ID: uuid.NewString(), Kind: kind, CredentialID: cred.ID, CreatedAt: now, ExpiresAt: now.Add(c.challengeTTL())}
	ch, _, err := c.store.OpenChallenge(ctx, ch, attemptID, randomIndex)
	switch {
	case errors.Is(err, store.ErrBlocked):
		return ch, blockedError()
	case errors.Is(err, store.ErrLocked):
		return ch, locked()
	case errors.Is(err, store.ErrNoCard):
		c.releaseAttempt(ctx, attemptID)
		return ch, noCard()
	case errors.Is(err, store.ErrNoCodesLeft):
		c.releaseAttempt(ctx, attemptID)
		return ch, newError(http.StatusConflict, "no_codes_left", "every code on your cards is used; call support for a new card")
	case err != nil:
		c.releaseAttempt(ctx, attemptID)
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
	if cred.Blocked() {
		return ch, cred, blockedError()
	}
	if cred.Locked() && !resetActivation(ch, cred) {
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
	case cred.Locked() && !resetActivation(ch, cred):
		return ch, cred, locked()
	case ch.Status != store.ChallengeOpen:
		return ch, cred, challengeClosed()
	}
	return ch, cred, nil
}

// resetActivation reports whether ch is the activation that follows a
// password reset (an active NemID), which a lock by wrong passwords does
// not stop: activating lifts it (DESIGN.md §6).
func resetActivation(ch store.Challenge, cred store.Credential) bool {
	return ch.Kind == store.ChallengeActivation && cred.Status == store.CredentialActive && cred.ResettableLock()
}

// claim takes the challenge for this one answer (store.ClaimChallenge):
// concurrent answers to it are refused before their code is looked at.
func (c *citizenAPI) claim(ctx context.Context, ch store.Challenge) (string, error) {
	claim := c.store.ClaimChallenge
	if ch.Kind == store.ChallengeActivation {
		if cred, err := c.store.CredentialByID(ctx, ch.CredentialID); err == nil && cred.Status == store.CredentialActive {
			claim = c.store.ClaimResetChallenge
		}
	}
	attemptID, err := afterChecksInFlight(ctx, func() (string, error) { return claim(ctx, ch.ID, c.now()) })
	switch {
	case errors.Is(err, store.ErrBlocked):
		return "", blockedError()
	case errors.Is(err, store.ErrLocked):
		return "", locked()
	case errors.Is(err, store.ErrChallengeExpired):
		return "", challengeExpired()
	case errors.Is(err, store.ErrChallengeClosed):
		return "", challengeClosed()
	case err != nil:
		return "", fmt.Errorf("claim challenge: %w", err)
	}
	return attemptID, nil
}

// checkCode verifies the answered code of a claimed challenge against the
// stored MAC in constant time; a wrong code ends the challenge and counts
// as a failed attempt. The right code, spent meanwhile by a concurrent
// logon, ends it uncounted.
func (c *citizenAPI) checkCode(ctx context.Context, ch store.Challenge, attemptID, code string) error {
	stored, err := c.store.CodeOf(ctx, ch.CardNumber, ch.Key)
	if err != nil {
		c.releaseAttempt(ctx, attemptID)
		return fmt.Errorf("load code of key: %w", err)
	}
	right := domain.VerifyCodeMAC(c.hashKeys, ch.CardNumber, ch.Key, code, stored.CodeMAC)
	if right && stored.SpentAt == nil {
		return nil
	}
	ctx = context.WithoutCancel(ctx) // a wrong code counts even if the client hung up
	if right {
		if err := c.store.DropAnswer(ctx, ch.ID, attemptID, c.now()); err != nil {
			return fmt.Errorf("end challenge of a spent code: %w", err)
		}
		return challengeClosed()
	}
	if _, err := c.store.FailAnswer(ctx, ch.ID, attemptID, c.now()); err != nil {
		return fmt.Errorf("end challenge after a wrong code: %w", err)
	}
	return wrongCode()
}

// succeeded maps the store's refusals of a correct answer that lost a race.
func succeeded(err error) error {
	switch {
	case errors.Is(err, store.ErrChallengeClosed), errors.Is(err, store.ErrCodeSpent):
		return challengeClosed()
	case errors.Is(err, store.ErrBlocked):
		return blockedError()
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
	row, err := c.store.PersonByCPRHash(ctx, cprHash, register.CPRHasher(c.hashKey, now))
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
var dummyHash = sync.OnceValues(func() (string, error) { return domain.HashPassword(dummyKeys, "not-a-password-0") })

// dummyKeys pepper the dummy hash; no real secret is verified with them.
var dummyKeys = domain.NewHashKeys("dummy", make([]byte, 32))

// requireFields answers 400 naming the first missing field.
func requireFields(fields ...[2]string) error {
	for _, f := range fields {
		if f[1] == "" {
			return badRequest("%s is required", f[0])
		}
	}
	return nil
}
