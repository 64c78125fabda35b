package workflows

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// appointmentHistories are the recorded appointment runs (e2e's
// TestRecordAndReplayAppointmentHistories): each outcome a booking reaches
// on the server is kept as a history.
const appointmentHistories = "history_appointment_*.json"

// TestReplayRecordedHistories replays the issuance histories recorded from
// real runs (see e2e's TestRecordAndReplayCounterHistories). A change that
// running workflows would replay differently fails here: guard it with
// workflow.GetVersion and record a new history beside the old ones.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "history_*.json"))
	require.NoError(t, err)
	var issuances []string
	for _, f := range files {
		if ok, _ := filepath.Match(appointmentHistories, filepath.Base(f)); !ok {
			issuances = append(issuances, f)
		}
	}
	require.NotEmpty(t, issuances, "no recorded histories: run NEMID_RECORD_HISTORIES=1 go test ./e2e -run Replay")
	replayFiles(t, issuances)
}

// TestReplayAppointmentHistories replays the appointment histories recorded
// from real runs (see e2e's TestRecordAndReplayAppointmentHistories), like
// TestReplayRecordedHistories does the issuances': booked and checked in,
// booked and cancelled, rescheduled and checked in, expired unconfirmed,
// booked and not come (no-show).
func TestReplayAppointmentHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", appointmentHistories))
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "history_"), ".json"))
	}
	for _, want := range []string{"appointment_checked_in", "appointment_cancelled", "appointment_rescheduled_checked_in", "appointment_expired", "appointment_no_show"} {
		require.Contains(t, names, want, "no recorded history: run NEMID_RECORD_HISTORIES=1 go test ./e2e -run RecordAndReplayAppointment")
	}
	replayFiles(t, files)
}

// replayFiles replays each recorded history with the current code.
func replayFiles(t *testing.T, files []string) {
	t.Helper()
	replayer, err := NewReplayer()
	require.NoError(t, err)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
