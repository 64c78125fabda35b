package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Fee is what a representation took for handing over an abroad password:
// one per decision, keyed by ID, so a retried pickup never records a second
// payment. The pickup of an abroad issuance's password has the issuance's
// id as its ID; the pickup of an abroad password reset's temporary password
// has ResetFeeID(reset id) and ResetID set, with the credential's issuance
// as IssuanceID.
type Fee struct {
	ID             string `gorm:"primaryKey"`
	IssuanceID     string
	ResetID        *string
	Representation string
	AmountDKK      int `gorm:"column:amount_dkk"`
	Receipt        string
	Actor          string
	ActorName      *string // the confirming token's name
	PaidAt         time.Time
}

func (Fee) TableName() string { return "fees" }

// ResetFeeID is the ID of the fee of a password reset's pickup.
func ResetFeeID(resetID string) string { return "reset:" + resetID }

// FeeOf loads the fee paid at the pickup of an issuance's password (not a
// later reset's), or ErrNotFound.
func (s *Store) FeeOf(ctx context.Context, issuanceID string) (Fee, error) {
	var f Fee
	err := s.db.WithContext(ctx).Where("id = ?", issuanceID).Take(&f).Error
	return f, notFound(err)
}

// ResetFeeOf loads the fee paid at the pickup of a password reset's
// temporary password, or ErrNotFound.
func (s *Store) ResetFeeOf(ctx context.Context, resetID string) (Fee, error) {
	var f Fee
	err := s.db.WithContext(ctx).Where("id = ?", ResetFeeID(resetID)).Take(&f).Error
	return f, notFound(err)
}

// FeeFilter selects fees for the ledger. Zero fields do not restrict.
type FeeFilter struct {
	Representation string
	// From and Until bound PaidAt: From <= paid_at < Until.
	From, Until time.Time
	// After is the last fee of the previous page (keyset paging, newest
	// first: by paid_at, then the fee's id, both descending).
	After *FeeCursor
	Limit int
}

// FeeCursor is where a page of the ledger ends.
type FeeCursor struct {
	PaidAt time.Time
	ID     string // the fee's ID (for a fee of an issuance's pickup, its issuance id)
}

// FeePage is one page of the ledger, with the total and the count of the
// whole filtered range (not only the page).
type FeePage struct {
	Items    []Fee
	More     bool
	TotalDKK int64
	Count    int64
}

// ListFees reads the fees ledger: one page, newest first, and the sum and
// count over every fee the filter selects. Both are read in one
// transaction that sees one snapshot, so the page and the totals agree.
func (s *Store) ListFees(ctx context.Context, f FeeFilter) (FeePage, error) {
	var page FeePage
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		filtered := func() *gorm.DB {
			q := tx.Model(&Fee{})
			if f.Representation != "" {
				q = q.Where("representation = ?", f.Representation)
			}
			if !f.From.IsZero() {
				q = q.Where("paid_at >= ?", f.From.UTC())
			}
			if !f.Until.IsZero() {
				q = q.Where("paid_at < ?", f.Until.UTC())
			}
			return q
		}
		var sum struct {
			Total int64
			Count int64
		}
		if err := filtered().Select("COALESCE(SUM(amount_dkk), 0) AS total, COUNT(*) AS count").Scan(&sum).Error; err != nil {
			return fmt.Errorf("sum the fees: %w", err)
		}
		page.TotalDKK, page.Count = sum.Total, sum.Count
		q := filtered()
		if f.After != nil {
			at := f.After.PaidAt.UTC()
			q = q.Where("paid_at < ? OR (paid_at = ? AND id < ?)", at, at, f.After.ID)
		}
		if err := q.Order("paid_at DESC, id DESC").Limit(f.Limit + 1).Find(&page.Items).Error; err != nil {
			return fmt.Errorf("list the fees: %w", err)
		}
		if len(page.Items) > f.Limit {
			page.Items, page.More = page.Items[:f.Limit], true
		}
		return nil
	}, s.snapshot())
	return page, err
}

// snapshot is the options of a read-only transaction whose statements all
// see one snapshot: REPEATABLE READ on Postgres; SQLite's one connection
// and its transaction lock give that already.
func (s *Store) snapshot() *sql.TxOptions {
	if s.dialect == "postgres" {
		return &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	return nil
}
