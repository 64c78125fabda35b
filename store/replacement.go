package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Replacement is one replacement card: the card, its codes' MACs, its
// letter and the timeline event, written together.
type Replacement struct {
	Card   CodeCard
	Codes  []CardCode
	Letter Letter
	Event  Event
}

// ErrCardNumberTaken is returned when a freshly drawn card number collides;
// the caller draws again.
var ErrCardNumberTaken = errors.New("card number already taken")

// SaveReplacement stores a replacement card and queues its letter in one
// transaction: a card whose letter is lost could never be printed again,
// since its codes exist only as MACs. The (credential_id, seq) unique
// constraint makes a second card for the same seq impossible; then the card
// and letter already stored are returned instead, so a retried activity
// changes nothing.
func (s *Store) SaveReplacement(ctx context.Context, r Replacement) (CodeCard, string, error) {
	if err := sealedOnly(r.Letter); err != nil {
		return CodeCard{}, "", err
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The credential's row is held until the commit, so a revocation
		// either comes first (and nothing is made) or withdraws this letter.
		c, err := lockedCredential(tx, s.dialect, r.Card.CredentialID)
		if err != nil {
			return err
		}
		if c.Status == CredentialRevoked {
			return ErrCredentialRevoked
		}
		var made int64
		if err := tx.Model(&Letter{}).Where("dedupe_key = ?", r.Letter.DedupeKey).Count(&made).Error; err != nil {
			return fmt.Errorf("look for the replacement letter: %w", err)
		}
		if made > 0 {
			return gorm.ErrDuplicatedKey // an earlier attempt made it: return that one
		}
		if err := replacementNeeded(tx, r.Card.CredentialID, r.Card.Seq); err != nil {
			return err
		}
		r.Card.Status = CardActive
		if err := tx.Create(&r.Card).Error; err != nil {
			return err
		}
		if err := tx.CreateInBatches(r.Codes, 200).Error; err != nil {
			return err
		}
		if err := tx.Create(&r.Letter).Error; err != nil {
			return err
		}
		return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&r.Event).Error
	})
	if err == nil {
		return r.Card, r.Letter.ID, nil
	}
	if errors.Is(err, ErrCredentialRevoked) || errors.Is(err, ErrReplacementNotNeeded) {
		return CodeCard{}, "", err
	}
	if !errors.Is(err, gorm.ErrDuplicatedKey) {
		return CodeCard{}, "", fmt.Errorf("save replacement card: %w", err)
	}
	card, letterID, ferr := s.existingReplacement(ctx, r)
	if errors.Is(ferr, ErrNotFound) {
		return CodeCard{}, "", ErrCardNumberTaken
	}
	return card, letterID, ferr
}

func (s *Store) existingReplacement(ctx context.Context, r Replacement) (CodeCard, string, error) {
	var card CodeCard
	if err := s.db.WithContext(ctx).Where("credential_id = ? AND seq = ?", r.Card.CredentialID, r.Card.Seq).Take(&card).Error; err != nil {
		return CodeCard{}, "", notFound(err)
	}
	var l Letter
	if err := s.db.WithContext(ctx).Omit("pdf").Where("dedupe_key = ?", r.Letter.DedupeKey).Take(&l).Error; err != nil {
		return CodeCard{}, "", fmt.Errorf("load the replacement letter of card %s: %w", card.CardNumber, notFound(err))
	}
	return card, l.ID, nil
}

// ErrReplacementNotNeeded: since the replacement was started, the card it
// replaces was blocked (a lost-card report, whose own new card replaces
// it) or another card (a lost-card or extra card) took its place.
var ErrReplacementNotNeeded = errors.New("the replacement card is no longer needed")

// replacementNeeded checks, on the credential's locked row, that card seq
// is still to be made: the card before it is not blocked, no other card
// took seq, and no lost-card card is on its way.
func replacementNeeded(tx *gorm.DB, credentialID string, seq int) error {
	var prev CodeCard
	err := tx.Where("credential_id = ? AND seq = ?", credentialID, seq-1).Take(&prev).Error
	if err != nil {
		return fmt.Errorf("load card %d: %w", seq-1, notFound(err))
	}
	var later int64
	if err := tx.Model(&CodeCard{}).Where("credential_id = ? AND seq >= ?", credentialID, seq).Count(&later).Error; err != nil {
		return fmt.Errorf("look for later cards: %w", err)
	}
	pending, err := awaitingNewCard(tx, credentialID)
	if err != nil {
		return err
	}
	if prev.Status == CardBlocked || later > 0 || pending {
		return ErrReplacementNotNeeded
	}
	return nil
}
