package store_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// TestDumpWritesTimesWithoutBareDigitRuns: the secret-leak tests search the
// dump for six-digit codes as whole tokens, so a timestamp's microseconds
// must not stand alone there, or a chance match would fail them.
func TestDumpWritesTimesWithoutBareDigitRuns(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 2, 17, 987654000, time.UTC)
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			iss := store.Issuance{ID: "dump-test", Path: "counter", Status: "received", CPRHash: "h",
				CPRMasked: "010190-XXXX", Reasons: "[]", Deadline: &at, CreatedAt: at, UpdatedAt: at}
			require.NoError(t, st.CreateIssuance(context.Background(), &iss, nil))
			dump, err := st.DumpForTests(context.Background())
			require.NoError(t, err)
			assert.Contains(t, dump, "2026-11-30T08:02:17.987654Z")
			assert.NotRegexp(t, regexp.MustCompile(`(^|[^0-9A-Za-z])987654($|[^0-9A-Za-z])`), dump)
		})
	}
}
