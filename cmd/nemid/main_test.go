package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/register"
	"github.com/opennemid/nemid/store"
)

// runCaptured runs a subcommand against a fresh SQLite data directory and
// returns what it printed on standard output.
func runCaptured(t *testing.T, dataDir string, args ...string) (string, error) {
	t.Helper()
	t.Setenv("NEMID_DATA_DIR", dataDir)
	t.Setenv("DATABASE_URL", "")
	if _, set := os.LookupEnv("NEMID_HASH_KEY"); !set {
		t.Setenv("NEMID_HASH_KEY", testenv.HashKeyEnv) // token and oidc commands append to the keyed audit log
	}
	r, w, err := os.Pipe()
	require.NoError(t, err)
	stdout := os.Stdout
	os.Stdout = w
	runErr := run(context.Background(), args)
	os.Stdout = stdout
	require.NoError(t, w.Close())
	var out bytes.Buffer
	_, _ = io.Copy(&out, r)
	return out.String(), runErr
}

// TestToolsOnAFreshDevDirectoryWithoutAKey: on a fresh dev data directory
// and no NEMID_HASH_KEY, the audited operator commands make the dev key
// `nemid dev` would, and the chain they write verifies with it.
func TestToolsOnAFreshDevDirectoryWithoutAKey(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("NEMID_HASH_KEY", "")
	_, err := runCaptured(t, dir, "audit", "verify")
	require.Error(t, err, "verify makes up no key")
	_, err = os.Stat(filepath.Join(dir, "hash.key"))
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = runCaptured(t, dir, "token", "create", "--role", "admin", "--scope", "all")
	require.NoError(t, err)
	key, err := os.ReadFile(filepath.Join(dir, "hash.key"))
	require.NoError(t, err, "the dev key is made")
	out, err := runCaptured(t, dir, "audit", "verify")
	require.NoError(t, err)
	assert.Contains(t, out, "the chain holds: 1 entries")
	t.Setenv("NEMID_HASH_KEY", testenv.HashKeyEnv)
	_, err = runCaptured(t, dir, "audit", "verify")
	require.Error(t, err, "another key does not verify the chain")
	again, err := os.ReadFile(filepath.Join(dir, "hash.key"))
	require.NoError(t, err)
	assert.Equal(t, key, again, "the key is kept")
}

func TestTokenCreatePrintsAWorkingTokenOnTheLastLine(t *testing.T) {
	dir := t.TempDir()
	out, err := runCaptured(t, dir, "token", "create", "--role", "caseworker", "--scope", "KBH")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]
	require.True(t, strings.HasPrefix(token, "nemid_"), "last line %q", token)

	st, err := store.OpenSQLite(filepath.Join(dir, "nemid.db"))
	require.NoError(t, err)
	defer st.Close()
	got, err := st.TokenByValue(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, "caseworker", got.Role)
	assert.Equal(t, "KBH", got.Scope)
	dump, err := st.DumpForTests(context.Background())
	require.NoError(t, err)
	assert.NotContains(t, dump, token, "tokens are stored hashed")
}

func TestTokenCreateRejectsBadRolesAndScopes(t *testing.T) {
	cases := [][]string{
		{"token", "create", "--role", "king", "--scope", "all"},
		{"token", "create", "--role", "caseworker", "--scope", "NOWHERE"},
		{"token", "create", "--role", "embassy", "--scope", "OSLO"},
		{"token", "create", "--role", "bank", "--scope", "12"},
		{"token", "create", "--role", "admin", "--scope", "KBH"},
		{"token", "create", "--role", "post"},
		{"token"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, err := runCaptured(t, t.TempDir(), args...)
			assert.Error(t, err)
		})
	}
}

