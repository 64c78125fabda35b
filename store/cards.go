package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Card statuses (CodeCard.Status); "spent" is derived: no unspent code left.
const (
	CardActive  = "active"
	CardBlocked = "blocked"
)

// Card order kinds and statuses. A lost-card report and an extra card are
// orders the API records at once (the block and the limit are its
// decisions, DESIGN.md §3); a CardOrder workflow mints each order's card.
const (
	OrderLost  = "lost"
	OrderExtra = "extra"

	OrderQueued = "queued"
	OrderMinted = "minted"
	OrderVoid   = "void" // an extra card not yet minted when the cards were reported lost

	// MaxExtraCards is how many unspent extra cards a NemID may hold.
	MaxExtraCards = 3
)

// ErrTooManyExtraCards refuses a fourth unspent extra card.
var ErrTooManyExtraCards = errors.New("already 3 unspent extra cards")

// CardOrder is one card to mint for a credential: N counts the orders of
// its kind, so (credential, kind, n) names it and its workflow.
type CardOrder struct {
	ID           string `gorm:"primaryKey"`
	CredentialID string
	Kind         string
	N            int `gorm:"column:n"`
	Status       string
	CardNumber   *string
	LetterID     *string
	CreatedAt    time.Time
}

func (CardOrder) TableName() string { return "card_orders" }

// LostCardReport is what a lost-card report decided: the order whose card
// replaces the blocked ones (a new one, or the one still on its way when
// the report repeats) and every blocked card of the credential.
type LostCardReport struct {
	Order   CardOrder
	Blocked []string
	New     bool
}

// ReportLostCard blocks every card of a credential, ends the open
// challenges (they ask a key of a blocked card), voids extra cards not yet
// minted, records card_blocked and orders the new card, in one transaction
// on the credential's row. It also ends the attempt whose password proved
// the person, and resets the failure count (a success). A report made while
// the previous report's card has not been dispatched yet joins it: that
// card cannot have been lost, and concurrent reports order one card.
func (s *Store) ReportLostCard(ctx context.Context, credentialID, attemptID, orderID string, now time.Time) (LostCardReport, error) {
	var out LostCardReport
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := lockedCredential(tx, s.dialect, credentialID)
		if err != nil {
			return err
		}
		if err := tx.Where("id = ?", attemptID).Delete(&Attempt{}).Error; err != nil {
			return fmt.Errorf("end attempt: %w", err)
		}
		if c.Locked() {
			return ErrLocked
		}
		if err := tx.Model(&Credential{}).Where("id = ?", c.ID).Update("failed_attempts", 0).Error; err != nil {
			return fmt.Errorf("reset failed attempts: %w", err)
		}
		pending, err := pendingLostOrder(tx, c.ID)
		switch {
		case err == nil:
			out.Order = pending
		case errors.Is(err, ErrNotFound):
			if out.Order, err = blockAndOrder(tx, c, orderID, now); err != nil {
				return err
			}
			out.New = true
		default:
			return err
		}
		return tx.Model(&CodeCard{}).Where("credential_id = ? AND status = ?", c.ID, CardBlocked).
			Order("seq").Pluck("card_number", &out.Blocked).Error
	})
	return out, err
}

func blockAndOrder(tx *gorm.DB, c Credential, orderID string, now time.Time) (CardOrder, error) {
	var blocked []string
	if err := tx.Model(&CodeCard{}).Where("credential_id = ? AND status = ?", c.ID, CardActive).
		Order("seq").Pluck("card_number", &blocked).Error; err != nil {
		return CardOrder{}, fmt.Errorf("list cards to block: %w", err)
	}
	if err := tx.Model(&CodeCard{}).Where("credential_id = ? AND status = ?", c.ID, CardActive).
		Updates(map[string]any{"status": CardBlocked, "blocked_at": now}).Error; err != nil {
		return CardOrder{}, fmt.Errorf("block cards: %w", err)
	}
	if err := tx.Model(&Challenge{}).Where("credential_id = ? AND status = ?", c.ID, ChallengeOpen).
		Updates(map[string]any{"status": ChallengeSuperseded, "closed_at": now}).Error; err != nil {
		return CardOrder{}, fmt.Errorf("end open challenges: %w", err)
	}
	if err := tx.Model(&CardOrder{}).Where("credential_id = ? AND kind = ? AND status = ?", c.ID, OrderExtra, OrderQueued).
		Update("status", OrderVoid).Error; err != nil {
		return CardOrder{}, fmt.Errorf("void extra cards not yet minted: %w", err)
	}
	o, err := newOrder(tx, c.ID, OrderLost, orderID, now)
	if err != nil {
		return CardOrder{}, err
	}
	ev := Event{IssuanceID: c.IssuanceID, DedupeKey: fmt.Sprintf("card_blocked:%d", o.N), At: now, Type: "card_blocked",
		Actor: "citizen", Detail: fmt.Sprintf("code card(s) %v reported lost and blocked", blocked)}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ev).Error; err != nil {
		return CardOrder{}, fmt.Errorf("record card_blocked: %w", err)
	}
	return o, nil
}

func newOrder(tx *gorm.DB, credentialID, kind, id string, now time.Time) (CardOrder, error) {
	var last struct{ N int }
	if err := tx.Model(&CardOrder{}).Select("COALESCE(MAX(n), 0) AS n").Where("credential_id = ? AND kind = ?", credentialID, kind).
		Scan(&last).Error; err != nil {
		return CardOrder{}, fmt.Errorf("count %s card orders: %w", kind, err)
	}
	o := CardOrder{ID: id, CredentialID: credentialID, Kind: kind, N: last.N + 1, Status: OrderQueued, CreatedAt: now}
	if err := tx.Create(&o).Error; err != nil {
		return CardOrder{}, fmt.Errorf("order a %s card: %w", kind, err)
	}
	return o, nil
}

