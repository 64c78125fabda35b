package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Challenge kinds and statuses. A challenge asks for the code beside one
// key of a card; it is answered once, fails, or expires.
const (
	ChallengeActivation = "activation"
	ChallengeLogon      = "logon"
	ChallengeReset      = "reset" // a password reset's code (DESIGN.md §6)

	ChallengeOpen       = "open"
	ChallengeAnswering  = "answering" // claimed by the one answer being checked
	ChallengeSucceeded  = "succeeded"
	ChallengeFailed     = "failed"
	ChallengeExpired    = "expired"
	ChallengeSuperseded = "superseded" // left open when another challenge of the credential succeeded

	// MaxFailedAttempts failures in a row lock a credential (DESIGN.md §2).
	MaxFailedAttempts = 3
)

// Errors of the challenge operations; the API maps each onto a status.
var (
	ErrChallengeClosed = errors.New("the challenge is no longer open")
	ErrCodeSpent       = errors.New("the code was already spent")
	ErrLocked          = errors.New("the credential is locked")
	ErrNoCodesLeft     = errors.New("every code of every card is spent")
	// ErrNoCard: every card is blocked after a lost-card report and the new
	// card's letter is not dispatched yet.
	ErrNoCard = errors.New("the new card after a lost-card report is not dispatched yet")
)

// Lock causes (Credential.LockCause).
const (
	LockByPassword = "password" // a wrong password or temporary password
	LockByCode     = "code"     // a wrong or unanswered code
)

// Challenge is one open question "the code beside key K of card C". It
// holds no secret: the code's MAC stays in card_codes.
type Challenge struct {
	ID           string `gorm:"primaryKey"`
	Kind         string
	CredentialID string
	CardNumber   string
	Key          string
	Status       string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	ClosedAt     *time.Time
	// NewPasswordHash is the password an answered activation chose (its
	// argon2id hash, made by the API). It waits here until the workflow's
	// activity records the issuance active and moves it into the
	// credential in the same transaction (ActivateCredential), so the hash
	// never passes through Temporal.
	NewPasswordHash *string
}

func (Challenge) TableName() string { return "challenges" }

// Expired reports whether an open challenge has outlived its TTL at now.
func (c Challenge) Expired(now time.Time) bool {
	return c.Status == ChallengeOpen && !now.Before(c.ExpiresAt)
}

// Session is a logged-on citizen. Only the SHA-256 of the token is kept.
type Session struct {
	TokenHash    string `gorm:"primaryKey"`
	CredentialID string
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

func (Session) TableName() string { return "sessions" }

// Locked reports whether the credential refuses every citizen attempt.
func (c Credential) Locked() bool { return c.LockedAt != nil }

// ResettableLock reports whether a lock may be lifted by a password reset:
// it was reached by wrong passwords, not by a wrong code.
func (c Credential) ResettableLock() bool {
	return c.Locked() && (c.LockCause == nil || *c.LockCause != LockByCode)
}

// CredentialByUserID loads a credential by its NemID number.
func (s *Store) CredentialByUserID(ctx context.Context, userID string) (Credential, error) {
	var c Credential
	err := s.db.WithContext(ctx).Where("user_id = ?", userID).Take(&c).Error
	return c, notFound(err)
}

// CredentialByID loads a credential by its id.
func (s *Store) CredentialByID(ctx context.Context, id string) (Credential, error) {
	var c Credential
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&c).Error
	return c, notFound(err)
}

// ChallengeByID loads a challenge of the given kind; another kind's id is
// not found, so an activation id cannot answer a logon.
func (s *Store) ChallengeByID(ctx context.Context, id, kind string) (Challenge, error) {
	var c Challenge
	err := s.db.WithContext(ctx).Where("id = ? AND kind = ?", id, kind).Take(&c).Error
	return c, notFound(err)
}

