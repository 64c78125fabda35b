package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/store"
)

// lastLine is the last line of a command's standard output.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// listed is the columns of a token's row in `nemid token list` (columns
// are apart by at least two spaces; a name may hold one).
func listed(t *testing.T, list, id string) []string {
	t.Helper()
	for _, line := range strings.Split(list, "\n") {
		if strings.HasPrefix(line, id+" ") {
			return regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1)
		}
	}
	t.Fatalf("token %s is not listed:\n%s", id, list)
	return nil
}

// TestTokenCreateListRevoke: a named token with a ttl is created, listed
// with its name and expiry (never the token), revoked by its id, and then
// refused; the list shows the revocation.
func TestTokenCreateListRevoke(t *testing.T) {
	dir := t.TempDir()
	out, err := runCaptured(t, dir, "token", "create", "--role", "caseworker", "--scope", "KBH", "--name", "Mette Jensen", "--ttl", "2160h")
	require.NoError(t, err)
	token := lastLine(out)
	require.True(t, strings.HasPrefix(token, "nemid_"), "the token alone on the last line: %q", out)
	plainOut, err := runCaptured(t, dir, "token", "create", "--role", "post", "--scope", "post")
	require.NoError(t, err)
	plain := lastLine(plainOut)

	st, err := store.OpenSQLite(filepath.Join(dir, "nemid.db"))
	require.NoError(t, err)
	defer st.Close()
	ctx := context.Background()
	got, err := st.TokenByValue(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, "Mette Jensen", got.Name)
	require.NotNil(t, got.ExpiresAt)
	assert.Equal(t, 2160*time.Hour, got.ExpiresAt.Sub(got.CreatedAt))
	assert.Contains(t, out, got.ID, "the id to revoke it by is printed")
	other, err := st.TokenByValue(ctx, plain)
	require.NoError(t, err)
	assert.Equal(t, "post:post", other.Name, "named role:scope by default")
	assert.Nil(t, other.ExpiresAt, "no ttl: no expiry")

	list, err := runCaptured(t, dir, "token", "list")
	require.NoError(t, err)
	assert.NotContains(t, list, token)
	assert.NotContains(t, list, plain)
	assert.Len(t, strings.Split(strings.TrimSpace(list), "\n"), 3, "a heading and two tokens")
	assert.Equal(t, "-", listed(t, list, got.ID)[5], "not revoked")
	assert.Equal(t, []string{other.ID, "post:post", "post:post"}, listed(t, list, other.ID)[:3])

	revoked, err := runCaptured(t, dir, "token", "revoke", got.ID)
	require.NoError(t, err)
	assert.Contains(t, revoked, "revoked")
	_, err = st.TokenByValue(ctx, token)
	assert.ErrorIs(t, err, store.ErrNotFound, "a revoked token is refused")
	_, err = st.TokenByValue(ctx, plain)
	assert.NoError(t, err, "only that token")
	after, err := st.GetToken(ctx, got.ID)
	require.NoError(t, err)
	require.NotNil(t, after.RevokedAt)
	list, err = runCaptured(t, dir, "token", "list")
	require.NoError(t, err)
	cols := listed(t, list, got.ID)
	require.Len(t, cols, 7, "ID, ROLE:SCOPE, NAME, CREATED, EXPIRES, REVOKED, LAST USED")
	assert.Equal(t, []string{got.ID, "caseworker:KBH", "Mette Jensen"}, cols[:3])
	assert.Equal(t, got.ExpiresAt.UTC().Format(time.RFC3339), cols[4])
	assert.Equal(t, after.RevokedAt.UTC().Format(time.RFC3339), cols[5], "the list shows the revocation")
	assert.Equal(t, "-", cols[6], "never used")
	again, err := runCaptured(t, dir, "token", "revoke", got.ID)
	require.NoError(t, err, "revoking again is no error")
	assert.Contains(t, again, after.RevokedAt.UTC().Format(time.RFC3339), "and keeps the first revocation")
	_, err = runCaptured(t, dir, "token", "revoke", "no-such-id")
	assert.ErrorContains(t, err, "no token")
}

func TestTokenCommandRefusals(t *testing.T) {
	cases := [][]string{
		{"token", "create", "--role", "admin", "--scope", "all", "--ttl", "90d"},
		{"token", "create", "--role", "admin", "--scope", "all", "--ttl", ""},
		{"token", "create", "--role", "admin", "--scope", "all", "--ttl", "-1h"},
		{"token", "create", "--role", "admin", "--scope", "all", "--name", strings.Repeat("x", 201)},
		{"token", "create", "--role", "admin", "--scope", "all", "extra"},
		{"token", "list", "extra"},
		{"token", "revoke"},
		{"token", "frobnicate"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, err := runCaptured(t, t.TempDir(), args...)
			assert.Error(t, err)
		})
	}
}

// TestDevTokensAreNamed: the tokens `nemid dev` prints carry names, and a
// second run reuses them.
func TestDevTokensAreNamed(t *testing.T) {
	dir := t.TempDir()
	st, err := store.OpenSQLite(filepath.Join(dir, "nemid.db"))
	require.NoError(t, err)
	defer st.Close()
	ctx := context.Background()
	require.NoError(t, st.Migrate(ctx))
	tokens, err := ensureDevTokens(ctx, st, dir)
	require.NoError(t, err)
	names := map[string]string{}
	for key, tok := range tokens {
		got, err := st.TokenByValue(ctx, tok)
		require.NoError(t, err)
		names[key] = got.Name
	}
	assert.Equal(t, "Dev caseworker KBH", names["caseworker:KBH"])
	assert.Equal(t, "Dev admin", names["admin:all"])
	assert.Len(t, names, len(devTokens))
	again, err := ensureDevTokens(ctx, st, dir)
	require.NoError(t, err)
	assert.Equal(t, tokens, again, "a second run reuses the tokens")
}
