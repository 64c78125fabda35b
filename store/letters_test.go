package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/letterkeys"
	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// A letter PDF is never written readable: the store refuses one that is
// not sealed, whichever way it would be stored.
func TestTheStoreRefusesUnsealedLetters(t *testing.T) {
	st := testenv.SQLite(t)
	ctx := context.Background()
	l := store.Letter{ID: uuid.NewString(), IssuanceID: "i", Kind: store.KindReminder, Status: store.LetterQueued,
		DedupeKey: "i/reminder", Recipient: "{}", PDF: []byte("%PDF-1.3 plaintext"), PDFSHA256: "x", CreatedAt: time.Now()}
	_, err := st.QueueLetter(ctx, l, store.Event{IssuanceID: "i", DedupeKey: "reminder_queued", Type: "reminder_queued", Actor: "system"})
	assert.ErrorIs(t, err, store.ErrUnsealed)
	assert.ErrorIs(t, st.SaveMinted(ctx, store.Minted{Letters: []store.Letter{l}}), store.ErrUnsealed)
	_, _, err = st.SaveReplacement(ctx, store.Replacement{Letter: l})
	assert.ErrorIs(t, err, store.ErrUnsealed)
}

// A database from before letters were sealed: `nemid migrate` (and `nemid
// dev`) seal each stored plaintext PDF under a new key of its own, replace
// the plaintext digest, and leave purged and already sealed letters alone.
func TestSealPlaintextLettersFromAnEarlierVersion(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st, disk := b.OpenDisk(t)
			ctx := context.Background()
			keys, err := letterkeys.OpenDir(filepath.Join(t.TempDir(), "letter-keys"))
			require.NoError(t, err)
			plain := []byte("%PDF-1.3 Temporary password: 314159")
			digest := sha256.Sum256(plain)
			insert := func(id, status string, pdf []byte) {
				disk.Exec(t, `INSERT INTO letters (id, issuance_id, kind, status, dedupe_key, recipient, pdf, pdf_sha256, created_at)
					VALUES (?, 'i', 'password', ?, ?, '{}', ?, ?, ?)`, id, status, "i/"+id, pdf, hex.EncodeToString(digest[:]), time.Now().UTC())
			}
			old, purged, sealedBefore := uuid.NewString(), uuid.NewString(), uuid.NewString()
			insert(old, store.LetterQueued, plain)
			insert(purged, store.LetterDispatched, nil)
			already, err := keys.Seal(sealedBefore, []byte("%PDF already sealed"))
			require.NoError(t, err)
			insert(sealedBefore, store.LetterQueued, already)

			n, err := st.SealPlaintextLetters(ctx, keys)
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			l, err := st.PostalLetter(ctx, old)
			require.NoError(t, err)
			require.True(t, letterkeys.IsSealed(l.PDF), "the stored PDF is sealed now")
			opened, err := keys.Unseal(old, l.PDF)
			require.NoError(t, err)
			assert.Equal(t, plain, opened)
			sum := sha256.Sum256(l.PDF)
			assert.Equal(t, hex.EncodeToString(sum[:]), l.PDFSHA256, "the digest is of the sealed bytes, not the plaintext")
			_, err = os.Stat(keys.File(purged))
			assert.ErrorIs(t, err, os.ErrNotExist, "a purged letter gets no key")
			other, err := st.PostalLetter(ctx, sealedBefore)
			require.NoError(t, err)
			assert.Equal(t, already, other.PDF, "a sealed letter is left as it is")

			n, err = st.SealPlaintextLetters(ctx, keys)
			require.NoError(t, err)
			assert.Zero(t, n, "a second run seals nothing")
		})
	}
}

// The SQLite files are the owner's alone: the database file is created
// 0600 before SQLite opens it (its -wal and -shm files take its mode), a
// new data directory 0700, and an existing file that was readable by
// others is narrowed.
func TestSQLiteFilesArePrivate(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	st, err := store.Open("", dataDir)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(context.Background()))
	dir, err := os.Stat(dataDir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), dir.Mode().Perm(), "data directory")
	db := filepath.Join(dataDir, "nemid.db")
	for _, path := range []string{db, db + "-wal", db + "-shm"} {
		info, err := os.Stat(path)
		require.NoError(t, err, "the database is open in WAL mode: %s exists", path)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), path)
	}
	require.NoError(t, st.Close())

	require.NoError(t, os.Chmod(db, 0o644))
	st, err = store.OpenSQLite(db)
	require.NoError(t, err)
	defer st.Close()
	info, err := os.Stat(db)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "an existing database file is narrowed")
}
