package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// IdempotencyKey remembers the first answer to a POST carrying an
// Idempotency-Key. StatusCode 0 means the first request is still running.
type IdempotencyKey struct {
	Principal    string `gorm:"primaryKey"`
	Key          string `gorm:"primaryKey"`
	Method       string
	Path         string
	RequestHash  string
	StatusCode   int
	ResponseBody []byte
	CreatedAt    time.Time
}

// IdempotencyKeyTTL is how long a key is remembered (DESIGN.md §9): an
// older key is treated as unused, and its row replaced.
const IdempotencyKeyTTL = 24 * time.Hour

// IdempotencyPendingTTL is how long a claim may stay pending (no answer
// stored) before it counts as abandoned: the process that made it died
// mid-request (DESIGN.md §10), or could not release it because the
// database was down. A retry after that runs the request again instead of
// answering 409 for a day; the request's own rules (one open issuance per
// CPR, idempotent dispatch) keep a second run from doing anything twice.
const IdempotencyPendingTTL = 30 * time.Second

// claimSQL inserts a pending claim, or takes over the key's row when it has
// expired or was abandoned pending; a live row is left alone, and the
// statement then changes nothing.
const claimSQL = `
INSERT INTO idempotency_keys (principal, key, method, path, request_hash, status_code, response_body, created_at)
VALUES (?, ?, ?, ?, ?, 0, NULL, ?)
ON CONFLICT (principal, key) DO UPDATE SET
	method = excluded.method, path = excluded.path, request_hash = excluded.request_hash,
	status_code = 0, response_body = NULL, created_at = excluded.created_at
WHERE idempotency_keys.created_at <= ? OR (idempotency_keys.status_code = 0 AND idempotency_keys.created_at <= ?)`

// ClaimIdempotencyKey inserts a pending claim, replacing a row older than
// IdempotencyKeyTTL. When a live row holds the key it returns that row and
// claimed=false.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, k IdempotencyKey) (IdempotencyKey, bool, error) {
	k.CreatedAt = time.Now().UTC()
	k.StatusCode, k.ResponseBody = 0, nil
	db := s.db.WithContext(ctx)
	// A live row can be released (deleted) between the claim and reading
	// it; then the key is free and the claim is tried again.
	for range 3 {
		res := db.Exec(claimSQL, k.Principal, k.Key, k.Method, k.Path, k.RequestHash, k.CreatedAt,
			k.CreatedAt.Add(-IdempotencyKeyTTL), k.CreatedAt.Add(-IdempotencyPendingTTL))
		if res.Error != nil {
			return IdempotencyKey{}, false, res.Error
		}
		if res.RowsAffected > 0 {
			return k, true, nil
		}
		var existing IdempotencyKey
		err := db.Where("principal = ? AND key = ?", k.Principal, k.Key).Take(&existing).Error
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return existing, false, err
		}
	}
	return IdempotencyKey{}, false, fmt.Errorf("claim idempotency key: released and taken again repeatedly")
}

// DeleteExpiredIdempotencyKeys removes keys older than IdempotencyKeyTTL
// at now; ClaimIdempotencyKey already treats them as unused.
func (s *Store) DeleteExpiredIdempotencyKeys(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("created_at <= ?", now.Add(-IdempotencyKeyTTL).UTC()).Delete(&IdempotencyKey{})
	return res.RowsAffected, res.Error
}

// CompleteIdempotencyKey stores the answer to replay.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, principal, key string, status int, body []byte) error {
	return s.db.WithContext(ctx).Model(&IdempotencyKey{}).Where("principal = ? AND key = ?", principal, key).
		Updates(map[string]any{"status_code": status, "response_body": body}).Error
}

// ReleaseIdempotencyKey forgets a claim whose request failed on our side, so
// the client's retry runs again.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, principal, key string) error {
	return s.db.WithContext(ctx).Where("principal = ? AND key = ?", principal, key).Delete(&IdempotencyKey{}).Error
}

func (IdempotencyKey) TableName() string { return "idempotency_keys" }
