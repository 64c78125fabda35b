package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// The OpenID Connect provider's records (DESIGN.md §11). Nothing here is a
// usable secret: a confidential client's secret and an authorization code
// are kept as SHA-256 (both are long random strings), an access token is
// known only by its id, and a signing key's private half is sealed by the
// API under a key derived from NEMID_HASH_KEY.

// OIDCClient is a registered service provider.
type OIDCClient struct {
	ID              string `gorm:"primaryKey"`
	Name            string
	SecretHash      *string // nil for a public (non-confidential) client
	RedirectURIList string  `gorm:"column:redirect_uris"` // one per line; matched exactly
	PublicAuthority bool
	Confidential    bool
	CreatedAt       time.Time
}

func (OIDCClient) TableName() string { return "oidc_clients" }

// RedirectURIs are the client's registered redirect URIs.
func (c OIDCClient) RedirectURIs() []string {
	if c.RedirectURIList == "" {
		return nil
	}
	return strings.Split(c.RedirectURIList, "\n")
}

// OIDCAuthRequest is one authorization request, from the client's redirect
// to the code's redemption. The logon fills ChallengeID (after the
// password), then CredentialID, Subject and AuthTime (after the code); the
// code's hash is written when the code is made, and CodeUsedAt when it is
// redeemed, once.
type OIDCAuthRequest struct {
	ID            string `gorm:"primaryKey"`
	ClientID      string
	RedirectURI   string
	Scopes        string // space-separated
	State         string
	Nonce         string
	CodeChallenge string // S256 only
	ResponseMode  string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	ChallengeID   *string
	CredentialID  *string
	Subject       *string
	AuthTime      *time.Time
	CodeHash      *string
	CodeExpiresAt *time.Time
	CodeUsedAt    *time.Time
}

func (OIDCAuthRequest) TableName() string { return "oidc_auth_requests" }

// OIDCAccessToken is an issued access token, known to the client as an
// encrypted "<id>:<subject>".
type OIDCAccessToken struct {
	ID           string `gorm:"primaryKey"`
	ClientID     string
	CredentialID string
	Subject      string
	Scopes       string
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

func (OIDCAccessToken) TableName() string { return "oidc_access_tokens" }

// OIDCSigningKey is an RS256 key; SealedPrivateKey is its PKCS#1 DER sealed
// by the API (AES-256-GCM under a key derived from the hash key SealKeyID).
type OIDCSigningKey struct {
	ID               string `gorm:"primaryKey"`
	SealedPrivateKey []byte
	SealKeyID        string
	CreatedAt        time.Time
}

func (OIDCSigningKey) TableName() string { return "oidc_signing_keys" }

// ErrCodeUsed: an authorization code that is unknown, expired or already
// redeemed.
var ErrCodeUsed = errors.New("authorization code unknown, expired or already used")

// CreateOIDCClient registers a client, audited in the same transaction.
func (s *Store) CreateOIDCClient(ctx context.Context, c OIDCClient, audit AuditEntry) error {
	return s.Audited(ctx, audit, func(tx *gorm.DB) error {
		if err := tx.Create(&c).Error; err != nil {
			return fmt.Errorf("create oidc client: %w", err)
		}
		return nil
	})
}

// OIDCClientByID loads a client; ErrNotFound when unknown.
func (s *Store) OIDCClientByID(ctx context.Context, id string) (OIDCClient, error) {
	var c OIDCClient
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&c).Error
	return c, notFound(err)
}

