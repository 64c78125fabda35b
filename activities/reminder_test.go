package activities_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/workflows"
)

// TestQueueReminderAnswersTheStoredLetter: however many attempts of the
// activity run, one after another or at once, each answers the id of the
// one reminder letter stored, never the id of a letter it failed to store.
func TestQueueReminderAnswersTheStoredLetter(t *testing.T) {
	cases := []struct {
		name     string
		attempts int
		parallel bool
	}{
		{"one attempt", 1, false},
		{"a retry after success", 2, false},
		{"attempts racing each other", 6, true},
	}
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			acts := newActivities(t, st)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					id := acceptedIssuance(t, st)
					in := workflows.ReminderInput{IssuanceID: id, Recipient: soeren, ActivateBy: time.Now().Add(72 * time.Hour), At: time.Now()}
					ids, errs := make([]string, tc.attempts), make([]error, tc.attempts)
					var wg sync.WaitGroup
					for i := range tc.attempts {
						run := func() { ids[i], errs[i] = acts.QueueReminder(context.Background(), in) }
						if !tc.parallel {
							run()
							continue
						}
						wg.Add(1)
						go func() { defer wg.Done(); run() }()
					}
					wg.Wait()
					stored, err := st.StoredLetterIDs(context.Background(), ids)
					require.NoError(t, err)
					for i := range ids {
						require.NoError(t, errs[i])
						assert.True(t, stored[ids[i]], "attempt %d answered letter %s, which is not stored", i, ids[i])
						assert.Equal(t, ids[0], ids[i], "one reminder")
					}
					letters, err := st.LettersOfIssuance(context.Background(), id)
					require.NoError(t, err)
					assert.Len(t, letters, 1)
				})
			}
		})
	}
}
