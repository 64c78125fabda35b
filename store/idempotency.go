package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// IdempotencyKey remembers the first answer to a POST carrying an
// Idempotency-Key. StatusCode 0 means a request with the key is running,
// StatusReleased that the last one failed on our side and the key is free
// again. CreatedAt is when the key was first claimed: it survives releases
// and re-takes, so everything derived from it (an issuance id) is the same
// for every attempt, and the key expires 24 hours after its first use.
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

// StatusReleased marks a key whose request failed on our side (5xx, the
// client gone): the next request with it runs again.
const StatusReleased = -1

// IdempotencyKeyTTL is how long a key is remembered (DESIGN.md §9): an
// older key is treated as unused, and its row replaced.
const IdempotencyKeyTTL = 24 * time.Hour

// IdempotencyLease is how long a running claim holds its key. A process
// that dies holding a claim can never release it; after the lease a retry
// of the same request takes the claim over instead of hearing 409 until
// the key expires. It is longer than any handler runs (see the API's
// acceptance wait), and counted from the key's first claim.
const IdempotencyLease = 30 * time.Second

// claimSQL inserts a running claim, or takes over the key's row when it
// has expired (a fresh key: a new CreatedAt), was released, or is a claim
// of the same request older than the lease (its process died); then the
// first claim's CreatedAt is kept. A live row is left alone, and the
// statement then changes nothing.
const claimSQL = `
INSERT INTO idempotency_keys (principal, key, method, path, request_hash, status_code, response_body, created_at)
VALUES (@principal, @key, @method, @path, @hash, 0, NULL, @now)
ON CONFLICT (principal, key) DO UPDATE SET
	method = excluded.method, path = excluded.path, request_hash = excluded.request_hash,
	status_code = 0, response_body = NULL,
	created_at = CASE WHEN idempotency_keys.created_at <= @expired THEN excluded.created_at ELSE idempotency_keys.created_at END
WHERE idempotency_keys.created_at <= @expired
	OR idempotency_keys.status_code = @released
	OR (idempotency_keys.status_code = 0 AND idempotency_keys.request_hash = excluded.request_hash
		AND idempotency_keys.created_at <= @leased)`

// ClaimIdempotencyKey claims the key for a request (see claimSQL) and
// returns the claim as stored, with the key's first CreatedAt. When a live
// row holds the key it returns that row and claimed=false.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, k IdempotencyKey) (IdempotencyKey, bool, error) {
	now := time.Now().UTC().Truncate(time.Millisecond) // what both databases store exactly
	k.CreatedAt = now
	k.StatusCode, k.ResponseBody = 0, nil
	db := s.db.WithContext(ctx)
	// A live row can be released (deleted) between the claim and reading
	// it; then the key is free and the claim is tried again.
	for range 3 {
		res := db.Exec(claimSQL, map[string]any{"principal": k.Principal, "key": k.Key, "method": k.Method, "path": k.Path,
			"hash": k.RequestHash, "now": now, "expired": now.Add(-IdempotencyKeyTTL), "released": StatusReleased,
			"leased": now.Add(-IdempotencyLease)})
		if res.Error != nil {
			return IdempotencyKey{}, false, res.Error
		}
		var existing IdempotencyKey
		err := db.Where("principal = ? AND key = ?", k.Principal, k.Key).Take(&existing).Error
		if res.RowsAffected > 0 {
			if err != nil {
				return IdempotencyKey{}, false, fmt.Errorf("read the claimed idempotency key: %w", err)
			}
			existing.CreatedAt = existing.CreatedAt.UTC()
			return existing, true, nil
		}
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

// ReleaseIdempotencyKey frees a claim whose request failed on our side, so
// the client's retry runs again; the key keeps its first CreatedAt.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, principal, key string) error {
	return s.db.WithContext(ctx).Model(&IdempotencyKey{}).Where("principal = ? AND key = ?", principal, key).
		Updates(map[string]any{"status_code": StatusReleased, "response_body": nil}).Error
}

func (IdempotencyKey) TableName() string { return "idempotency_keys" }
