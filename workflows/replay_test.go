package workflows

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReplayRecordedHistories replays histories recorded from real runs
// (see e2e's TestRecordAndReplayCounterHistories). A change that running
// workflows would replay differently fails here: guard it with
// workflow.GetVersion and record a new history beside the old ones.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "history_*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories: run NEMID_RECORD_HISTORIES=1 go test ./e2e -run Replay")
	replayer, err := NewReplayer()
	require.NoError(t, err)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