func TestRegistryImportUpsertsByCPR(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "people.csv")
	header := "cpr,name,address,postcode,city,country,address_protected,deceased,danish_passport,danish_driving_licence,arrived_dk\n"
	require.NoError(t, os.WriteFile(csv, []byte(header+"010190-1234,Søren,Vej 1,1000,København,DK,false,false,,,\n"), 0o600))
	out, err := runCaptured(t, dir, "registry", "import", csv)
	require.NoError(t, err)
	assert.Contains(t, out, "imported 1")
	require.NoError(t, os.WriteFile(csv, []byte(header+"0101901234,Søren Ny,Vej 2,1000,København,DK,false,true,,,\n"), 0o600))
	_, err = runCaptured(t, dir, "registry", "import", csv)
	require.NoError(t, err)

	st, err := store.OpenSQLite(filepath.Join(dir, "nemid.db"))
	require.NoError(t, err)
	defer st.Close()
	p, err := st.PersonByCPR(context.Background(), "0101901234")
	require.NoError(t, err)
	assert.Equal(t, "Søren Ny", p.Name, "the second import replaced the row")
	assert.True(t, p.Deceased)
	n, err := st.CountPersons(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)

	require.NoError(t, os.WriteFile(csv, []byte(header+"310290-1234,Bad,Vej,1,X,DK,false,false,,,\n"), 0o600))
	_, err = runCaptured(t, dir, "registry", "import", csv)
	assert.ErrorContains(t, err, "line 2")
}

func TestMigrateIsRepeatable(t *testing.T) {
	dir := t.TempDir()
	latest, err := store.LatestMigration()
	require.NoError(t, err)
	for range 2 {
		out, err := runCaptured(t, dir, "migrate")
		require.NoError(t, err)
		assert.Contains(t, out, fmt.Sprintf("database at schema version %d\n", latest))
	}
}

func TestUnknownCommand(t *testing.T) {
	_, err := runCaptured(t, t.TempDir(), "frobnicate")
	assert.ErrorContains(t, err, "unknown command")
}

// TestKeysRehashCPR rotates the CPR lookup key: an issuance written under
// the old key is found under the new one after `nemid keys rehash-cpr`,
// and a second run changes nothing.
func TestKeysRehashCPR(t *testing.T) {
	dir := t.TempDir()
	oldKey, newKey := strings.Repeat("o", 32), strings.Repeat("n", 32)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	t.Setenv("NEMID_HASH_KEY", b64(oldKey))
	_, err := runCaptured(t, dir, "migrate")
	require.NoError(t, err)

	st, err := store.OpenSQLite(filepath.Join(dir, "nemid.db"))
	require.NoError(t, err)
	ctx := context.Background()
	now := time.Now()
	people, err := register.Demo(now)
	require.NoError(t, err)
	require.NoError(t, st.UpsertPersons(ctx, people))
	cpr, err := domain.ParseCPR(people[0].CPR, now)
	require.NoError(t, err)
	oldHash := domain.CPRLookupHash([]byte(oldKey), cpr)
	newHash := domain.CPRLookupHash([]byte(newKey), cpr)
	iss := &store.Issuance{ID: "rehash-1", Path: "bank", Status: "received", CPRHash: oldHash, CPRMasked: cpr.Masked(),
		CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
	require.NoError(t, st.CreateIssuance(ctx, iss, nil))
	require.NoError(t, st.Close())

	t.Setenv("NEMID_HASH_KEY", "k2:"+b64(newKey)+",0:"+b64(oldKey))
	out, err := runCaptured(t, dir, "keys", "rehash-cpr", "--from", "0")
	require.NoError(t, err)
	assert.Contains(t, out, `rehashed 1 CPR lookup hashes from key "0" to key "k2"`)
	again, err := runCaptured(t, dir, "keys", "rehash-cpr", "--from", "0")
	require.NoError(t, err)
	assert.Contains(t, again, "rehashed 0 ")
	_, err = runCaptured(t, dir, "keys", "rehash-cpr", "--from", "gone")
	assert.ErrorContains(t, err, "--from")

	st, err = store.OpenSQLite(filepath.Join(dir, "nemid.db"))
	require.NoError(t, err)
	defer st.Close()
	var got string
	require.NoError(t, st.ScanForTests(ctx, &got, "SELECT cpr_hash FROM issuances WHERE id = ?", "rehash-1"))
	assert.Equal(t, newHash, got, "the issuance is found under the new key")
}
