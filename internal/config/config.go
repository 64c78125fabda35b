// Package config reads the service's configuration from the environment,
// using the names of DESIGN.md §5, and generates the development keys that
// a laptop run keeps in NEMID_DATA_DIR.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/opennemid/nemid/domain"
)

// Config is everything the processes need; every field has an environment name.
type Config struct {
	DatabaseURL       string // DATABASE_URL; empty selects SQLite in DataDir
	DataDir           string // NEMID_DATA_DIR
	TemporalAddress   string // TEMPORAL_ADDRESS
	TemporalNamespace string // TEMPORAL_NAMESPACE
	TaskQueue         string // NEMID_TASK_QUEUE: where workers poll and the API starts workflows
	TemporalCLI       string // TEMPORAL_CLI
	HTTPAddr          string // NEMID_HTTP_ADDR
	Issuer            string // NEMID_ISSUER: the OpenID Connect issuer URL; default "http://" + HTTPAddr
	DemoRPAddr        string // NEMID_DEMO_RP_ADDR: where `nemid dev` serves its demo service provider
	CodecKeys         string // NEMID_CODEC_KEY: "id:base64,…"
	HashKey           string // NEMID_HASH_KEY: "id:base64,…" keys for lookups, MACs and the password pepper
	LetterKeyDir      string // NEMID_LETTER_KEY_DIR: the per-letter keys of letter PDFs, outside the database; worker and API share it
	UIOrigin          string // NEMID_UI_ORIGIN: the Temporal Web UI origins allowed to call POST /codec/decode, comma-separated
	// DevUICodecSecret is set by `nemid dev` alone, never from the
	// environment: the secret path segment of the codec endpoint it gives
	// its own dev server's Web UI, which has no sign-in to send a token
	// with (POST /codec/dev/{secret}/decode). Empty: no such route.
	DevUICodecSecret string

	ActivationWindow time.Duration // NEMID_ACTIVATION_WINDOW
	PickupWindow     time.Duration // NEMID_PICKUP_WINDOW
	ShortStay        time.Duration // NEMID_SHORT_STAY
	DeliveryWindow   time.Duration // NEMID_DELIVERY_WINDOW
	ReminderBefore   time.Duration // NEMID_REMINDER_BEFORE
	ChallengeTTL     time.Duration // NEMID_CHALLENGE_TTL
	SessionTTL       time.Duration // NEMID_SESSION_TTL
	AbroadFeeDKK     int           // NEMID_ABROAD_FEE_DKK
	RateLimit        float64       // NEMID_RATE_LIMIT, requests per second per client address

	// RegisterSweep is how often the worker applies register changes
	// (NEMID_REGISTER_SWEEP): a death or address protection acts on
	// NemIDs within this of the import.
	RegisterSweep time.Duration
}

// FromEnv reads the environment; a malformed value is an error naming the variable.
func FromEnv() (Config, error) {
	var errs []error
	dur := func(name, def string) time.Duration {
		d, err := time.ParseDuration(env(name, def))
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s: want a non-negative Go duration like 720h, got %q", name, os.Getenv(name)))
		}
		return d
	}
	c := Config{
		DatabaseURL:       os.Getenv("DATABASE_URL"),
		DataDir:           env("NEMID_DATA_DIR", ".nemid"),
		TemporalAddress:   env("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		TemporalNamespace: env("TEMPORAL_NAMESPACE", "default"),
		TaskQueue:         env("NEMID_TASK_QUEUE", "nemid-issuance"), // workflows.TaskQueue,
		TemporalCLI:       os.Getenv("TEMPORAL_CLI"),
		HTTPAddr:          env("NEMID_HTTP_ADDR", "127.0.0.1:8080"),
		Issuer:            os.Getenv("NEMID_ISSUER"),
		DemoRPAddr:        env("NEMID_DEMO_RP_ADDR", "127.0.0.1:8088"),
		CodecKeys:         os.Getenv("NEMID_CODEC_KEY"),
		HashKey:           os.Getenv("NEMID_HASH_KEY"),
		LetterKeyDir:      env("NEMID_LETTER_KEY_DIR", ""),
		UIOrigin:          env("NEMID_UI_ORIGIN", DevUIOrigin),
		ActivationWindow:  dur("NEMID_ACTIVATION_WINDOW", "720h"),
		PickupWindow:      dur("NEMID_PICKUP_WINDOW", "2160h"),
		ShortStay:         dur("NEMID_SHORT_STAY", "4320h"),
		DeliveryWindow:    dur("NEMID_DELIVERY_WINDOW", "336h"),
		ReminderBefore:    dur("NEMID_REMINDER_BEFORE", "72h"),
		ChallengeTTL:      dur("NEMID_CHALLENGE_TTL", "5m"),
		SessionTTL:        dur("NEMID_SESSION_TTL", "15m"),
		RegisterSweep:     dur("NEMID_REGISTER_SWEEP", "30s"),
	}
	if c.Issuer == "" {
		c.Issuer = "http://" + c.HTTPAddr
	}
	if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		errs = append(errs, fmt.Errorf("NEMID_ISSUER: want an http(s) URL without query or fragment, got %q", c.Issuer))
	}
	if c.LetterKeyDir == "" {
		c.LetterKeyDir = filepath.Join(c.DataDir, "letter-keys")
	}
	fee, err := strconv.Atoi(env("NEMID_ABROAD_FEE_DKK", "200"))
	if err != nil || fee < 0 {
		errs = append(errs, fmt.Errorf("NEMID_ABROAD_FEE_DKK: want a non-negative whole number of kroner, got %q", os.Getenv("NEMID_ABROAD_FEE_DKK")))
	}
	c.AbroadFeeDKK = fee
	rate, err := strconv.ParseFloat(env("NEMID_RATE_LIMIT", "20"), 64)
	if err != nil || rate <= 0 {
		errs = append(errs, fmt.Errorf("NEMID_RATE_LIMIT: want a positive number of requests per second, got %q", os.Getenv("NEMID_RATE_LIMIT")))
	}
	c.RateLimit = rate
	return c, errors.Join(errs...)
}

