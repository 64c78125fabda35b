package main

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/codec"
)

// TestBaselineCodecEncryptsLikeTheSystem: the load's engine baseline
// carries its payloads through the system's codec (before, it sent them in
// plain JSON while the system encrypted, flattering the baseline), under
// the configured key when there is one and a key of its own otherwise.
func TestBaselineCodecEncryptsLikeTheSystem(t *testing.T) {
	configured := "sys:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	system, err := codec.Parse(configured)
	require.NoError(t, err)
	for _, tt := range []struct {
		name          string
		configured    string
		systemDecodes bool
	}{
		{"the configured key", configured, true},
		{"no key configured: one for the run", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := baselineCodec(tt.configured)
			require.NoError(t, err)
			dc := c.DataConverter()
			p, err := dc.ToPayload("counter-shape")
			require.NoError(t, err)
			assert.NotContains(t, string(p.Data), "counter-shape", "the payload is encrypted")

			var back string
			require.NoError(t, dc.FromPayload(p, &back))
			assert.Equal(t, "counter-shape", back)
			var bySystem string
			err = system.DataConverter().FromPayload(p, &bySystem)
			assert.Equal(t, tt.systemDecodes, err == nil, "the system's key opens it: %v", err)
		})
	}
}