// SettleExpired closes the credential's open challenges that expired by
// now. Each expired logon challenge counts as a failed attempt (an
// unanswered code, DESIGN.md §4); an expired activation challenge does not.
// Expiry is counted lazily, here, whenever the credential is next touched.
//
// A challenge still "answering" long after its TTL belongs to an answer whose
// process died mid-check; it settles like an unanswered one.
func (s *Store) SettleExpired(ctx context.Context, credentialID string, now time.Time) (Credential, error) {
	var out Credential
	unsettled := []string{ChallengeOpen, ChallengeAnswering}
	stuck := now.Add(-AttemptLease)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&Challenge{}).Where("credential_id = ? AND kind IN ? AND ((status = ? AND expires_at <= ?) OR (status = ? AND expires_at <= ?))",
			credentialID, []string{ChallengeActivation, ChallengeReset}, ChallengeOpen, now, ChallengeAnswering, stuck).
			Updates(map[string]any{"status": ChallengeExpired, "closed_at": now}).Error; err != nil {
			return fmt.Errorf("expire activation challenges: %w", err)
		}
		res := tx.Model(&Challenge{}).Where("credential_id = ? AND kind = ? AND ((status = ? AND expires_at <= ?) OR (status = ? AND expires_at <= ?))",
			credentialID, ChallengeLogon, unsettled[0], now, unsettled[1], stuck).
			Updates(map[string]any{"status": ChallengeExpired, "closed_at": now})
		if res.Error != nil {
			return fmt.Errorf("expire logon challenges: %w", res.Error)
		}
		if err := countFailures(tx, credentialID, int(res.RowsAffected), now, LockByCode); err != nil {
			return err
		}
		return tx.Where("id = ?", credentialID).Take(&out).Error
	})
	return out, notFound(err)
}

// RecordFailure counts one failed attempt (a wrong temporary password or
// password) and locks the credential at the third in a row.
func (s *Store) RecordFailure(ctx context.Context, credentialID string, now time.Time) (Credential, error) {
	var out Credential
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := countFailures(tx, credentialID, 1, now, LockByPassword); err != nil {
			return err
		}
		return tx.Where("id = ?", credentialID).Take(&out).Error
	})
	return out, notFound(err)
}

// countFailures adds n failures in one statement, so concurrent failures
// never lose a count, and sets locked_at when the total reaches the limit.
// A lock ends every session of the credential and its open challenges.
//
// The lock's cause is the failure that reached the limit, or a wrong code
// on a NemID already locked (a reset's code or temporary password checked
// on a NemID locked by passwords): a wrong code always leaves it locked by
// code, which no reset lifts.
func countFailures(tx *gorm.DB, credentialID string, n int, now time.Time, cause string) error {
	if n == 0 {
		return nil
	}
	err := tx.Exec(`UPDATE credentials SET failed_attempts = failed_attempts + ?,
		lock_cause = CASE WHEN failed_attempts + ? >= ? AND (locked_at IS NULL OR ? = ?) THEN ? ELSE lock_cause END,
		locked_at = CASE WHEN failed_attempts + ? >= ? THEN COALESCE(locked_at, ?) ELSE locked_at END
		WHERE id = ?`, n, n, MaxFailedAttempts, cause, LockByCode, cause, n, MaxFailedAttempts, now, credentialID).Error
	if err != nil {
		return fmt.Errorf("count %d failed attempt(s): %w", n, err)
	}
	var c Credential
	if err := tx.Where("id = ?", credentialID).Take(&c).Error; err != nil {
		return fmt.Errorf("reload credential: %w", err)
	}
	if c.Locked() {
		return endAccess(tx, credentialID, now)
	}
	return nil
}

// endAccess ends a credential's sessions and open challenges: at a lock, a
// revocation, or an activation that replaces the password.
func endAccess(tx *gorm.DB, credentialID string, now time.Time) error {
	if err := tx.Where("credential_id = ?", credentialID).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	if err := tx.Model(&Challenge{}).Where("credential_id = ? AND status = ?", credentialID, ChallengeOpen).
		Updates(map[string]any{"status": ChallengeSuperseded, "closed_at": now}).Error; err != nil {
		return fmt.Errorf("close open challenges: %w", err)
	}
	return nil
}

// OpenChallenge ends the attempt whose secret (password or temporary
// password) was right and, in the same transaction, re-checks the lock
// (a concurrent wrong secret may have locked the credential meanwhile:
// ErrLocked) and returns the credential's open challenge of this kind, or
// opens one. Returning the open one (same key) until it is answered means
// asking again never shows a different key, so nobody can fish for a key
// whose code they happen to know. An activation challenge keeps its card
// and key even past its expiry: the next one asks the same key until it is
// answered (DESIGN.md §4), so waiting out the TTL reveals nothing. Otherwise
// a key is drawn by pick among the unspent codes of the oldest card that
// still has any.
func (s *Store) OpenChallenge(ctx context.Context, ch Challenge, attemptID string, pick func(n int) (int, error)) (Challenge, bool, error) {
	out, created := ch, false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := lockedCredential(tx, s.dialect, ch.CredentialID)
		if err != nil {
			return err
		}
		if err := tx.Where("id = ?", attemptID).Delete(&Attempt{}).Error; err != nil {
			return fmt.Errorf("end attempt: %w", err)
		}
		if c.Blocked() {
			return ErrBlocked
		}
		if c.Locked() && !(resetStep(ch.Kind, c) && c.ResettableLock()) {
			return ErrLocked
		}
		if pending, err := awaitingNewCard(tx, c.ID); err != nil {
			return err
		} else if pending {
			return ErrNoCard
		}
		var open Challenge
		err = tx.Where("credential_id = ? AND kind = ? AND status = ? AND expires_at > ?",
			ch.CredentialID, ch.Kind, ChallengeOpen, ch.CreatedAt).Order("created_at DESC").Take(&open).Error
		if err == nil {
			out = open
			return nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("find open challenge: %w", err)
		}
		card, key, err := nextKey(tx, ch, pick)
		if err != nil {
			return err
		}
		out.CardNumber, out.Key, out.Status = card, key, ChallengeOpen
		created = true
		return tx.Create(&out).Error
	})
	return out, created, err
}

