package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
)

// stoppingWorker stands in for the SDK worker's Run: it returns nil when
// interrupted, or fatal (if set) after a moment, as the SDK does when the
// worker stops on its own (namespace gone, client refused).
type stoppingWorker struct{ fatal error }

func (w stoppingWorker) Run(interrupt <-chan any) error {
	if w.fatal == nil {
		<-interrupt
		return nil
	}
	select {
	case <-interrupt:
		return nil
	case <-time.After(10 * time.Millisecond):
		return w.fatal
	}
}

// TestRunUntilDone: a worker's fatal error ends `nemid worker` (and, through
// its errgroup, `nemid dev`) with that error; the old code waited for the
// context and idled without a worker.
func TestRunUntilDone(t *testing.T) {
	fatal := errors.New("namespace default is not found")
	tests := []struct {
		name   string
		worker stoppingWorker
		cancel bool
		want   error
	}{
		{"the worker stops on a fatal error", stoppingWorker{fatal: fatal}, false, fatal},
		{"the process is asked to stop", stoppingWorker{}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if tt.cancel {
				cancel()
			}
			err := runUntilDone(ctx, tt.worker)
			if tt.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.want)
			assert.NoError(t, ctx.Err(), "returned on the worker's error, not on the deadline")
		})
	}
}

// TestServeUntilDoneStopsCleanlyWithConnectionsOpen: being asked to stop is
// a clean stop even when a client holds the server past the drain — a
// request still running, or a browser's speculative connection that never
// sent one (CI once saw `nemid dev` exit 1 on Ctrl-C with the demo page
// open). What is left open is closed, and the listener is gone.
func TestServeUntilDoneStopsCleanlyWithConnectionsOpen(t *testing.T) {
	tests := []struct {
		name string
		hold func(t *testing.T, addr string, inHandler <-chan struct{}) // returns once the server is held
	}{
		{"a request outlives the drain", func(t *testing.T, addr string, inHandler <-chan struct{}) {
			go func() {
				resp, err := http.Get("http://" + addr + "/slow")
				if err == nil {
					resp.Body.Close()
				}
			}()
			<-inHandler
		}},
		{"a connection that never sent a request", func(t *testing.T, addr string, _ <-chan struct{}) {
			conn, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			t.Cleanup(func() { conn.Close() })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inHandler := make(chan struct{}, 1)
			release := make(chan struct{})
			defer close(release)
			mux := http.NewServeMux()
			mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
				inHandler <- struct{}{}
				<-release
			})
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {})
			addr := testenv.FreeAddr(t)
			srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: time.Minute}
			ctx, stop := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- serveUntilDone(ctx, srv, 200*time.Millisecond, slog.New(slog.DiscardHandler)) }()
			require.Eventually(t, func() bool { return answers(addr) }, 5*time.Second, 10*time.Millisecond)

			tt.hold(t, addr, inHandler)
			stop()
			select {
			case err := <-done:
				assert.NoError(t, err, "a stop with connections open is still a clean stop")
			case <-time.After(10 * time.Second):
				t.Fatal("serveUntilDone did not return after its drain")
			}
			_, err := net.DialTimeout("tcp", addr, time.Second)
			assert.Error(t, err, "the listener is closed")
		})
	}
}
