package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/opennemid/nemid/internal/config"
	"github.com/opennemid/nemid/internal/devserver"
	"github.com/opennemid/nemid/internal/telemetry"
	"github.com/opennemid/nemid/register"
	"github.com/opennemid/nemid/store"
)

// devTokens are the principals a laptop run signs in as, each named as
// the timeline and the console show it.
var devTokens = []struct{ Role, Scope, Name string }{
	{"caseworker", "KBH", "Dev caseworker KBH"},
	{"embassy", "LONDON", "Dev embassy LONDON"},
	{"bank", "1234", "Dev bank 1234"},
	{"post", "post", "Dev post provider"},
	{"admin", "all", "Dev admin"},
}

// runDev brings up everything in one process: the Temporal dev server (or
// the one already answering at TEMPORAL_ADDRESS), migrations, the demo
// register, the worker and the API. Ctrl-C stops it all, the child included.
func runDev(ctx context.Context) error {
	log := telemetry.NewLogger(os.Stderr)
	cfg, err := loadConfig(true)
	if err != nil {
		return err
	}
	uiURL := "(the Temporal UI of the server at " + cfg.TemporalAddress + ")"
	if !answers(cfg.TemporalAddress) {
		cli, err := devserver.EnsureCLI(ctx, filepath.Join(cfg.DataDir, "bin"), os.Stderr)
		if err != nil {
			return err
		}
		uiPort := devUIPort(cfg.TemporalAddress)
		if err := devUICodec(&cfg, uiPort); err != nil {
			return err
		}
		server, err := devserver.Start(ctx, devserver.Options{
			CLIPath: cli, HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
			DBFile: filepath.Join(cfg.DataDir, "temporal.db"), EnableUI: true, UIPort: uiPort,
			UICodecEndpoint: "http://" + cfg.HTTPAddr + "/codec/dev/" + cfg.DevUICodecSecret,
		})
		if err != nil {
			return fmt.Errorf("start the Temporal dev server: %w", err)
		}
		defer func() {
			if err := server.Stop(); err != nil {
				log.Error("stop the Temporal dev server", "error", err.Error())
			}
		}()
		uiURL = "http://127.0.0.1:" + uiPort
	}
	rt, err := openRuntime(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer rt.close()
	if err := rt.store.Migrate(ctx); err != nil {
		return err
	}
	if _, err := rt.store.SealPlaintextLetters(ctx, rt.keys.Letters); err != nil {
		return fmt.Errorf("seal letters stored by an earlier version: %w", err)
	}
	if err := loadDemoRegister(ctx, rt.store); err != nil {
		return err
	}
	tokens, err := ensureDevTokens(ctx, rt.store, cfg.DataDir)
	if err != nil {
		return err
	}
	demoBase := "http://" + cfg.DemoRPAddr
	demoClientID, err := ensureDemoClient(ctx, rt.store, cfg.DataDir, demoBase)
	if err != nil {
		return err
	}
	printWelcome(cfg.HTTPAddr, uiURL, tokens, demoBase)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return rt.runWorker(gctx) })
	g.Go(func() error { return rt.runAPI(gctx) })
	g.Go(func() error { return serveDemoRP(gctx, cfg.DemoRPAddr, cfg.Issuer, demoClientID, log) })
	err = g.Wait()
	fmt.Fprintln(os.Stderr, "nemid dev: stopped")
	return err
}

// devUIPort is where the dev server's Web UI listens: 8233 beside the
// default frontend (7233), otherwise the CLI's own rule, the frontend's
// port + 1000, so that a second dev server on another port (scripts/load.sh)
// does not fight the first for the UI's port.
func devUIPort(temporalAddress string) string {
	_, port, err := net.SplitHostPort(temporalAddress)
	n, convErr := strconv.Atoi(port)
	if err != nil || convErr != nil || n == 7233 || n+1000 > 65535 {
		return "8233"
	}
	return strconv.Itoa(n + 1000)
}

// devUICodec lets the dev server's Web UI read payloads decrypted: that UI
// has no sign-in, so it cannot send the admin token POST /codec/decode
// wants; it gets a capability URL of its own instead, with a secret made
// afresh at each start, and its origin (its own port) is allowed unless
// NEMID_UI_ORIGIN says otherwise.
func devUICodec(cfg *config.Config, uiPort string) error {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return fmt.Errorf("make the dev UI's codec secret: %w", err)
	}
	cfg.DevUICodecSecret = base64.RawURLEncoding.EncodeToString(raw)
	if os.Getenv("NEMID_UI_ORIGIN") == "" {
		cfg.UIOrigin = "http://127.0.0.1:" + uiPort + ",http://localhost:" + uiPort
	}
	return nil
}

// answers reports whether something listens at hostPort.
func answers(hostPort string) bool {
	conn, err := net.DialTimeout("tcp", hostPort, 500*time.Millisecond)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

func loadDemoRegister(ctx context.Context, st *store.Store) error {
	n, err := st.CountPersons(ctx)
	if err != nil || n > 0 {
		return err
	}
	people, err := register.Demo(time.Now())
	if err != nil {
		return fmt.Errorf("demo register: %w", err)
	}
	return st.UpsertPersons(ctx, people)
}

// ensureDevTokens reuses the tokens of earlier runs (kept in the data
// directory, which is a developer's own) and creates any that are missing.
func ensureDevTokens(ctx context.Context, st *store.Store, dataDir string) (map[string]string, error) {
	path := filepath.Join(dataDir, "dev-tokens.json")
	tokens := map[string]string{}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &tokens); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	for _, d := range devTokens {
		name := d.Role + ":" + d.Scope
		if t, ok := tokens[name]; ok {
			if _, err := st.TokenByValue(ctx, t); err == nil {
				continue
			}
		}
		_, t, err := st.IssueToken(ctx, store.NewToken{Role: d.Role, Scope: d.Scope, Name: d.Name}, nil)
		if err != nil {
			return nil, err
		}
		tokens[name] = t
	}
	b, _ := json.MarshalIndent(tokens, "", "  ")
	return tokens, os.WriteFile(path, b, 0o600)
}

func printWelcome(addr, uiURL string, tokens map[string]string, demoBase string) {
	base := "http://" + addr
	var b strings.Builder
	fmt.Fprintf(&b, "\nNemID dev is up.\n  API:          %s  (spec: %s/openapi.json)\n  Console:      %s/console  (sign in with a token below)\n  Booking page: %s/book  (appointments at KBH, AAR, ODE, AAL)\n  Temporal UI:  %s\n  Demo service: %s  (log on with NemID, OpenID Connect)\n\nDev tokens:\n",
		base, base, base, base, uiURL, demoBase)
	for _, d := range devTokens {
		fmt.Fprintf(&b, "  %-18s %-20s %s\n", d.Role+":"+d.Scope, d.Name, tokens[d.Role+":"+d.Scope])
	}
	fmt.Fprintf(&b, `
Try a first counter issuance (Søren from the demo register):
  curl -s -X POST %s/v1/issuances \
    -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \
    -d '{"path":"counter","cpr":"010190-1234","centre":"KBH","documents":[{"type":"passport","number":"X123","expires":"2031-05-01"}],"check_questions_passed":true}'

Once that NemID is activated, log on with it at the demo service provider:
  %s
Press "Log on with NemID", give the user ID and password, then the code beside
the key shown (from the printed code card); the demo shows the verified ID
token's claims. Register your own service provider in the console (Service
providers) or with: nemid oidc client create --name N --redirect-uri U

Press Ctrl-C to stop everything.
`, base, tokens["caseworker:KBH"], demoBase)
	fmt.Print(b.String())
}
