package domain

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// HashKeys is NEMID_HASH_KEY: the server-side keys behind every keyed MAC
// (codes, temporary passwords, document numbers) and the password pepper.
// The first key writes; every key verifies, so a new key can be put in
// front while what was written under the old one keeps verifying. Every
// stored MAC and password hash names the key it was made with.
//
// The CPR lookup hash is the exception: rows are found by it, so it always
// uses one key, the lookup key (the first). Putting a new key first
// therefore needs `nemid keys rehash-cpr` run offline (README "Rotating keys").
type HashKeys struct {
	keys []hashKey
}

type hashKey struct {
	id     string
	secret []byte
}

// LegacyKeyID is the id of a bare base64 key, and of a MAC stored without
// a key id (written before MACs carried one).
const LegacyKeyID = "0"

// minHashKeyLen is the shortest secret accepted: 256 bits.
const minHashKeyLen = 32

// ParseHashKeys reads "id:base64,id:base64,…"; a bare base64 entry reads as
// id "0". Ids are unique and made of letters, digits, '-' and '_'.
func ParseHashKeys(s string) (HashKeys, error) {
	var out HashKeys
	seen := map[string]bool{}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		id, b64, found := strings.Cut(entry, ":")
		if !found {
			id, b64 = LegacyKeyID, entry
		}
		if !validKeyID(id) {
			return HashKeys{}, fmt.Errorf("NEMID_HASH_KEY: key id %q: use letters, digits, '-' or '_'", id)
		}
		if seen[id] {
			return HashKeys{}, fmt.Errorf("NEMID_HASH_KEY: key id %q appears twice", id)
		}
		secret, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(secret) < minHashKeyLen {
			return HashKeys{}, fmt.Errorf("NEMID_HASH_KEY: key %q: want base64 of at least %d bytes", id, minHashKeyLen)
		}
		seen[id] = true
		out.keys = append(out.keys, hashKey{id: id, secret: secret})
	}
	if len(out.keys) == 0 {
		return HashKeys{}, errors.New("NEMID_HASH_KEY: no key given")
	}
	return out, nil
}

// NewHashKeys builds a one-key ring (tests, tools).
func NewHashKeys(id string, secret []byte) HashKeys {
	return HashKeys{keys: []hashKey{{id: id, secret: secret}}}
}

func validKeyID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Lookup is the key of the CPR lookup hash: always the first key.
func (k HashKeys) Lookup() []byte {
	if len(k.keys) == 0 {
		return nil
	}
	return k.keys[0].secret
}

// PrimaryID is the id of the key that writes.
func (k HashKeys) PrimaryID() string {
	if len(k.keys) == 0 {
		return ""
	}
	return k.keys[0].id
}

func (k HashKeys) primary() hashKey {
	if len(k.keys) == 0 {
		return hashKey{}
	}
	return k.keys[0]
}

func (k HashKeys) byID(id string) ([]byte, bool) {
	for _, key := range k.keys {
		if key.id == id {
			return key.secret, true
		}
	}
	return nil, false
}

// Empty reports whether the ring holds no key.
func (k HashKeys) Empty() bool { return len(k.keys) == 0 }

// sealMAC writes a MAC under the first key as "id:hex".
func (k HashKeys) sealMAC(label string, fields ...string) string {
	p := k.primary()
	return p.id + ":" + macHex(p.secret, label, fields...)
}

// verifyMAC checks a stored "id:hex" (or legacy bare hex, key id "0") in
// constant time against the key it names. An unknown key id never verifies.
func (k HashKeys) verifyMAC(stored, label string, fields ...string) bool {
	id, mac, found := strings.Cut(stored, ":")
	if !found {
		id, mac = LegacyKeyID, stored
	}
	secret, ok := k.byID(id)
	if !ok {
		// Spend the same work, so an unknown id is not faster.
		secret = k.Lookup()
		mac = ""
	}
	want := macHex(secret, label, fields...)
	return constantTimeEqual(want, mac) && ok
}

// MACKeyID is the key id a stored MAC names ("0" for a legacy bare MAC).
func MACKeyID(stored string) string {
	if id, _, found := strings.Cut(stored, ":"); found {
		return id
	}
	return LegacyKeyID
}

// Key is the secret of the key with this id, for tools that must compute
// what an older key wrote (rehashing CPR lookups after a rotation).
func (k HashKeys) Key(id string) ([]byte, bool) { return k.byID(id) }
