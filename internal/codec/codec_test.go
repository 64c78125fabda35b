package codec

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"go.temporal.io/sdk/converter"
)

func key(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }

func TestRoundTripHidesPlaintextAndSurvivesRotation(t *testing.T) {
	old, err := Parse("k1:" + key(1))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := old.DataConverter().ToPayload(map[string]string{"cpr": "0101901234"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(payload.Data, []byte("0101901234")) {
		t.Fatal("encrypted payload contains the CPR in plaintext")
	}
	rotated, err := Parse("k2:" + key(2) + ",k1:" + key(1))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := rotated.DataConverter().FromPayload(payload, &got); err != nil {
		t.Fatalf("rotated codec cannot read the old key's payload: %v", err)
	}
	if got["cpr"] != "0101901234" {
		t.Fatalf("round trip: got %v", got)
	}
	fresh, _ := rotated.DataConverter().ToPayload("x")
	if string(fresh.Metadata[metadataKeyID]) != "k2" {
		t.Fatalf("new payloads must use the first key, used %q", fresh.Metadata[metadataKeyID])
	}
	if _, err := Parse("k3:" + key(3)); err != nil {
		t.Fatal(err)
	}
	stranger, _ := Parse("k3:" + key(3))
	if err := stranger.DataConverter().FromPayload(payload, &got); err == nil {
		t.Fatal("a codec without the key decrypted the payload")
	}
}

func TestParseRejectsMalformedKeys(t *testing.T) {
	for _, spec := range []string{"", "nokey", "k:notbase64!", "k:" + base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := Parse(spec); err == nil {
			t.Errorf("Parse(%q) accepted a malformed key", spec)
		} else if strings.Contains(err.Error(), key(1)) {
			t.Errorf("error leaks key material")
		}
	}
	_ = converter.MetadataEncoding
}
