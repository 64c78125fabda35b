package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/domain"
)

// abroadNemIDWithReset writes an active abroad NemID (at LONDON) and one
// password reset of it awaiting its pickup, straight into the tables.
func abroadNemIDWithReset(t *testing.T, st *Store, id string, now time.Time) (issuanceID, resetID string) {
	t.Helper()
	ctx := context.Background()
	rep := "LONDON"
	iss := Issuance{ID: "iss-" + id, Path: "abroad", Status: "active", CPRHash: "h-" + id, CPRMasked: "010190-XXXX",
		Representation: &rep, Reasons: "[]", CreatedAt: now, UpdatedAt: now}
	require.NoError(t, st.CreateIssuance(ctx, &iss, nil))
	require.NoError(t, st.db.WithContext(ctx).Exec(`INSERT INTO credentials (id, issuance_id, user_id, cpr_hash, temporary_password_mac, status, failed_attempts, created_at)
		VALUES (?, ?, ?, ?, 'x', 'active', 0, ?)`, "cred-"+id, iss.ID, "9"+id, "h-"+id, now).Error)
	require.NoError(t, st.db.WithContext(ctx).Exec(`INSERT INTO password_resets (id, credential_id, status, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, "reset-"+id, "cred-"+id, ResetAwaitingPickup, now, now.Add(time.Hour)).Error)
	return iss.ID, "reset-" + id
}

// TestResetPickupFeeIsInTheLedgerOnce: the fee of an abroad reset's pickup
// is a fee of the ledger, with the credential's issuance, beside the
// issuance's own pickup fee; a retried confirmation records no second one.
func TestResetPickupFeeIsInTheLedgerOnce(t *testing.T) {
	st, err := OpenSQLite(filepath.Join(t.TempDir(), "nemid.db"))
	require.NoError(t, err)
	defer st.Close()
	st.UseHashKeys(domain.NewHashKeys("test", make([]byte, 32))) // the pickup is audited
	ctx := context.Background()
	require.NoError(t, st.Migrate(ctx))
	now := time.Now().UTC().Truncate(time.Microsecond)
	issuanceID, resetID := abroadNemIDWithReset(t, st, "00000001", now)
	name := "Mette at the embassy"
	require.NoError(t, st.db.Create(&Fee{ID: issuanceID, IssuanceID: issuanceID, Representation: "LONDON", AmountDKK: 200,
		Receipt: "LON-1", Actor: "embassy:LONDON", ActorName: &name, PaidAt: now.Add(-time.Minute)}).Error)

	pickup := ResetPickup{ResetID: resetID, Actor: "embassy:LONDON", ActorName: &name, FeeDKK: 200, Receipt: "LON-2", At: now,
		Event: Event{IssuanceID: issuanceID, DedupeKey: "pickup_confirmed:" + resetID, At: now, Type: "pickup_confirmed", Actor: "embassy:LONDON"},
		Audit: AuditEntry{Actor: "embassy:LONDON", Action: AuditPickupConfirmed, Target: IssuanceTarget(issuanceID), ActorName: &name}}
	require.NoError(t, st.RecordResetPickup(ctx, pickup))
	pickup.At, pickup.Receipt = now.Add(time.Second), "LON-3"
	require.NoError(t, st.RecordResetPickup(ctx, pickup), "a retry answers success")

	page, err := st.ListFees(ctx, FeeFilter{Representation: "LONDON", Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, int64(2), page.Count, "the issuance's fee and the reset's, once")
	assert.Equal(t, int64(400), page.TotalDKK)
	require.Len(t, page.Items, 2)
	fee := page.Items[0]
	assert.Equal(t, ResetFeeID(resetID), fee.ID, "newest first")
	assert.Equal(t, issuanceID, fee.IssuanceID)
	assert.Equal(t, "LONDON", fee.Representation)
	assert.Equal(t, "LON-2", fee.Receipt, "the first confirmation's")
	assert.Equal(t, now, fee.PaidAt.UTC())
	require.NotNil(t, fee.ActorName)
	assert.Equal(t, name, *fee.ActorName)
	own, err := st.FeeOf(ctx, issuanceID)
	require.NoError(t, err)
	assert.Equal(t, "LON-1", own.Receipt, "FeeOf is the issuance's own pickup's")

	second, err := st.ListFees(ctx, FeeFilter{Limit: 1, After: &FeeCursor{PaidAt: fee.PaidAt, ID: fee.ID}})
	require.NoError(t, err)
	require.Len(t, second.Items, 1, "keyset paging walks both")
	assert.Equal(t, issuanceID, second.Items[0].ID)

	var audited int64
	require.NoError(t, st.db.Model(&AuditEntry{}).Where("action = ?", AuditPickupConfirmed).Count(&audited).Error)
	assert.Equal(t, int64(1), audited, "the reset's pickup is audited once")
}

// TestFeesMigrationKeepsFeesAndAddsPickedUpResets: 00016 keeps every fee
// and adds the fee of every reset picked up before it.
func TestFeesMigrationKeepsFeesAndAddsPickedUpResets(t *testing.T) {
	st, err := OpenSQLite(filepath.Join(t.TempDir(), "nemid.db"))
	require.NoError(t, err)
	defer st.Close()
	ctx := context.Background()
	p, _, err := st.provider()
	require.NoError(t, err)
	_, err = p.UpTo(ctx, 15)
	require.NoError(t, err)
	now := time.Now().UTC().Truncate(time.Microsecond)
	issuanceID, resetID := abroadNemIDWithReset(t, st, "00000002", now)
	require.NoError(t, st.db.Exec(`INSERT INTO fees (issuance_id, representation, amount_dkk, receipt, actor, actor_name, paid_at)
		VALUES (?, 'LONDON', 200, 'LON-1', 'embassy:LONDON', 'Mette', ?)`, issuanceID, now.Add(-time.Minute)).Error)
	require.NoError(t, st.db.Exec(`UPDATE password_resets SET status = ?, picked_up_at = ?, fee_dkk = 200, receipt = 'LON-2', pickup_actor = 'embassy:LONDON'
		WHERE id = ?`, ResetOpen, now, resetID).Error)
	require.NoError(t, st.Migrate(ctx))

	page, err := st.ListFees(ctx, FeeFilter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	assert.Equal(t, ResetFeeID(resetID), page.Items[0].ID)
	assert.Equal(t, issuanceID, page.Items[0].IssuanceID)
	assert.Equal(t, "LONDON", page.Items[0].Representation, "the issuance's representation")
	assert.Equal(t, "LON-2", page.Items[0].Receipt)
	assert.Equal(t, issuanceID, page.Items[1].ID)
	require.NotNil(t, page.Items[1].ActorName)
	assert.Equal(t, "Mette", *page.Items[1].ActorName)
}
