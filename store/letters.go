package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Letter kinds and statuses. A handover document is kept as a letter that
// never enters the post: it waits (held) until the caseworker prints it.
const (
	KindCodeCard        = "code_card"
	KindPassword        = "password"
	KindReplacementCard = "replacement_card"
	KindReminder        = "reminder"
	KindHandover        = "handover"

	LetterQueued     = "queued"
	LetterDispatched = "dispatched"
	LetterHeld       = "held"
	LetterHandedOver = "handed_over"
)

// Recipient is a letter's address block.
type Recipient struct {
	Name     string   `json:"name"`
	Lines    []string `json:"lines"`
	Postcode string   `json:"postcode"`
	City     string   `json:"city"`
	Country  string   `json:"country"`
}

// Letter is one printed document in the outbox. The PDF is the only place a
// secret is readable, so it is purged once dispatched (or handed over);
// PDFSHA256 remains as evidence of what was sent.
type Letter struct {
	ID           string `gorm:"primaryKey"`
	IssuanceID   string
	Kind         string
	Status       string
	DedupeKey    string
	Recipient    string // JSON of Recipient
	PDF          []byte `gorm:"column:pdf"`
	PDFSHA256    string `gorm:"column:pdf_sha256"`
	CreatedAt    time.Time
	DispatchedAt *time.Time
}

func (Letter) TableName() string { return "letters" }

// RecipientOf decodes the address block.
func (l Letter) RecipientOf() Recipient {
	var r Recipient
	_ = json.Unmarshal([]byte(l.Recipient), &r) // written by us from a Recipient
	return r
}

// ErrGone is returned for a letter whose PDF has been purged.
var ErrGone = errors.New("gone")

// LetterFilter selects a page of postal letters.
type LetterFilter struct {
	Status string
	After  string
	Limit  int
}

// ListLetters pages postal letters oldest first, so the provider drains the
// queue in order; held handover documents never appear.
func (s *Store) ListLetters(ctx context.Context, f LetterFilter) ([]Letter, bool, error) {
	q := s.db.WithContext(ctx).Omit("pdf").Where("kind <> ?", KindHandover)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.After != "" {
		q = q.Where("id > ?", f.After)
	}
	var rows []Letter
	if err := q.Order("id").Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return nil, false, err
	}
	more := len(rows) > f.Limit
	if more {
		rows = rows[:f.Limit]
	}
	return rows, more, nil
}

// PostalLetter loads a postal letter with its PDF, if still there.
func (s *Store) PostalLetter(ctx context.Context, id string) (Letter, error) {
	var l Letter
	err := s.db.WithContext(ctx).Where("id = ? AND kind <> ?", id, KindHandover).Take(&l).Error
	return l, notFound(err)
}

// LettersOfIssuance lists an issuance's letters without their PDFs.
func (s *Store) LettersOfIssuance(ctx context.Context, issuanceID string) ([]Letter, error) {
	var rows []Letter
	err := s.db.WithContext(ctx).Omit("pdf").Where("issuance_id = ?", issuanceID).Order("id").Find(&rows).Error
	return rows, err
}

// MarkDispatched records that the provider posted a letter: the PDF is
// purged and a timeline event written, once. A repeat changes nothing and
// reports the letter as it is.
func (s *Store) MarkDispatched(ctx context.Context, id string, at time.Time) (Letter, error) {
	var out Letter
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var l Letter
		if err := tx.Omit("pdf").Where("id = ? AND kind <> ?", id, KindHandover).Take(&l).Error; err != nil {
			return notFound(err)
		}
		if l.Status == LetterQueued {
			res := tx.Model(&Letter{}).Where("id = ? AND status = ?", id, LetterQueued).
				Updates(map[string]any{"status": LetterDispatched, "pdf": nil, "dispatched_at": at})
			if res.Error != nil {
				return res.Error
			}
			ev := Event{IssuanceID: l.IssuanceID, DedupeKey: "letter_dispatched:" + l.ID, At: at, Type: "letter_dispatched",
				Actor: "post:post", Detail: l.Kind + " letter " + l.ID + " dispatched"}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ev).Error; err != nil {
				return err
			}
			l.Status, l.DispatchedAt = LetterDispatched, &at
		}
		out = l
		return nil
	})
	return out, err
}

// TakeHandoverDocument returns the held handover PDF of an issuance and
// purges it in the same transaction, so it can be printed exactly once.
func (s *Store) TakeHandoverDocument(ctx context.Context, issuanceID string, at time.Time) ([]byte, error) {
	var pdf []byte
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var l Letter
		if err := tx.Where("issuance_id = ? AND kind = ?", issuanceID, KindHandover).Take(&l).Error; err != nil {
			return notFound(err)
		}
		if l.Status != LetterHeld || l.PDF == nil {
			return ErrGone
		}
		res := tx.Model(&Letter{}).Where("id = ? AND status = ?", l.ID, LetterHeld).
			Updates(map[string]any{"status": LetterHandedOver, "pdf": nil, "dispatched_at": at})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrGone
		}
		pdf = l.PDF
		return nil
	})
	return pdf, err
}

// QueueLetter adds a letter and its timeline event once: a letter with the
// same dedupe key already there is returned instead.
func (s *Store) QueueLetter(ctx context.Context, l Letter, ev Event) (string, error) {
	id := l.ID
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var existing Letter
		err := tx.Omit("pdf").Where("dedupe_key = ?", l.DedupeKey).Take(&existing).Error
		if err == nil {
			id = existing.ID
			return nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		if err := tx.Create(&l).Error; err != nil {
			return err
		}
		return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ev).Error
	})
	return id, err
}
