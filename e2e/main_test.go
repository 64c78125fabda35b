// Package e2e drives the whole application over HTTP against a real
// Temporal dev server, once on SQLite and once on Postgres.
package e2e

import (
	"testing"
	"time"

	"github.com/opennemid/nemid/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// forEachBackend runs body once per database, each with an app of its own.
func forEachBackend(t *testing.T, opts testenv.Options, body func(t *testing.T, app *testenv.App)) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			body(t, testenv.NewApp(t, b.Open(t), opts))
		})
	}
}

// eventually polls until cond holds or 20 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
