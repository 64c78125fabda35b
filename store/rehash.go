package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// cprHashColumns are every column that holds a CPR lookup hash.
var cprHashColumns = []struct{ table, column string }{
	{"persons", "cpr_hash"},
	{"issuances", "cpr_hash"},
	{"credentials", "cpr_hash"},
	{"witness_statements", "witness_cpr_hash"},
	{"abroad_order_windows", "cpr_hash"},
}

// RehashCPRs rewrites every CPR lookup hash after the lookup key changed:
// for each person in the register, rows under hash(old key) move to
// hash(new key). It runs offline (no API or worker may write meanwhile),
// one transaction per batch of people, and is safe to run again: a hash
// already rewritten no longer matches its old value. The rate-limit
// buckets, keyed by the same key, are emptied (they hold nothing that
// lasts). It answers how many rows changed.
func (s *Store) RehashCPRs(ctx context.Context, rehash func(cpr string) (from, to string, err error)) (int64, error) {
	const batch = 500
	var changed int64
	last := ""
	for {
		var cprs []string
		if err := s.db.WithContext(ctx).Model(&Person{}).Where("cpr > ?", last).Order("cpr").Limit(batch).
			Pluck("cpr", &cprs).Error; err != nil {
			return changed, fmt.Errorf("list the register: %w", err)
		}
		if len(cprs) == 0 {
			break
		}
		last = cprs[len(cprs)-1]
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for _, cpr := range cprs {
				from, to, err := rehash(cpr)
				if err != nil {
					return fmt.Errorf("hash a CPR of the register: %w", err)
				}
				if from == to {
					continue
				}
				for _, c := range cprHashColumns {
					res := tx.Exec("UPDATE "+c.table+" SET "+c.column+" = ? WHERE "+c.column+" = ?", to, from)
					if res.Error != nil {
						return fmt.Errorf("rehash %s.%s: %w", c.table, c.column, res.Error)
					}
					changed += res.RowsAffected
				}
			}
			return nil
		})
		if err != nil {
			return changed, err
		}
	}
	if err := s.db.WithContext(ctx).Exec("DELETE FROM rate_buckets").Error; err != nil {
		return changed, fmt.Errorf("empty rate buckets: %w", err)
	}
	return changed, nil
}
