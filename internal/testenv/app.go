package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/opennemid/nemid/api"
	"github.com/opennemid/nemid/internal/config"
	"github.com/opennemid/nemid/internal/letterkeys"
	"github.com/opennemid/nemid/internal/telemetry"
	"github.com/opennemid/nemid/internal/wiring"
	"github.com/opennemid/nemid/register"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/worker"
	"github.com/opennemid/nemid/workflows"
)

// App is the whole application against real Temporal and a real database:
// a worker on a task queue of its own and the API on httptest.
type App struct {
	URL             string
	Store           *store.Store
	TemporalAddress string
	Temporal        client.Client
	Config          config.Config
	Queue           string            // the worker's task queue, the test's own
	Tokens          map[string]string // "role:scope" → token
	// LetterKeys is the key directory the worker and the API share
	// (Config.LetterKeyDir, a temporary directory of the test's own).
	LetterKeys *letterkeys.Dir
	logs       *lockedWriter
	api        api.Deps // how the API was wired, for SecondAPI
}

// LogText is everything the application has logged so far.
func (a *App) LogText() string {
	a.logs.mu.Lock()
	defer a.logs.mu.Unlock()
	return a.logs.w.(*bytes.Buffer).String()
}

// Options adjust an App; nil fields keep the defaults.
type Options struct {
	Configure func(*config.Config)
	// APINamespace points the API's Temporal client elsewhere than the
	// worker's, to exercise a failing workflow start.
	APINamespace string
}

// NewApp wires the application exactly as `nemid dev` does, loads the demo
// register and creates one token per dev principal.
func NewApp(t testing.TB, st *store.Store, opts Options) *App {
	t.Helper()
	dev := Temporal(t)
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	cfg.CodecKeys = "test:" + randomKey(t)
	cfg.HashKey = randomKey(t)
	cfg.LetterKeyDir = filepath.Join(t.TempDir(), "letter-keys")
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	keys, err := wiring.LoadKeys(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st.UseHashKeys(keys.Hash)
	logs := &lockedWriter{w: &bytes.Buffer{}}
	log := telemetry.NewLoggerAt(logs, slog.LevelInfo)
	reg := prometheus.NewRegistry()
	ctx := context.Background()
	tc, err := wiring.DialTemporal(ctx, dev.FrontendHostPort(), "default", keys, log, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)

	queue := "test-" + uuid.NewString()
	w := sdkworker.New(tc, queue, worker.Options())
	worker.Register(w, wiring.Activities(st, keys, log))
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	if err := worker.StartRegisterChanges(ctx, tc, queue, cfg.RegisterSweep); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // the queue is the test's own: nothing polls it after the test
		if err := tc.TerminateWorkflow(context.Background(), workflows.RegisterChangesWorkflowID(queue), "", "test ended"); err != nil {
			t.Logf("terminate the register-changes workflow: %v", err)
		}
	})

	apiClient := tc
	if opts.APINamespace != "" {
		apiClient, err = client.NewLazyClient(client.Options{HostPort: dev.FrontendHostPort(), Namespace: opts.APINamespace,
			Logger: tlog.NewStructuredLogger(log), DataConverter: keys.Payload.DataConverter()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(apiClient.Close)
	}
	// The OpenID issuer is the server's own URL, known once it listens.
	srv := httptest.NewUnstartedServer(nil)
	cfg.Issuer = "http://" + srv.Listener.Addr().String()
	deps := wiring.APIDeps(st, apiClient, cfg, keys, log, reg, queue)
	srv.Config.Handler = checkContract(t, api.New(deps))
	srv.Start()
	checkedServers.Store(srv.URL, true)
	t.Cleanup(srv.Close)

	people, err := register.Demo(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UpsertPersons(ctx, people); err != nil {
		t.Fatal(err)
	}
	app := &App{URL: srv.URL, Store: st, TemporalAddress: dev.FrontendHostPort(), Temporal: tc, Config: cfg, Queue: queue,
		Tokens: map[string]string{}, LetterKeys: keys.Letters, logs: logs, api: deps}
	for _, p := range [][2]string{{"caseworker", "KBH"}, {"caseworker", "AAR"}, {"embassy", "LONDON"},
		{"bank", "1234"}, {"post", "post"}, {"admin", "all"}} {
		tok, err := st.CreateToken(ctx, p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		app.Tokens[p[0]+":"+p[1]] = tok
	}
	return app
}

// DialTemporal connects a Temporal client of the caller's own, as another
// process (`nemid load`, an operator's tool) dials one: same server,
// namespace and payload codec as the app's. Workers on one SDK client
// share its state (namespace data, per-namespace worker heartbeating), and
// CI's race detector once reported two SDK goroutines, one from each of two
// workers on the app's client; a test that starts a worker of its own (the
// load's baseline) starts it on a client like this, one worker per client
// as in every process of the system.
func (a *App) DialTemporal(t testing.TB) client.Client {
	t.Helper()
	keys, err := wiring.LoadKeys(a.Config)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := wiring.DialTemporal(context.Background(), a.TemporalAddress, "default", keys, telemetry.NewLoggerAt(io.Discard, slog.LevelWarn), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	return tc
}

// SecondAPI starts another API process beside the app's, as a second
// replica would run: its own api.New with its own connection pool to the
// same database (Reopen), the same configuration, keys, Temporal and task
// queue. It answers the new server's URL.
func (a *App) SecondAPI(t *testing.T) string {
	t.Helper()
	deps := a.api
	deps.Store = Reopen(t, a.Store)
	deps.Registry = prometheus.NewRegistry()
	srv := httptest.NewServer(checkContract(t, api.New(deps)))
	checkedServers.Store(srv.URL, true)
	t.Cleanup(srv.Close)
	return srv.URL
}

func randomKey(t testing.TB) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Response is an HTTP answer with its JSON decoded.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// Request describes one call; Body is marshalled unless it is a string.
// From, when set, is the loopback address the call comes from (ClientFrom).
type Request struct {
	Method, Path, Token string
	Body                any
	Header              map[string]string
	From                string
}

// Do sends a request and decodes a JSON object answer.
func (a *App) Do(t *testing.T, r Request) Response {
	t.Helper()
	return Do(t, a.URL, r)
}

// Do sends a request to the server at base and decodes a JSON object answer.
func Do(t testing.TB, base string, r Request) Response {
	t.Helper()
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(r.Method, base+r.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	client := http.DefaultClient
	if r.From != "" {
		client = ClientFrom(t, r.From)
	}
	client = contractClient(t, base, client)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := Response{Status: res.StatusCode, Header: res.Header, Body: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(raw, &out.JSON)
	}
	return out
}

// lockedWriter lets concurrent loggers share one buffer.
type syncMutex = sync.Mutex

type lockedWriter struct {
	mu syncMutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
