package letterkeys_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/letterkeys"
)

const letterID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

func openDir(t *testing.T) *letterkeys.Dir {
	t.Helper()
	d, err := letterkeys.OpenDir(filepath.Join(t.TempDir(), "letter-keys"))
	require.NoError(t, err)
	return d
}

func TestSealUnsealAndDestroy(t *testing.T) {
	d := openDir(t)
	pdf := []byte("%PDF-1.3 Temporary password: 123456")
	sealed, err := d.Seal(letterID, pdf)
	require.NoError(t, err)
	assert.True(t, letterkeys.IsSealed(sealed))
	assert.False(t, letterkeys.IsSealed(pdf))
	assert.False(t, bytes.Contains(sealed, []byte("123456")), "the sealed document hides the plaintext")

	got, err := d.Unseal(letterID, sealed)
	require.NoError(t, err)
	assert.Equal(t, pdf, got)

	key, err := d.Get(letterID)
	require.NoError(t, err)
	assert.Len(t, key, letterkeys.KeySize)
	assert.False(t, bytes.Contains(sealed, key), "the key is not in the sealed document")

	require.NoError(t, d.Destroy(letterID))
	_, err = os.Stat(d.File(letterID))
	assert.ErrorIs(t, err, os.ErrNotExist, "the key file is removed")
	_, err = d.Unseal(letterID, sealed)
	assert.ErrorIs(t, err, letterkeys.ErrNoKey)
	require.NoError(t, d.Destroy(letterID), "destroying again is fine")
}

func TestFilesArePrivate(t *testing.T) {
	d := openDir(t)
	_, err := d.Seal(letterID, []byte("x"))
	require.NoError(t, err)
	dir, err := os.Stat(d.Path())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), dir.Mode().Perm())
	f, err := os.Stat(d.File(letterID))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), f.Mode().Perm())
	entries, err := os.ReadDir(d.Path())
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left behind")
	assert.Equal(t, letterID+".key", entries[0].Name())
}

// The letter id is the additional data: a sealed document copied into
// another letter's row does not open under that letter's key, nor does a
// tampered one.
func TestSealedDocumentsAreBoundToTheirLetter(t *testing.T) {
	d := openDir(t)
	other := "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c"
	sealed, err := d.Seal(letterID, []byte("%PDF secret"))
	require.NoError(t, err)
	_, err = d.Seal(other, []byte("%PDF other"))
	require.NoError(t, err)
	_, err = d.Unseal(other, sealed)
	assert.ErrorContains(t, err, "does not authenticate")

	// The same key under the other name: the additional data still differs.
	key, err := os.ReadFile(d.File(letterID))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(d.File(other), key, 0o600))
	_, err = d.Unseal(other, sealed)
	assert.ErrorContains(t, err, "does not authenticate")

	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	_, err = d.Unseal(letterID, tampered)
	assert.ErrorContains(t, err, "does not authenticate")
	_, err = d.Unseal(letterID, []byte("%PDF-1.3 plaintext"))
	assert.ErrorContains(t, err, "not sealed")
}

// Destroy overwrites the bytes before removing the name: another link to
// the same file (a stand-in for a block the filesystem would reuse) reads
// zeros afterwards.
func TestDestroyOverwritesTheKey(t *testing.T) {
	d := openDir(t)
	_, err := d.Seal(letterID, []byte("x"))
	require.NoError(t, err)
	key, err := d.Get(letterID)
	require.NoError(t, err)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Link(d.File(letterID), link); err != nil {
		t.Skipf("hard links unavailable here: %v", err)
	}
	require.NoError(t, d.Destroy(letterID))
	after, err := os.ReadFile(link)
	require.NoError(t, err)
	assert.Equal(t, make([]byte, letterkeys.KeySize), after, "the file's bytes are zeros")
	assert.NotEqual(t, key, after)
}

func TestCreateRefusesASecondKeyAndBadIDs(t *testing.T) {
	d := openDir(t)
	_, err := d.Create(letterID)
	require.NoError(t, err)
	_, err = d.Create(letterID)
	assert.ErrorContains(t, err, "already has a key")
	for _, id := range []string{"", "../escape", "a/b", ".hidden", "x.key"} {
		_, err := d.Create(id)
		assert.ErrorContains(t, err, "invalid letter id", id)
		assert.Error(t, d.Destroy(id), id)
		_, err = d.Get(id)
		assert.Error(t, err, id)
	}
}

// A crash in the middle of Destroy can leave a zeroed file behind: it opens
// nothing and counts as destroyed.
func TestAZeroedKeyCountsAsDestroyed(t *testing.T) {
	d := openDir(t)
	sealed, err := d.Seal(letterID, []byte("x"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(d.File(letterID), make([]byte, letterkeys.KeySize), 0o600))
	_, err = d.Unseal(letterID, sealed)
	assert.ErrorIs(t, err, letterkeys.ErrNoKey)
}

func TestOpenDirRemovesStaleUnfinishedKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.MkdirAll(dir, 0o700))
	stale := filepath.Join(dir, ".tmp-"+letterID+"-0011223344556677")
	fresh := filepath.Join(dir, ".tmp-"+letterID+"-8899aabbccddeeff")
	require.NoError(t, os.WriteFile(stale, bytes.Repeat([]byte{7}, 32), 0o600))
	require.NoError(t, os.WriteFile(fresh, bytes.Repeat([]byte{7}, 32), 0o600))
	old := time.Now().Add(-2 * time.Hour)
	require.NoError(t, os.Chtimes(stale, old, old))
	_, err := letterkeys.OpenDir(dir)
	require.NoError(t, err)
	_, err = os.Stat(stale)
	assert.ErrorIs(t, err, os.ErrNotExist, "a crashed writer's old temporary key is removed")
	_, err = os.Stat(fresh)
	assert.NoError(t, err, "another process's key in the making is left alone")
}
