package demorp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/demorp"
)

// TestDemoRefusals: the demo's pages without a provider behind them. The
// whole flow is e2e/demo_rp_test.go's.
func TestDemoRefusals(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // a provider that does not answer
	h, err := demorp.New(demorp.Config{Issuer: down.URL, ClientID: "nemid-demo", BaseURL: "http://127.0.0.1:8088"})
	require.NoError(t, err)
	cases := []struct {
		name, method, target string
		status               int
		says                 string
	}{
		{"the home page", "GET", "/", http.StatusOK, "Log on with NemID"},
		{"a callback without a logon in progress", "GET", "/callback?code=x&state=y", http.StatusBadRequest, "No logon in progress"},
		{"a logon while the provider is down", "POST", "/login", http.StatusBadGateway, "does not answer"},
		{"the button by GET", "GET", "/login", http.StatusMethodNotAllowed, ""},
		{"anything else", "GET", "/other", http.StatusNotFound, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(c.method, c.target, nil))
			assert.Equal(t, c.status, rec.Code)
			body, _ := io.ReadAll(rec.Body)
			assert.Contains(t, string(body), c.says)
			if rec.Code == http.StatusOK || rec.Code >= 500 || rec.Code == http.StatusBadRequest {
				csp := rec.Header().Get("Content-Security-Policy")
				assert.True(t, strings.HasPrefix(csp, "default-src 'none'"), csp)
				assert.NotContains(t, string(body), "<script")
			}
		})
	}
	_, err = demorp.New(demorp.Config{Issuer: down.URL, BaseURL: "http://127.0.0.1:8088"})
	assert.Error(t, err, "a client_id is required")
}