// ListOIDCClients lists clients in the order they were created (by id
// after the cursor, a keyset page); more reports a further page.
func (s *Store) ListOIDCClients(ctx context.Context, after string, limit int) ([]OIDCClient, bool, error) {
	var out []OIDCClient
	q := s.db.WithContext(ctx).Order("id")
	if after != "" {
		q = q.Where("id > ?", after)
	}
	if err := q.Limit(limit + 1).Find(&out).Error; err != nil {
		return nil, false, fmt.Errorf("list oidc clients: %w", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// CreateOIDCAuthRequest stores a new authorization request.
func (s *Store) CreateOIDCAuthRequest(ctx context.Context, r OIDCAuthRequest) error {
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("store auth request: %w", err)
	}
	return nil
}

// OIDCAuthRequestByID loads an authorization request that has not expired.
func (s *Store) OIDCAuthRequestByID(ctx context.Context, id string, now time.Time) (OIDCAuthRequest, error) {
	var r OIDCAuthRequest
	err := s.db.WithContext(ctx).Where("id = ? AND expires_at > ?", id, now).Take(&r).Error
	return r, notFound(err)
}

// SetOIDCChallenge binds the logon challenge opened after a right password
// to the authorization request, so that its code page answers that one.
func (s *Store) SetOIDCChallenge(ctx context.Context, authRequestID, challengeID string) error {
	res := s.db.WithContext(ctx).Model(&OIDCAuthRequest{}).Where("id = ? AND credential_id IS NULL", authRequestID).
		Update("challenge_id", challengeID)
	if res.Error != nil {
		return fmt.Errorf("bind challenge to auth request: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// OIDCLogonStep is what a right code writes for an authorization request,
// inside the transaction that spends the code (Success.Then): the person
// and the moment, and the audit entry naming the client, last.
func OIDCLogonStep(authRequestID, credentialID, subject string, at time.Time, audit AuditEntry) TxStep {
	return func(tx *gorm.DB) error {
		res := tx.Model(&OIDCAuthRequest{}).Where("id = ? AND credential_id IS NULL", authRequestID).
			Updates(map[string]any{"credential_id": credentialID, "subject": subject, "auth_time": at})
		if res.Error != nil {
			return fmt.Errorf("record logon on auth request: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrChallengeClosed
		}
		return AppendAudit(tx, audit)
	}
}

// SaveOIDCCode records the hash of the code made for a completed
// authorization request; it is redeemable until expiresAt, once.
func (s *Store) SaveOIDCCode(ctx context.Context, authRequestID, codeHash string, expiresAt time.Time) error {
	res := s.db.WithContext(ctx).Model(&OIDCAuthRequest{}).
		Where("id = ? AND credential_id IS NOT NULL AND code_hash IS NULL", authRequestID).
		Updates(map[string]any{"code_hash": codeHash, "code_expires_at": expiresAt})
	if res.Error != nil {
		return fmt.Errorf("save authorization code: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrCodeUsed
	}
	return nil
}

// RedeemOIDCCode marks a code used and returns its request: one
// conditional update, so of any number of concurrent redemptions (and API
// processes) exactly one succeeds, and only before the code expires.
func (s *Store) RedeemOIDCCode(ctx context.Context, codeHash string, now time.Time) (OIDCAuthRequest, error) {
	var r OIDCAuthRequest
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&OIDCAuthRequest{}).
			Where("code_hash = ? AND code_used_at IS NULL AND code_expires_at > ?", codeHash, now).
			Update("code_used_at", now)
		if res.Error != nil {
			return fmt.Errorf("redeem authorization code: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrCodeUsed
		}
		return tx.Where("code_hash = ?", codeHash).Take(&r).Error
	})
	return r, err
}

// DeleteOIDCAuthRequest forgets a request once its tokens are made. Its
// code stays unusable: the row is gone.
func (s *Store) DeleteOIDCAuthRequest(ctx context.Context, id string) error {
	return s.db.WithContext(ctx).Where("id = ?", id).Delete(&OIDCAuthRequest{}).Error
}

// CreateOIDCAccessToken stores an issued access token.
func (s *Store) CreateOIDCAccessToken(ctx context.Context, t OIDCAccessToken) error {
	if err := s.db.WithContext(ctx).Create(&t).Error; err != nil {
		return fmt.Errorf("store access token: %w", err)
	}
	return nil
}

// OIDCAccessTokenByID loads an access token that has not expired.
func (s *Store) OIDCAccessTokenByID(ctx context.Context, id string, now time.Time) (OIDCAccessToken, error) {
	var t OIDCAccessToken
	err := s.db.WithContext(ctx).Where("id = ? AND expires_at > ?", id, now).Take(&t).Error
	return t, notFound(err)
}

// EndOIDCTokens ends the access tokens of a subject at a client (logout
// at the provider).
func (s *Store) EndOIDCTokens(ctx context.Context, clientID, subject string) error {
	return s.db.WithContext(ctx).Where("client_id = ? AND subject = ?", clientID, subject).Delete(&OIDCAccessToken{}).Error
}

// SweepOIDC deletes expired authorization requests and access tokens.
func (s *Store) SweepOIDC(ctx context.Context, now time.Time) error {
	if err := s.db.WithContext(ctx).Where("expires_at <= ?", now).Delete(&OIDCAuthRequest{}).Error; err != nil {
		return fmt.Errorf("sweep auth requests: %w", err)
	}
	if err := s.db.WithContext(ctx).Where("expires_at <= ?", now).Delete(&OIDCAccessToken{}).Error; err != nil {
		return fmt.Errorf("sweep access tokens: %w", err)
	}
	return nil
}

// OIDCSigningKeysSince lists the signing keys created after since, newest
// first.
func (s *Store) OIDCSigningKeysSince(ctx context.Context, since time.Time) ([]OIDCSigningKey, error) {
	var out []OIDCSigningKey
	err := s.db.WithContext(ctx).Where("created_at > ?", since).Order("created_at DESC, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return out, nil
}

// AddOIDCSigningKey stores a new signing key. Two processes rotating at
// once both add one; both are published and the newer signs.
func (s *Store) AddOIDCSigningKey(ctx context.Context, k OIDCSigningKey) error {
	if err := s.db.WithContext(ctx).Create(&k).Error; err != nil {
		return fmt.Errorf("store signing key: %w", err)
	}
	return nil
}
