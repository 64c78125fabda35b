// Package api serves the HTTP contract of DESIGN.md §4 with Echo: handlers,
// authentication, idempotency, health and metrics.
package api

import (
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/config"
	"github.com/opennemid/nemid/internal/letterkeys"
	"github.com/opennemid/nemid/register"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// Server holds what the handlers need.
type Server struct {
	store    *store.Store
	temporal client.Client
	cfg      config.Config
	hashKey  []byte          // the CPR lookup key: hashKeys.Lookup()
	hashKeys domain.HashKeys // NEMID_HASH_KEY: MACs, password pepper
	log      *slog.Logger
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	now      func() time.Time
	queue    string
	register register.Register
	// nextSweep is when this process next deletes expired limits and
	// idempotency keys (UnixNano); see housekeeping.
	nextSweep atomic.Int64
	keys      *letterkeys.Dir // the keys letter PDFs are sealed under
	codec     converter.PayloadCodec
}

// Deps are the Server's collaborators.
type Deps struct {
	Store    *store.Store
	Temporal client.Client
	Config   config.Config
	HashKeys domain.HashKeys
	Logger   *slog.Logger
	Registry *prometheus.Registry // where /metrics reads from; the SDK's metrics go here too
	// TaskQueue overrides workflows.TaskQueue, so that several environments
	// (or parallel tests) can share one Temporal namespace.
	TaskQueue string
	// LetterKeys is the directory of letter keys (NEMID_LETTER_KEY_DIR),
	// shared with the worker that seals the letters.
	LetterKeys *letterkeys.Dir
	// Codec is the Temporal payload codec (NEMID_CODEC_KEY), which
	// POST /codec/decode applies for the Temporal Web UI.
	Codec converter.PayloadCodec
}

// New builds the Echo application with every route of the contract.
func New(d Deps) *echo.Echo {
	s := &Server{store: d.Store, temporal: d.Temporal, cfg: d.Config, hashKey: d.HashKeys.Lookup(), hashKeys: d.HashKeys, log: d.Logger,
		registry: d.Registry, now: func() time.Time { return stamp(time.Now()) }, queue: d.TaskQueue, keys: d.LetterKeys, codec: d.Codec}
	s.register = register.Register{Store: d.Store}
	if s.queue == "" {
		s.queue = workflows.TaskQueue
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nemid_http_requests_total",
		Help: "HTTP requests by route and status."}, []string{"method", "route", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "nemid_http_request_duration_seconds",
		Help: "HTTP request latency by route.", Buckets: prometheus.DefBuckets}, []string{"method", "route"})
	s.registry.MustRegister(s.requests, s.latency)

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: s.logPanic}))
	e.Use(s.observe)
	e.Use(middleware.BodyLimit("1M"))

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})))
	e.GET("/openapi.json", serveOpenAPI)

	s.citizenRoutes(e)
	s.credentialRoutes(e)
	s.consoleRoutes(e)
	s.codecRoutes(e)

	staff := e.Group("/v1", s.authenticate, s.idempotent)
	staff.POST("/issuances", s.createIssuance)
	staff.GET("/issuances", s.listIssuances)
	staff.GET("/issuances/counts", s.countIssuances)
	staff.POST("/issuances/search", s.searchIssuances)
	staff.GET("/issuances/:id", s.getIssuance)
	staff.GET("/issuances/:id/live", s.liveState)
	staff.POST("/issuances/:id/cancel", s.cancelIssuance)
	staff.POST("/issuances/:id/handover", s.handover)
	staff.POST("/issuances/:id/public-signature", s.upgradePublicSignature)
	staff.POST("/issuances/:id/pickup", s.pickup)
	staff.GET("/letters", s.listLetters)
	staff.GET("/letters/:id/pdf", s.letterPDF)
	staff.POST("/letters/:id/dispatched", s.letterDispatched)
	s.tokenRoutes(staff)
	s.feeRoutes(staff)
	s.auditRoutes(staff)
	s.oidcClientRoutes(staff)
	s.appointmentRoutes(e, staff)
	return e
}

// observe logs each request (route pattern only: paths may carry ids) and
// counts it for /metrics.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			s.errorHandler(err, c)
		}
		route, method := c.Path(), c.Request().Method
		status := c.Response().Status
		s.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
		s.latency.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		s.log.InfoContext(c.Request().Context(), "http", "method", method, "route", route, "status", status,
			"duration_ms", time.Since(start).Milliseconds())
		return nil
	}
}

func (s *Server) logPanic(c echo.Context, err error, stack []byte) error {
	s.log.Error("panic in handler", "route", c.Path(), "error", err.Error(), "stack", string(stack))
	return newError(http.StatusInternalServerError, "internal", "internal error")
}
