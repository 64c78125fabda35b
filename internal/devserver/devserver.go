// Package devserver finds, builds when needed, and starts the pinned
// Temporal CLI dev server for `nemid dev` and the tests.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
)

// CLIModule is the pinned CLI. Newer versions carry a replace directive
// that `go install` refuses, so this is the newest that builds from the proxy.
const CLIModule = "github.com/temporalio/cli/cmd/temporal@v1.5.1"

// FindCLI returns the CLI binary to use: TEMPORAL_CLI, then `temporal` on
// PATH, then a copy built earlier into binDir. Empty when there is none.
func FindCLI(binDir string) string {
	if p := os.Getenv("TEMPORAL_CLI"); p != "" {
		return p
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p
	}
	candidate := filepath.Join(binDir, "temporal")
	if st, err := os.Stat(candidate); err == nil && !st.IsDir() {
		return candidate
	}
	return ""
}

// EnsureCLI finds the CLI or builds it with `go install` into binDir (about
// five minutes the first time on two cores).
func EnsureCLI(ctx context.Context, binDir string, progress io.Writer) (string, error) {
	if p := FindCLI(binDir); p != "" {
		return p, nil
	}
	abs, err := filepath.Abs(binDir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", abs, err)
	}
	fmt.Fprintf(progress, "building the Temporal CLI (%s) into %s; this takes a few minutes once\n", CLIModule, abs)
	cmd := exec.CommandContext(ctx, "go", "install", CLIModule)
	cmd.Env = append(os.Environ(), "GOBIN="+abs)
	cmd.Stdout, cmd.Stderr = progress, progress
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s: %w", CLIModule, err)
	}
	return filepath.Join(abs, "temporal"), nil
}

// Options for Start.
type Options struct {
	CLIPath   string
	HostPort  string // empty: a free port
	Namespace string
	DBFile    string // empty: in memory
	UIPort    string // empty with EnableUI: a free port
	EnableUI  bool
	// UICodecEndpoint points the Web UI at a remote codec (the API's
	// /codec), so it shows payloads decrypted to a signed-in admin.
	UICodecEndpoint string
	Logs            io.Writer // the server's own output; nil discards it
}

// Start runs the dev server as a child process and waits until it answers.
func Start(ctx context.Context, o Options) (*testsuite.DevServer, error) {
	if o.CLIPath == "" {
		return nil, errors.New("no Temporal CLI: set TEMPORAL_CLI or run `go tool -modfile=tools/go.mod task temporal-cli`")
	}
	logs := o.Logs
	if logs == nil {
		logs = io.Discard
	}
	// Eager activity execution hands an activity scheduled by a workflow
	// task back to the worker in the task's completion, skipping a trip
	// through matching (the mint after the register check). The server
	// supports it but leaves it off by default; a production cluster sets
	// the same dynamic config (deploy/prodlike).
	extra := []string{"--dynamic-config-value", "system.enableActivityEagerExecution=true"}
	if o.UICodecEndpoint != "" {
		extra = append(extra, "--ui-codec-endpoint", o.UICodecEndpoint)
	}
	return testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath: o.CLIPath,
		// Warnings only: the SDK logs the server's whole command line at
		// info, and that names the dev UI's codec URL, a secret.
		ClientOptions: &client.Options{HostPort: o.HostPort, Namespace: o.Namespace,
			Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))},
		DBFilename: o.DBFile,
		EnableUI:   o.EnableUI,
		UIPort:     o.UIPort,
		LogLevel:   "error",
		LogFormat:  "json",
		Stdout:     logs,
		Stderr:     logs,
		ExtraArgs:  extra,
	})
}
