package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSeedRefusesTheSharedTestDatabase: the generator writes millions of
// rows, so it runs only where DATABASE_URL names a Postgres database
// explicitly, never on the test suites' shared "test" by default.
func TestSeedRefusesTheSharedTestDatabase(t *testing.T) {
	cases := []struct {
		url, allowedAs string
		allowTest      bool
	}{
		{url: ""},
		{url: "sqlite:///tmp/x.db"},
		{url: "postgres://postgres@127.0.0.1:5432/test"},
		{url: "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"},
		{url: "postgres://test@127.0.0.1:5432"}, // libpq's default database is the user's name
		{url: "postgres://postgres@127.0.0.1:5432/test", allowTest: true, allowedAs: "test"},
		{url: "postgres://postgres@127.0.0.1:5432/nemid_scale", allowedAs: "nemid_scale"},
		{url: "postgresql://u@db.example:5432/big?sslmode=require", allowedAs: "big"},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			name, err := seedTarget(tc.url, tc.allowTest)
			if tc.allowedAs == "" {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.allowedAs, name)
		})
	}
}

func TestParseCount(t *testing.T) {
	for in, want := range map[string]int64{"10000": 10000, "10k": 10_000, "10K": 10_000, "1M": 1_000_000, "1.5M": 1_500_000, "10_000_000": 10_000_000} {
		got, err := parseCount(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "ten", "1G", "k"} {
		_, err := parseCount(in)
		assert.Error(t, err, in)
	}
}
