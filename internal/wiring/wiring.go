// Package wiring builds the application's parts from its configuration in
// one place, so that the binary (`nemid dev`, `worker`, `api`) and the
// tests wire them the same way: the keys, the Temporal client with the
// payload codec, the activities and the API's dependencies.
package wiring

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/opennemid/nemid/activities"
	"github.com/opennemid/nemid/api"
	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/codec"
	"github.com/opennemid/nemid/internal/config"
	"github.com/opennemid/nemid/internal/letterkeys"
	"github.com/opennemid/nemid/internal/telemetry"
	"github.com/opennemid/nemid/store"
)

// Keys are the secrets every process reads from its configuration.
type Keys struct {
	Hash    domain.HashKeys // NEMID_HASH_KEY
	Payload *codec.AESGCM   // NEMID_CODEC_KEY
	Letters *letterkeys.Dir // NEMID_LETTER_KEY_DIR
}

// LoadKeys parses the keys of cfg and opens the letter-key directory.
func LoadKeys(cfg config.Config) (Keys, error) {
	hash, err := cfg.HashKeys()
	if err != nil {
		return Keys{}, err
	}
	payload, err := codec.Parse(cfg.CodecKeys)
	if err != nil {
		return Keys{}, err
	}
	letters, err := letterkeys.OpenDir(cfg.LetterKeyDir)
	if err != nil {
		return Keys{}, err
	}
	return Keys{Hash: hash, Payload: payload, Letters: letters}, nil
}

// DialTemporal connects to a namespace with the payload codec, logging to
// log and reporting the SDK's metrics into reg (nil: none).
func DialTemporal(ctx context.Context, hostPort, namespace string, keys Keys, log *slog.Logger, reg *prometheus.Registry) (client.Client, error) {
	opts := client.Options{HostPort: hostPort, Namespace: namespace, Logger: tlog.NewStructuredLogger(log),
		DataConverter: keys.Payload.DataConverter()}
	if reg != nil {
		metrics, err := telemetry.NewSDKMetrics(reg)
		if err != nil {
			return nil, err
		}
		opts.MetricsHandler = metrics
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", hostPort, err)
	}
	return c, nil
}

// Activities are the worker's activities on st.
func Activities(st *store.Store, keys Keys, log *slog.Logger) *activities.Activities {
	return &activities.Activities{Store: st, Logger: log, HashKeys: keys.Hash, LetterKeys: keys.Letters}
}

// APIDeps are the HTTP API's dependencies; it starts workflows on queue.
func APIDeps(st *store.Store, tc client.Client, cfg config.Config, keys Keys, log *slog.Logger, reg *prometheus.Registry, queue string) api.Deps {
	return api.Deps{Store: st, Temporal: tc, Config: cfg, HashKeys: keys.Hash, Logger: log, Registry: reg,
		LetterKeys: keys.Letters, TaskQueue: queue, Codec: keys.Payload}
}
