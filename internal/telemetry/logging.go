// Package telemetry sets up structured JSON logs and Prometheus metrics, and
// bridges the Temporal SDK onto both.
package telemetry

import (
	"io"
	"log/slog"
	"os"
	"strings"
)

// NewLogger returns a JSON logger at the level named by NEMID_LOG_LEVEL
// (debug, info, warn, error; default info).
func NewLogger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	switch strings.ToLower(os.Getenv("NEMID_LOG_LEVEL")) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	return NewLoggerAt(w, level)
}

// NewLoggerAt returns a JSON logger at a fixed level.
func NewLoggerAt(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