// nextKey is the card and key a new challenge asks: for an activation, the
// key of the last one if it expired unanswered (and its code is unspent);
// otherwise a fresh draw.
func nextKey(tx *gorm.DB, ch Challenge, pick func(n int) (int, error)) (string, string, error) {
	if ch.Kind == ChallengeActivation || ch.Kind == ChallengeReset {
		var last Challenge
		err := tx.Where("credential_id = ? AND kind = ?", ch.CredentialID, ch.Kind).
			Order("created_at DESC").Take(&last).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return "", "", fmt.Errorf("find last activation challenge: %w", err)
		}
		if err == nil && last.Status == ChallengeExpired {
			var unspent int64
			if err := tx.Model(&CardCode{}).Where("card_number = ? AND key = ? AND spent_at IS NULL", last.CardNumber, last.Key).
				Count(&unspent).Error; err != nil {
				return "", "", fmt.Errorf("check the last key: %w", err)
			}
			if unspent == 1 {
				return last.CardNumber, last.Key, nil
			}
		}
	}
	card, keys, err := unspentOfOldestCard(tx, ch.CredentialID)
	if err != nil {
		return "", "", err
	}
	i, err := pick(len(keys))
	if err != nil {
		return "", "", fmt.Errorf("pick a key: %w", err)
	}
	return card, keys[i], nil
}

// unspentOfOldestCard lists the unspent keys of the oldest card with any
// that is not blocked, so an old card is used up while its replacement
// travels.
func unspentOfOldestCard(tx *gorm.DB, credentialID string) (string, []string, error) {
	var cards []CodeCard
	if err := tx.Where("credential_id = ? AND status = ?", credentialID, CardActive).Order("seq").Find(&cards).Error; err != nil {
		return "", nil, fmt.Errorf("list cards: %w", err)
	}
	for _, c := range cards {
		var keys []string
		if err := tx.Model(&CardCode{}).Where("card_number = ? AND spent_at IS NULL", c.CardNumber).
			Order("key").Pluck("key", &keys).Error; err != nil {
			return "", nil, fmt.Errorf("list unspent keys: %w", err)
		}
		if len(keys) > 0 {
			return c.CardNumber, keys, nil
		}
	}
	return "", nil, ErrNoCodesLeft
}

// CodeOf loads the stored MAC of one key of a card.
func (s *Store) CodeOf(ctx context.Context, cardNumber, key string) (CardCode, error) {
	var c CardCode
	err := s.db.WithContext(ctx).Where("card_number = ? AND key = ?", cardNumber, key).Take(&c).Error
	return c, notFound(err)
}

// Success is everything a correctly answered (claimed) challenge writes.
type Success struct {
	ChallengeID  string
	AttemptID    string // the claim's attempt (ClaimChallenge)
	At           time.Time
	PasswordHash string   // activation: the new password's argon2id hash, kept on the challenge
	Session      *Session // logon: the new session
	// Reset is set for a password reset's code (the reset it opens) and
	// for the activation with a reset's temporary password (the open
	// reset): the credential is active, and a lock by passwords stays
	// until the reset's activation lifts it.
	Reset *PasswordReset
	// Then is a further write of the same transaction, after every other
	// (a logon through the OpenID provider: its request and audit entry).
	Then TxStep
}

