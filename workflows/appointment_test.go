package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
)

// apptActivities records the moves and reminders an appointment asked for;
// every move is allowed (the store's guards are tested in store/ and e2e/).
type apptActivities struct {
	mu        sync.Mutex
	moves     []string
	reminders []time.Time
	slotFull  bool
}

func (a *apptActivities) register(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivityWithOptions(func(_ context.Context, in AppointmentMove) (MoveResult, error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.moves = append(a.moves, in.To)
		return MoveResult{Outcome: MoveDone}, nil
	}, activity.RegisterOptions{Name: ActivityMoveAppointment})
	env.RegisterActivityWithOptions(func(_ context.Context, in RescheduleRequest) (MoveResult, error) {
		if a.slotFull {
			return MoveResult{Outcome: MoveSlotFull}, nil
		}
		return MoveResult{Outcome: MoveDone, Start: in.Start, End: in.Start.Add(15 * time.Minute)}, nil
	}, activity.RegisterOptions{Name: ActivityRescheduleAppointment})
	env.RegisterActivityWithOptions(func(_ context.Context, in AppointmentReminder) error {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.reminders = append(a.reminders, in.Start)
		return nil
	}, activity.RegisterOptions{Name: ActivityQueueAppointmentReminder})
}

type apptUpdate struct {
	rejected error
	err      error
	value    any
	done     bool
}

func (u *apptUpdate) callbacks() *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnAccept:   func() {},
		OnReject:   func(err error) { u.rejected, u.done = err, true },
		OnComplete: func(v any, err error) { u.value, u.err, u.done = v, err, true },
	}
}

