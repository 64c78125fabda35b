package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// APIToken is a bearer token's record; only the SHA-256 of the token is kept.
// Tokens carry 256 random bits, so a fast hash is enough to make a leaked
// table useless.
type APIToken struct {
	ID        string `gorm:"primaryKey"`
	TokenHash string
	Role      string
	Scope     string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// HashToken is how a presented token is looked up.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateToken stores a new token for role and scope and returns the token
// itself, which is never stored or shown again.
func (s *Store) CreateToken(ctx context.Context, role, scope string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	token := "nemid_" + base64.RawURLEncoding.EncodeToString(raw)
	row := APIToken{ID: uuid.NewString(), TokenHash: HashToken(token), Role: role, Scope: scope, CreatedAt: time.Now().UTC()}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return "", fmt.Errorf("store token: %w", err)
	}
	return token, nil
}

// TokenByValue finds an unrevoked token; ErrNotFound otherwise.
func (s *Store) TokenByValue(ctx context.Context, token string) (APIToken, error) {
	var t APIToken
	err := s.db.WithContext(ctx).Where("token_hash = ? AND revoked_at IS NULL", HashToken(token)).Take(&t).Error
	return t, notFound(err)
}

func (APIToken) TableName() string { return "api_tokens" }
