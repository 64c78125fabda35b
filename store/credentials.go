package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Credential statuses.
const (
	CredentialPending = "pending" // minted, not yet activated
	CredentialActive  = "active"
	CredentialRevoked = "revoked"
)

// Credential is a NemID: the user ID (NemID number) and the hashes that
// verify its secrets. Nothing here is readable: the temporary password is a
// keyed MAC and the password an argon2id hash.
type Credential struct {
	ID                   string `gorm:"primaryKey"`
	IssuanceID           string
	UserID               string
	CPRHash              string `gorm:"column:cpr_hash"`
	TemporaryPasswordMAC string `gorm:"column:temporary_password_mac"`
	PasswordHash         *string
	Status               string
	FailedAttempts       int
	LockedAt             *time.Time
	// LockCause is what made the last failure that counts toward the lock:
	// LockByPassword (a password or temporary password) or LockByCode. A
	// NemID locked by passwords can still be reset (DESIGN.md §6).
	LockCause   *string
	CreatedAt   time.Time
	ActivatedAt *time.Time
	// BlockedAt is set while the person or support has blocked the NemID
	// (independent of a lock: unlock never lifts it).
	BlockedAt     *time.Time
	RevokedAt     *time.Time
	RevokedReason *string
}

func (Credential) TableName() string { return "credentials" }

// CodeCard is one printed card of a credential; Seq 1 is the first card,
// later ones are replacements.
type CodeCard struct {
	CardNumber   string `gorm:"primaryKey"`
	CredentialID string
	Seq          int
	CreatedAt    time.Time
	// Status is CardActive or CardBlocked (a lost-card report); a blocked
	// card's keys are never asked again.
	Status    string `gorm:"default:active"`
	BlockedAt *time.Time
}

func (CodeCard) TableName() string { return "code_cards" }

// CardCode is one key/code pair, kept as a keyed MAC of the code.
type CardCode struct {
	CardNumber string `gorm:"primaryKey"`
	Key        string `gorm:"primaryKey"`
	CodeMAC    string `gorm:"column:code_mac"`
	SpentAt    *time.Time
}

func (CardCode) TableName() string { return "card_codes" }

// Minted is everything one minting writes, in one transaction.
type Minted struct {
	Credential Credential
	Card       CodeCard
	Codes      []CardCode
	Letters    []Letter
	Events     []Event
}

// ErrAlreadyMinted is returned when the issuance already has its credential.
var ErrAlreadyMinted = errors.New("credentials already minted for this issuance")

// ErrUserIDTaken is returned when a freshly drawn NemID number or card
// number collides with an existing one; the caller draws again.
var ErrUserIDTaken = errors.New("NemID number or card number already taken")

// SaveMinted stores a new credential with its card, codes, letters and
// events atomically. The unique issuance_id makes a second minting for the
// same issuance fail with ErrAlreadyMinted instead of creating a second card.
func (s *Store) SaveMinted(ctx context.Context, m Minted) error {
	if err := sealedOnly(m.Letters...); err != nil {
		return err
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Credential{}).Where("issuance_id = ?", m.Credential.IssuanceID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return ErrAlreadyMinted
		}
		if err := tx.Create(&m.Credential).Error; err != nil {
			return err
		}
		if err := tx.Create(&m.Card).Error; err != nil {
			return err
		}
		if err := tx.CreateInBatches(m.Codes, 200).Error; err != nil {
			return err
		}
		if len(m.Letters) > 0 {
			if err := tx.Create(&m.Letters).Error; err != nil {
				return err
			}
		}
		for _, ev := range m.Events {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ev).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		var n int64
		if cerr := s.db.WithContext(ctx).Model(&Credential{}).Where("issuance_id = ?", m.Credential.IssuanceID).Count(&n).Error; cerr == nil && n > 0 {
			return ErrAlreadyMinted
		}
		return ErrUserIDTaken
	}
	return err
}

// CredentialOfIssuance loads the credential minted for an issuance.
func (s *Store) CredentialOfIssuance(ctx context.Context, issuanceID string) (Credential, error) {
	var c Credential
	err := s.db.WithContext(ctx).Where("issuance_id = ?", issuanceID).Take(&c).Error
	return c, notFound(err)
}

// CardsOf lists a credential's cards, oldest first.
func (s *Store) CardsOf(ctx context.Context, credentialID string) ([]CodeCard, error) {
	var cards []CodeCard
	err := s.db.WithContext(ctx).Where("credential_id = ?", credentialID).Order("seq").Find(&cards).Error
	return cards, err
}

// RehashPassword replaces a credential's password hash with one made under
// the current pepper key, only if it still holds the hash that was verified
// (a concurrent password change wins).
func (s *Store) RehashPassword(ctx context.Context, credentialID, verified, rehashed string) error {
	err := s.db.WithContext(ctx).Model(&Credential{}).Where("id = ? AND password_hash = ?", credentialID, verified).
		Update("password_hash", rehashed).Error
	if err != nil {
		return fmt.Errorf("rehash password: %w", err)
	}
	return nil
}
