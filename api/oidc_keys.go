package api

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
)

// Signing keys rotate: the newest key signs while it is younger than
// keyRotation; then the next request that signs makes a new one. A key
// stays in the JWKS until every token it signed has expired.
const (
	keyRotation  = 24 * time.Hour
	keyRetention = keyRotation + max(oidcIDTokenTTL, oidcAccessTokenTTL) + time.Minute
	keyBits      = 2048
)

// signingKeys keeps the provider's RS256 keys in the store, their private
// halves sealed (AES-256-GCM) under a key derived from NEMID_HASH_KEY, so a
// database dump alone cannot sign tokens. Opened keys are cached.
type signingKeys struct {
	store    *store.Store
	hashKeys domain.HashKeys
	now      func() time.Time
	mu       sync.Mutex
	opened   map[string]*rsa.PrivateKey
}

func newSigningKeys(st *store.Store, hk domain.HashKeys, now func() time.Time) *signingKeys {
	return &signingKeys{store: st, hashKeys: hk, now: now, opened: map[string]*rsa.PrivateKey{}}
}

type rsaKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k rsaKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k rsaKey) Algorithm() jose.SignatureAlgorithm          { return jose.RS256 }
func (k rsaKey) ID() string                                  { return k.id }
func (k rsaKey) Use() string                                 { return "sig" }

// Key is the private key when signing; publicKey wraps it for the JWKS.
func (k rsaKey) Key() any { return k.key }

type publicKey struct{ rsaKey }

func (k publicKey) Key() any { return &k.key.PublicKey }

// signing is the key that signs now, made when none is young enough.
func (k *signingKeys) signing(ctx context.Context) (op.SigningKey, error) {
	keys, err := k.store.OIDCSigningKeysSince(ctx, k.now().Add(-keyRotation))
	if err != nil {
		return nil, err
	}
	if len(keys) > 0 {
		return k.open(keys[0])
	}
	return k.rotate(ctx)
}

// published are the keys whose tokens may still be valid, newest first.
// The key that signs now is among them before any token is signed: a
// relying party that reads the JWKS at start-up (or a fresh system's
// first reader) never sees an empty set.
func (k *signingKeys) published(ctx context.Context) ([]op.Key, error) {
	if _, err := k.signing(ctx); err != nil {
		return nil, err
	}
	keys, err := k.store.OIDCSigningKeysSince(ctx, k.now().Add(-keyRetention))
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, 0, len(keys))
	for _, row := range keys {
		key, err := k.open(row)
		if err != nil {
			return nil, err
		}
		out = append(out, publicKey{key})
	}
	return out, nil
}

// rotate makes, seals and stores a new key.
func (k *signingKeys) rotate(ctx context.Context) (rsaKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return rsaKey{}, fmt.Errorf("generate signing key: %w", err)
	}
	id := uuid.NewString()
	keyID := k.hashKeys.PrimaryID()
	sealed, err := k.seal(keyID, id, x509.MarshalPKCS1PrivateKey(priv))
	if err != nil {
		return rsaKey{}, err
	}
	if err := k.store.AddOIDCSigningKey(ctx, store.OIDCSigningKey{ID: id, SealedPrivateKey: sealed, SealKeyID: keyID, CreatedAt: k.now()}); err != nil {
		return rsaKey{}, err
	}
	k.mu.Lock()
	k.opened[id] = priv
	k.mu.Unlock()
	return rsaKey{id: id, key: priv}, nil
}

func (k *signingKeys) open(row store.OIDCSigningKey) (rsaKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if priv, ok := k.opened[row.ID]; ok {
		return rsaKey{id: row.ID, key: priv}, nil
	}
	der, err := k.unseal(row.SealKeyID, row.ID, row.SealedPrivateKey)
	if err != nil {
		return rsaKey{}, err
	}
	priv, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		return rsaKey{}, fmt.Errorf("parse signing key %s: %w", row.ID, err)
	}
	k.opened[row.ID] = priv
	return rsaKey{id: row.ID, key: priv}, nil
}

// aead is the cipher of the seal key derived from hash key keyID.
func (k *signingKeys) aead(keyID string) (cipher.AEAD, error) {
	secret, ok := k.hashKeys.Key(keyID)
	if !ok {
		return nil, fmt.Errorf("signing keys: NEMID_HASH_KEY has no key %q to open them with", keyID)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("oidc signing key seal"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts a private key; the key's id is the associated data, so a
// sealed key cannot be passed off under another id.
func (k *signingKeys) seal(keyID, id string, der []byte) ([]byte, error) {
	gcm, err := k.aead(keyID)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, der, []byte(id)), nil
}

func (k *signingKeys) unseal(keyID, id string, sealed []byte) ([]byte, error) {
	gcm, err := k.aead(keyID)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, errors.New("signing key: sealed value too short")
	}
	der, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], []byte(id))
	if err != nil {
		return nil, fmt.Errorf("open signing key %s: %w", id, err)
	}
	return der, nil
}
