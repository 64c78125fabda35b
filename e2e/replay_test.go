package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"

	"github.com/opennemid/nemid/activities"
	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/config"
	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// TestRecordAndReplayCounterHistories runs counter, bank and abroad issuances on the real
// server and replays their histories with the current code. With
// NEMID_RECORD_HISTORIES=1 it also saves them to workflows/testdata, where
// workflows' replay test keeps checking that later changes stay compatible.
func TestRecordAndReplayCounterHistories(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), testenv.Options{Configure: func(c *config.Config) {
		c.CodecKeys = workflows.ReplayTestCodecKey
	}})
	kbh := app.Tokens["caseworker:KBH"]
	runs := map[string]string{}

	handover := create(t, app, soeren)
	require.Equal(t, http.StatusCreated, handover.Status, string(handover.Body))
	id := handover.JSON["id"].(string)
	waitForStatus(t, app, id, "awaiting_handover")
	require.Equal(t, http.StatusOK, app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/handover", Token: kbh}).Status)
	waitForStatus(t, app, id, "awaiting_activation")
	cancelForReplay(t, app, kbh, id)
	runs["counter_handover_cancelled"] = id

	letters := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: kbh, Body: application("1502854321", []any{health, tax}, false, nil)})
	require.Equal(t, http.StatusCreated, letters.Status, string(letters.Body))
	id = letters.JSON["id"].(string)
	waitForStatus(t, app, id, "letters_posted")
	rows, err := app.Store.LettersOfIssuance(context.Background(), id)
	require.NoError(t, err)
	for _, l := range rows {
		require.Equal(t, http.StatusOK, app.Do(t, testenv.Request{Method: "POST", Path: "/v1/letters/" + l.ID + "/dispatched", Token: app.Tokens["post:post"]}).Status)
	}
	waitForStatus(t, app, id, "awaiting_activation")
	cancelForReplay(t, app, kbh, id)
	runs["counter_letters_cancelled"] = id

	bank := createAtBank(t, app, bankBody("1210701234", false))
	require.Equal(t, http.StatusCreated, bank.Status, string(bank.Body))
	id = bank.JSON["id"].(string)
	waitForStatus(t, app, id, "letters_posted")
	postedLetters(t, app, id)
	waitForStatus(t, app, id, "awaiting_activation")
	cancelForReplay(t, app, app.Tokens["admin:all"], id)
	runs["bank_letters_cancelled"] = id

	abroad := order(t, app, abroadOrder(jens, nil))
	require.Equal(t, http.StatusCreated, abroad.Status, string(abroad.Body))
	id = abroad.JSON["id"].(string)
	waitForStatus(t, app, id, "letters_posted")
	postedLetters(t, app, id)
	waitForStatus(t, app, id, "awaiting_pickup")
	require.Equal(t, http.StatusOK, app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/pickup", Token: app.Tokens["embassy:LONDON"],
		Body: map[string]any{"document_number": "DP1234567", "fee_paid_dkk": 200, "receipt": "R-1"}}).Status)
	cancelForReplay(t, app, app.Tokens["admin:all"], id)
	runs["abroad_pickup_cancelled"] = id

	// A counter issuance handed over and activated by the citizen: the
	// path to active, with its activation Update.
	activated := handedOver(t, app, "0708651239")
	activate(t, app, activated)
	waitForStatus(t, app, activated.issuanceID, "active")
	runs["counter_handover_activated"] = activated.issuanceID

	// The register records a death while the issuance waits for its
	// handover: the workflow ends it rejected (version person-deceased).
	died := create(t, app, "0101400000")
	require.Equal(t, http.StatusCreated, died.Status, string(died.Body))
	id = died.JSON["id"].(string)
	waitForStatus(t, app, id, "awaiting_handover")
	require.NoError(t, app.Temporal.SignalWorkflow(context.Background(), workflows.IssuanceWorkflowID(id), "",
		workflows.SignalPersonDeceased, workflows.PersonDeceased{ChangeID: 1}))
	waitForStatus(t, app, id, "rejected")
	runs["counter_handover_deceased"] = id

	// A third run with a short activation window reaches the reminder and
	// the expiry, on an app of its own.
	short := testenv.NewApp(t, testenv.SQLite(t), testenv.Options{Configure: func(c *config.Config) {
		c.CodecKeys = workflows.ReplayTestCodecKey
		c.ActivationWindow, c.ReminderBefore = 4*time.Second, 2*time.Second
	}})
	reminded := short.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: short.Tokens["caseworker:KBH"], Body: counterBody(soeren)})
	require.Equal(t, http.StatusCreated, reminded.Status, string(reminded.Body))
	id = reminded.JSON["id"].(string)
	waitForStatus(t, short, id, "awaiting_handover")
	require.Equal(t, http.StatusOK, short.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/handover", Token: short.Tokens["caseworker:KBH"]}).Status)
	waitForStatus(t, short, id, "expired")
	histories := map[string]*historypb.History{"counter_handover_reminder_expired": history(t, short, id)}

	for name, issuanceID := range runs {
		histories[name] = history(t, app, issuanceID)
	}
	replayAndRecord(t, histories)
}

