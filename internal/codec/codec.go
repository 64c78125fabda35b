// Package codec encrypts Temporal payloads with AES-256-GCM so that CPR
// numbers and addresses in workflow inputs never sit readable in history.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

const (
	metadataEncoding = "binary/encrypted"
	metadataKeyID    = "encryption-key-id"
)

// AESGCM is a converter.PayloadCodec. The first key encrypts; every key
// decrypts, so keys can be rotated by prepending a new one.
type AESGCM struct {
	encryptID string
	keys      map[string]cipher.AEAD
}

// Parse reads NEMID_CODEC_KEY: comma-separated "id:base64" of 32-byte keys.
func Parse(spec string) (*AESGCM, error) {
	c := &AESGCM{keys: map[string]cipher.AEAD{}}
	for _, part := range strings.Split(spec, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || id == "" {
			return nil, errors.New("NEMID_CODEC_KEY: want id:base64[,id:base64…]")
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("NEMID_CODEC_KEY: key %q must be base64 of exactly 32 bytes", id)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("codec key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec key %q: %w", id, err)
		}
		if c.encryptID == "" {
			c.encryptID = id
		}
		c.keys[id] = aead
	}
	return c, nil
}

// DataConverter wraps the default converter with this codec.
func (c *AESGCM) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// Encode encrypts each payload as a whole, metadata included.
func (c *AESGCM) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	aead := c.keys[c.encryptID]
	for i, p := range payloads {
		plain, err := p.Marshal()
		if err != nil {
			return nil, fmt.Errorf("marshal payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(metadataEncoding),
				metadataKeyID:              []byte(c.encryptID),
			},
			Data: aead.Seal(nonce, nonce, plain, nil),
		}
	}
	return out, nil
}

// Decode decrypts payloads this codec wrote and passes others through.
func (c *AESGCM) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.Metadata[converter.MetadataEncoding]) != metadataEncoding {
			out[i] = p
			continue
		}
		id := string(p.Metadata[metadataKeyID])
		aead, ok := c.keys[id]
		if !ok {
			return nil, fmt.Errorf("payload encrypted with unknown key %q", id)
		}
		if len(p.Data) < aead.NonceSize() {
			return nil, errors.New("encrypted payload too short")
		}
		nonce, sealed := p.Data[:aead.NonceSize()], p.Data[aead.NonceSize():]
		plain, err := aead.Open(nil, nonce, sealed, nil)
		if err != nil {
			return nil, fmt.Errorf("decrypt payload with key %q: %w", id, err)
		}
		decoded := &commonpb.Payload{}
		if err := decoded.Unmarshal(plain); err != nil {
			return nil, fmt.Errorf("unmarshal decrypted payload: %w", err)
		}
		out[i] = decoded
	}
	return out, nil
}
