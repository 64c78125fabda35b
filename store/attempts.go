package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// AttemptLease is how long a secret check in flight holds its place in the
// failure budget. A check takes milliseconds; an attempt whose process died
// before it finished stops counting after this.
const AttemptLease = 30 * time.Second

// Errors of the attempt operations.
var (
	// ErrChallengeExpired: an answer arrived after its challenge's TTL.
	ErrChallengeExpired = errors.New("the challenge expired")
	// ErrAttemptsInFlight: the credential is not locked, but the checks in
	// flight could lock it; ask again once they have ended.
	ErrAttemptsInFlight = errors.New("secret checks in flight fill the failure budget")
)

// Attempt is one secret check in flight (a temporary password, a password
// or a code being verified). The lockout is decided when an attempt
// begins, not after the slow hash: failures counted plus attempts in flight
// may never exceed MaxFailedAttempts, so however many requests arrive at
// once, in however many API processes, at most three wrong secrets are ever
// verified before the credential locks.
type Attempt struct {
	ID           string `gorm:"primaryKey"`
	CredentialID string
	StartedAt    time.Time
}

func (Attempt) TableName() string { return "secret_attempts" }

// BeginAttempt reserves the right to verify one secret of a credential. It
// answers ErrBlocked when the credential is blocked, ErrLocked when it is
// locked, and ErrAttemptsInFlight
// when the failures counted and the attempts in flight already fill the
// budget (each of them may be the wrong secret that locks it): the caller
// waits for them to end and asks again.
func (s *Store) BeginAttempt(ctx context.Context, credentialID string, now time.Time) (string, error) {
	return s.beginAttemptFor(ctx, credentialID, now, ordinaryStep)
}

// Which step an attempt checks: a NemID locked by wrong passwords still
// takes a reset's code (one check at a time: it is what proves the card,
// and a wrong one locks by code for good) and, once the code has restored
// the failure budget, the reset's temporary password and activation.
type attemptStep int

const (
	ordinaryStep attemptStep = iota
	resetCodeStep
	resetActivationStep
)

// BeginResetAttempt is BeginAttempt for a step of a password reset (its
// code, the reset's temporary password): a NemID locked by wrong passwords
// may take it (DESIGN.md §6), one check at a time, within the budget the
// reset's code restored; one locked by a wrong code may not.
func (s *Store) BeginResetAttempt(ctx context.Context, credentialID string, now time.Time) (string, error) {
	return s.beginAttemptFor(ctx, credentialID, now, resetActivationStep)
}

func (s *Store) beginAttemptFor(ctx context.Context, credentialID string, now time.Time, step attemptStep) (string, error) {
	id := uuid.NewString()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return beginAttempt(tx, s.dialect, id, credentialID, now, step)
	})
	return id, err
}

func beginAttempt(tx *gorm.DB, dialect, id, credentialID string, now time.Time, step attemptStep) error {
	c, err := lockedCredential(tx, dialect, credentialID)
	if err != nil {
		return err
	}
	if c.Blocked() {
		return ErrBlocked
	}
	if c.Locked() && (step == ordinaryStep || !c.ResettableLock()) {
		return ErrLocked
	}
	if c.Locked() && step == resetActivationStep && c.FailedAttempts >= MaxFailedAttempts {
		return ErrLocked // only a reset's code restores the budget
	}
	if err := tx.Where("credential_id = ? AND started_at <= ?", credentialID, now.Add(-AttemptLease)).
		Delete(&Attempt{}).Error; err != nil {
		return fmt.Errorf("forget stale attempts: %w", err)
	}
	var inFlight int64
	if err := tx.Model(&Attempt{}).Where("credential_id = ?", credentialID).Count(&inFlight).Error; err != nil {
		return fmt.Errorf("count attempts in flight: %w", err)
	}
	failures := c.FailedAttempts
	if c.Locked() && step == resetCodeStep {
		failures = min(failures, MaxFailedAttempts-1) // one code at a time
	}
	if failures+int(inFlight) >= MaxFailedAttempts {
		return ErrAttemptsInFlight
	}
	if err := tx.Create(&Attempt{ID: id, CredentialID: credentialID, StartedAt: now}).Error; err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	return nil
}

// lockedCredential reads a credential inside a transaction that serialises
// every decision about it: Postgres takes its row lock; SQLite transactions
// are immediate and already hold the database's write lock.
func lockedCredential(tx *gorm.DB, dialect, credentialID string) (Credential, error) {
	var c Credential
	q := tx
	if dialect == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Where("id = ?", credentialID).Take(&c).Error; err != nil {
		return c, fmt.Errorf("lock credential: %w", notFound(err))
	}
	return c, nil
}

// PassAttempt ends an attempt whose secret was right (or that ended before
// any secret was judged): it stops holding a place in the budget, and
// nothing is counted.
func (s *Store) PassAttempt(ctx context.Context, attemptID string) error {
	if err := s.db.WithContext(ctx).Where("id = ?", attemptID).Delete(&Attempt{}).Error; err != nil {
		return fmt.Errorf("end attempt: %w", err)
	}
	return nil
}

