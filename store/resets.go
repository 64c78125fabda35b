package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Letter kinds of the credential's later life (DESIGN.md §6).
const (
	KindExtraCard         = "extra_card"
	KindTemporaryPassword = "temporary_password"
)

// Password reset statuses. A reset is requested when its code is answered;
// its workflow prints the temporary password (open, or awaiting_pickup on
// the abroad path until the representation hands it over) and ends it
// activated, expired or superseded by a newer reset.
const (
	ResetRequested      = "requested"
	ResetAwaitingPickup = "awaiting_pickup"
	ResetOpen           = "open"
	ResetActivated      = "activated"
	ResetExpired        = "expired"
	ResetSuperseded     = "superseded"
	ResetRevoked        = "revoked" // the NemID was revoked (replaced, deceased) while the reset was open
)

// ErrResetClosed: the reset is no longer waiting for this step.
var ErrResetClosed = errors.New("the password reset is closed")

// PasswordReset is one forgotten-password reset. Its id is the id of the
// reset challenge whose code opened it. The temporary password is kept
// only as a keyed MAC, like the issuance's.
type PasswordReset struct {
	ID                   string `gorm:"primaryKey"`
	CredentialID         string
	Status               string
	TemporaryPasswordMAC *string `gorm:"column:temporary_password_mac"`
	LetterID             *string
	Representation       *string
	CreatedAt            time.Time
	ExpiresAt            time.Time
	PickedUpAt           *time.Time
	FeeDKK               *int `gorm:"column:fee_dkk"`
	Receipt              *string
	PickupActor          *string
	ClosedAt             *time.Time
}

func (PasswordReset) TableName() string { return "password_resets" }

// Waiting reports whether the reset may still be picked up or activated.
func (r PasswordReset) Waiting(now time.Time) bool {
	return (r.Status == ResetRequested || r.Status == ResetAwaitingPickup || r.Status == ResetOpen) && now.Before(r.ExpiresAt)
}

// openReset records a reset as its code is answered (inside Succeed).
func openReset(tx *gorm.DB, r PasswordReset) error {
	r.Status = ResetRequested
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&r).Error; err != nil {
		return fmt.Errorf("record password reset: %w", err)
	}
	return nil
}

// ResetByID loads a password reset.
func (s *Store) ResetByID(ctx context.Context, id string) (PasswordReset, error) {
	var r PasswordReset
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error
	return r, notFound(err)
}

// OpenResetOf is the credential's reset whose temporary password may be
// used now (printed, handed over on the abroad path, not expired);
// ErrNotFound when there is none.
func (s *Store) OpenResetOf(ctx context.Context, credentialID string, now time.Time) (PasswordReset, error) {
	var r PasswordReset
	err := s.db.WithContext(ctx).Where("credential_id = ? AND status = ? AND expires_at > ? AND temporary_password_mac IS NOT NULL",
		credentialID, ResetOpen, now).Order("created_at DESC").Take(&r).Error
	return r, notFound(err)
}

// ResetAwaitingPickupOf is the credential's reset whose sealed letter waits
// at the representation; ErrNotFound when there is none.
func (s *Store) ResetAwaitingPickupOf(ctx context.Context, credentialID string, now time.Time) (PasswordReset, error) {
	var r PasswordReset
	err := s.db.WithContext(ctx).Where("credential_id = ? AND status = ? AND expires_at > ?", credentialID, ResetAwaitingPickup, now).
		Order("created_at DESC").Take(&r).Error
	return r, notFound(err)
}

// ResetLetter is what printing a reset's temporary password writes.
type ResetLetter struct {
	ResetID string
	MAC     string // the temporary password's keyed MAC
	Status  string // ResetOpen, or ResetAwaitingPickup on the abroad path
	Letter  Letter
	Event   Event
}

// SaveResetLetter stores a reset's temporary password (its MAC) and queues
// its letter in one transaction, and supersedes every earlier reset of the
// credential still waiting: a new reset's temporary password replaces any
// earlier one. It answers the ids of the superseded resets (their
// workflows are told) and, on a retry, the letter already stored. A reset
// closed meanwhile (a newer one superseded it, or it expired) stores
// nothing: ErrResetClosed.
func (s *Store) SaveResetLetter(ctx context.Context, in ResetLetter) (string, []string, error) {
	if err := sealedOnly(in.Letter); err != nil {
		return "", nil, err
	}
	var letterID string
	var superseded []string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r PasswordReset
		if err := tx.Where("id = ?", in.ResetID).Take(&r).Error; err != nil {
			return notFound(err)
		}
		if _, err := lockedCredential(tx, s.dialect, r.CredentialID); err != nil {
			return err
		}
		if err := tx.Where("id = ?", in.ResetID).Take(&r).Error; err != nil {
			return notFound(err)
		}
		if err := tx.Model(&PasswordReset{}).Where("credential_id = ? AND created_at < ? AND status IN ?",
			r.CredentialID, r.CreatedAt, []string{ResetRequested, ResetAwaitingPickup, ResetOpen, ResetSuperseded}).
			Pluck("id", &superseded).Error; err != nil {
			return fmt.Errorf("list earlier resets: %w", err)
		}
		if r.LetterID != nil {
			letterID = *r.LetterID
			return nil
		}
		if r.Status != ResetRequested {
			return ErrResetClosed
		}
		if err := tx.Model(&PasswordReset{}).Where("credential_id = ? AND created_at < ? AND status IN ?",
			r.CredentialID, r.CreatedAt, []string{ResetRequested, ResetAwaitingPickup, ResetOpen}).
			Updates(map[string]any{"status": ResetSuperseded, "temporary_password_mac": nil, "closed_at": in.Event.At}).Error; err != nil {
			return fmt.Errorf("supersede earlier resets: %w", err)
		}
		if err := tx.Create(&in.Letter).Error; err != nil {
			return err
		}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&in.Event).Error; err != nil {
			return err
		}
		letterID = in.Letter.ID
		return tx.Model(&PasswordReset{}).Where("id = ?", r.ID).
			Updates(map[string]any{"status": in.Status, "temporary_password_mac": in.MAC, "letter_id": in.Letter.ID}).Error
	})
	if err != nil {
		return "", nil, err
	}
	return letterID, superseded, nil
}

