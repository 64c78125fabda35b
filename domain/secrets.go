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

// HashPassword hashes a chosen password with argon2id and a random salt, in
// the PHC string form "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>".
func HashPassword(password string) (string, error) {
	return hashPassword(rand.Reader, password, passwordParams)
}

func hashPassword(r io.Reader, password string, p argonParams) (string, error) {
	salt := make([]byte, p.saltLen)
	if _, err := io.ReadFull(r, salt); err != nil {
		return "", fmt.Errorf("hash password: read salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.passes, p.memoryKiB, p.lanes, uint32(p.keyLen))
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memoryKiB, p.passes, p.lanes,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches a hash from HashPassword,
// comparing in constant time. An error means the stored hash is malformed
// (or asks for absurd parameters), not that the password is wrong.
func VerifyPassword(encoded, password string) (bool, error) {
	p, salt, want, err := parsePasswordHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.passes, p.memoryKiB, p.lanes, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func parsePasswordHash(encoded string) (argonParams, []byte, []byte, error) {
	var p argonParams
	fields := strings.Split(encoded, "$")
	if len(fields) != 6 || fields[0] != "" || fields[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: want $argon2id$v=..$m=..,t=..,p=..$salt$hash", ErrPasswordHashMalformed)
	}
	var version int
	if _, err := fmt.Sscanf(fields[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, fmt.Errorf("%w: unsupported version %q", ErrPasswordHashMalformed, fields[2])
	}
	if _, err := fmt.Sscanf(fields[3], "m=%d,t=%d,p=%d", &p.memoryKiB, &p.passes, &p.lanes); err != nil {
		return p, nil, nil, fmt.Errorf("%w: parameters %q", ErrPasswordHashMalformed, fields[3])
	}
	// Bounds keep a tampered row from costing gigabytes or minutes.
	if p.memoryKiB < 8 || p.memoryKiB > 1<<20 || p.passes < 1 || p.passes > 16 || p.lanes < 1 || p.lanes > 16 {
		return p, nil, nil, fmt.Errorf("%w: parameters out of range %q", ErrPasswordHashMalformed, fields[3])
	}
	salt, err := base64.RawStdEncoding.DecodeString(fields[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, nil, nil, fmt.Errorf("%w: salt", ErrPasswordHashMalformed)
	}
	key, err := base64.RawStdEncoding.DecodeString(fields[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, fmt.Errorf("%w: hash", ErrPasswordHashMalformed)
	}
	return p, salt, key, nil
}

// Labels keep the keyed MACs of different things apart even under one key.
const (
	labelCPRLookup         = "nemid/cpr-lookup/v1"
	labelCode              = "nemid/code/v1"
	labelTemporaryPassword = "nemid/temporary-password/v1"
)

// CodeMAC is the keyed HMAC-SHA256 (hex) stored for one code of a card: a
// 6-digit code has too few values for a salted hash to protect it, a secret
// key does. key must be at least 32 random bytes.
func CodeMAC(key []byte, cardNumber, cardKey, code string) string {
	return macHex(key, labelCode, cardNumber, cardKey, code)
}

// VerifyCodeMAC reports, in constant time, whether code is the one whose
// CodeMAC is mac.
func VerifyCodeMAC(key []byte, cardNumber, cardKey, code, mac string) bool {
	return hmac.Equal([]byte(CodeMAC(key, cardNumber, cardKey, code)), []byte(mac))
}

// TemporaryPasswordMAC is the keyed HMAC-SHA256 (hex) stored for a temporary
// password, bound to its NemID number.
func TemporaryPasswordMAC(key []byte, nemID, password string) string {
	return macHex(key, labelTemporaryPassword, nemID, password)
}

// VerifyTemporaryPassword reports, in constant time, whether password is the
// temporary password whose TemporaryPasswordMAC is mac.
func VerifyTemporaryPassword(key []byte, nemID, password, mac string) bool {
	return hmac.Equal([]byte(TemporaryPasswordMAC(key, nemID, password)), []byte(mac))
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
