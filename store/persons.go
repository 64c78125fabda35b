package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// Person is a row of the built-in CPR register. Address lines are joined
// with newlines; ArrivedDK is "YYYY-MM-DD" or empty for people born in Denmark.
type Person struct {
	CPR                  string `gorm:"column:cpr;primaryKey"`
	Name                 string
	Address              string
	Postcode             string
	City                 string
	Country              string
	AddressProtected     bool
	Deceased             bool
	DanishPassport       string
	DanishDrivingLicence string
	ArrivedDK            string `gorm:"column:arrived_dk"`
	UpdatedAt            time.Time
}

// UpsertPersons inserts or replaces register rows by CPR, in one transaction.
func (s *Store) UpsertPersons(ctx context.Context, people []Person) error {
	if len(people) == 0 {
		return nil
	}
	return s.db.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).CreateInBatches(people, 500).Error
}

// PersonByCPR looks a person up in the register; ErrNotFound when absent.
func (s *Store) PersonByCPR(ctx context.Context, cpr string) (Person, error) {
	var p Person
	err := s.db.WithContext(ctx).Where("cpr = ?", cpr).Take(&p).Error
	return p, notFound(err)
}

// CountPersons tells whether the register is empty.
func (s *Store) CountPersons(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Person{}).Count(&n).Error
	return n, err
}

func (Person) TableName() string { return "persons" }
