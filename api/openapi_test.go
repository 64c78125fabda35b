package api_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/api"
	"github.com/opennemid/nemid/internal/contract"
	"github.com/opennemid/nemid/store"
)

var echoParam = regexp.MustCompile(`:([a-z_]+)`)

// TestEveryRouteIsInTheOpenAPIDocument keeps the hand-kept spec honest: a
// route served without being described fails here.
func TestEveryRouteIsInTheOpenAPIDocument(t *testing.T) {
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "spec.db"))
	require.NoError(t, err)
	e := api.New(api.Deps{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry()})

	res := httptest.NewRecorder()
	e.ServeHTTP(res, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	require.Equal(t, http.StatusOK, res.Code)
	var spec struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(res.Body.Bytes(), &spec), "the spec is valid JSON")
	require.Equal(t, "3.0.3", spec.OpenAPI)

	for _, r := range e.Routes() {
		if strings.HasPrefix(r.Name, "github.com/labstack") || r.Method == "echo_route_not_found" {
			continue
		}
		if contract.ProtocolPath(r.Path) {
			continue // the OpenID Connect provider's: specified by OpenID Connect, not this document
		}
		path := echoParam.ReplaceAllString(r.Path, "{$1}")
		ops, ok := spec.Paths[path]
		require.True(t, ok, "route %s %s is not in openapi.json", r.Method, path)
		_, ok = ops[strings.ToLower(r.Method)]
		require.True(t, ok, "method %s of %s is not in openapi.json", r.Method, path)
	}
}

// TestAuditActionsAreTheDocumentsAndTheConsoles: the actions the log
// records, the document's enum and the console's filter are one list.
func TestAuditActionsAreTheDocumentsAndTheConsoles(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	require.NoError(t, err)
	var spec struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(raw, &spec))
	documented := spec.Components.Schemas["AuditEntry"].Properties["action"].Enum
	require.ElementsMatch(t, store.AuditActions(), documented, "openapi.json's AuditEntry.action enum")

	js, err := os.ReadFile("console/assets/console.js")
	require.NoError(t, err)
	list := regexp.MustCompile(`(?s)const AUDIT_ACTIONS = \[(.*?)\];`).FindSubmatch(js)
	require.NotNil(t, list, "console.js declares AUDIT_ACTIONS")
	var console []string
	for _, m := range regexp.MustCompile(`'([a-z_]+)'`).FindAllSubmatch(list[1], -1) {
		console = append(console, string(m[1]))
	}
	require.ElementsMatch(t, store.AuditActions(), console, "console.js's AUDIT_ACTIONS")
}