// ResetPickup is a representation's confirmation that it handed a reset's
// sealed letter over, with the fee.
type ResetPickup struct {
	ResetID   string
	Actor     string
	ActorName *string // the confirming token's name, for the fees ledger
	FeeDKK    int
	Receipt   string
	At        time.Time
	Event     Event // its IssuanceID is the credential's issuance: the fee's
	// Audit, when set (Action not empty), is appended as the transaction's
	// last write (pickup_confirmed on the credential's issuance).
	Audit AuditEntry
}

// RecordResetPickup opens a reset awaiting pickup and records the fee on
// it and in the fees ledger (one fee per reset: ResetFeeID), with the
// event and the audit entry, once: a retry changes nothing.
func (s *Store) RecordResetPickup(ctx context.Context, p ResetPickup) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&PasswordReset{}).Where("id = ? AND status = ?", p.ResetID, ResetAwaitingPickup).
			Updates(map[string]any{"status": ResetOpen, "picked_up_at": p.At, "fee_dkk": p.FeeDKK, "receipt": p.Receipt, "pickup_actor": p.Actor})
		if res.Error != nil {
			return fmt.Errorf("record reset pickup: %w", res.Error)
		}
		var r PasswordReset
		if err := tx.Where("id = ?", p.ResetID).Take(&r).Error; err != nil {
			return notFound(err)
		}
		if res.RowsAffected == 0 {
			if r.PickedUpAt != nil {
				return nil
			}
			return ErrResetClosed
		}
		rep := ""
		if r.Representation != nil {
			rep = *r.Representation
		} else if err := tx.Model(&Issuance{}).Where("id = ?", p.Event.IssuanceID).
			Select("COALESCE(representation, '')").Scan(&rep).Error; err != nil {
			return fmt.Errorf("representation of issuance %s: %w", p.Event.IssuanceID, err)
		}
		resetID := p.ResetID
		fee := Fee{ID: ResetFeeID(p.ResetID), IssuanceID: p.Event.IssuanceID, ResetID: &resetID, Representation: rep,
			AmountDKK: p.FeeDKK, Receipt: p.Receipt, Actor: p.Actor, ActorName: p.ActorName, PaidAt: p.At}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&fee).Error; err != nil {
			return fmt.Errorf("record the fee of reset %s: %w", p.ResetID, err)
		}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&p.Event).Error; err != nil {
			return err
		}
		if p.Audit.Action == "" {
			return nil
		}
		return AppendAudit(tx, p.Audit)
	})
}

// ActivateReset makes the password the reset's activation chose the
// credential's, lifts a lock and resets the failure count, ends every
// session and open challenge, and closes the reset, with ev
// (password_changed), in one transaction. A retry after success changes
// nothing.
func (s *Store) ActivateReset(ctx context.Context, resetID, activationID string, ev Event) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r PasswordReset
		if err := tx.Where("id = ?", resetID).Take(&r).Error; err != nil {
			return notFound(err)
		}
		if r.Status == ResetActivated {
			return nil
		}
		if r.Status != ResetOpen {
			return ErrResetClosed
		}
		var ch Challenge
		err := tx.Where("id = ? AND credential_id = ? AND kind = ? AND status = ? AND new_password_hash IS NOT NULL",
			activationID, r.CredentialID, ChallengeActivation, ChallengeSucceeded).Take(&ch).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("activation %q of reset %s: %w", activationID, resetID, ErrActivationUnknown)
		}
		if err != nil {
			return fmt.Errorf("load activation %s: %w", activationID, err)
		}
		if err := tx.Model(&Credential{}).Where("id = ? AND status = ?", r.CredentialID, CredentialActive).
			Updates(map[string]any{"password_hash": *ch.NewPasswordHash, "failed_attempts": 0, "locked_at": nil, "lock_cause": nil}).Error; err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		if err := endAccess(tx, r.CredentialID, ev.At); err != nil {
			return err
		}
		if err := forgetChosenPasswords(tx, r.CredentialID); err != nil {
			return err
		}
		if err := tx.Model(&PasswordReset{}).Where("id = ?", r.ID).
			Updates(map[string]any{"status": ResetActivated, "temporary_password_mac": nil, "closed_at": ev.At}).Error; err != nil {
			return fmt.Errorf("close reset: %w", err)
		}
		return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ev).Error
	})
}

// CloseReset ends a reset that is still waiting as expired (its deadline
// passed) or superseded; its temporary password stops working.
func (s *Store) CloseReset(ctx context.Context, resetID, status string, at time.Time) error {
	err := s.db.WithContext(ctx).Model(&PasswordReset{}).
		Where("id = ? AND status IN ?", resetID, openResetStatuses).
		Updates(map[string]any{"status": status, "temporary_password_mac": nil, "closed_at": at}).Error
	if err != nil {
		return fmt.Errorf("close reset %s: %w", resetID, err)
	}
	return nil
}

// openResetStatuses are the statuses of a reset that can still lead to an
// activation.
var openResetStatuses = []string{ResetRequested, ResetAwaitingPickup, ResetOpen}
