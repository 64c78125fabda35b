package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// TestMigrationsAreRepeatable: every process runs Migrate at start, so a
// second run on an up-to-date schema must change nothing, on both databases.
func TestMigrationsAreRepeatable(t *testing.T) {
	latest, err := store.LatestMigration()
	require.NoError(t, err)
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t) // migrated once
			ctx := context.Background()
			before, err := st.SchemaVersion(ctx)
			require.NoError(t, err)
			require.Equal(t, latest, before)
			schema, err := st.SchemaForTest(ctx)
			require.NoError(t, err)
			require.Greater(t, len(schema), 100, "every column and index")
			require.NoError(t, st.Migrate(ctx))
			after, err := st.SchemaVersion(ctx)
			require.NoError(t, err)
			require.Equal(t, before, after)
			again, err := st.SchemaForTest(ctx)
			require.NoError(t, err)
			require.Equal(t, schema, again)
		})
	}
}

// TestUpgradeFromLegacyRunner: a database migrated to version 7 by the
// hand-written runner that came before goose (its tables, its data and its
// schema_migrations table) is taken over by goose without applying
// anything twice, keeps its data, ends with the same schema as a database
// goose migrated from nothing, and migrating it again changes nothing.
func TestUpgradeFromLegacyRunner(t *testing.T) {
	latest, err := store.LatestMigration()
	require.NoError(t, err)
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			st := b.Empty(t)
			require.NoError(t, st.MigrateLegacyForTest(ctx, 7))
			require.NoError(t, st.UpsertPersons(ctx, []store.Person{{CPR: "0101901234", Name: "Gammel Data", UpdatedAt: time.Now()}}))

			require.NoError(t, st.Migrate(ctx))
			v, err := st.SchemaVersion(ctx)
			require.NoError(t, err)
			assert.Equal(t, latest, v)
			applied, err := st.AppliedVersionsForTest(ctx)
			require.NoError(t, err)
			want, err := store.MigrationVersionsForTest()
			require.NoError(t, err)
			assert.Equal(t, append([]int{0}, want...), applied, "versions 1..7 adopted once, later ones applied by goose")
			p, err := st.PersonByCPR(ctx, "0101901234")
			require.NoError(t, err)
			assert.Equal(t, "Gammel Data", p.Name)

			upgraded, err := st.SchemaForTest(ctx)
			require.NoError(t, err)
			fresh, err := b.Open(t).SchemaForTest(ctx)
			require.NoError(t, err)
			assert.Equal(t, fresh, upgraded, "the upgraded schema is the one goose builds from nothing")

			require.NoError(t, st.Migrate(ctx))
			again, err := st.AppliedVersionsForTest(ctx)
			require.NoError(t, err)
			assert.Equal(t, applied, again, "migrating twice is a no-op")
			v, err = st.SchemaVersion(ctx)
			require.NoError(t, err)
			assert.Equal(t, latest, v)
		})
	}
}

// TestMigrateConcurrently: several processes starting at once on a new
// database all succeed and apply each migration once (Postgres: goose's
// advisory session lock; SQLite: one writer, and a retry that finds the
// other's work done).
func TestMigrateConcurrently(t *testing.T) {
	versions, err := store.MigrationVersionsForTest()
	require.NoError(t, err)
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			st := b.Empty(t)
			var g errgroup.Group
			for range 4 {
				other := testenv.Reopen(t, st)
				g.Go(func() error { return other.Migrate(ctx) })
			}
			require.NoError(t, g.Wait())
			applied, err := st.AppliedVersionsForTest(ctx)
			require.NoError(t, err)
			assert.Equal(t, append([]int{0}, versions...), applied, "version 0 and each migration once")
		})
	}
}
