package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/opennemid/nemid/api"
	"github.com/opennemid/nemid/internal/demorp"
	"github.com/opennemid/nemid/store"
)

// demoClient is the demo service provider's registration, kept in the
// data directory so a restart reuses it.
type demoClient struct {
	ClientID    string `json:"client_id"`
	RedirectURI string `json:"redirect_uri"`
}

// ensureDemoClient registers the demo service provider as a public client
// (PKCE, no secret) with redirect URI baseURL + /callback, or reuses the
// one an earlier run registered for the same redirect URI.
func ensureDemoClient(ctx context.Context, st *store.Store, dataDir, baseURL string) (string, error) {
	path := filepath.Join(dataDir, "dev-oidc-client.json")
	redirect := baseURL + demorp.CallbackPath
	var kept demoClient
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &kept); err != nil {
			return "", fmt.Errorf("read %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if kept.ClientID != "" && kept.RedirectURI == redirect {
		c, err := st.OIDCClientByID(ctx, kept.ClientID)
		if err == nil && slices.Contains(c.RedirectURIs(), redirect) {
			return c.ID, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
	}
	spec := api.OIDCClientSpec{Name: demorp.Name, RedirectURIs: []string{redirect}}
	if broken := api.CheckOIDCClientSpec(spec); len(broken) > 0 {
		return "", fmt.Errorf("NEMID_DEMO_RP_ADDR: %s", broken[0].Message)
	}
	c, err := api.RegisterOIDCClient(ctx, st, spec, operator(store.AuditOIDCClientCreated), time.Now().UTC())
	if err != nil {
		return "", err
	}
	b, _ := json.MarshalIndent(demoClient{ClientID: c.ClientID, RedirectURI: redirect}, "", "  ")
	return c.ClientID, os.WriteFile(path, b, 0o600)
}

// serveDemoRP serves the demo service provider until ctx ends.
func serveDemoRP(ctx context.Context, addr, issuer, clientID string, log *slog.Logger) error {
	h, err := demorp.New(demorp.Config{Issuer: issuer, ClientID: clientID, BaseURL: "http://" + addr})
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if err := serveUntilDone(ctx, srv, 5*time.Second, log); err != nil {
		return fmt.Errorf("the demo service provider (NEMID_DEMO_RP_ADDR): %w", err)
	}
	return nil
}