func TestAppointmentWorkflow(t *testing.T) {
	base := time.Date(2030, 3, 4, 8, 0, 0, 0, time.UTC) // the test clock's start
	start := base.Add(72 * time.Hour)
	type step struct {
		after  time.Duration
		update string
		arg    any
	}
	tests := []struct {
		name      string
		steps     []step
		want      string   // final status
		moves     []string // the moves recorded, in order
		reminders int
		rejected  []int // indexes of steps whose Update the validator refuses (the API's 4xx)
		ended     []int // indexes of steps that come after the workflow ended (the API answers 409 from the database)
		newStart  bool
		slotFull  bool
	}{
		{name: "unconfirmed expires after 15 minutes", want: AppointmentExpired, moves: []string{AppointmentExpired}},
		{name: "three wrong codes expire it", steps: []step{{time.Minute, UpdateExpire, nil}}, want: AppointmentExpired,
			moves: []string{AppointmentExpired}},
		{name: "a check-in before the confirmation is refused", steps: []step{{time.Minute, UpdateCheckIn, CheckInRequest{IssuanceID: "iss-1"}}},
			want: AppointmentExpired, moves: []string{AppointmentExpired}, rejected: []int{0}},
		{name: "a confirmation after the window finds the booking expired", steps: []step{{20 * time.Minute, UpdateConfirm, nil}},
			want: AppointmentExpired, moves: []string{AppointmentExpired}, ended: []int{0}},
		{name: "confirmed, reminded a day before, no-show after the slot",
			steps: []step{{time.Minute, UpdateConfirm, nil}}, want: AppointmentNoShow,
			moves: []string{AppointmentBooked, AppointmentNoShow}, reminders: 1},
		{name: "checked in before the slot ends",
			steps: []step{{time.Minute, UpdateConfirm, nil}, {72*time.Hour + 5*time.Minute, UpdateCheckIn, CheckInRequest{IssuanceID: "iss-1"}}},
			want:  AppointmentCheckedIn, moves: []string{AppointmentBooked, AppointmentCheckedIn}, reminders: 1},
		{name: "a check-in naming no issuance is refused and the slot ends a no-show",
			steps: []step{{time.Minute, UpdateConfirm, nil}, {72 * time.Hour, UpdateCheckIn, CheckInRequest{}},
				{73 * time.Hour, UpdateCheckIn, CheckInRequest{IssuanceID: "iss-1"}}},
			want: AppointmentNoShow, moves: []string{AppointmentBooked, AppointmentNoShow}, reminders: 1, rejected: []int{1}, ended: []int{2}},
		{name: "a reschedule to a full slot leaves it where it was",
			steps: []step{{time.Minute, UpdateConfirm, nil}, {time.Hour, UpdateReschedule, RescheduleRequest{Start: start.Add(-time.Hour)}}},
			want:  AppointmentNoShow, moves: []string{AppointmentBooked, AppointmentNoShow}, reminders: 1, slotFull: true},
		{name: "cancelled before the reminder",
			steps: []step{{time.Minute, UpdateConfirm, nil}, {time.Hour, UpdateCancel, nil}},
			want:  AppointmentCancelled, moves: []string{AppointmentBooked, AppointmentCancelled}},
		{name: "a check-in after a cancel is refused",
			steps: []step{{time.Minute, UpdateConfirm, nil}, {time.Hour, UpdateCancel, nil}, {2 * time.Hour, UpdateCheckIn, CheckInRequest{IssuanceID: "iss-1"}}},
			want:  AppointmentCancelled, moves: []string{AppointmentBooked, AppointmentCancelled}, ended: []int{2}},
		{name: "rescheduled a day later: the timers follow the new slot",
			steps: []step{{time.Minute, UpdateConfirm, nil}, {time.Hour, UpdateReschedule, RescheduleRequest{Start: start.Add(24 * time.Hour)}},
				{96*time.Hour + 5*time.Minute, UpdateCheckIn, CheckInRequest{IssuanceID: "iss-1"}}},
			want: AppointmentCheckedIn, moves: []string{AppointmentBooked, AppointmentCheckedIn}, reminders: 1, newStart: true},
		{name: "a cancel of an unconfirmed booking is refused", steps: []step{{time.Minute, UpdateCancel, nil}},
			want: AppointmentExpired, moves: []string{AppointmentExpired}, rejected: []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestWorkflowEnvironment()
			env.SetStartTime(base)
			acts := &apptActivities{slotFull: tt.slotFull}
			acts.register(env)
			outcomes := make([]*apptUpdate, len(tt.steps))
			for i, s := range tt.steps {
				outcomes[i] = &apptUpdate{}
				env.RegisterDelayedCallback(func() {
					var args []any
					if s.arg != nil {
						args = append(args, s.arg)
					}
					env.UpdateWorkflow(s.update, s.update+"-"+time.Duration(i).String(), outcomes[i].callbacks(), args...)
				}, s.after)
			}
			env.ExecuteWorkflow(Appointment, AppointmentInput{AppointmentID: "a-1", Centre: "KBH", CPR: "0101901234",
				Start: start, End: start.Add(15 * time.Minute), ConfirmBy: base.Add(15 * time.Minute), RemindBefore: 24 * time.Hour})
			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError(), "a refused action never fails the workflow")
			var state AppointmentState
			require.NoError(t, env.GetWorkflowResult(&state))
			assert.Equal(t, tt.want, state.Status)
			assert.Equal(t, tt.moves, acts.moves)
			assert.Len(t, acts.reminders, tt.reminders)
			for i, o := range outcomes {
				if contains(tt.ended, i) {
					assert.False(t, o.done, "update %d reached an ended workflow", i)
					continue
				}
				require.True(t, o.done, "update %d answered", i)
				assert.Equal(t, contains(tt.rejected, i), o.rejected != nil, "update %d refused: %v", i, o.rejected)
				assert.NoError(t, o.err)
			}
			if tt.slotFull {
				assert.Equal(t, MoveResult{Outcome: MoveSlotFull}, outcomes[1].value)
				assert.Equal(t, start, state.Start, "a full slot moves nothing")
			}
			if tt.newStart {
				assert.Equal(t, start.Add(24*time.Hour), state.Start)
				require.Len(t, acts.reminders, 1)
				assert.Equal(t, start.Add(24*time.Hour), acts.reminders[0], "the reminder is for the new time")
			}
		})
	}
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
