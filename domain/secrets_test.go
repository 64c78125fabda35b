package domain

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var testKeys = NewHashKeys("k1", []byte("0123456789abcdef0123456789abcdef"))

func TestHashPassword(t *testing.T) {
	start := time.Now()
	h, err := HashPassword(testKeys, "Hemmelig42")
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("one argon2id hash took %v", elapsed)
	if !strings.HasPrefix(h, "$nemid-argon2id$k=k1$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "Hemmelig42") {
		t.Errorf("hash %q", h)
	}
	h2, _ := HashPassword(testKeys, "Hemmelig42")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	tests := []struct {
		password string
		ok       bool
	}{{"Hemmelig42", true}, {"hemmelig42", false}, {"Hemmelig4", false}, {"", false}}
	for _, tt := range tests {
		ok, stale, err := VerifyPassword(testKeys, h, tt.password)
		if err != nil || ok != tt.ok || stale {
			t.Errorf("VerifyPassword(%q) = %v, %v, %v; want %v, fresh", tt.password, ok, stale, err, tt.ok)
		}
	}
}

func TestVerifyPasswordReadsItsOwnParameters(t *testing.T) {
	cheap := argonParams{memoryKiB: 64, passes: 1, lanes: 1, saltLen: 8, keyLen: 16}
	h, err := hashPassword(strings.NewReader("0123456789abcdef"), testKeys, "1357", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := VerifyPassword(testKeys, h, "1357"); !ok || err != nil {
		t.Errorf("a hash with other parameters does not verify: %v, %v", ok, err)
	}
}

func TestVerifyPasswordRejectsMalformedHashes(t *testing.T) {
	good := legacyHash(t, "x", argonParams{memoryKiB: 64, passes: 1, lanes: 1, saltLen: 16, keyLen: 32})
	parts := strings.Split(good, "$")
	swap := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	for name, h := range map[string]string{
		"empty":              "",
		"bcrypt":             "$2a$10$abcdefghijklmnopqrstuu",
		"argon2i":            swap(1, "argon2i"),
		"old version":        swap(2, "v=16"),
		"garbled parameters": swap(3, "m=x,t=1,p=1"),
		"4 GiB of memory":    swap(3, "m=4194304,t=1,p=1"),
		"a thousand passes":  swap(3, "m=64,t=1000,p=1"),
		"no lanes":           swap(3, "m=64,t=1,p=0"),
		"salt not base64":    swap(4, "!!!!"),
		"short salt":         swap(4, "AAAA"),
		"short hash":         swap(5, "AAAA"),
		"extra field":        good + "$x",
	} {
		if ok, _, err := VerifyPassword(testKeys, h, "x"); ok || !errors.Is(err, ErrPasswordHashMalformed) {
			t.Errorf("%s: VerifyPassword = %v, %v; want ErrPasswordHashMalformed", name, ok, err)
		}
	}
}

func TestCodeMAC(t *testing.T) {
	key := testKeys
	mac := CodeMAC(key, "1000000001", "0042", "012345")
	if len(mac) != len("k1:")+64 || !strings.HasPrefix(mac, "k1:") || strings.Contains(mac, "012345") {
		t.Errorf("mac %q", mac)
	}
	tests := []struct {
		name                    string
		key                     HashKeys
		card, cardKey, code, mc string
		ok                      bool
	}{
		{"right code", key, "1000000001", "0042", "012345", mac, true},
		{"wrong code", key, "1000000001", "0042", "012346", mac, false},
		{"code of another key", key, "1000000001", "0043", "012345", mac, false},
		{"same code on another card", key, "1000000002", "0042", "012345", mac, false},
		{"another secret key", NewHashKeys("k1", []byte("another key, another key, another")), "1000000001", "0042", "012345", mac, false},
		{"a key of another id", NewHashKeys("k2", []byte("0123456789abcdef0123456789abcdef")), "1000000001", "0042", "012345", mac, false},
		{"the key id stripped", key, "1000000001", "0042", "012345", mac[3:], false},
		{"fields shifted across the boundary", key, "1000000001", "00420", "12345", mac, false},
		{"upper-case hex is not what was stored", key, "1000000001", "0042", "012345", "k1:" + strings.ToUpper(mac[3:]), false},
		{"empty mac", key, "1000000001", "0042", "012345", "", false},
	}
	for _, tt := range tests {
		if got := VerifyCodeMAC(tt.key, tt.card, tt.cardKey, tt.code, tt.mc); got != tt.ok {
			t.Errorf("%s: VerifyCodeMAC = %v, want %v", tt.name, got, tt.ok)
		}
	}
}

func TestTemporaryPasswordMAC(t *testing.T) {
	key := testKeys
	mac := TemporaryPasswordMAC(key, "123456789", "004711")
	if !VerifyTemporaryPassword(key, "123456789", "004711", mac) {
		t.Error("the right temporary password fails")
	}
	if VerifyTemporaryPassword(key, "123456789", "004712", mac) ||
		VerifyTemporaryPassword(key, "123456780", "004711", mac) {
		t.Error("a wrong password or another NemID number passes")
	}
	if mac == CodeMAC(key, "123456789", "004711", "") || mac[3:] == CPRLookupHash(key.Lookup(), CPR{digits: "123456789004711"}) {
		t.Error("MACs of different kinds collide")
	}
}
