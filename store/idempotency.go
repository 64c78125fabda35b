package store

import (
	"context"
	"errors"
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

// ClaimIdempotencyKey inserts a pending claim. When the key exists it
// returns the earlier row and claimed=false.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, k IdempotencyKey) (IdempotencyKey, bool, error) {
	k.CreatedAt = time.Now().UTC()
	err := s.db.WithContext(ctx).Create(&k).Error
	if err == nil {
		return k, true, nil
	}
	if !errors.Is(err, gorm.ErrDuplicatedKey) {
		return IdempotencyKey{}, false, err
	}
	var existing IdempotencyKey
	err = s.db.WithContext(ctx).Where("principal = ? AND key = ?", k.Principal, k.Key).Take(&existing).Error
	return existing, false, err
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
