package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Why a credential was revoked (credentials.revoked_reason).
const (
	RevokedEnded    = "issuance_ended" // its issuance ended unused: expired, cancelled or rejected
	RevokedReplaced = "replaced"       // the person activated a newer NemID
	RevokedDeceased = "deceased"       // the register records the person's death
)

// LetterWithdrawn is a queued letter that a revocation took out of the
// post before it was dispatched: its PDF is purged and its key destroyed.
const LetterWithdrawn = "withdrawn"

// Revocation is one revocation to record: the credential, why, when, and
// the timeline event on its issuance (none when the issuance's own end
// explains it).
type Revocation struct {
	CredentialID string
	Reason       string
	At           time.Time
	Event        *Event
}

// revoke is the one revocation of a credential, inside the caller's
// transaction: the credential becomes revoked (for good: nothing moves it
// back), its sessions, open challenges and password resets end, passwords
// waiting on its activations are forgotten, its queued letters are
// withdrawn and a held
// handover document is purged. The caller destroys the withdrawn letters'
// keys (WithdrawnLetterIDs). Revoking a revoked credential records nothing
// new and ends whatever access is left, so a retry is harmless. It reports
// whether this call revoked it.
func revoke(tx *gorm.DB, r Revocation) (bool, error) {
	var cred Credential
	if err := tx.Where("id = ?", r.CredentialID).Take(&cred).Error; err != nil {
		return false, fmt.Errorf("load credential %s to revoke: %w", r.CredentialID, notFound(err))
	}
	res := tx.Model(&Credential{}).Where("id = ? AND status <> ?", cred.ID, CredentialRevoked).
		Updates(map[string]any{"status": CredentialRevoked, "revoked_at": r.At, "revoked_reason": r.Reason})
	if res.Error != nil {
		return false, fmt.Errorf("revoke credential %s: %w", cred.ID, res.Error)
	}
	if err := endAccess(tx, cred.ID, r.At); err != nil {
		return false, err
	}
	if err := forgetChosenPasswords(tx, cred.ID); err != nil {
		return false, err
	}
	if err := tx.Model(&PasswordReset{}).Where("credential_id = ? AND status IN ?", cred.ID, openResetStatuses).
		Updates(map[string]any{"status": ResetRevoked, "temporary_password_mac": nil, "closed_at": r.At}).Error; err != nil {
		return false, fmt.Errorf("end the password resets of credential %s: %w", cred.ID, err)
	}
	if err := tx.Model(&Letter{}).Where("issuance_id = ? AND kind <> ? AND status = ?", cred.IssuanceID, KindHandover, LetterQueued).
		Updates(map[string]any{"status": LetterWithdrawn, "pdf": nil}).Error; err != nil {
		return false, fmt.Errorf("withdraw the queued letters of credential %s: %w", cred.ID, err)
	}
	if err := tx.Model(&Letter{}).Where("issuance_id = ? AND kind = ? AND status = ?", cred.IssuanceID, KindHandover, LetterHeld).
		Updates(map[string]any{"status": LetterHandedOver, "pdf": nil}).Error; err != nil {
		return false, fmt.Errorf("purge the handover document of credential %s: %w", cred.ID, err)
	}
	revoked := res.RowsAffected == 1
	if revoked && r.Event != nil {
		ev := *r.Event
		ev.IssuanceID = cred.IssuanceID
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ev).Error; err != nil {
			return false, fmt.Errorf("record %s: %w", ev.Type, err)
		}
	}
	return revoked, nil
}

// RevokeCredential revokes an issuance's unactivated credential as its
// issuance ends unused (expired, cancelled, rejected); the issuance's own
// end event explains it. An active credential is left alone. The caller
// destroys the keys of held and queued letters first (LetterIDsToPurge)
// and of the withdrawn ones after (WithdrawnLetterIDs).
func (s *Store) RevokeCredential(ctx context.Context, issuanceID string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ids []string
		if err := tx.Model(&Credential{}).Where("issuance_id = ? AND status <> ?", issuanceID, CredentialActive).
			Pluck("id", &ids).Error; err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := revoke(tx, Revocation{CredentialID: id, Reason: RevokedEnded, At: time.Now().UTC()}); err != nil {
				return err
			}
		}
		return nil
	})
}

