package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// TestSeedGeneratesAPlausibleCountedTable: the generator's rows look like
// the application's (UUIDv7 ids in creation order, an office that fits
// the path, path-only statuses on their path, one hash per row), are
// counted, and a second run adds newer rows without repeating an id.
func TestSeedGeneratesAPlausibleCountedTable(t *testing.T) {
	require.ErrorIs(t, testenv.SQLite(t).SeedIssuances(context.Background(), 10, 10, nil), store.ErrSeedNeedsPostgres)

	st := testenv.Postgres(t)
	ctx := context.Background()
	var batches int
	require.NoError(t, st.SeedIssuances(ctx, 1500, 700, func(int64, time.Duration) { batches++ }))
	assert.Equal(t, 3, batches)
	require.NoError(t, st.SeedIssuances(ctx, 500, 0, nil))
	n, err := st.IssuanceRows(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2000, n)
	assertCountsExact(t, st)

	var distinct int64
	require.NoError(t, st.ScanForTests(ctx, &distinct, "SELECT COUNT(DISTINCT cpr_hash) FROM issuances"))
	assert.EqualValues(t, 2000, distinct, "every row its own person")
	var misfits int64
	require.NoError(t, st.ScanForTests(ctx, &misfits, `SELECT COUNT(*) FROM issuances WHERE
		(path = 'counter' AND (centre IS NULL OR representation IS NOT NULL OR bank IS NOT NULL)) OR
		(path = 'bank' AND (bank IS NULL OR centre IS NOT NULL OR representation IS NOT NULL)) OR
		(path = 'abroad' AND (representation IS NULL OR centre IS NOT NULL OR bank IS NOT NULL)) OR
		(status = 'awaiting_handover' AND path <> 'counter') OR (status = 'awaiting_pickup' AND path <> 'abroad') OR
		(status NOT IN ('rejected', 'active', 'expired', 'cancelled') AND deadline IS NULL)`))
	assert.Zero(t, misfits, "an office that fits the path, path-only statuses on their path, a deadline while pending")
	var events int64
	require.NoError(t, st.ScanForTests(ctx, &events, "SELECT COUNT(*) FROM issuance_events WHERE type = 'received'"))
	assert.EqualValues(t, 2000, events, "each with its received event")

	rows, more, err := st.ListIssuances(ctx, store.ListFilter{Limit: 2000})
	require.NoError(t, err)
	require.False(t, more)
	require.Len(t, rows, 2000)
	for i, r := range rows {
		id, err := uuid.Parse(r.ID)
		require.NoError(t, err)
		assert.Equal(t, uuid.Version(7), id.Version())
		sec, nsec := id.Time().UnixTime()
		assert.Equal(t, r.CreatedAt.UnixMilli(), sec*1000+nsec/1e6, "the id carries its created_at")
		if i > 0 {
			assert.True(t, r.CreatedAt.Before(rows[i-1].CreatedAt), "newest first is creation order")
		}
	}
}
