package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
)

// TestParallelAnswersToADecoyCountOnce: a decoy reset's challenge answered
// by many requests at once counts one wrong answer, as a real challenge
// takes one answer; showing a new challenge keeps the count. Both databases.
func TestParallelAnswersToADecoyCountOnce(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()
			now := time.Now().UTC()
			require.NoError(t, st.ShowDecoyReset(ctx, "mac-1", "challenge-1", now))
			var counted atomic.Int32
			var wg sync.WaitGroup
			for range 12 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := st.AnswerDecoyReset(ctx, "challenge-1", now)
					assert.NoError(t, err)
					if ok {
						counted.Add(1)
					}
				}()
			}
			wg.Wait()
			assert.Equal(t, int32(1), counted.Load(), "one answer counts")
			wrong, err := st.DecoyWrongAnswers(ctx, "mac-1")
			require.NoError(t, err)
			assert.Equal(t, 1, wrong)

			require.NoError(t, st.ShowDecoyReset(ctx, "mac-1", "challenge-2", now))
			wrong, err = st.DecoyWrongAnswers(ctx, "mac-1")
			require.NoError(t, err)
			assert.Equal(t, 1, wrong, "a new challenge keeps the count")
			ok, err := st.AnswerDecoyReset(ctx, "challenge-1", now)
			require.NoError(t, err)
			assert.False(t, ok, "an old challenge counts nothing")
			none, err := st.DecoyWrongAnswers(ctx, "mac-unknown")
			require.NoError(t, err)
			assert.Zero(t, none)
		})
	}
}
