package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opennemid/nemid/store"
)

// locations remembers where each test database lives, so that a process
// of its own (`nemid api`) can open the same one.
var locations sync.Map // *store.Store → "postgres://…" or the SQLite data dir

// remember records where a test database lives and how to open it again.
func remember(st *store.Store, location string) { locations.Store(st, location) }

// Process is a `nemid` subcommand running as an operating-system process
// of its own, against the App's database, Temporal and keys.
type Process struct {
	URL  string // the API's base URL; empty for a worker
	name string
	args []string
	env  []string
	bin  string
	cmd  *exec.Cmd
	logs *lockedWriter
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
// database, Temporal server, keys and task queue (its workflows run on the
// App's in-process worker); extra environment entries ("NAME=value")
// override. It is killed when the test ends.
func (a *App) StartAPI(t *testing.T, extraEnv ...string) *Process {
	t.Helper()
	addr := FreeAddr(t)
	own := []string{"NEMID_HTTP_ADDR=" + addr, "NEMID_TASK_QUEUE=" + a.api.TaskQueue}
	return StartProcess(t, append(a.processEnv(t), append(own, extraEnv...)...), addr, "api")
}

// StartWorker runs `nemid worker` as a separate process sharing the App's
// database, Temporal server and keys. It polls workflows.TaskQueue, the
// production queue, not the in-process worker's test queue: API processes
// (StartAPI) start workflows there. It is killed when the test ends.
func (a *App) StartWorker(t *testing.T, extraEnv ...string) *Process {
	t.Helper()
	return StartProcess(t, append(a.processEnv(t), extraEnv...), "", "worker")
}

// processEnv is the environment that points a `nemid` process at the
// App's database, Temporal and keys.
func (a *App) processEnv(t *testing.T) []string {
	t.Helper()
	loc, ok := locations.Load(a.Store)
	if !ok {
		t.Fatal("the App's store was not opened by testenv")
	}
	env := ProcessEnv{TemporalAddress: a.TemporalAddress, CodecKey: a.Config.CodecKeys, HashKey: a.Config.HashKey,
		LetterKeyDir: a.Config.LetterKeyDir}.Environ(a.Store, loc.(string))
	return append(env,
		"NEMID_RATE_LIMIT="+strconv.FormatFloat(a.Config.RateLimit, 'f', -1, 64),
		"NEMID_CHALLENGE_TTL="+a.Config.ChallengeTTL.String(), "NEMID_SESSION_TTL="+a.Config.SessionTTL.String())
}

// ProcessEnv is what a `nemid api` or `nemid worker` process needs beside
// the database.
type ProcessEnv struct {
	TemporalAddress string
	CodecKey        string // NEMID_CODEC_KEY
	HashKey         string // NEMID_HASH_KEY
	LetterKeyDir    string // shared by the worker and the API
}

// Environ is the environment for a process on st's database (location:
// the Postgres URL or the SQLite data directory testenv opened it from).
func (e ProcessEnv) Environ(st *store.Store, location string) []string {
	env := append(os.Environ(),
		"TEMPORAL_ADDRESS="+e.TemporalAddress, "TEMPORAL_NAMESPACE=default",
		"NEMID_CODEC_KEY="+e.CodecKey, "NEMID_HASH_KEY="+e.HashKey, "NEMID_LOG_LEVEL=warn")
	if e.LetterKeyDir != "" {
		env = append(env, "NEMID_LETTER_KEY_DIR="+e.LetterKeyDir)
	}
	if st.Dialect() == "postgres" {
		return append(env, "DATABASE_URL="+location)
	}
	return append(env, "DATABASE_URL=", "NEMID_DATA_DIR="+location)
}

// Location is where testenv opened st: a Postgres URL or a SQLite data
// directory, for ProcessEnv.Environ.
func Location(t testing.TB, st *store.Store) string {
	t.Helper()
	loc, ok := locations.Load(st)
	if !ok {
		t.Fatal("the store was not opened by testenv")
	}
	return loc.(string)
}

// StartProcess runs `nemid ARGS…` (built once) with env; an API (addr set,
// its NEMID_HTTP_ADDR) is waited for until /readyz answers. It is killed
// when the test ends.
func StartProcess(t *testing.T, env []string, addr string, args ...string) *Process {
	t.Helper()
	p := &Process{name: "nemid " + strings.Join(args, " "), args: args, env: env, bin: nemidBinary(t), logs: &lockedWriter{w: &bytes.Buffer{}}}
	if addr != "" {
		p.URL = "http://" + addr
	}
	p.start(t)
	t.Cleanup(func() {
		if p.cmd != nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *Process) start(t *testing.T) {
	t.Helper()
	p.done = make(chan error, 1)
	p.cmd = exec.Command(p.bin, p.args...)
	p.cmd.Env = p.env
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	if p.URL != "" {
		p.waitReady(t)
	}
}

// Kill ends the process with SIGKILL, as a crash would, and waits for it.
func (p *Process) Kill(t *testing.T) {
	t.Helper()
	if err := p.Crash(); err != nil {
		t.Fatal(err)
	}
	p.cmd = nil
}

// Crash ends the process with SIGKILL from any goroutine, as a crash
// would, and waits for it; killing one already gone is no error, and the
// test's cleanup still works.
func (p *Process) Crash() error {
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s: %w", p.name, err)
	}
	err := <-p.done
	p.done <- err // for the next waiter (cleanup, a second Crash)
	return nil
}

// Interrupt ends the process with SIGINT, as Ctrl-C would, and waits at
// most timeout for it to exit; it answers how it exited (nil: status 0).
func (p *Process) Interrupt(t *testing.T, timeout time.Duration) error {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("interrupt %s: %v", p.name, err)
	}
	return p.Wait(t, timeout)
}

// Wait waits at most timeout for the process to exit by itself (a one-shot
// subcommand) and answers how it exited (nil: status 0).
func (p *Process) Wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		p.cmd = nil
		return err
	case <-time.After(timeout):
		t.Fatalf("%s still running after %s\n%s", p.name, timeout, p.Logs())
		return nil
	}
}

// Running reports whether the process has not been killed or interrupted.
func (p *Process) Running() bool { return p.cmd != nil }

// Restart starts the killed process again with the same arguments and
// environment (an API on the same address).
func (p *Process) Restart(t *testing.T) {
	t.Helper()
	if p.cmd != nil {
		t.Fatalf("%s is still running", p.name)
	}
	p.start(t)
}

// Logs is everything the process has written so far.
func (p *Process) Logs() string {
	p.logs.mu.Lock()
	defer p.logs.mu.Unlock()
	return p.logs.w.(*bytes.Buffer).String()
}

func (p *Process) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			t.Fatalf("%s exited: %v\n%s", p.name, err, p.Logs())
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
	t.Fatalf("%s at %s not ready after 30 s\n%s", p.name, p.URL, p.Logs())
}

// Client is an App whose requests go to this process instead.
func (p *Process) Client(a *App) *App {
	c := *a
	c.URL = p.URL
	return &c
}

// FreeAddr is a loopback address with a port nothing listens on now.
func FreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
