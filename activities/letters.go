package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// sealLetters replaces each letter's PDF by its sealed bytes under a key of
// its own (package letterkeys), created here, before the transaction that
// stores the letter: a stored letter always has its key. If that
// transaction fails, or another attempt's letters were stored instead,
// discardUnstored destroys the keys again.
func (a *Activities) sealLetters(ctx context.Context, letters []store.Letter) error {
	if a.LetterKeys == nil {
		return temporal.NewNonRetryableApplicationError("no letter key directory configured (NEMID_LETTER_KEY_DIR)", workflows.ErrTypeInvalid, nil)
	}
	for i := range letters {
		sealed, err := a.LetterKeys.Seal(letters[i].ID, letters[i].PDF)
		if err != nil {
			for _, l := range letters[:i] {
				a.destroyKey(ctx, l.ID)
			}
			return fmt.Errorf("seal the %s letter: %w", letters[i].Kind, err)
		}
		sum := sha256.Sum256(sealed)
		letters[i].PDF, letters[i].PDFSHA256 = sealed, hex.EncodeToString(sum[:])
	}
	return nil
}

// discardUnstored destroys the keys of those letters the database does not
// hold: the store failed, or a concurrent attempt stored its own letters.
// A key whose letter may have been stored is kept: when the database
// cannot tell, the key stays (an orphan key opens nothing; a letter without
// its key could never be printed).
func (a *Activities) discardUnstored(ctx context.Context, letters []store.Letter) {
	if len(letters) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	ids := make([]string, len(letters))
	for i, l := range letters {
		ids[i] = l.ID
	}
	stored, err := a.Store.StoredLetterIDs(ctx, ids)
	if err != nil {
		a.log().WarnContext(ctx, "cannot tell which letters were stored; keeping their keys", "letters", ids, "error", err.Error())
		return
	}
	for _, id := range ids {
		if !stored[id] {
			a.destroyKey(ctx, id)
		}
	}
}

func (a *Activities) destroyKey(ctx context.Context, letterID string) {
	if err := a.LetterKeys.Destroy(letterID); err != nil {
		a.log().WarnContext(ctx, "destroy the key of an unstored letter", "letter", letterID, "error", err.Error())
	}
}

func (a *Activities) log() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return a.Logger
}
