// Package letterkeys keeps the keys that letter PDFs are stored under, one
// key per letter, as files in a directory outside the database
// (NEMID_LETTER_KEY_DIR). A letter's PDF is stored in the database only
// sealed with AES-256-GCM under its own key, the letter id as additional
// data; when the letter is dispatched or handed over its key is destroyed,
// and every copy of the ciphertext — old row versions, the WAL, backups —
// is unreadable from then on (DESIGN.md §9, "Printed secrets are gone after
// delivery"). Deletion has to be real where the keys live, which is why they
// are not in the database.
//
// The worker (which prints and stores letters) and the API (which serves,
// dispatches and hands them over) share the directory: on one machine a
// directory beside the data, in production a volume both mount (or a KMS
// behind the same four operations). Files are written with mode 0600 in a
// directory of mode 0700.
//
// Nothing here logs, and no error carries key material.
package letterkeys

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// KeySize is the length of a letter key: AES-256.
const KeySize = 32

// magic starts every sealed document: format version 1, then the 12-byte
// GCM nonce, then the ciphertext with its tag. A PDF starts with "%PDF", so
// a document stored before letters were sealed is told apart.
var magic = []byte("NLK1")

const (
	keySuffix = ".key"
	tmpPrefix = ".tmp-"
	// staleTemp is how old an unfinished key file must be before OpenDir
	// removes it (a process that crashed between writing and renaming).
	staleTemp = time.Hour
)

// ErrNoKey means the letter's key does not exist: it was destroyed at
// dispatch, handover or revocation (or never created). The document is gone.
var ErrNoKey = errors.New("the letter's key is gone")