// TestRecordAndReplayAppointmentHistories runs appointment workflows on the
// real server (booked and checked in; booked and cancelled; rescheduled and
// then checked in; expired unconfirmed; booked and not come: no-show) and replays their histories with the
// current code. With NEMID_RECORD_HISTORIES=1 it also saves them to
// workflows/testdata, where workflows' TestReplayAppointmentHistories keeps
// checking that later changes stay compatible.
func TestRecordAndReplayAppointmentHistories(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), testenv.Options{Configure: func(c *config.Config) {
		c.CodecKeys = workflows.ReplayTestCodecKey
	}})
	kbh := openTestCentre(t, app, 1)
	slots := nextSlots(t, app.URL)
	require.GreaterOrEqual(t, len(slots), 5)
	start := func(i int) string { return slots[i].(map[string]any)["start"].(string) }
	checkIn := func(id string) {
		t.Helper()
		res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/appointments/" + id + "/check-in", Token: kbh,
			Body: map[string]any{"documents": []map[string]any{{"type": "passport", "number": "X123", "expires": "2031-05-01"}}, "check_questions_passed": true}})
		require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
	}
	runs := map[string]string{}

	// Booked (reminded at once when the slot is less than a day away) and checked in.
	bookAndConfirm(t, app, app.URL, soeren, start(0), "replay-in@example.dk")
	id := appointmentAt(t, app, start(0))
	checkIn(id)
	runs["appointment_checked_in"] = id

	// Booked and cancelled by the person.
	ref := bookAndConfirm(t, app, app.URL, "0101801234", start(1), "replay-cancel@example.dk")
	cancelled := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/bookings/" + ref + "/cancel"})
	require.Equal(t, http.StatusOK, cancelled.Status, string(cancelled.Body))
	runs["appointment_cancelled"] = appointmentAt(t, app, start(1))

	// Booked, rescheduled (the timers start again for the new slot) and checked in.
	ref = bookAndConfirm(t, app, app.URL, "0708651239", start(2), "replay-move@example.dk")
	id = appointmentAt(t, app, start(2))
	moved := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/bookings/" + ref + "/reschedule", Body: map[string]any{"start": start(3)}})
	require.Equal(t, http.StatusOK, moved.Status, string(moved.Body))
	checkIn(id)
	runs["appointment_rescheduled_checked_in"] = id

	// Three wrong codes: the unconfirmed booking expires.
	res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/bookings", Body: bookingBody("0101701234", start(4), "replay-expired@example.dk")})
	require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
	for range 3 {
		wrong := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/bookings/" + res.JSON["reference"].(string) + "/confirm", Body: map[string]any{"code": "abc"}})
		require.Equal(t, http.StatusUnauthorized, wrong.Status, string(wrong.Body))
	}
	runs["appointment_expired"] = appointmentAt(t, app, start(4))

	runs["appointment_no_show"] = noShow(t, app)

	histories := map[string]*historypb.History{}
	for name, appointmentID := range runs {
		histories[name] = workflowHistory(t, app, workflows.AppointmentWorkflowID(appointmentID))
	}
	replayAndRecord(t, histories)
}