// Succeed records a correctly answered challenge in one transaction: the
// challenge closes, its code is spent, the failure count resets, other open
// challenges of the credential are superseded (the citizen proved every
// factor, so they do not count as unanswered), and the activation's password
// hash (on the challenge: the credential is the workflow's to activate) or
// the logon's session is stored. Each step is conditional, so two
// concurrent answers cannot both succeed or spend one code twice.
func (s *Store) Succeed(ctx context.Context, in Success) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ch Challenge
		if err := tx.Where("id = ?", in.ChallengeID).Take(&ch).Error; err != nil {
			return notFound(err)
		}
		closed := map[string]any{"status": ChallengeSucceeded, "closed_at": in.At}
		if in.PasswordHash != "" {
			closed["new_password_hash"] = in.PasswordHash
		}
		res := tx.Model(&Challenge{}).Where("id = ? AND status = ?", ch.ID, ChallengeAnswering).Updates(closed)
		if res.Error != nil {
			return fmt.Errorf("close challenge: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrChallengeClosed
		}
		if err := tx.Where("id = ?", in.AttemptID).Delete(&Attempt{}).Error; err != nil {
			return fmt.Errorf("end attempt: %w", err)
		}
		res = tx.Model(&CardCode{}).Where("card_number = ? AND key = ? AND spent_at IS NULL", ch.CardNumber, ch.Key).
			Where("card_number IN (?)", tx.Model(&CodeCard{}).Select("card_number").Where("status = ?", CardActive)).
			Update("spent_at", in.At)
		if res.Error != nil {
			return fmt.Errorf("spend code: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrCodeSpent
		}
		cred := tx.Model(&Credential{}).Where("id = ? AND blocked_at IS NULL", ch.CredentialID)
		switch {
		case in.Reset != nil:
			// A reset's steps are for an active NemID, also one locked by
			// passwords: the code restores the budget, the lock stays.
			cred = cred.Where("status = ? AND (locked_at IS NULL OR lock_cause IS NULL OR lock_cause <> ?)", CredentialActive, LockByCode)
		case ch.Kind == ChallengeActivation:
			// Revoked meanwhile (the issuance ended): nothing to activate.
			cred = cred.Where("locked_at IS NULL AND status = ?", CredentialPending)
		default:
			cred = cred.Where("locked_at IS NULL AND status = ?", CredentialActive) // not revoked meanwhile
		}
		res = cred.Update("failed_attempts", 0)
		if res.Error != nil {
			return fmt.Errorf("reset failed attempts: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return credentialRefusal(tx, ch.CredentialID)
		}
		if err := tx.Model(&Challenge{}).Where("credential_id = ? AND status = ?", ch.CredentialID, ChallengeOpen).
			Updates(map[string]any{"status": ChallengeSuperseded, "closed_at": in.At}).Error; err != nil {
			return fmt.Errorf("supersede open challenges: %w", err)
		}
		if in.Reset != nil && ch.Kind == ChallengeReset {
			if err := openReset(tx, *in.Reset); err != nil {
				return err
			}
		}
		if in.Session != nil {
			in.Session.CredentialID = ch.CredentialID
			if err := tx.Create(in.Session).Error; err != nil {
				return fmt.Errorf("store session: %w", err)
			}
		}
		if in.Then != nil {
			return in.Then(tx)
		}
		return nil
	})
}

// credentialRefusal says why a credential refused a correct answer: locked,
// or (an activation) no longer pending.
func credentialRefusal(tx *gorm.DB, credentialID string) error {
	var c Credential
	if err := tx.Where("id = ?", credentialID).Take(&c).Error; err != nil {
		return fmt.Errorf("reload credential: %w", err)
	}
	if c.Blocked() {
		return ErrBlocked
	}
	if c.Locked() {
		return ErrLocked
	}
	return ErrChallengeClosed
}

// resetStep reports whether a challenge of kind is a step of a password
// reset: its code, or the activation of an active NemID (only a reset's
// temporary password opens one).
func resetStep(kind string, c Credential) bool {
	return kind == ChallengeReset || (kind == ChallengeActivation && c.Status == CredentialActive)
}

// ErrActivationUnknown: the activation a workflow records is not a
// succeeded activation challenge of the issuance's pending credential with
// a chosen password.
var ErrActivationUnknown = errors.New("no answered activation with a new password for this credential")

