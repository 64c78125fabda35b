package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// APIToken is a bearer token's record; only the SHA-256 of the token is kept.
// Tokens carry 256 random bits, so a fast hash is enough to make a leaked
// table useless. Name is who holds it (a person or a system); it shows on
// the timeline beside the actor role:scope.
type APIToken struct {
	ID         string `gorm:"primaryKey"`
	TokenHash  string
	Role       string
	Scope      string
	Name       string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

func (APIToken) TableName() string { return "api_tokens" }

// TokenTouchInterval is how stale last_used_at may get: a token's use is
// written at most once per interval, so a busy token does not turn every
// request into a write.
const TokenTouchInterval = time.Minute

// TokenStep is a further write inside a token change's transaction (an
// audit entry naming the token): t is the token's record as the change
// left it, changed false when the change was already made (a repeated
// revocation). Either both are written or neither.
type TokenStep = func(tx *gorm.DB, t APIToken, changed bool) error

// NewToken describes a token to issue. A zero TTL never expires.
type NewToken struct {
	Role, Scope, Name string
	TTL               time.Duration
}

// NameOrNil is an actor's name as events and fees keep it: nil when there
// is none (the system, a citizen).
func NameOrNil(name string) *string {
	if name == "" {
		return nil
	}
	return &name
}

// HashToken is how a presented token is looked up.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// IssueToken stores a new token and returns its record with the token
// itself, which is never stored or shown again. The row is written in one
// transaction with extra (see TokenStep).
func (s *Store) IssueToken(ctx context.Context, spec NewToken, extra TokenStep) (APIToken, string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return APIToken{}, "", fmt.Errorf("generate token: %w", err)
	}
	token := "nemid_" + base64.RawURLEncoding.EncodeToString(raw)
	name := spec.Name
	if name == "" {
		name = spec.Role + ":" + spec.Scope
	}
	now := time.Now().UTC().Truncate(time.Microsecond) // what both databases keep exactly
	row := APIToken{ID: uuid.Must(uuid.NewV7()).String(), TokenHash: HashToken(token), Role: spec.Role, Scope: spec.Scope,
		Name: name, CreatedAt: now}
	if spec.TTL > 0 {
		expires := now.Add(spec.TTL)
		row.ExpiresAt = &expires
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if extra != nil {
			return extra(tx, row, true)
		}
		return nil
	})
	if err != nil {
		return APIToken{}, "", fmt.Errorf("store token: %w", err)
	}
	return row, token, nil
}

// CreateToken issues a token named role:scope that never expires and
// returns only the token (the dev command and the tests).
func (s *Store) CreateToken(ctx context.Context, role, scope string) (string, error) {
	_, token, err := s.IssueToken(ctx, NewToken{Role: role, Scope: scope}, nil)
	return token, err
}

// TokenByValue finds a token that is neither revoked nor expired;
// ErrNotFound otherwise. It reads the database every time: no process
// keeps a copy that could outlive a revocation.
func (s *Store) TokenByValue(ctx context.Context, token string) (APIToken, error) {
	var t APIToken
	err := s.db.WithContext(ctx).
		Where("token_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", HashToken(token), time.Now().UTC()).
		Take(&t).Error
	return t, notFound(err)
}

// TouchToken records that a token was used at now, unless a use within
// TokenTouchInterval is already recorded (by this process or another): the
// condition is in the statement, so concurrent requests write once.
func (s *Store) TouchToken(ctx context.Context, id string, now time.Time) error {
	now = now.UTC()
	return s.db.WithContext(ctx).Model(&APIToken{}).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at <= ?)", id, now.Add(-TokenTouchInterval)).
		Update("last_used_at", now).Error
}

// TokenNeedsTouch reports whether a use at now should be written.
func (t APIToken) TokenNeedsTouch(now time.Time) bool {
	return t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= TokenTouchInterval
}

// GetToken loads a token's record by id; ErrNotFound otherwise.
func (s *Store) GetToken(ctx context.Context, id string) (APIToken, error) {
	var t APIToken
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&t).Error
	return t, notFound(err)
}

// ListTokens returns up to limit tokens newest first (ids are UUIDv7, so id
// order is creation order; tokens made before names existed have random
// ids and sort among them by id) after the keyset cursor, and whether more
// follow.
func (s *Store) ListTokens(ctx context.Context, after string, limit int) ([]APIToken, bool, error) {
	q := s.db.WithContext(ctx).Model(&APIToken{})
	if after != "" {
		q = q.Where("id < ?", after)
	}
	var rows []APIToken
	if err := q.Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, false, err
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	return rows, more, nil
}

// RevokeToken revokes a token at now, in one transaction with extra (see
// TokenStep), and returns the record as it then stands. Revoking a revoked
// token changes nothing. Every request after the commit is refused, in
// every API process: authentication reads the row each time.
func (s *Store) RevokeToken(ctx context.Context, id string, now time.Time, extra TokenStep) (APIToken, error) {
	var out APIToken
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&APIToken{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", now.UTC())
		if res.Error != nil {
			return res.Error
		}
		if err := tx.Where("id = ?", id).Take(&out).Error; err != nil {
			return notFound(err)
		}
		if extra != nil {
			return extra(tx, out, res.RowsAffected > 0)
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return APIToken{}, err
	}
	if err != nil {
		return APIToken{}, fmt.Errorf("revoke token %s: %w", id, err)
	}
	return out, nil
}
