package store

import (
	"context"
	"errors"
	"hash/fnv"
	"time"

	"gorm.io/gorm"
)

// WitnessStatement is a sworn statement accepted with an application. It
// counts toward the witness's limit from acceptance on, whatever happens to
// the issuance later, so it is never deleted with a cancellation.
type WitnessStatement struct {
	ID             int64 `gorm:"primaryKey"`
	WitnessCPRHash string
	IssuanceID     string
	AcceptedAt     time.Time
}

func (WitnessStatement) TableName() string { return "witness_statements" }

// ErrWitnessLimit is returned when accepting a statement would break the limit.
var ErrWitnessLimit = errors.New("the witness has reached the limit of statements")

// ErrWitnessUnknown is returned when the register holds no living person
// under the witness's CPR lookup hash.
var ErrWitnessUnknown = errors.New("the register holds no living person with the witness's CPR number")

// CountWitnessStatements counts statements accepted strictly after since
// (domain.WitnessWindowStart of the application: a statement accepted at
// instant t counts against applications made before t + 120 × 24 h),
// except the one recorded for issuance except (a retried application must
// not count its own statement against itself; "" excludes nothing).
func (s *Store) CountWitnessStatements(ctx context.Context, witnessHash string, since time.Time, except string) (int, error) {
	return countStatements(s.db.WithContext(ctx).Where("issuance_id <> ?", except), witnessHash, since)
}

func countStatements(db *gorm.DB, witnessHash string, since time.Time) (int, error) {
	var n int64
	err := db.Model(&WitnessStatement{}).Where("witness_cpr_hash = ? AND accepted_at > ?", witnessHash, since.UTC()).Count(&n).Error
	return int(n), err
}

// RecordWitnessStatement returns a function for CreateIssuance's transaction
// that checks the witness is a living person in the register, re-counts
// under a lock and records the statement, so two concurrent applications
// cannot both take a witness's last place, and a register change since the
// API's check is seen. The register's lookup hashes must be filled
// (PersonByCPRHash does that) before the transaction.
func (s *Store) RecordWitnessStatement(st WitnessStatement, since time.Time, limit int) TxStep {
	return func(tx *gorm.DB) error {
		if s.dialect == "postgres" {
			h := fnv.New64a()
			h.Write([]byte(st.WitnessCPRHash))
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", int64(h.Sum64())).Error; err != nil {
				return err
			}
		}
		var living int64
		if err := tx.Model(&Person{}).Where("cpr_hash = ? AND deceased = ?", st.WitnessCPRHash, false).Count(&living).Error; err != nil {
			return err
		}
		if living == 0 {
			return ErrWitnessUnknown
		}
		n, err := countStatements(tx, st.WitnessCPRHash, since)
		if err != nil {
			return err
		}
		if n >= limit {
			return ErrWitnessLimit
		}
		return tx.Create(&st).Error
	}
}
