package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/opennemid/nemid/internal/letterkeys"
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
// secret is printed, so it is stored only sealed under a key of its own
// that lives outside the database (package letterkeys): the key is
// destroyed at dispatch or handover, which makes every copy of the sealed
// bytes (old row versions, WAL, backups) unreadable, and the column is
// purged too. PDFSHA256 is the digest of the sealed bytes, evidence of what
// was stored; a digest of the plaintext would let anyone with the database
// and the letter's printed context try all 10^6 temporary passwords.
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

// RecipientOf decodes the address block. It was written from a Recipient,
// so an error means the row is damaged: callers refuse to guess an address.
func (l Letter) RecipientOf() (Recipient, error) {
	var r Recipient
	if err := json.Unmarshal([]byte(l.Recipient), &r); err != nil {
		return Recipient{}, fmt.Errorf("decode the recipient of letter %s: %w", l.ID, err)
	}
	return r, nil
}

// ErrGone is returned for a letter whose PDF has been purged.
var ErrGone = errors.New("gone")

// ErrUnsealed refuses a letter whose PDF is not sealed (package letterkeys):
// a printed secret is never written to the database readable.
var ErrUnsealed = errors.New("a letter PDF must be sealed before it is stored")

func sealedOnly(letters ...Letter) error {
	for _, l := range letters {
		if l.PDF != nil && !letterkeys.IsSealed(l.PDF) {
			return fmt.Errorf("letter %s (%s): %w", l.ID, l.Kind, ErrUnsealed)
		}
	}
	return nil
}

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
// reports the letter as it is. actorName names the post token on the
// timeline event; audit is appended with the move, in its
// transaction; a repeat, which changes nothing, appends nothing.
func (s *Store) MarkDispatched(ctx context.Context, id string, at time.Time, actorName *string, audit AuditEntry) (Letter, error) {
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
				Actor: "post:post", ActorName: actorName, Detail: l.Kind + " letter " + l.ID + " dispatched"}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ev).Error; err != nil {
				return err
			}
			if err := AppendAudit(tx, audit); err != nil {
				return err
			}
			l.Status, l.DispatchedAt = LetterDispatched, &at
		}
		out = l
		return nil
	})
	return out, err
}

// HeldHandoverDocument loads the handover document of an issuance with its
// sealed PDF: ErrNotFound when the issuance has none (it is delivered by
// letters), ErrGone when it was already handed over or purged.
func (s *Store) HeldHandoverDocument(ctx context.Context, issuanceID string) (Letter, error) {
	var l Letter
	if err := s.db.WithContext(ctx).Where("issuance_id = ? AND kind = ?", issuanceID, KindHandover).Take(&l).Error; err != nil {
		return l, notFound(err)
	}
	if l.Status != LetterHeld || l.PDF == nil {
		return l, ErrGone
	}
	return l, nil
}

// MarkHandedOver records that the held handover document was printed and
// purges it, with audit (the document fetched) in the same transaction.
// Only one caller succeeds; the others get ErrGone and append nothing, so
// the document is served exactly once and audited once.
func (s *Store) MarkHandedOver(ctx context.Context, letterID string, at time.Time, audit AuditEntry) error {
	return s.Audited(ctx, audit, func(tx *gorm.DB) error {
		res := tx.Model(&Letter{}).Where("id = ? AND kind = ? AND status = ?", letterID, KindHandover, LetterHeld).
			Updates(map[string]any{"status": LetterHandedOver, "pdf": nil, "dispatched_at": at})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrGone
		}
		return nil
	})
}

// HeldHandoverLetterIDs lists an issuance's handover documents still held
// (not yet printed), whose keys a revocation destroys.
func (s *Store) HeldHandoverLetterIDs(ctx context.Context, issuanceID string) ([]string, error) {
	var ids []string
	err := s.db.WithContext(ctx).Model(&Letter{}).Where("issuance_id = ? AND kind = ? AND status = ?", issuanceID, KindHandover, LetterHeld).
		Order("id").Pluck("id", &ids).Error
	return ids, err
}

// StoredLetterIDs reports which of ids are letters in the database. An
// activity whose store failed or lost a race destroys the keys it created
// for letters that were not stored, and only those.
func (s *Store) StoredLetterIDs(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	var found []string
	if err := s.db.WithContext(ctx).Model(&Letter{}).Where("id IN ?", ids).Pluck("id", &found).Error; err != nil {
		return nil, err
	}
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}

// SealPlaintextLetters seals the PDFs stored before letters were sealed
// (a database from an earlier version): each gets a key of its own and its
// column the sealed bytes. It returns how many it sealed; run it again and
// it seals none. The plaintext may survive in old row versions, the WAL and
// backups taken before; those need a VACUUM and rotation of their own.
func (s *Store) SealPlaintextLetters(ctx context.Context, keys *letterkeys.Dir) (int, error) {
	var ids []string
	if err := s.db.WithContext(ctx).Model(&Letter{}).Where("pdf IS NOT NULL").Order("id").Pluck("id", &ids).Error; err != nil {
		return 0, fmt.Errorf("list stored letters: %w", err)
	}
	n := 0
	for _, id := range ids {
		var l Letter
		err := s.db.WithContext(ctx).Where("id = ?", id).Take(&l).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("load letter %s: %w", id, err)
		}
		if l.PDF == nil || letterkeys.IsSealed(l.PDF) {
			continue
		}
		// A plaintext letter has no key in use: one left by an interrupted
		// earlier run is stale.
		if err := keys.Destroy(l.ID); err != nil {
			return n, err
		}
		sealed, err := keys.Seal(l.ID, l.PDF)
		if err != nil {
			return n, err
		}
		sum := sha256.Sum256(sealed)
		res := s.db.WithContext(ctx).Model(&Letter{}).Where("id = ? AND pdf = ?", l.ID, l.PDF).
			Updates(map[string]any{"pdf": sealed, "pdf_sha256": hex.EncodeToString(sum[:])})
		if res.Error != nil {
			return n, fmt.Errorf("seal letter %s: %w", l.ID, res.Error) // the key may be in use now: keep it
		}
		if res.RowsAffected == 0 { // dispatched meanwhile
			if err := keys.Destroy(l.ID); err != nil {
				return n, err
			}
			continue
		}
		n++
	}
	return n, nil
}

// QueueLetter adds a letter and its timeline event once and answers the id
// of the letter stored under its dedupe key: this one, or the one an
// earlier or concurrent attempt stored (the insert does nothing then, so a
// race is no error and never answers an id that was not stored).
func (s *Store) QueueLetter(ctx context.Context, l Letter, ev Event) (string, error) {
	if err := sealedOnly(l); err != nil {
		return "", err
	}
	var id string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "dedupe_key"}}, DoNothing: true}).Create(&l)
		if res.Error != nil {
			return fmt.Errorf("queue %s letter: %w", l.Kind, res.Error)
		}
		if res.RowsAffected == 1 {
			id = l.ID
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ev).Error; err != nil {
				return fmt.Errorf("record %s: %w", ev.Type, err)
			}
			return nil
		}
		var stored Letter
		if err := tx.Omit("pdf").Where("dedupe_key = ?", l.DedupeKey).Take(&stored).Error; err != nil {
			return fmt.Errorf("find the %s letter queued before: %w", l.Kind, err)
		}
		id = stored.ID
		return nil
	})
	return id, err
}
