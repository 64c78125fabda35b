package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// TestUpgradePublicSignatureOnce: two caseworkers checking the same person
// at once record one upgrade; the other is told it cannot upgrade.
func TestUpgradePublicSignatureOnce(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Microsecond)
			no, bank := false, "1234"
			iss := store.Issuance{ID: "bank-1", Path: "bank", Status: "awaiting_activation", CPRHash: "h", CPRMasked: "010190-XXXX",
				Bank: &bank, PublicSignature: &no, Reasons: "[]", CreatedAt: now, UpdatedAt: now}
			require.NoError(t, st.CreateIssuance(ctx, &iss, nil))

			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() {
					errs[i] = st.UpgradePublicSignature(ctx, iss.ID, store.Event{DedupeKey: "public_signature_upgraded",
						At: now, Type: "public_signature_upgraded", Actor: "caseworker:KBH"}, upgradeAudit(iss.ID))
				})
			}
			wg.Wait()
			var won, refused int
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case errors.Is(err, store.ErrNotUpgradable):
					refused++
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}
			assert.Equal(t, 1, won)
			assert.Equal(t, len(errs)-1, refused)
			got, err := st.GetIssuance(ctx, iss.ID, store.Scope{})
			require.NoError(t, err)
			assert.True(t, *got.PublicSignature)
			require.Len(t, got.Events, 1)
			assert.Equal(t, "public_signature_upgraded", got.Events[0].Type)
			entries, _, err := st.ListAudit(ctx, store.AuditFilter{Limit: 10})
			require.NoError(t, err)
			require.Len(t, entries, 1, "only the upgrade that happened is audited; the refused ones rolled back")
			assert.Equal(t, store.AuditPublicSignatureUpgraded, entries[0].Action)
		})
	}
}

func upgradeAudit(issuanceID string) store.AuditEntry {
	return store.AuditEntry{Actor: "caseworker:KBH", Action: store.AuditPublicSignatureUpgraded, Target: store.IssuanceTarget(issuanceID)}
}

func TestOnlyALiveBankIssuanceIsUpgraded(t *testing.T) {
	cases := []struct {
		name, path, status string
		upgraded           bool
	}{
		{"a counter issuance", "counter", "active", false},
		{"a cancelled bank issuance", "bank", "cancelled", false},
		{"an expired bank issuance", "bank", "expired", false},
		{"an already upgraded bank issuance", "bank", "active", true},
	}
	st := testenv.SQLite(t)
	ctx := context.Background()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Now().UTC()
			flag := tc.upgraded
			iss := store.Issuance{ID: tc.name, Path: tc.path, Status: tc.status, CPRHash: string(rune('a' + i)), CPRMasked: "010190-XXXX",
				PublicSignature: &flag, Reasons: "[]", CreatedAt: now, UpdatedAt: now}
			require.NoError(t, st.CreateIssuance(ctx, &iss, nil))
			err := st.UpgradePublicSignature(ctx, iss.ID, store.Event{DedupeKey: "public_signature_upgraded", At: now,
				Type: "public_signature_upgraded", Actor: "caseworker:KBH"}, upgradeAudit(iss.ID))
			require.ErrorIs(t, err, store.ErrNotUpgradable)
		})
	}
}