// noShow runs a booking nobody comes to, to its no-show at the end of the
// slot. The API offers whole slots only (5 minutes at the shortest), too
// long for a test to wait for; so this booking is recorded as the API
// records one (store.Book) but for a slot that ends seconds from now, its
// workflow started with the input the API gives it, and confirmed with the
// API's Update. From there on it is the workflow the server runs: reminded
// at once (less than a day ahead), then no_show when the slot's timer fires.
func noShow(t *testing.T, app *testenv.App) string {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	email := "replay-no-show@example.dk"
	a := store.Appointment{ID: uuid.Must(uuid.NewV7()).String(), ReferenceHash: "replay-no-show", Centre: "KBH",
		StartAt: now.Add(2 * time.Second), EndAt: now.Add(4 * time.Second), Status: store.AppointmentUnconfirmed,
		CPRHash: "replay-no-show", CPRMasked: "010160-XXXX", ContactEmail: &email, ConfirmBy: now.Add(domain.BookingWindow),
		CreatedAt: now, UpdatedAt: now}
	n := store.Notification{ID: uuid.NewString(), DedupeKey: "booking_confirmation:" + a.ID, AppointmentID: &a.ID,
		Kind: activities.NotificationBookingConfirmation, ToEmail: &email, Status: store.NotificationSent, CreatedAt: now, SentAt: &now}
	require.NoError(t, app.Store.Book(ctx, store.Booking{Appointment: a, Desks: 1, Notification: n}))
	_, err := app.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.AppointmentWorkflowID(a.ID),
		TaskQueue: app.Queue, WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE}, workflows.AppointmentWorkflow,
		workflows.AppointmentInput{AppointmentID: a.ID, Centre: a.Centre, CPR: "0101601234", Start: a.StartAt, End: a.EndAt,
			ConfirmBy: a.ConfirmBy, RemindBefore: domain.ReminderBefore})
	require.NoError(t, err)
	h, err := app.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.AppointmentWorkflowID(a.ID),
		UpdateName: workflows.UpdateConfirm, WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err)
	var outcome string
	require.NoError(t, h.Get(ctx, &outcome))
	require.Equal(t, workflows.MoveDone, outcome)
	var state workflows.AppointmentState
	require.NoError(t, app.Temporal.GetWorkflow(ctx, workflows.AppointmentWorkflowID(a.ID), "").Get(ctx, &state))
	require.Equal(t, workflows.AppointmentNoShow, state.Status)
	return a.ID
}

// appointmentAt is the id of the test centre's one appointment at start.
func appointmentAt(t *testing.T, app *testenv.App, start string) string {
	t.Helper()
	at := mustTime(t, start)
	list, err := app.Store.ListAppointments(context.Background(), "KBH", at, at.Add(time.Second))
	require.NoError(t, err)
	require.Len(t, list, 1, "appointments at %s", start)
	return list[0].ID
}

// replayAndRecord replays each history with the current code and, with
// NEMID_RECORD_HISTORIES=1, saves it as workflows/testdata/history_<name>.json.
func replayAndRecord(t *testing.T, histories map[string]*historypb.History) {
	t.Helper()
	replayer, err := workflows.NewReplayer()
	require.NoError(t, err)
	for name, hist := range histories {
		require.NoError(t, replayer.ReplayWorkflowHistory(nil, hist), "replay %s", name)
		if os.Getenv("NEMID_RECORD_HISTORIES") == "1" {
			raw, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(hist)
			require.NoError(t, err)
			path := filepath.Join(testenv.RepoRoot(), "workflows", "testdata", "history_"+name+".json")
			require.NoError(t, os.WriteFile(path, raw, 0o644))
			t.Logf("recorded %s", path)
		}
	}
}

// cancelForReplay ends a recorded run with a cancel by token.
func cancelForReplay(t *testing.T, app *testenv.App, token, id string) {
	t.Helper()
	res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/cancel", Token: token,
		Body: map[string]string{"reason": "recorded for the replay test"}})
	require.Equal(t, http.StatusOK, res.Status, string(res.Body))
}

func history(t *testing.T, app *testenv.App, issuanceID string) *historypb.History {
	t.Helper()
	return workflowHistory(t, app, workflows.IssuanceWorkflowID(issuanceID))
}

// workflowHistory waits for a workflow to complete and answers its history.
func workflowHistory(t *testing.T, app *testenv.App, workflowID string) *historypb.History {
	t.Helper()
	ctx := context.Background()
	run := app.Temporal.GetWorkflow(ctx, workflowID, "")
	require.NoError(t, run.Get(ctx, nil))
	iter := app.Temporal.GetWorkflowHistory(ctx, workflowID, "", false, 0)
	hist := &historypb.History{}
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		hist.Events = append(hist.Events, ev)
	}
	return hist
}