// activateCredential makes the issuance's pending credential active with the
// password its answered activation challenge chose, revokes the person's
// previous NemID (replacePrevious), and clears every
// password still waiting on the credential's challenges (one left by an
// activation whose Update never came). It runs inside the transaction that
// records the issuance active, so both are visible at once or not at all.
// A credential hashed by an API from before migration 8 already holds its
// password; the challenge then only names the activation, and a transition
// an older workflow scheduled names none.
func activateCredential(tx *gorm.DB, issuanceID, challengeID string, at time.Time) error {
	var cred Credential
	if err := tx.Where("issuance_id = ?", issuanceID).Take(&cred).Error; err != nil {
		return fmt.Errorf("load the credential of issuance %s: %w", issuanceID, notFound(err))
	}
	hash := cred.PasswordHash
	if challengeID != "" { // empty only in a transition scheduled before activations carried it
		var ch Challenge
		err := tx.Where("id = ? AND credential_id = ? AND kind = ? AND status = ?", challengeID, cred.ID, ChallengeActivation, ChallengeSucceeded).
			Take(&ch).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("activation %q of credential %s: %w", challengeID, cred.ID, ErrActivationUnknown)
		}
		if err != nil {
			return fmt.Errorf("load activation %s: %w", challengeID, err)
		}
		if ch.NewPasswordHash != nil {
			hash = ch.NewPasswordHash
		}
	}
	if hash == nil {
		return fmt.Errorf("activation %s of credential %s: %w", challengeID, cred.ID, ErrActivationUnknown)
	}
	if err := replacePrevious(tx, cred, at); err != nil {
		return err
	}
	res := tx.Model(&Credential{}).Where("id = ? AND status = ?", cred.ID, CredentialPending).
		Updates(map[string]any{"password_hash": *hash, "status": CredentialActive, "activated_at": at})
	if res.Error != nil {
		return fmt.Errorf("activate credential %s: %w", cred.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("activate credential %s: it is %s, not pending: %w", cred.ID, cred.Status, ErrActivationUnknown)
	}
	return forgetChosenPasswords(tx, cred.ID)
}

// forgetChosenPasswords clears the password hashes waiting on a credential's
// activation challenges: after its activation or revocation none is used.
func forgetChosenPasswords(tx *gorm.DB, credentialID string) error {
	err := tx.Model(&Challenge{}).Where("credential_id = ? AND new_password_hash IS NOT NULL", credentialID).
		Update("new_password_hash", nil).Error
	if err != nil {
		return fmt.Errorf("clear chosen passwords of credential %s: %w", credentialID, err)
	}
	return nil
}

// Unlock clears a credential's lock and failure count and records ev on
// its issuance's timeline. Open challenges are closed without counting, so
// one left behind cannot re-lock the credential as it expires. It reports
// whether the credential was locked. audit is appended in the same
// transaction.
func (s *Store) Unlock(ctx context.Context, credentialID string, ev Event, audit AuditEntry) (bool, error) {
	var wasLocked bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var c Credential
		if err := tx.Where("id = ?", credentialID).Take(&c).Error; err != nil {
			return notFound(err)
		}
		wasLocked = c.Locked()
		if err := tx.Model(&Challenge{}).Where("credential_id = ? AND status = ?", credentialID, ChallengeOpen).
			Updates(map[string]any{"status": ChallengeSuperseded, "closed_at": ev.At}).Error; err != nil {
			return fmt.Errorf("close open challenges: %w", err)
		}
		if err := tx.Model(&Credential{}).Where("id = ?", credentialID).
			Updates(map[string]any{"failed_attempts": 0, "locked_at": nil}).Error; err != nil {
			return fmt.Errorf("unlock: %w", err)
		}
		ev.IssuanceID = c.IssuanceID
		if err := tx.Create(&ev).Error; err != nil {
			return err
		}
		return AppendAudit(tx, audit)
	})
	return wasLocked, err
}

// EndSession ends one session (logout); ErrNotFound when it had already
// ended or expired.
func (s *Store) EndSession(ctx context.Context, tokenHash string, now time.Time) error {
	res := s.db.WithContext(ctx).Where("token_hash = ? AND expires_at > ?", tokenHash, now).Delete(&Session{})
	if res.Error != nil {
		return fmt.Errorf("end session: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// SessionByTokenHash loads an unexpired session.
func (s *Store) SessionByTokenHash(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	var sess Session
	err := s.db.WithContext(ctx).Where("token_hash = ? AND expires_at > ?", tokenHash, now).Take(&sess).Error
	return sess, notFound(err)
}

// CardUsage is one card of a credential with its count of unspent codes.
type CardUsage struct {
	CardNumber string
	Seq        int
	Status     string // CardActive or CardBlocked
	Unspent    int
}

// CardUsageOf lists a credential's cards, oldest first, with unspent counts.
func (s *Store) CardUsageOf(ctx context.Context, credentialID string) ([]CardUsage, error) {
	var rows []CardUsage
	err := s.db.WithContext(ctx).Table("code_cards AS c").
		Select("c.card_number AS card_number, c.seq AS seq, c.status AS status, COUNT(k.key) AS unspent").
		Joins("LEFT JOIN card_codes AS k ON k.card_number = c.card_number AND k.spent_at IS NULL").
		Where("c.credential_id = ?", credentialID).Group("c.card_number, c.seq, c.status").Order("c.seq").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count unspent codes: %w", err)
	}
	return rows, nil
}