// DevUIOrigin is where `nemid dev` serves the Temporal Web UI.
const DevUIOrigin = "http://127.0.0.1:8233,http://localhost:8233"

// UIOrigins are the origins of NEMID_UI_ORIGIN (the dev UI's when unset).
func (c Config) UIOrigins() []string {
	spec := c.UIOrigin
	if strings.TrimSpace(spec) == "" {
		spec = DevUIOrigin
	}
	var out []string
	for _, o := range strings.Split(spec, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			out = append(out, o)
		}
	}
	return out
}

func env(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

// RequireKeys fails when a production process starts without its keys:
// generated keys would make earlier payloads and lookups unreadable.
func (c Config) RequireKeys() error {
	var errs []error
	if c.CodecKeys == "" {
		errs = append(errs, errors.New("NEMID_CODEC_KEY is required (id:base64 of 32 bytes); `nemid dev` generates one"))
	}
	if c.HashKey == "" {
		errs = append(errs, errors.New("NEMID_HASH_KEY is required (id:base64 of at least 32 bytes, comma-separated); `nemid dev` generates one"))
	}
	return errors.Join(errs...)
}

// EnsureDevKeys fills missing keys from files in DataDir, creating them on
// first use, so a laptop keeps reading its own history across restarts.
func (c *Config) EnsureDevKeys() error {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	if c.CodecKeys == "" {
		k, err := keyFile(filepath.Join(c.DataDir, "codec.key"), func(raw []byte) string {
			return "dev1:" + base64.StdEncoding.EncodeToString(raw)
		})
		if err != nil {
			return err
		}
		c.CodecKeys = k
	}
	return c.EnsureDevHashKey()
}

// EnsureDevHashKey fills a missing HashKey from DataDir's hash.key,
// generating it when there is none, as `nemid dev` does: the operator
// commands that append to the audit log work on a fresh dev directory too,
// and whichever command comes first makes the one key the others use.
func (c *Config) EnsureDevHashKey() error {
	if c.HashKey != "" {
		return nil
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	k, err := keyFile(filepath.Join(c.DataDir, "hash.key"), base64.StdEncoding.EncodeToString)
	if err != nil {
		return err
	}
	c.HashKey = k
	return nil
}

// UseDevHashKey fills a missing HashKey from the key `nemid dev` generated
// into DataDir (hash.key), when there is one: the operator commands run
// against a dev database with its key. It creates nothing, so a command
// never links or verifies the audit chain under a key of its own making.
func (c *Config) UseDevHashKey() error {
	if c.HashKey != "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(c.DataDir, "hash.key"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the dev hash key: %w", err)
	}
	c.HashKey = strings.TrimSpace(string(b))
	return nil
}

func keyFile(path string, encode func([]byte) string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	k := encode(raw)
	if err := os.WriteFile(path, []byte(k+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return k, nil
}

// HashKeys decodes NEMID_HASH_KEY ("id:base64,…"; a bare base64 key is id "0").
func (c Config) HashKeys() (domain.HashKeys, error) {
	return domain.ParseHashKeys(c.HashKey)
}
