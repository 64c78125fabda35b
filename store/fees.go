package store

import (
	"context"
	"time"
)

// Fee is what a representation took for handing over an abroad password:
// one per issuance, so a retried pickup never records a second payment.
type Fee struct {
	IssuanceID     string `gorm:"primaryKey"`
	Representation string
	AmountDKK      int `gorm:"column:amount_dkk"`
	Receipt        string
	Actor          string
	ActorName      *string // the confirming token's name
	PaidAt         time.Time
}

func (Fee) TableName() string { return "fees" }

// FeeOf loads the fee paid for an issuance, or ErrNotFound.
func (s *Store) FeeOf(ctx context.Context, issuanceID string) (Fee, error) {
	var f Fee
	err := s.db.WithContext(ctx).Where("issuance_id = ?", issuanceID).Take(&f).Error
	return f, notFound(err)
}
