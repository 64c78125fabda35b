package domain

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Chosen passwords are hashed with argon2id. These parameters (19 MiB, two
// passes, one lane: OWASP's baseline) cost about 25 ms per hash on the
// project's machines; each hash string records its own parameters, so they
// can be raised later without invalidating stored hashes.
var passwordParams = argonParams{memoryKiB: 19 * 1024, passes: 2, lanes: 1, saltLen: 16, keyLen: 32}

type argonParams struct {
	memoryKiB uint32
	passes    uint32
	lanes     uint8
	saltLen   int
	keyLen    int
}

// ErrPasswordHashMalformed is returned (wrapped) by VerifyPassword for a
// stored hash it cannot read.
var ErrPasswordHashMalformed = errors.New("malformed password hash")

// Password hash schemes. A peppered hash keys the argon2id output with a
// server-side secret (HMAC-SHA256 under a NEMID_HASH_KEY key), so a copy of
// the database alone cannot be brute-forced — not even a 4-digit password,
// which has only 10,000 candidates. Hashes from before the pepper (plain
// argon2id) still verify and are rewritten at the person's next logon.
const (
	schemePlain    = "argon2id"
	schemePeppered = "nemid-argon2id"
	labelPepper    = "nemid/password-pepper/v1"

	pepperedArgonLen = 32 // bytes of argon2id output under a peppered tag
)

// HashPassword hashes a chosen password with argon2id, a random salt and the
// first key as pepper: "$nemid-argon2id$k=<id>$v=19$m=19456,t=2,p=1$<salt>$<tag>".
func HashPassword(keys HashKeys, password string) (string, error) {
	return hashPassword(rand.Reader, keys, password, passwordParams)
}

func hashPassword(r io.Reader, keys HashKeys, password string, p argonParams) (string, error) {
	if keys.Empty() {
		return "", errors.New("hash password: no pepper key")
	}
	salt := make([]byte, p.saltLen)
	if _, err := io.ReadFull(r, salt); err != nil {
		return "", fmt.Errorf("hash password: read salt: %w", err)
	}
	pepper := keys.primary()
	raw := argon2.IDKey([]byte(password), salt, p.passes, p.memoryKiB, p.lanes, pepperedArgonLen)
	return fmt.Sprintf("$%s$k=%s$v=%d$m=%d,t=%d,p=%d$%s$%s", schemePeppered, pepper.id, argon2.Version,
		p.memoryKiB, p.passes, p.lanes, base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(pepperTag(pepper.secret, raw))), nil
}

func pepperTag(secret, argonOutput []byte) []byte {
	m := hmac.New(sha256.New, secret)
	io.WriteString(m, labelPepper)
	m.Write(argonOutput)
	return m.Sum(nil)
}

// VerifyPassword reports whether password matches a stored hash, comparing
// in constant time, and whether the hash should be rewritten with
// HashPassword (no pepper yet, or a pepper that is no longer the first
// key). An error means the stored hash is malformed, asks for absurd
// parameters or names a key that is not configured — not that the password
// is wrong.
func VerifyPassword(keys HashKeys, encoded, password string) (ok, stale bool, err error) {
	h, err := parsePasswordHash(encoded)
	if err != nil {
		return false, false, err
	}
	p := h.params
	got := argon2.IDKey([]byte(password), h.salt, p.passes, p.memoryKiB, p.lanes, uint32(h.keyLen))
	if h.keyID == "" {
		return subtle.ConstantTimeCompare(got, h.sum) == 1, true, nil
	}
	secret, found := keys.byID(h.keyID)
	if !found {
		return false, false, fmt.Errorf("%w: pepper key %q is not in NEMID_HASH_KEY", ErrPasswordHashMalformed, h.keyID)
	}
	ok = subtle.ConstantTimeCompare(pepperTag(secret, got), h.sum) == 1
	return ok, h.keyID != keys.PrimaryID(), nil
}

// PasswordKeyID is the pepper key a stored hash names; "" for an unpeppered one.
func PasswordKeyID(encoded string) string {
	h, err := parsePasswordHash(encoded)
	if err != nil {
		return ""
	}
	return h.keyID
}

type passwordHash struct {
	keyID  string // "" when unpeppered
	params argonParams
	salt   []byte
	sum    []byte // argon2id output, or its pepper tag
	keyLen int    // argon2id output length
}

func parsePasswordHash(encoded string) (passwordHash, error) {
	var h passwordHash
	fields := strings.Split(encoded, "$")
	switch {
	case len(fields) == 6 && fields[0] == "" && fields[1] == schemePlain:
	case len(fields) == 7 && fields[0] == "" && fields[1] == schemePeppered:
		id, found := strings.CutPrefix(fields[2], "k=")
		if !found || !validKeyID(id) {
			return h, fmt.Errorf("%w: key id %q", ErrPasswordHashMalformed, fields[2])
		}
		h.keyID = id
		fields = append(fields[:2], fields[3:]...)
	default:
		return h, fmt.Errorf("%w: want $argon2id$v=..$m=..,t=..,p=..$salt$hash or $nemid-argon2id$k=..$…", ErrPasswordHashMalformed)
	}
	var version int
	if _, err := fmt.Sscanf(fields[2], "v=%d", &version); err != nil || version != argon2.Version {
		return h, fmt.Errorf("%w: unsupported version %q", ErrPasswordHashMalformed, fields[2])
	}
	p := &h.params
	if _, err := fmt.Sscanf(fields[3], "m=%d,t=%d,p=%d", &p.memoryKiB, &p.passes, &p.lanes); err != nil {
		return h, fmt.Errorf("%w: parameters %q", ErrPasswordHashMalformed, fields[3])
	}
	// Bounds keep a tampered row from costing gigabytes or minutes.
	if p.memoryKiB < 8 || p.memoryKiB > 1<<20 || p.passes < 1 || p.passes > 16 || p.lanes < 1 || p.lanes > 16 {
		return h, fmt.Errorf("%w: parameters out of range %q", ErrPasswordHashMalformed, fields[3])
	}
	salt, err := base64.RawStdEncoding.DecodeString(fields[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return h, fmt.Errorf("%w: salt", ErrPasswordHashMalformed)
	}
	sum, err := base64.RawStdEncoding.DecodeString(fields[5])
	if err != nil || len(sum) < 16 || len(sum) > 64 {
		return h, fmt.Errorf("%w: hash", ErrPasswordHashMalformed)
	}
	h.salt, h.sum, h.keyLen = salt, sum, len(sum)
	if h.keyID != "" {
		h.keyLen = pepperedArgonLen // the stored tag is an HMAC of an output of this length
	}
	return h, nil
}

// Labels keep the keyed MACs of different things apart even under one key.
const (
	labelCPRLookup         = "nemid/cpr-lookup/v1"
	labelCode              = "nemid/code/v1"
	labelTemporaryPassword = "nemid/temporary-password/v1"
	labelAuditChain        = "nemid/audit-chain/v1"
)

// AuditChainMAC is the keyed link of the audit log's hash chain
// (store.AppendAudit): HMAC-SHA256, hex, under the first key, over the key's
// id, the previous entry's hash and the entry's canonical encoding (its
// seq and every field). It returns the key's id, which the entry stores so
// that keys can rotate. Without the key no one can compute a link, so a
// rewritten chain does not verify however its later hashes are recomputed.
func AuditChainMAC(keys HashKeys, prev, entry string) (keyID, mac string) {
	p := keys.primary()
	return p.id, macHex(p.secret, labelAuditChain, p.id, prev, entry)
}

// VerifyAuditChainMAC reports whether mac is the AuditChainMAC of prev and
// entry under the key keyID names (constant time); known is false when keys
// holds no key of that id, and then ok is false too.
func VerifyAuditChainMAC(keys HashKeys, keyID, prev, entry, mac string) (ok, known bool) {
	secret, known := keys.byID(keyID)
	if !known {
		return false, false
	}
	return constantTimeEqual(macHex(secret, labelAuditChain, keyID, prev, entry), mac), true
}

// CodeMAC is the keyed HMAC-SHA256 stored for one code of a card, as
// "<key id>:<hex>" under the first key: a 6-digit code has too few values
// for a salted hash to protect it, a secret key does.
func CodeMAC(keys HashKeys, cardNumber, cardKey, code string) string {
	return keys.sealMAC(labelCode, cardNumber, cardKey, code)
}

// VerifyCodeMAC reports, in constant time, whether code is the one whose
// CodeMAC is mac.
func VerifyCodeMAC(keys HashKeys, cardNumber, cardKey, code, mac string) bool {
	return keys.verifyMAC(mac, labelCode, cardNumber, cardKey, code)
}

// TemporaryPasswordMAC is the keyed HMAC-SHA256 ("<key id>:<hex>") stored
// for a temporary password, bound to its NemID number.
func TemporaryPasswordMAC(keys HashKeys, nemID, password string) string {
	return keys.sealMAC(labelTemporaryPassword, nemID, password)
}

// VerifyTemporaryPassword reports, in constant time, whether password is the
// temporary password whose TemporaryPasswordMAC is mac.
func VerifyTemporaryPassword(keys HashKeys, nemID, password, mac string) bool {
	return keys.verifyMAC(mac, labelTemporaryPassword, nemID, password)
}

// macHex MACs the label and each field length-prefixed, so that no two
// different field lists share an input.
func macHex(key []byte, label string, fields ...string) string {
	m := hmac.New(sha256.New, key)
	write := func(f string) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		m.Write(n[:])
		io.WriteString(m, f)
	}
	write(label)
	for _, f := range fields {
		write(f)
	}
	return hex.EncodeToString(m.Sum(nil))
}

func constantTimeEqual(a, b string) bool { return hmac.Equal([]byte(a), []byte(b)) }
