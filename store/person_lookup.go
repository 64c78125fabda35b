package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// backfillBatch bounds one transaction of the lookup-hash backfill.
const backfillBatch = 500

// PersonByCPRHash finds a register row by the keyed lookup hash that
// issuances and credentials carry instead of the CPR (the citizen side
// knows a person only by that hash). The hash column of persons is filled
// lazily: rows imported since the last lookup have none, so a miss hashes
// those rows (and only those) with hashOf and looks again. The register
// import does not need the hash key this way, and re-importing a person
// keeps their hash, because UpsertPersons never writes the column.
func (s *Store) PersonByCPRHash(ctx context.Context, cprHash string, hashOf func(cpr string) (string, error)) (Person, error) {
	p, err := s.personByHash(ctx, cprHash)
	if !errors.Is(err, ErrNotFound) {
		return p, err
	}
	if err := s.backfillCPRHashes(ctx, hashOf); err != nil {
		return Person{}, err
	}
	return s.personByHash(ctx, cprHash)
}

func (s *Store) personByHash(ctx context.Context, cprHash string) (Person, error) {
	var p Person
	err := s.db.WithContext(ctx).Where("cpr_hash = ?", cprHash).Take(&p).Error
	return p, notFound(err)
}

func (s *Store) backfillCPRHashes(ctx context.Context, hashOf func(cpr string) (string, error)) error {
	for {
		var cprs []string
		if err := s.db.WithContext(ctx).Model(&Person{}).Where("cpr_hash IS NULL").Limit(backfillBatch).
			Pluck("cpr", &cprs).Error; err != nil {
			return fmt.Errorf("list register rows without a lookup hash: %w", err)
		}
		if len(cprs) == 0 {
			return nil
		}
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for _, cpr := range cprs {
				h, err := hashOf(cpr)
				if err != nil {
					h = "unparseable" // never matches a hash; keeps the row from being retried forever
				}
				if err := tx.Model(&Person{}).Where("cpr = ?", cpr).UpdateColumn("cpr_hash", h).Error; err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("fill register lookup hashes: %w", err)
		}
	}
}
