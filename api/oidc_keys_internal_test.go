package api

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
)

// clock is a settable time for the key tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func keyStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "keys.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Migrate(context.Background()))
	return st
}

// jwks is the key set as a relying party reads it: the published keys'
// public halves, through JSON.
func jwks(t *testing.T, k *signingKeys) jose.JSONWebKeySet {
	t.Helper()
	keys, err := k.published(context.Background())
	require.NoError(t, err)
	var set jose.JSONWebKeySet
	for _, key := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: key.Key(), KeyID: key.ID(), Algorithm: string(key.Algorithm()), Use: key.Use()})
	}
	raw, err := json.Marshal(set)
	require.NoError(t, err)
	var read jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal(raw, &read))
	for _, key := range read.Keys {
		assert.True(t, key.IsPublic(), "the JWKS holds public keys only")
	}
	return read
}

func kids(set jose.JSONWebKeySet) []string {
	out := make([]string, 0, len(set.Keys))
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

// sign signs a token with the key that signs now, as the provider does.
func sign(t *testing.T, k *signingKeys, payload string) (string, string) {
	t.Helper()
	key, err := k.signing(context.Background())
	require.NoError(t, err)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.SignatureAlgorithm(), Key: jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()}}, nil)
	require.NoError(t, err)
	jws, err := signer.Sign([]byte(payload))
	require.NoError(t, err)
	compact, err := jws.CompactSerialize()
	require.NoError(t, err)
	return compact, key.ID()
}

// verifies reports whether a token verifies against a key set, found by
// its kid as a relying party would.
func verifies(t *testing.T, token string, set jose.JSONWebKeySet) bool {
	t.Helper()
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256})
	require.NoError(t, err)
	found := set.Key(jws.Signatures[0].Header.KeyID)
	if len(found) == 0 {
		return false
	}
	_, err = jws.Verify(found[0].Key)
	return err == nil
}

// TestSigningKeysRotate: a key signs for keyRotation, then a new one
// signs; the JWKS holds both while the old key's tokens may be valid and
// drops it after; tokens signed before the rotation still verify. A
// second API process on the same store publishes and signs with the same
// keys; a process with another hash key cannot open them.
func TestSigningKeysRotate(t *testing.T) {
	st := keyStore(t)
	hk := domain.NewHashKeys("k1", []byte("0123456789abcdef0123456789abcdef"))
	t0 := time.Date(2031, 3, 1, 8, 0, 0, 0, time.UTC)
	clk := &clock{now: t0}
	keys := newSigningKeys(st, hk, clk.Now)
	other := newSigningKeys(st, hk, clk.Now) // a second API process

	first, a := sign(t, keys, `{"n":1}`)
	assert.Equal(t, []string{a}, kids(jwks(t, keys)))
	assert.Equal(t, []string{a}, kids(jwks(t, other)), "every process publishes the same keys")
	_, again := sign(t, other, `{"n":2}`)
	assert.Equal(t, a, again, "and signs with the same key")

	clk.Set(t0.Add(keyRotation - time.Second))
	last, stillA := sign(t, keys, `{"n":3}`)
	require.Equal(t, a, stillA, "a key signs until it is keyRotation old")
	lastExpires := clk.Now().Add(max(oidcIDTokenTTL, oidcAccessTokenTTL))

	clk.Set(t0.Add(keyRotation + time.Second))
	rotated, b := sign(t, keys, `{"n":4}`)
	require.NotEqual(t, a, b, "then a new key signs")
	_, fromOther := sign(t, other, `{"n":5}`)
	assert.Equal(t, b, fromOther, "the other process signs with the new key too")
	set := jwks(t, other)
	assert.Equal(t, []string{b, a}, kids(set), "the JWKS holds the new key and the old one, newest first")
	for name, tok := range map[string]string{"signed at the first": first, "signed just before the rotation": last, "signed after it": rotated} {
		assert.True(t, verifies(t, tok, set), "a token %s verifies", name)
	}

	clk.Set(lastExpires)
	set = jwks(t, keys)
	assert.Equal(t, []string{b, a}, kids(set), "the old key stays until the last token it signed has expired")
	assert.True(t, verifies(t, last, set))

	clk.Set(t0.Add(keyRetention + time.Second))
	set = jwks(t, keys)
	assert.Equal(t, []string{b}, kids(set), "then it drops out")
	assert.False(t, verifies(t, last, set), "and its tokens no longer verify")
	assert.True(t, verifies(t, rotated, set))

	stranger := newSigningKeys(st, domain.NewHashKeys("k9", []byte("another key entirely, 32 bytes!!")), clk.Now)
	_, err := stranger.published(context.Background())
	assert.ErrorContains(t, err, "k1", "a process without the hash key cannot open the sealed keys")
}

// TestSealedKeyCannotMoveToAnotherID: the key's id is the seal's
// associated data, so a sealed private key copied onto another id fails.
func TestSealedKeyCannotMoveToAnotherID(t *testing.T) {
	st := keyStore(t)
	hk := domain.NewHashKeys("k1", []byte("0123456789abcdef0123456789abcdef"))
	keys := newSigningKeys(st, hk, time.Now)
	sealed, err := keys.seal("k1", "key-a", []byte("der bytes"))
	require.NoError(t, err)
	opened, err := keys.unseal("k1", "key-a", sealed)
	require.NoError(t, err)
	assert.Equal(t, []byte("der bytes"), opened)
	_, err = keys.unseal("k1", "key-b", sealed)
	assert.Error(t, err)
}

// TestJWKSNeverEmpty: a fresh provider publishes the key it will sign
// with before it has signed anything, so a relying party that reads the
// JWKS first (DESIGN.md §11: keys at the jwks_uri) finds an RS256 key, and
// the first token verifies against the set it read.
func TestJWKSNeverEmpty(t *testing.T) {
	st := keyStore(t)
	hk := domain.NewHashKeys("k1", []byte("0123456789abcdef0123456789abcdef"))
	keys := newSigningKeys(st, hk, time.Now)
	set := jwks(t, keys)
	require.Len(t, set.Keys, 1, "the JWKS of a provider that has not signed yet")
	assert.Equal(t, "RS256", set.Keys[0].Algorithm)
	tok, kid := sign(t, keys, `{"n":1}`)
	assert.Equal(t, set.Keys[0].KeyID, kid, "the first token is signed with the key published before it")
	assert.True(t, verifies(t, tok, set))
	assert.Len(t, jwks(t, newSigningKeys(st, hk, time.Now)).Keys, 1, "a second process publishes the same key, no new one")
}
