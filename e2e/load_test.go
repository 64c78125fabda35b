package e2e

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/config"
	"github.com/opennemid/nemid/internal/loadgen"
	"github.com/opennemid/nemid/internal/testenv"
)

// loadOptions runs the load engine against app as `nemid load` runs it
// against a deployment: over HTTP, with the app's database as the register
// and token store only, and a Temporal client of its own for histories and
// the baseline's worker.
func loadOptions(t *testing.T, app *testenv.App, out *bytes.Buffer) loadgen.Options {
	return loadgen.Options{Concurrency: 3, APIs: []string{app.URL}, Sample: 2, FeeDKK: app.Config.AbroadFeeDKK,
		Outside: app.Store, Temporal: app.DialTemporal(t), PollInterval: 50 * time.Millisecond, StepTimeout: time.Minute, Out: out, Log: out}
}

// Every path, end to end, under the load engine: each issuance reaches
// active and its person logs on, without a single error; the engine cost
// is read from real histories; and the baseline replays the same shapes.
func TestLoadDrivesEveryPathToALogon(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		var out bytes.Buffer
		o := loadOptions(t, app, &out)
		o.N, o.Mix, o.Baseline = 6, loadgen.EvenMix(), true
		report, err := loadgen.Run(context.Background(), o)
		if report != nil {
			report.Print(&out)
		}
		t.Log(out.String())
		require.NoError(t, err)

		for _, path := range loadgen.Paths {
			assert.Equal(t, 2, report.Active[path], "%s issuances active", path)
			assert.Equal(t, 2, report.LoggedOn[path], "%s people logged on", path)
			assert.Len(t, report.ToActive[path], 2, path)
			cost := report.Cost[path]
			assert.Equal(t, 2, cost.Sampled, "%s histories read", path)
			assert.Positive(t, cost.Activities, path)
			assert.Positive(t, cost.WorkflowTasks, path)
			assert.GreaterOrEqual(t, cost.Updates, 2.0, "%s: the accept Update and the activation at least", path)
			assert.Greater(t, cost.Events, cost.Activities+cost.WorkflowTasks, path)
		}
		assert.Equal(t, 3.0, report.Cost[loadgen.PathCounter].Updates, "accept, handover, activate")
		assert.Equal(t, 2.0, report.Cost[loadgen.PathBank].Signals, "two letters dispatched")
		assert.Equal(t, 3.0, report.Cost[loadgen.PathAbroad].Updates, "accept, pickup, activate")
		assert.Zero(t, report.TotalFailed())
		assert.Zero(t, report.TotalErrors(), "no API call failed: %v", report.Errors)
		assert.Positive(t, report.Rate())

		active := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/issuances?status=active&limit=500", Token: app.Tokens["admin:all"]})
		require.Equal(t, http.StatusOK, active.Status, string(active.Body))
		assert.Len(t, active.JSON["items"], 6, "the read model shows every issuance active")

		b := report.Baseline
		require.NotNil(t, b, "the baseline ran")
		assert.Equal(t, 6, b.Runs)
		assert.Zero(t, b.Failed)
		assert.Positive(t, report.BaselineRate())
		for _, path := range loadgen.Paths {
			ours, bare := report.Cost[path], b.Cost[path]
			assert.Len(t, b.ByPath[path], 2, path)
			assert.Equal(t, ours.Activities, bare.Activities, "%s: the baseline runs as many activities", path)
			assert.Equal(t, ours.Updates, bare.Updates, "%s: and as many Updates", path)
			assert.Equal(t, ours.Signals, bare.Signals, "%s: and signals", path)
			assert.Positive(t, bare.Timers, "%s: and durable timers beside its waits", path)
		}
	})
}

// A flow that breaks shows as failed journeys and errors by status and
// route, not as a quiet shortfall: here every embassy is paid too little.
func TestLoadReportsABrokenFlow(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), testenv.Options{Configure: func(c *config.Config) { c.RateLimit = 100000 }})
	var out bytes.Buffer
	o := loadOptions(t, app, &out)
	o.N, o.Mix, o.FeeDKK = 2, loadgen.Mix{loadgen.PathAbroad: 1}, 1
	report, err := loadgen.Run(context.Background(), o)
	require.NoError(t, err, "the run itself completes: %s", out.String())
	assert.Equal(t, map[string]map[string]int{loadgen.PathAbroad: {"pickup": 2}}, report.Failed)
	assert.Equal(t, map[loadgen.RouteStatus]int{{Route: "POST /v1/issuances/{id}/pickup", Status: http.StatusUnprocessableEntity}: 2}, report.Errors)
	assert.Zero(t, report.TotalActive())
	assert.Nil(t, report.Baseline, "no baseline without an issuance to compare")
}
