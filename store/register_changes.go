package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Kinds of register change that act on credentials and issuances
// (DESIGN.md §6).
const (
	ChangeDeceased         = "deceased"          // the person died: revoke, reject open issuances
	ChangeAddressProtected = "address_protected" // later letters go care of the issuing centre
)

// RegisterChange is one change the register import found for a person,
// waiting (AppliedAt nil) until the worker's sweep has acted on it. The
// CPR is register data, kept beside the register row it changed.
type RegisterChange struct {
	ID         int64  `gorm:"primaryKey"`
	CPR        string `gorm:"column:cpr"`
	Kind       string
	RecordedAt time.Time
	AppliedAt  *time.Time
}

func (RegisterChange) TableName() string { return "register_changes" }

// ImportPersons upserts register rows by CPR and, in the same transaction,
// records the changes that must act on NemIDs: a known person newly
// deceased, or newly under address protection. A crash leaves both or
// neither, so no change is lost; importing the same file again finds no
// change. A person new to the register has no NemID and records nothing.
func (s *Store) ImportPersons(ctx context.Context, people []Person, now time.Time) ([]RegisterChange, error) {
	var changes []RegisterChange
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		before := map[string]Person{}
		for i := 0; i < len(people); i += 500 {
			cprs := make([]string, 0, 500)
			for _, p := range people[i:min(i+500, len(people))] {
				cprs = append(cprs, p.CPR)
			}
			var rows []Person
			if err := tx.Where("cpr IN ?", cprs).Find(&rows).Error; err != nil {
				return fmt.Errorf("read the register rows being replaced: %w", err)
			}
			for _, r := range rows {
				before[r.CPR] = r
			}
		}
		for _, p := range people {
			old, known := before[p.CPR]
			if !known {
				continue
			}
			if p.Deceased && !old.Deceased {
				changes = append(changes, RegisterChange{CPR: p.CPR, Kind: ChangeDeceased, RecordedAt: now})
			}
			if p.AddressProtected && !old.AddressProtected {
				changes = append(changes, RegisterChange{CPR: p.CPR, Kind: ChangeAddressProtected, RecordedAt: now})
			}
		}
		if len(people) > 0 {
			if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).CreateInBatches(people, 500).Error; err != nil {
				return fmt.Errorf("upsert register rows: %w", err)
			}
		}
		if len(changes) > 0 {
			if err := tx.Create(&changes).Error; err != nil {
				return fmt.Errorf("record register changes: %w", err)
			}
		}
		return nil
	})
	return changes, err
}

// PendingRegisterChanges lists up to limit changes not yet applied, oldest
// first.
func (s *Store) PendingRegisterChanges(ctx context.Context, limit int) ([]RegisterChange, error) {
	var out []RegisterChange
	err := s.db.WithContext(ctx).Where("applied_at IS NULL").Order("id").Limit(limit).Find(&out).Error
	return out, err
}

// RegisterChangeByID loads one change.
func (s *Store) RegisterChangeByID(ctx context.Context, id int64) (RegisterChange, error) {
	var c RegisterChange
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&c).Error
	return c, notFound(err)
}

// MarkRegisterChangeApplied records that a change has acted; again is a no-op.
func (s *Store) MarkRegisterChangeApplied(ctx context.Context, id int64, at time.Time) error {
	err := s.db.WithContext(ctx).Model(&RegisterChange{}).Where("id = ? AND applied_at IS NULL", id).Update("applied_at", at).Error
	if err != nil {
		return fmt.Errorf("mark register change %d applied: %w", id, err)
	}
	return nil
}
