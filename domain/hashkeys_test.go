package domain

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseHashKeys(t *testing.T) {
	k32 := b64("0123456789abcdef0123456789abcdef")
	tests := []struct {
		in      string
		ids     string // primary id
		wantErr string
	}{
		{in: k32, ids: LegacyKeyID},
		{in: "k2:" + k32 + ", k1:" + b64("another key, another key, another"), ids: "k2"},
		{in: "", wantErr: "no key"},
		{in: "k1:" + b64("short"), wantErr: "at least 32 bytes"},
		{in: "k1:!!!", wantErr: "base64"},
		{in: "k1:" + k32 + ",k1:" + k32, wantErr: "twice"},
		{in: "bad id:" + k32, wantErr: "key id"},
	}
	for _, tt := range tests {
		keys, err := ParseHashKeys(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseHashKeys(%q) error = %v, want one saying %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || keys.PrimaryID() != tt.ids {
			t.Errorf("ParseHashKeys(%q) = %q, %v; want primary %q", tt.in, keys.PrimaryID(), err, tt.ids)
		}
	}
}

// legacyHash is a password hash as stored before the pepper: plain argon2id.
func legacyHash(t testing.TB, password string, p argonParams) string {
	t.Helper()
	salt := make([]byte, p.saltLen)
	if _, err := io.ReadFull(rand.Reader, salt); err != nil {
		t.Fatal(err)
	}
	key := argon2.IDKey([]byte(password), salt, p.passes, p.memoryKiB, p.lanes, uint32(p.keyLen))
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memoryKiB, p.passes, p.lanes,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// TestKeyRotation puts a new key in front of an old one: what the old key
// wrote keeps verifying and is reported stale, the new key writes, and a
// ring without the old key verifies nothing of it.
func TestKeyRotation(t *testing.T) {
	oldKey, newKey := b64("old key, old key, old key, old k!"), b64("new key, new key, new key, new k!")
	before, err := ParseHashKeys(oldKey) // a bare key: id "0", as every database before key ids
	if err != nil {
		t.Fatal(err)
	}
	after, err := ParseHashKeys("k2:" + newKey + "," + LegacyKeyID + ":" + oldKey)
	if err != nil {
		t.Fatal(err)
	}
	onlyNew, _ := ParseHashKeys("k2:" + newKey)

	code := CodeMAC(before, "1000000001", "0042", "012345")
	bareCode := strings.TrimPrefix(code, LegacyKeyID+":") // as stored before MACs named their key
	for name, mac := range map[string]string{"with id": code, "bare": bareCode} {
		if !VerifyCodeMAC(after, "1000000001", "0042", "012345", mac) {
			t.Errorf("%s: a code MAC of the old key no longer verifies after rotation", name)
		}
		if VerifyCodeMAC(onlyNew, "1000000001", "0042", "012345", mac) {
			t.Errorf("%s: a code MAC verifies without its key", name)
		}
	}
	if got := CodeMAC(after, "1000000001", "0042", "012345"); MACKeyID(got) != "k2" {
		t.Errorf("after rotation a MAC is written with key %q, want k2", MACKeyID(got))
	}

	cheap := argonParams{memoryKiB: 64, passes: 1, lanes: 1, saltLen: 16, keyLen: 32}
	old, err := hashPassword(rand.Reader, before, "1357", cheap)
	if err != nil {
		t.Fatal(err)
	}
	legacy := legacyHash(t, "1357", cheap)
	tests := []struct {
		name      string
		hash      string
		keys      HashKeys
		ok, stale bool
		err       bool
	}{
		{"peppered by the writing key", old, before, true, false, false},
		{"peppered by an older key", old, after, true, true, false},
		{"peppered by a removed key", old, onlyNew, false, false, true},
		{"unpeppered, from before the pepper", legacy, after, true, true, false},
	}
	for _, tt := range tests {
		ok, stale, err := VerifyPassword(tt.keys, tt.hash, "1357")
		if ok != tt.ok || stale != tt.stale || (err != nil) != tt.err {
			t.Errorf("%s: VerifyPassword = %v, stale %v, %v; want %v, stale %v, error %v", tt.name, ok, stale, err, tt.ok, tt.stale, tt.err)
		}
		if ok, _, _ := VerifyPassword(tt.keys, tt.hash, "1358"); ok {
			t.Errorf("%s: a wrong password verifies", tt.name)
		}
	}
}

// TestPepperDefeatsADumpAlone: with the stored hash of a 4-digit password
// but not the key, trying all 10,000 candidates finds nothing, while the
// same search with the key finds it.
func TestPepperDefeatsADumpAlone(t *testing.T) {
	cheap := argonParams{memoryKiB: 8, passes: 1, lanes: 1, saltLen: 16, keyLen: 32}
	h, err := hashPassword(rand.Reader, testKeys, "4711", cheap)
	if err != nil {
		t.Fatal(err)
	}
	guessedKey := NewHashKeys("k1", make([]byte, 32)) // the attacker's best guess: they lack the key
	found := func(keys HashKeys) string {
		for i := 0; i < 10000; i++ {
			pw := fmt.Sprintf("%04d", i)
			if ok, _, _ := VerifyPassword(keys, h, pw); ok {
				return pw
			}
		}
		return ""
	}
	if pw := found(guessedKey); pw != "" {
		t.Fatalf("brute force without the key found %q", pw)
	}
	if pw := found(testKeys); pw != "4711" {
		t.Fatalf("brute force with the key found %q; the search itself is broken", pw)
	}
}

// TestAuditChainMAC: the link is written under the first key and names it;
// it verifies under that key while it stays in the ring (also second, after
// a rotation), not under another key, not for another predecessor or
// entry, and not at all once its key is gone.
func TestAuditChainMAC(t *testing.T) {
	old := NewHashKeys("k1", []byte("0123456789abcdef0123456789abcdef"))
	id, mac := AuditChainMAC(old, "prev", `[1,"x"]`)
	if id != "k1" || len(mac) != 64 {
		t.Fatalf("got %q %q, want key k1 and 64 hex digits", id, mac)
	}
	rotated, err := ParseHashKeys("k2:" + b64("fedcba9876543210fedcba9876543210") + ",k1:" + b64("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	if newID, newMAC := AuditChainMAC(rotated, "prev", `[1,"x"]`); newID != "k2" || newMAC == mac {
		t.Fatalf("after the rotation the new first key links: got %q", newID)
	}
	check := func(keys HashKeys, keyID, prev, entry string, wantOK, wantKnown bool) {
		t.Helper()
		if ok, known := VerifyAuditChainMAC(keys, keyID, prev, entry, mac); ok != wantOK || known != wantKnown {
			t.Errorf("verify under %q (%s, %s): got ok=%v known=%v", keyID, prev, entry, ok, known)
		}
	}
	check(old, "k1", "prev", `[1,"x"]`, true, true)
	check(rotated, "k1", "prev", `[1,"x"]`, true, true)
	check(rotated, "k2", "prev", `[1,"x"]`, false, true)
	check(old, "k1", "other", `[1,"x"]`, false, true)
	check(old, "k1", "prev", `[1,"y"]`, false, true)
	check(NewHashKeys("k2", []byte("fedcba9876543210fedcba9876543210")), "k1", "prev", `[1,"x"]`, false, false)
}