// pendingLostOrder is the credential's last lost-card order while its card
// is not minted or its letter not dispatched; ErrNotFound otherwise.
func pendingLostOrder(tx *gorm.DB, credentialID string) (CardOrder, error) {
	var o CardOrder
	err := tx.Where("credential_id = ? AND kind = ?", credentialID, OrderLost).Order("n DESC").Take(&o).Error
	if err != nil {
		return o, notFound(err)
	}
	if o.LetterID == nil {
		return o, nil
	}
	var l Letter
	if err := tx.Omit("pdf").Where("id = ?", *o.LetterID).Take(&l).Error; err != nil {
		return o, fmt.Errorf("load the lost-card letter: %w", notFound(err))
	}
	if l.Status == LetterQueued {
		return o, nil
	}
	return CardOrder{}, ErrNotFound
}

func awaitingNewCard(tx *gorm.DB, credentialID string) (bool, error) {
	_, err := pendingLostOrder(tx, credentialID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// AwaitingNewCard reports whether a credential's cards are blocked after a
// lost-card report whose new card's letter is not dispatched yet, and if
// so returns that order.
func (s *Store) AwaitingNewCard(ctx context.Context, credentialID string) (CardOrder, bool, error) {
	o, err := pendingLostOrder(s.db.WithContext(ctx), credentialID)
	if errors.Is(err, ErrNotFound) {
		return o, false, nil
	}
	return o, err == nil, err
}

// OrderExtraCard orders an extra card unless the credential already holds
// MaxExtraCards unspent ones (ordered, or minted with an unspent code on a
// card that is not blocked): decided in one transaction on the
// credential's row, so concurrent orders never pass the limit.
func (s *Store) OrderExtraCard(ctx context.Context, credentialID, orderID string, now time.Time) (CardOrder, error) {
	var out CardOrder
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockedCredential(tx, s.dialect, credentialID); err != nil {
			return err
		}
		var queued, unspent int64
		if err := tx.Model(&CardOrder{}).Where("credential_id = ? AND kind = ? AND status = ?", credentialID, OrderExtra, OrderQueued).
			Count(&queued).Error; err != nil {
			return fmt.Errorf("count extra cards ordered: %w", err)
		}
		if err := tx.Table("card_orders AS o").
			Joins("JOIN code_cards AS c ON c.card_number = o.card_number AND c.status = ?", CardActive).
			Where("o.credential_id = ? AND o.kind = ? AND o.status = ?", credentialID, OrderExtra, OrderMinted).
			Where("EXISTS (SELECT 1 FROM card_codes AS k WHERE k.card_number = c.card_number AND k.spent_at IS NULL)").
			Count(&unspent).Error; err != nil {
			return fmt.Errorf("count unspent extra cards: %w", err)
		}
		if queued+unspent >= MaxExtraCards {
			return ErrTooManyExtraCards
		}
		var err error
		out, err = newOrder(tx, credentialID, OrderExtra, orderID, now)
		return err
	})
	return out, err
}

// CardOrderByID loads a card order.
func (s *Store) CardOrderByID(ctx context.Context, id string) (CardOrder, error) {
	var o CardOrder
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&o).Error
	return o, notFound(err)
}

// OrderedCard is an order's card with its codes, letter and event.
type OrderedCard struct {
	OrderID string
	Card    CodeCard // Seq is assigned here
	Codes   []CardCode
	Letter  Letter
	Event   Event
}

// ErrOrderVoid: the order was voided (a lost-card report came first).
var ErrOrderVoid = errors.New("the card order was voided")

// SaveOrderedCard stores an order's card and queues its letter in one
// transaction on the credential's row, as the next card (seq) of the
// credential. A retry finds the order minted and returns its card and
// letter. A voided order stores nothing (ErrOrderVoid).
func (s *Store) SaveOrderedCard(ctx context.Context, oc OrderedCard) (CardOrder, error) {
	if err := sealedOnly(oc.Letter); err != nil {
		return CardOrder{}, err
	}
	var out CardOrder
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockedCredential(tx, s.dialect, oc.Card.CredentialID); err != nil {
			return err
		}
		if err := tx.Where("id = ?", oc.OrderID).Take(&out).Error; err != nil {
			return notFound(err)
		}
		switch out.Status {
		case OrderMinted:
			return nil
		case OrderVoid:
			return ErrOrderVoid
		}
		var last struct{ Seq int }
		if err := tx.Model(&CodeCard{}).Select("COALESCE(MAX(seq), 0) AS seq").Where("credential_id = ?", oc.Card.CredentialID).
			Scan(&last).Error; err != nil {
			return fmt.Errorf("find the newest card: %w", err)
		}
		oc.Card.Seq, oc.Card.Status = last.Seq+1, CardActive
		if err := tx.Create(&oc.Card).Error; err != nil {
			return err
		}
		if err := tx.CreateInBatches(oc.Codes, 200).Error; err != nil {
			return err
		}
		if err := tx.Create(&oc.Letter).Error; err != nil {
			return err
		}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&oc.Event).Error; err != nil {
			return err
		}
		out.Status, out.CardNumber, out.LetterID = OrderMinted, &oc.Card.CardNumber, &oc.Letter.ID
		return tx.Model(&CardOrder{}).Where("id = ?", out.ID).
			Updates(map[string]any{"status": OrderMinted, "card_number": oc.Card.CardNumber, "letter_id": oc.Letter.ID}).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return CardOrder{}, ErrCardNumberTaken // a card number, or a seq a replacement took meanwhile: draw again
	}
	return out, err
}
