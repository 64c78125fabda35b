package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
)

// TestMigrationsAreRepeatable: every process runs Migrate at start, so a
// second run on an up-to-date schema must change nothing, on both databases.
func TestMigrationsAreRepeatable(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t) // migrated once
			ctx := context.Background()
			before, err := st.SchemaVersion(ctx)
			require.NoError(t, err)
			require.GreaterOrEqual(t, before, 4)
			require.NoError(t, st.Migrate(ctx))
			after, err := st.SchemaVersion(ctx)
			require.NoError(t, err)
			require.Equal(t, before, after)
		})
	}
}
