package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Credential states as the contract shows them (credential_status).
const (
	StateBlocked = "blocked"
	StateLocked  = "locked"
)

// Errors of the credential's later life.
var (
	ErrBlocked         = errors.New("the credential is blocked")
	ErrNotActive       = errors.New("the credential is not active")
	ErrPasswordChanged = errors.New("the password changed meanwhile")
)

// Blocked reports whether the person or support has blocked the NemID.
func (c Credential) Blocked() bool { return c.BlockedAt != nil }

// State is the credential as the contract shows it (DESIGN.md §4
// credential_status): revoked wins, then blocked, then locked, then its
// status (pending or active).
func (c Credential) State() string {
	switch {
	case c.Status == CredentialRevoked:
		return CredentialRevoked
	case c.Blocked():
		return StateBlocked
	case c.Locked():
		return StateLocked
	}
	return c.Status
}

// CardSpent is the derived state of a card with no unspent code left.
const CardSpent = "spent"

// State is a card's state as the contract shows it (DESIGN.md §6):
// blocked after a lost-card report, spent when none of its codes is left,
// otherwise active.
func (u CardUsage) State() string {
	switch {
	case u.Status == CardBlocked:
		return CardBlocked
	case u.Unspent == 0:
		return CardSpent
	}
	return CardActive
}

// Block blocks a credential and records ev on its issuance's timeline, in
// one transaction: from its commit every logon, activation and answer is
// refused (ErrBlocked), every session and open challenge has ended. The
// credential's row is updated first, so on Postgres a logon's transaction
// that holds it finishes before the sessions are ended, and one that comes
// after sees the block. Blocking a blocked credential records nothing and
// reports false. A revoked credential is ErrCredentialRevoked. audit is
// appended with a block that happened.
func (s *Store) Block(ctx context.Context, credentialID string, ev Event, audit AuditEntry) (bool, error) {
	var blocked bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Credential{}).Where("id = ? AND blocked_at IS NULL AND status <> ?", credentialID, CredentialRevoked).
			Update("blocked_at", ev.At)
		if res.Error != nil {
			return fmt.Errorf("block credential: %w", res.Error)
		}
		c, err := lockedCredential(tx, s.dialect, credentialID)
		if err != nil {
			return err
		}
		if c.Status == CredentialRevoked {
			return ErrCredentialRevoked
		}
		if err := endAccess(tx, credentialID, ev.At); err != nil {
			return err
		}
		if res.RowsAffected == 0 {
			return nil
		}
		blocked = true
		ev.IssuanceID = c.IssuanceID
		if err := tx.Create(&ev).Error; err != nil {
			return err
		}
		return AppendAudit(tx, audit)
	})
	return blocked, err
}

// Unblock lifts a block and a lock, resets the failure count and records ev,
// in one transaction. Open challenges were ended by the block; any left are
// closed uncounted. It reports whether the credential was blocked; audit
// is appended in the same transaction.
func (s *Store) Unblock(ctx context.Context, credentialID string, ev Event, audit AuditEntry) (bool, error) {
	var wasBlocked bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := lockedCredential(tx, s.dialect, credentialID)
		if err != nil {
			return err
		}
		if c.Status == CredentialRevoked {
			return ErrCredentialRevoked
		}
		wasBlocked = c.Blocked()
		if err := tx.Model(&Challenge{}).Where("credential_id = ? AND status = ?", credentialID, ChallengeOpen).
			Updates(map[string]any{"status": ChallengeSuperseded, "closed_at": ev.At}).Error; err != nil {
			return fmt.Errorf("close open challenges: %w", err)
		}
		if err := tx.Model(&Credential{}).Where("id = ?", credentialID).
			Updates(map[string]any{"blocked_at": nil, "locked_at": nil, "failed_attempts": 0}).Error; err != nil {
			return fmt.Errorf("unblock: %w", err)
		}
		ev.IssuanceID = c.IssuanceID
		if err := tx.Create(&ev).Error; err != nil {
			return err
		}
		return AppendAudit(tx, audit)
	})
	return wasBlocked, err
}