// RevokeCredentialsOf revokes every credential of a person (by CPR lookup
// hash) that is not revoked yet, for reason, recording eventType on each
// one's issuance. It answers the issuances whose credential it revoked.
func (s *Store) RevokeCredentialsOf(ctx context.Context, cprHash, reason, eventType, detail string, at time.Time) ([]string, error) {
	var issuances []string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var creds []Credential
		if err := tx.Where("cpr_hash = ? AND status <> ?", cprHash, CredentialRevoked).Order("id").Find(&creds).Error; err != nil {
			return fmt.Errorf("list the person's credentials: %w", err)
		}
		for _, c := range creds {
			ev := &Event{DedupeKey: eventType, At: at, Type: eventType, Actor: "system", Detail: detail}
			done, err := revoke(tx, Revocation{CredentialID: c.ID, Reason: reason, At: at, Event: ev})
			if err != nil {
				return err
			}
			if done {
				issuances = append(issuances, c.IssuanceID)
			}
		}
		return nil
	})
	return issuances, err
}

// replacePrevious revokes the person's other active NemID as a new one is
// activated, inside the activation's transaction, so at no moment are two
// active (and the partial unique index credentials_one_active_per_cpr
// refuses it should two activations race).
func replacePrevious(tx *gorm.DB, cred Credential, at time.Time) error {
	var olds []Credential
	if err := tx.Where("cpr_hash = ? AND status = ? AND id <> ?", cred.CPRHash, CredentialActive, cred.ID).Find(&olds).Error; err != nil {
		return fmt.Errorf("find the NemID this one replaces: %w", err)
	}
	for _, old := range olds {
		ev := &Event{DedupeKey: "credential_replaced", At: at, Type: "credential_replaced", Actor: "system",
			Detail: "replaced by the NemID of issuance " + cred.IssuanceID + ", activated; this one is revoked"}
		if _, err := revoke(tx, Revocation{CredentialID: old.ID, Reason: RevokedReplaced, At: at, Event: ev}); err != nil {
			return err
		}
	}
	return nil
}

// LettersToWithdraw lists the letters a revocation of the person's
// credentials (or of one issuance's) would withdraw or purge: queued
// postal letters and held handover documents. Their keys are destroyed
// before the revocation, so a failure in between leaves letters that are
// already unreadable.
func (s *Store) LettersToWithdraw(ctx context.Context, issuanceIDs []string) ([]string, error) {
	return s.letterIDsWhere(ctx, issuanceIDs, "(kind <> ? AND status = ?) OR (kind = ? AND status = ?)",
		KindHandover, LetterQueued, KindHandover, LetterHeld)
}

// WithdrawnLetterIDs lists the withdrawn letters of issuances, whose keys
// are destroyed after the revocation too: one queued between the listing
// and the revocation was withdrawn with the rest. Destroying a key twice is
// harmless.
func (s *Store) WithdrawnLetterIDs(ctx context.Context, issuanceIDs []string) ([]string, error) {
	return s.letterIDsWhere(ctx, issuanceIDs, "status = ?", LetterWithdrawn)
}

func (s *Store) letterIDsWhere(ctx context.Context, issuanceIDs []string, cond string, args ...any) ([]string, error) {
	if len(issuanceIDs) == 0 {
		return nil, nil
	}
	var ids []string
	err := s.db.WithContext(ctx).Model(&Letter{}).Where("issuance_id IN ?", issuanceIDs).Where(cond, args...).
		Order("id").Pluck("id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("list letters: %w", err)
	}
	return ids, nil
}

// IssuancesOfPerson lists the issuances of a CPR lookup hash that have a
// credential, newest first.
func (s *Store) IssuancesOfPerson(ctx context.Context, cprHash string) ([]string, error) {
	var ids []string
	err := s.db.WithContext(ctx).Model(&Credential{}).Where("cpr_hash = ?", cprHash).Order("issuance_id DESC").
		Pluck("issuance_id", &ids).Error
	return ids, err
}

// OpenIssuancesOf lists a person's pending issuances.
func (s *Store) OpenIssuancesOf(ctx context.Context, cprHash string) ([]string, error) {
	var ids []string
	err := s.db.WithContext(ctx).Model(&Issuance{}).Where("cpr_hash = ? AND status NOT IN ?", cprHash, finalStatuses).
		Order("id").Pluck("id", &ids).Error
	return ids, err
}

// ErrCredentialRevoked: the credential was revoked; nothing more is made
// or posted for it.
var ErrCredentialRevoked = errors.New("the credential is revoked")
