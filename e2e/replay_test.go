package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"

	"github.com/opennemid/nemid/internal/config"
	"github.com/opennemid/nemid/internal/testenv"
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

	replayer, err := workflows.NewReplayer()
	require.NoError(t, err)
	for name, issuanceID := range runs {
		histories[name] = history(t, app, issuanceID)
	}
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
	ctx := context.Background()
	run := app.Temporal.GetWorkflow(ctx, workflows.IssuanceWorkflowID(issuanceID), "")
	require.NoError(t, run.Get(ctx, nil))
	iter := app.Temporal.GetWorkflowHistory(ctx, workflows.IssuanceWorkflowID(issuanceID), "", false, 0)
	hist := &historypb.History{}
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		hist.Events = append(hist.Events, ev)
	}
	return hist
}