// PasswordChange is a verified change of an active credential's password.
type PasswordChange struct {
	CredentialID string
	AttemptID    string // the attempt whose current password was right
	Verified     string // the hash the current password was verified against
	NewHash      string
	KeepSession  string // the token hash of the session that asked: it stays
	Event        Event
}

// ChangePassword ends the attempt, stores the new hash (only if the
// credential still holds the verified one: ErrPasswordChanged otherwise),
// resets the failure count, ends every other session and the open
// challenges (opened with the old password), and records the event, in one
// transaction. A block, lock or revocation that won the race refuses it,
// as does a session that ended meanwhile (ErrNotFound).
func (s *Store) ChangePassword(ctx context.Context, pc PasswordChange) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := lockedCredential(tx, s.dialect, pc.CredentialID)
		if err != nil {
			return err
		}
		if err := tx.Where("id = ?", pc.AttemptID).Delete(&Attempt{}).Error; err != nil {
			return fmt.Errorf("end attempt: %w", err)
		}
		switch {
		case c.Status != CredentialActive:
			return ErrNotActive
		case c.Blocked():
			return ErrBlocked
		case c.Locked():
			return ErrLocked
		}
		var n int64
		if err := tx.Model(&Session{}).Where("token_hash = ? AND credential_id = ?", pc.KeepSession, c.ID).Count(&n).Error; err != nil {
			return fmt.Errorf("find the asking session: %w", err)
		}
		if n == 0 {
			return ErrNotFound
		}
		res := tx.Model(&Credential{}).Where("id = ? AND password_hash = ?", c.ID, pc.Verified).
			Updates(map[string]any{"password_hash": pc.NewHash, "failed_attempts": 0})
		if res.Error != nil {
			return fmt.Errorf("store the new password: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrPasswordChanged
		}
		if err := tx.Where("credential_id = ? AND token_hash <> ?", c.ID, pc.KeepSession).Delete(&Session{}).Error; err != nil {
			return fmt.Errorf("end the other sessions: %w", err)
		}
		if err := tx.Model(&Challenge{}).Where("credential_id = ? AND status = ?", c.ID, ChallengeOpen).
			Updates(map[string]any{"status": ChallengeSuperseded, "closed_at": pc.Event.At}).Error; err != nil {
			return fmt.Errorf("close open challenges: %w", err)
		}
		ev := pc.Event
		ev.IssuanceID = c.IssuanceID
		return tx.Create(&ev).Error
	})
}

// CurrentCredentialOf is a person's current NemID: the active one, or else
// the newest one being issued; ErrNotFound when every one is revoked.
func (s *Store) CurrentCredentialOf(ctx context.Context, cprHash string) (Credential, error) {
	var c Credential
	err := s.db.WithContext(ctx).Where("cpr_hash = ? AND status <> ?", cprHash, CredentialRevoked).
		Order(fmt.Sprintf("CASE WHEN status = '%s' THEN 0 ELSE 1 END, created_at DESC, id DESC", CredentialActive)).
		Take(&c).Error
	return c, notFound(err)
}

// CredentialStates answers the credential_status of each issuance that has
// a credential, for a page of issuances.
func (s *Store) CredentialStates(ctx context.Context, issuanceIDs []string) (map[string]string, error) {
	out := map[string]string{}
	if len(issuanceIDs) == 0 {
		return out, nil
	}
	var creds []Credential
	if err := s.db.WithContext(ctx).Select("id", "issuance_id", "status", "locked_at", "blocked_at").
		Where("issuance_id IN ?", issuanceIDs).Find(&creds).Error; err != nil {
		return nil, fmt.Errorf("load credential states: %w", err)
	}
	for _, c := range creds {
		out[c.IssuanceID] = c.State()
	}
	return out, nil
}

// SessionCredential is the session of a token with its credential.
func (s *Store) SessionCredential(ctx context.Context, tokenHash string, now time.Time) (Session, Credential, error) {
	sess, err := s.SessionByTokenHash(ctx, tokenHash, now)
	if err != nil {
		return sess, Credential{}, err
	}
	cred, err := s.CredentialByID(ctx, sess.CredentialID)
	return sess, cred, err
}