// FailAttempt ends an attempt whose secret was wrong: one failure is
// counted, and the third in a row locks the credential and ends its
// sessions.
func (s *Store) FailAttempt(ctx context.Context, attemptID, credentialID string, now time.Time) (Credential, error) {
	var out Credential
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", attemptID).Delete(&Attempt{}).Error; err != nil {
			return fmt.Errorf("end attempt: %w", err)
		}
		if err := countFailures(tx, credentialID, 1, now, LockByPassword); err != nil {
			return err
		}
		return tx.Where("id = ?", credentialID).Take(&out).Error
	})
	return out, notFound(err)
}

// ClaimChallenge takes an open challenge for answering, so that exactly one
// answer is ever checked against its key: concurrent answers to one
// challenge get ErrChallengeClosed without their code being looked at. The
// claim also begins an attempt (see BeginAttempt), in the same transaction.
func (s *Store) ClaimChallenge(ctx context.Context, challengeID string, now time.Time) (string, error) {
	return s.claimChallenge(ctx, challengeID, now, ordinaryStep)
}

// ClaimResetChallenge is ClaimChallenge for the activation that follows a
// password reset: a NemID locked by wrong passwords may answer it.
func (s *Store) ClaimResetChallenge(ctx context.Context, challengeID string, now time.Time) (string, error) {
	return s.claimChallenge(ctx, challengeID, now, resetActivationStep)
}

func (s *Store) claimChallenge(ctx context.Context, challengeID string, now time.Time, step attemptStep) (string, error) {
	attemptID := uuid.NewString()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ch Challenge
		if err := tx.Where("id = ?", challengeID).Take(&ch).Error; err != nil {
			return notFound(err)
		}
		if ch.Kind == ChallengeReset {
			step = resetCodeStep
		}
		if err := beginAttempt(tx, s.dialect, attemptID, ch.CredentialID, now, step); err != nil {
			return err
		}
		res := tx.Model(&Challenge{}).Where("id = ? AND status = ? AND expires_at > ?", challengeID, ChallengeOpen, now).
			Update("status", ChallengeAnswering)
		if res.Error != nil {
			return fmt.Errorf("claim challenge: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			return nil
		}
		// The status read above may be stale (a concurrent answer claimed
		// it since); the expiry never changes.
		if !now.Before(ch.ExpiresAt) {
			return ErrChallengeExpired
		}
		return ErrChallengeClosed
	})
	return attemptID, err
}

// FailAnswer ends a claimed challenge answered with a wrong code: the
// challenge fails, and the failure is counted as in FailAttempt.
func (s *Store) FailAnswer(ctx context.Context, challengeID, attemptID string, now time.Time) (Credential, error) {
	var out Credential
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ch Challenge
		if err := tx.Where("id = ?", challengeID).Take(&ch).Error; err != nil {
			return notFound(err)
		}
		if err := tx.Model(&Challenge{}).Where("id = ? AND status = ?", challengeID, ChallengeAnswering).
			Updates(map[string]any{"status": ChallengeFailed, "closed_at": now}).Error; err != nil {
			return fmt.Errorf("fail challenge: %w", err)
		}
		if err := tx.Where("id = ?", attemptID).Delete(&Attempt{}).Error; err != nil {
			return fmt.Errorf("end attempt: %w", err)
		}
		if err := countFailures(tx, ch.CredentialID, 1, now, LockByCode); err != nil {
			return err
		}
		return tx.Where("id = ?", ch.CredentialID).Take(&out).Error
	})
	return out, notFound(err)
}

// DropAnswer ends a claimed challenge without judging the person: the right
// code, but spent meanwhile by a concurrent logon. Nothing is counted.
func (s *Store) DropAnswer(ctx context.Context, challengeID, attemptID string, now time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&Challenge{}).Where("id = ? AND status = ?", challengeID, ChallengeAnswering).
			Updates(map[string]any{"status": ChallengeSuperseded, "closed_at": now}).Error; err != nil {
			return fmt.Errorf("drop challenge: %w", err)
		}
		if err := tx.Where("id = ?", attemptID).Delete(&Attempt{}).Error; err != nil {
			return fmt.Errorf("end attempt: %w", err)
		}
		return nil
	})
}

// ReopenChallenge gives a claimed challenge back, untouched, when the answer
// was refused for a reason that says nothing about the code (the new
// password broke the policy, the issuance is not awaiting activation).
func (s *Store) ReopenChallenge(ctx context.Context, challengeID, attemptID string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&Challenge{}).Where("id = ? AND status = ?", challengeID, ChallengeAnswering).
			Update("status", ChallengeOpen).Error; err != nil {
			return fmt.Errorf("reopen challenge: %w", err)
		}
		if err := tx.Where("id = ?", attemptID).Delete(&Attempt{}).Error; err != nil {
			return fmt.Errorf("end attempt: %w", err)
		}
		return nil
	})
}