// validID keeps letter ids from naming anything but a file in the directory.
var validID = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z_-]{0,127}$`)

// Dir is a directory of letter keys.
type Dir struct {
	path string
}

// OpenDir opens the key directory, creating it with mode 0700 when missing
// (an existing directory keeps its mode: a mounted volume may need its
// own), and removes unfinished key files a crashed process left behind.
func OpenDir(path string) (*Dir, error) {
	if strings.TrimSpace(path) == "" {
		return nil, errors.New("letter key directory: no path (NEMID_LETTER_KEY_DIR)")
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("create the letter key directory: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("letter key directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("letter key directory %s is not a directory", path)
	}
	d := &Dir{path: path}
	d.removeStaleTemps(time.Now())
	return d, nil
}

// Path is the directory's path.
func (d *Dir) Path() string { return d.path }

// File is the path of a letter's key file (whether or not it exists).
func (d *Dir) File(letterID string) string { return filepath.Join(d.path, letterID+keySuffix) }

func checkID(letterID string) error {
	if !validID.MatchString(letterID) {
		return fmt.Errorf("letter key: invalid letter id %q", letterID)
	}
	return nil
}

// Create draws a new key for a letter from crypto/rand and stores it: the
// bytes are written to a temporary file (mode 0600) and synced, then the
// file is renamed into place and the directory synced, so a crash never
// leaves a half-written key under the letter's name. A letter that already
// has a key is an error: its stored document would become unreadable.
func (d *Dir) Create(letterID string) ([]byte, error) {
	if err := checkID(letterID); err != nil {
		return nil, err
	}
	final := d.File(letterID)
	if _, err := os.Lstat(final); err == nil {
		return nil, fmt.Errorf("letter %s already has a key", letterID)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("letter key %s: %w", letterID, err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("draw a letter key: %w", err)
	}
	suffix := make([]byte, 8)
	if _, err := rand.Read(suffix); err != nil {
		return nil, fmt.Errorf("draw a temporary name: %w", err)
	}
	tmp := filepath.Join(d.path, tmpPrefix+letterID+"-"+hex.EncodeToString(suffix))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create the key file of letter %s: %w", letterID, err)
	}
	fail := func(what string, err error) ([]byte, error) {
		_ = f.Close()
		_ = shred(tmp)
		return nil, fmt.Errorf("%s the key file of letter %s: %w", what, letterID, err)
	}
	if _, err := f.Write(key); err != nil {
		return fail("write", err)
	}
	if err := f.Sync(); err != nil {
		return fail("sync", err)
	}
	if err := f.Close(); err != nil {
		_ = shred(tmp)
		return nil, fmt.Errorf("close the key file of letter %s: %w", letterID, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		_ = shred(tmp)
		return nil, fmt.Errorf("rename the key file of letter %s into place: %w", letterID, err)
	}
	if err := syncDir(d.path); err != nil {
		return nil, fmt.Errorf("sync the letter key directory: %w", err)
	}
	return key, nil
}

// Get reads a letter's key; ErrNoKey when it has been destroyed. A key
// that a crash left zeroed but not yet removed counts as destroyed.
func (d *Dir) Get(letterID string) ([]byte, error) {
	if err := checkID(letterID); err != nil {
		return nil, err
	}
	key, err := os.ReadFile(d.File(letterID))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoKey
	}
	if err != nil {
		return nil, fmt.Errorf("read the key of letter %s: %w", letterID, err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("the key file of letter %s holds %d bytes, want %d", letterID, len(key), KeySize)
	}
	if bytes.Equal(key, make([]byte, KeySize)) {
		return nil, ErrNoKey
	}
	return key, nil
}

// Destroy overwrites a letter's key file with zeros, syncs it, removes it
// and syncs the directory. Destroying a key that is already gone is not an
// error, so every caller may simply repeat it.
func (d *Dir) Destroy(letterID string) error {
	if err := checkID(letterID); err != nil {
		return err
	}
	if err := shred(d.File(letterID)); err != nil {
		return fmt.Errorf("destroy the key of letter %s: %w", letterID, err)
	}
	if err := syncDir(d.path); err != nil {
		return fmt.Errorf("sync the letter key directory: %w", err)
	}
	return nil
}

// Seal creates the letter's key and encrypts pdf under it with AES-256-GCM,
// the letter id as additional data, so a sealed document moved to another
// letter's row does not open.
func (d *Dir) Seal(letterID string, pdf []byte) ([]byte, error) {
	key, err := d.Create(letterID)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(magic)+aead.NonceSize(), len(magic)+aead.NonceSize()+len(pdf)+aead.Overhead())
	copy(out, magic)
	nonce := out[len(magic):]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("draw a nonce: %w", err)
	}
	return aead.Seal(out, nonce, pdf, []byte(letterID)), nil
}

// Unseal decrypts a sealed document with the letter's key: ErrNoKey when
// the key has been destroyed, an error when the document does not
// authenticate for this letter.
func (d *Dir) Unseal(letterID string, sealed []byte) ([]byte, error) {
	if !IsSealed(sealed) {
		return nil, fmt.Errorf("the stored document of letter %s is not sealed", letterID)
	}
	key, err := d.Get(letterID)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	body := sealed[len(magic):]
	if len(body) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("the stored document of letter %s is truncated", letterID)
	}
	pdf, err := aead.Open(nil, body[:aead.NonceSize()], body[aead.NonceSize():], []byte(letterID))
	if err != nil {
		return nil, fmt.Errorf("the stored document of letter %s does not authenticate under its key", letterID)
	}
	return pdf, nil
}

// IsSealed reports whether b is a sealed document (not a plaintext PDF
// stored before letters were sealed).
func IsSealed(b []byte) bool { return bytes.HasPrefix(b, magic) }

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// shred overwrites a file with zeros, syncs and removes it; a missing file
// is fine (it is already gone, perhaps destroyed by another process).
func shred(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err == nil && st.Size() > 0 {
		_, err = f.WriteAt(make([]byte, st.Size()), 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil // the filesystem cannot sync directories; nothing more to do
	}
	return err
}

// removeStaleTemps shreds unfinished key files older than staleTemp: a
// process crashed between writing one and renaming it into place. Younger
// ones may be another process's key in the making.
func (d *Dir) removeStaleTemps(now time.Time) {
	entries, err := os.ReadDir(d.path)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tmpPrefix) {
			continue
		}
		if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > staleTemp {
			_ = shred(filepath.Join(d.path, e.Name()))
		}
	}
}
