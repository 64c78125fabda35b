// Package testenv gives tests the real parts: a Temporal dev server started
// from the pinned CLI, SQLite and Postgres databases, and the whole
// application (worker and HTTP API) wired as the binary wires it.
//
// Locally a missing part skips the tests that need it, saying why; under CI
// (CI=true) it fails them, so nothing is skipped silently.
package testenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"go.temporal.io/sdk/testsuite"

	"github.com/opennemid/nemid/internal/devserver"
)

// InCI reports whether the tests run under CI, where nothing may be skipped.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips the test locally and fails it under CI.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("CI=true and %s", msg)
	}
	t.Skipf("skipping: %s (under CI=true this fails)", msg)
}

// RepoRoot is the module root, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// FindTemporalCLI looks where the Taskfile and `nemid dev` put the CLI.
func FindTemporalCLI() string {
	if p := devserver.FindCLI(filepath.Join(RepoRoot(), ".nemid", "bin")); p != "" {
		return p
	}
	if cache, err := os.UserCacheDir(); err == nil {
		p := filepath.Join(cache, "nemid", "temporal-v1.5.1", "temporal")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

var (
	serverOnce sync.Once
	server     *testsuite.DevServer
	serverErr  error
)

// Temporal returns the test binary's shared dev server, starting it on
// first use; Main stops it when the tests end.
func Temporal(t testing.TB) *testsuite.DevServer {
	t.Helper()
	serverOnce.Do(func() {
		cli := FindTemporalCLI()
		if cli == "" {
			serverErr = fmt.Errorf("no Temporal CLI found (set TEMPORAL_CLI, or run `go tool -modfile=tools/go.mod task temporal-cli`)")
			return
		}
		if _, err := exec.LookPath(cli); err != nil {
			serverErr = fmt.Errorf("TEMPORAL_CLI %s is not executable: %w", cli, err)
			return
		}
		server, serverErr = devserver.Start(context.Background(), devserver.Options{CLIPath: cli, Logs: io.Discard})
	})
	if serverErr != nil {
		Unavailable(t, "the Temporal dev server is unavailable: %v", serverErr)
	}
	return server
}

// Main runs the tests and then stops the shared dev server.
func Main(m *testing.M) {
	code := m.Run()
	if server != nil {
		if err := server.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop the Temporal dev server:", err)
		}
	}
	os.Exit(code)
}
