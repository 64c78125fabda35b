package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// TestTokensFromBeforeNamesAreNamedByTheirRole: a token stored before
// tokens had names, expiry or a last use is named role:scope by the
// migration, never expires and keeps working.
func TestTokensFromBeforeNamesAreNamedByTheirRole(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			st := b.Empty(t)
			require.NoError(t, st.MigrateLegacyForTest(ctx, 7))
			_, err := st.ExecForTests(ctx, "INSERT INTO api_tokens (id, token_hash, role, scope, created_at) VALUES (?, ?, ?, ?, ?)",
				"old-1", store.HashToken("nemid_old"), "bank", "1234", time.Now().UTC())
			require.NoError(t, err)
			require.NoError(t, st.Migrate(ctx))
			got, err := st.TokenByValue(ctx, "nemid_old")
			require.NoError(t, err)
			assert.Equal(t, "bank:1234", got.Name)
			assert.Nil(t, got.ExpiresAt)
			assert.Nil(t, got.LastUsedAt)
		})
	}
}

// TestTokenChangesAreOneTransactionWithTheirStep: what a token change's
// step writes (an audit entry) commits with it or not at all.
func TestTokenChangesAreOneTransactionWithTheirStep(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			st := b.Open(t)
			boom := errors.New("the step failed")
			var seen store.APIToken
			_, _, err := st.IssueToken(ctx, store.NewToken{Role: "post", Scope: "post"}, func(tx *gorm.DB, tok store.APIToken, changed bool) error {
				seen = tok
				assert.True(t, changed)
				return boom
			})
			require.ErrorIs(t, err, boom)
			require.NotEmpty(t, seen.ID, "the step is told the token")
			_, err = st.GetToken(ctx, seen.ID)
			assert.ErrorIs(t, err, store.ErrNotFound, "no token without its step")

			tok, secret, err := st.IssueToken(ctx, store.NewToken{Role: "post", Scope: "post", Name: "Printer"}, nil)
			require.NoError(t, err)
			_, err = st.RevokeToken(ctx, tok.ID, time.Now(), func(tx *gorm.DB, t store.APIToken, changed bool) error { return boom })
			require.ErrorIs(t, err, boom)
			_, err = st.TokenByValue(ctx, secret)
			require.NoError(t, err, "not revoked without its step")

			var changes []bool
			step := func(tx *gorm.DB, t store.APIToken, changed bool) error {
				changes = append(changes, changed)
				return nil
			}
			first, err := st.RevokeToken(ctx, tok.ID, time.Now(), step)
			require.NoError(t, err)
			second, err := st.RevokeToken(ctx, tok.ID, time.Now().Add(time.Hour), step)
			require.NoError(t, err)
			assert.Equal(t, []bool{true, false}, changes, "the step hears whether this call revoked it")
			require.NotNil(t, first.RevokedAt)
			assert.True(t, first.RevokedAt.Equal(*second.RevokedAt), "revoking again changes nothing")
			_, err = st.TokenByValue(ctx, secret)
			assert.ErrorIs(t, err, store.ErrNotFound)
			_, err = st.RevokeToken(ctx, "missing", time.Now(), step)
			assert.ErrorIs(t, err, store.ErrNotFound)
		})
	}
}

func TestTokenExpiryAndLastUse(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			st := b.Open(t)
			short, secret, err := st.IssueToken(ctx, store.NewToken{Role: "admin", Scope: "all", TTL: 300 * time.Millisecond}, nil)
			require.NoError(t, err)
			_, err = st.TokenByValue(ctx, secret)
			require.NoError(t, err)
			time.Sleep(time.Until(*short.ExpiresAt) + 50*time.Millisecond)
			_, err = st.TokenByValue(ctx, secret)
			assert.ErrorIs(t, err, store.ErrNotFound, "expired")

			tok, _, err := st.IssueToken(ctx, store.NewToken{Role: "admin", Scope: "all"}, nil)
			require.NoError(t, err)
			now := time.Now().UTC().Truncate(time.Second)
			uses := []struct {
				at   time.Time
				want time.Time
			}{
				{now, now},                       // the first use is written
				{now.Add(30 * time.Second), now}, // within the interval: not again
				{now.Add(store.TokenTouchInterval), now.Add(store.TokenTouchInterval)}, // a minute on: written
				{now.Add(90 * time.Second), now.Add(store.TokenTouchInterval)},
			}
			for _, u := range uses {
				require.NoError(t, st.TouchToken(ctx, tok.ID, u.at))
				got, err := st.GetToken(ctx, tok.ID)
				require.NoError(t, err)
				require.NotNil(t, got.LastUsedAt)
				assert.True(t, u.want.Equal(*got.LastUsedAt), "at %v: last used %v, want %v", u.at, got.LastUsedAt, u.want)
			}
		})
	}
}
