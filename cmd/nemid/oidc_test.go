package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

var (
	printedClientID     = regexp.MustCompile(`(?m)^client_id: (\S+)$`)
	printedClientSecret = regexp.MustCompile(`(?m)^client_secret: (\S+)$`)
)

// TestOIDCClientCreate: `nemid oidc client create` registers what it was
// told, prints the client_id, and a confidential client's secret once;
// the store keeps only the secret's hash, and the audit log names the
// operator.
func TestOIDCClientCreate(t *testing.T) {
	cases := []struct {
		name            string
		args            []string
		uris            []string
		publicAuthority bool
		confidential    bool
	}{
		{"a confidential public authority with two redirect URIs",
			[]string{"--name", "Borger.dk", "--redirect-uri", "https://borger.example/callback", "--redirect-uri", "http://localhost:3000/cb",
				"--public-authority", "--confidential"},
			[]string{"https://borger.example/callback", "http://localhost:3000/cb"}, true, true},
		{"a public private client",
			[]string{"--name", "Netbank", "--redirect-uri", "https://bank.example/oidc"},
			[]string{"https://bank.example/oidc"}, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			out, err := runCaptured(t, dir, append([]string{"oidc", "client", "create"}, c.args...)...)
			require.NoError(t, err)
			id := printedClientID.FindStringSubmatch(out)
			require.NotNil(t, id, "client_id is printed: %q", out)
			secret := printedClientSecret.FindStringSubmatch(out)

			st, err := store.OpenSQLite(filepath.Join(dir, "nemid.db"))
			require.NoError(t, err)
			defer st.Close()
			ctx := context.Background()
			got, err := st.OIDCClientByID(ctx, id[1])
			require.NoError(t, err, "the printed client_id is registered")
			name := c.args[1]
			assert.Equal(t, name, got.Name)
			assert.Equal(t, c.uris, got.RedirectURIs())
			assert.Equal(t, c.publicAuthority, got.PublicAuthority)
			assert.Equal(t, c.confidential, got.Confidential)
			if c.confidential {
				require.NotNil(t, secret, "a confidential client's secret is printed: %q", out)
				require.NotNil(t, got.SecretHash)
				assert.Equal(t, store.HashToken(secret[1]), *got.SecretHash, "kept as its hash")
				assert.NotContains(t, *got.SecretHash, secret[1])
			} else {
				assert.Nil(t, secret, "a public client has no secret: %q", out)
				assert.Nil(t, got.SecretHash)
			}

			entries, _, err := st.ListAudit(ctx, store.AuditFilter{Action: store.AuditOIDCClientCreated, Limit: 10})
			require.NoError(t, err)
			require.Len(t, entries, 1)
			assert.Equal(t, "operator:cli", entries[0].Actor)
			assert.Equal(t, store.OIDCClientTarget(id[1]), entries[0].Target)
			if secret != nil {
				assert.NotContains(t, entries[0].Target+entries[0].Outcome, secret[1], "the audit log holds no secret")
			}
		})
	}
}

func TestOIDCClientCreateRefusals(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"oidc"}, "usage"},
		{[]string{"oidc", "client", "list"}, "usage"},
		{[]string{"oidc", "client", "create", "--redirect-uri", "https://a.example/cb"}, "name is required"},
		{[]string{"oidc", "client", "create", "--name", "A"}, "at least one redirect URI"},
		{[]string{"oidc", "client", "create", "--name", "A", "--redirect-uri", "http://a.example/cb"}, "must use https"},
		{[]string{"oidc", "client", "create", "--name", "A", "--redirect-uri", "https://a.example/cb#x"}, "fragment"},
		{[]string{"oidc", "client", "create", "--name", "A", "--redirect-uri", "/cb"}, "not an absolute URL"},
		{[]string{"oidc", "client", "create", "--name", "A", "--redirect-uri", "https://a.example/cb", "extra"}, "unexpected arguments"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			out, err := runCaptured(t, dir, c.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, out, "client_id", "nothing is registered")
		})
	}
}

// TestDevDemoClientIsReused: `nemid dev` registers its demo service
// provider once and reuses it on restart; a changed address or a fresh
// database gets a new registration with the right redirect URI.
func TestDevDemoClientIsReused(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	open := func(name string) *store.Store {
		st, err := store.OpenSQLite(filepath.Join(dir, name))
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		require.NoError(t, st.Migrate(ctx))
		st.UseHashKeys(testenv.HashKeys()) // as nemid dev's store has NEMID_HASH_KEY: registering is audited
		return st
	}
	st := open("nemid.db")
	first, err := ensureDemoClient(ctx, st, dir, "http://127.0.0.1:8088")
	require.NoError(t, err)
	c, err := st.OIDCClientByID(ctx, first)
	require.NoError(t, err)
	assert.Equal(t, []string{"http://127.0.0.1:8088/callback"}, c.RedirectURIs())
	assert.False(t, c.Confidential, "a public client: PKCE, no secret to keep")
	assert.False(t, c.PublicAuthority)

	again, err := ensureDemoClient(ctx, st, dir, "http://127.0.0.1:8088")
	require.NoError(t, err)
	assert.Equal(t, first, again, "a restart reuses the client")
	all, _, err := st.ListOIDCClients(ctx, "", 10)
	require.NoError(t, err)
	assert.Len(t, all, 1)

	moved, err := ensureDemoClient(ctx, st, dir, "http://127.0.0.1:9099")
	require.NoError(t, err)
	assert.NotEqual(t, first, moved, "another address: another redirect URI, another client")
	c, err = st.OIDCClientByID(ctx, moved)
	require.NoError(t, err)
	assert.Equal(t, []string{"http://127.0.0.1:9099/callback"}, c.RedirectURIs())

	fresh := open("other.db")
	anew, err := ensureDemoClient(ctx, fresh, dir, "http://127.0.0.1:9099")
	require.NoError(t, err)
	_, err = fresh.OIDCClientByID(ctx, anew)
	assert.NoError(t, err, "a database without the kept client gets one registered")

	_, err = ensureDemoClient(ctx, st, dir, "http://demo.example:8088")
	assert.ErrorContains(t, err, "https", "a demo address that is not loopback is refused, not registered over http")
}
