package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/opennemid/nemid/store"
)

// locations remembers where each test database lives, so that a process
// of its own (`nemid api`) can open the same one.
var locations sync.Map // *store.Store → "postgres://…" or the SQLite data dir

// remember records where a test database lives and how to open it again.
func remember(st *store.Store, location string, reopen func() (*store.Store, error)) {
	locations.Store(st, location)
	sources.Store(st, reopen)
}

// Process is a `nemid` subcommand running as an operating-system process
// of its own, against the App's database, Temporal and keys.
type Process struct {
	URL  string
	cmd  *exec.Cmd
	logs *bytes.Buffer
	done chan error
}

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// nemidBinary builds cmd/nemid once per test binary.
func nemidBinary(t testing.TB) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "nemid-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "nemid")
		build := exec.Command("go", "build", "-o", binaryPath, "./cmd/nemid")
		build.Dir = RepoRoot()
		out, err := build.CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("go build ./cmd/nemid: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

// StartAPI runs `nemid api` as a separate process sharing the App's
// database, Temporal server and keys; extra environment entries
// ("NAME=value") override. It is killed when the test ends.
func (a *App) StartAPI(t *testing.T, extraEnv ...string) *Process {
	t.Helper()
	loc, ok := locations.Load(a.Store)
	if !ok {
		t.Fatal("the App's store was not opened by testenv")
	}
	addr := freeAddr(t)
	env := append(os.Environ(),
		"TEMPORAL_ADDRESS="+a.TemporalAddress, "TEMPORAL_NAMESPACE=default", "NEMID_TASK_QUEUE="+a.api.TaskQueue,
		"NEMID_CODEC_KEY="+a.Config.CodecKeys, "NEMID_HASH_KEY="+a.Config.HashKey,
		"NEMID_HTTP_ADDR="+addr, "NEMID_LOG_LEVEL=warn",
		"NEMID_RATE_LIMIT="+strconv.FormatFloat(a.Config.RateLimit, 'f', -1, 64),
		"NEMID_CHALLENGE_TTL="+a.Config.ChallengeTTL.String(), "NEMID_SESSION_TTL="+a.Config.SessionTTL.String())
	if l := loc.(string); a.Store.Dialect() == "postgres" {
		env = append(env, "DATABASE_URL="+l)
	} else {
		env = append(env, "DATABASE_URL=", "NEMID_DATA_DIR="+l)
	}
	env = append(env, extraEnv...)
	p := &Process{URL: "http://" + addr, logs: &bytes.Buffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(nemidBinary(t), "api")
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	p.waitReady(t)
	return p
}

func (p *Process) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			t.Fatalf("nemid api exited: %v\n%s", err, p.logs)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/readyz", nil)
		res, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nemid api at %s not ready after 30 s\n%s", p.URL, p.logs)
}

// Client is an App whose requests go to this process instead.
func (p *Process) Client(a *App) *App {
	c := *a
	c.URL = p.URL
	return &c
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Kill ends the process at once, as a crash would: no shutdown, no drain.
// It may be called from any goroutine; it returns once the process is gone.
func (p *Process) Kill() error {
	if err := p.cmd.Process.Kill(); err != nil {
		return fmt.Errorf("kill nemid api: %w", err)
	}
	<-p.done
	p.done <- nil // for the cleanup's wait
	return nil
}
