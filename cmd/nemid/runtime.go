package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/opennemid/nemid/api"
	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/config"
	"github.com/opennemid/nemid/internal/telemetry"
	"github.com/opennemid/nemid/internal/wiring"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/worker"
)

// runtime is what every long-running command shares.
type runtime struct {
	cfg      config.Config
	log      *slog.Logger
	store    *store.Store
	temporal client.Client
	registry *prometheus.Registry
	keys     wiring.Keys // the worker seals letters, the API opens and destroys their keys
}

func loadConfig(dev bool) (config.Config, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return cfg, err
	}
	if dev {
		return cfg, cfg.EnsureDevKeys()
	}
	return cfg, cfg.RequireKeys()
}

// openStore opens the configured database with NEMID_HASH_KEY, which links
// and verifies the audit chain; without it, appending an audit entry fails
// (store.ErrNoAuditKey).
func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	var keys domain.HashKeys
	if cfg.HashKey != "" {
		var err error
		if keys, err = cfg.HashKeys(); err != nil {
			return nil, err
		}
	}
	st, err := store.Open(cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if !keys.Empty() {
		st.UseHashKeys(keys)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := st.Ping(pingCtx); err != nil {
		return nil, fmt.Errorf("database unreachable: %w", err)
	}
	return st, nil
}

// openRuntime connects to the database and Temporal.
func openRuntime(ctx context.Context, cfg config.Config, log *slog.Logger) (*runtime, error) {
	keys, err := wiring.LoadKeys(cfg)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	tc, err := wiring.DialTemporal(ctx, cfg.TemporalAddress, cfg.TemporalNamespace, keys, log, reg)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	return &runtime{cfg: cfg, log: log, store: st, temporal: tc, registry: reg, keys: keys}, nil
}

func (rt *runtime) close() {
	rt.temporal.Close()
	if err := rt.store.Close(); err != nil {
		rt.log.Error("close database", "error", err.Error())
	}
}

// runWorker polls the task queue until ctx ends, or until the worker stops
// on a fatal error (the namespace is gone, the server refuses this client),
// which it returns so that the process ends with it instead of idling
// without a worker.
func (rt *runtime) runWorker(ctx context.Context) error {
	w := sdkworker.New(rt.temporal, rt.cfg.TaskQueue, worker.Options())
	worker.Register(w, wiring.Activities(rt.store, rt.keys, rt.log))
	if err := worker.StartRegisterChanges(ctx, rt.temporal, rt.cfg.TaskQueue, rt.cfg.RegisterSweep); err != nil {
		if ctx.Err() != nil {
			return nil // stopped (Ctrl-C) while starting: a clean stop, not a failure
		}
		return err
	}
	return runUntilDone(ctx, w)
}

// runner is the part of the SDK's worker that runUntilDone drives.
type runner interface {
	Run(interruptCh <-chan any) error
}

// runUntilDone runs w until ctx ends (nil) or until w stops by itself on a
// fatal error, which it returns.
func runUntilDone(ctx context.Context, w runner) error {
	stop := make(chan any)
	defer context.AfterFunc(ctx, func() { close(stop) })()
	if err := w.Run(stop); err != nil {
		return fmt.Errorf("run worker: %w", err)
	}
	return nil
}

// runAPI serves HTTP until ctx ends, then drains for up to 10 s.
func (rt *runtime) runAPI(ctx context.Context) error {
	e := api.New(wiring.APIDeps(rt.store, rt.temporal, rt.cfg, rt.keys, rt.log, rt.registry, rt.cfg.TaskQueue))
	srv := &http.Server{Addr: rt.cfg.HTTPAddr, Handler: e, ReadHeaderTimeout: 10 * time.Second}
	return serveUntilDone(ctx, srv, 10*time.Second, rt.log)
}

// serveUntilDone serves srv until ctx ends, then lets requests in flight
// finish for up to drain. What is still open after that (a request that
// outlived the drain, or a browser's speculative connection that never sent
// one) is closed: being asked to stop is a clean stop, so it is logged, not
// returned — `nemid dev` exits 0 on Ctrl-C even with a console tab open.
func serveUntilDone(ctx context.Context, srv *http.Server, drain time.Duration, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", srv.Addr, err)
	case <-ctx.Done():
	}
	drainCtx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := srv.Shutdown(drainCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("connections still open after the drain were closed", "addr", srv.Addr, "drain", drain.String())
		err = srv.Close()
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stop serving %s: %w", srv.Addr, err)
	}
	return nil
}

func runWorkerCmd(ctx context.Context) error {
	return runServices(ctx, func(ctx context.Context, rt *runtime) error { return rt.runWorker(ctx) })
}

func runAPICmd(ctx context.Context) error {
	return runServices(ctx, func(ctx context.Context, rt *runtime) error { return rt.runAPI(ctx) })
}

func runServices(ctx context.Context, serve func(context.Context, *runtime) error) error {
	log := telemetry.NewLogger(os.Stderr)
	cfg, err := loadConfig(false)
	if err != nil {
		return err
	}
	rt, err := openRuntime(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer rt.close()
	return serve(ctx, rt)
}
