package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/workflows"
)

// TestDevCommandRunsTheWholeSystem runs the README's first command,
// `nemid dev`, as a process of its own on a fresh data directory: it
// starts its own Temporal dev server, prints the URLs and the dev tokens,
// and serves the API, the console, the booking page, the OpenID provider
// and the demo service provider. A caseworker applies at the counter with
// the printed token (the welcome's own first request) and prints the
// handover; Søren activates with what it printed and logs on at the demo
// service provider in headless Chromium; Ctrl-C stops everything, the Temporal child included; the audit
// chain of that session holds; and a second start on the same data
// directory keeps the tokens and the issuance.
func TestDevCommandRunsTheWholeSystem(t *testing.T) {
	if testenv.FindTemporalCLI() == "" {
		testenv.Unavailable(t, "the Temporal CLI is needed to run nemid dev")
	}
	dataDir := t.TempDir()
	httpAddr, temporalAddr, demoAddr := testenv.FreeAddr(t), testenv.FreeAddr(t), testenv.FreeAddr(t)
	env := append(devEnviron(),
		"NEMID_DATA_DIR="+dataDir, "DATABASE_URL=", "NEMID_HTTP_ADDR="+httpAddr,
		"TEMPORAL_ADDRESS="+temporalAddr, "NEMID_DEMO_RP_ADDR="+demoAddr, "NEMID_LOG_LEVEL=warn")

	dev := startDev(t, env, httpAddr)
	out := dev.Logs()
	for _, want := range []string{"NemID dev is up.", "http://" + httpAddr + "/console", "http://" + httpAddr + "/book", "http://" + demoAddr, "Press Ctrl-C"} {
		assert.Contains(t, out, want, "the welcome names it")
	}
	tokens := printedTokens(t, out)
	base := dev.URL

	// The welcome's first request, as printed.
	body := `{"path":"counter","cpr":"010190-1234","centre":"KBH","documents":[{"type":"passport","number":"X123","expires":"2031-05-01"}],"check_questions_passed":true}`
	res := testenv.Do(t, base, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: tokens["caseworker:KBH"], Body: body})
	require.Equal(t, http.StatusCreated, res.Status, string(res.Body))
	id := res.JSON["id"].(string)
	waitStatusAt(t, base, tokens["caseworker:KBH"], id, "awaiting_handover")
	doc := testenv.Do(t, base, testenv.Request{Method: "POST", Path: "/v1/issuances/" + id + "/handover", Token: tokens["caseworker:KBH"]})
	require.Equal(t, http.StatusOK, doc.Status, string(doc.Body))
	assert.Equal(t, "application/pdf", doc.Header.Get("Content-Type"))
	p := fromHandover(t, id, doc.Body)

	// Søren activates with what the handover printed, then logs on at the
	// demo service provider, which knows only the provider's issuer URL.
	start := testenv.Do(t, base, testenv.Request{Method: "POST", Path: "/v1/activations",
		Body: map[string]string{"user_id": p.userID, "temporary_password": p.temporaryPassword}})
	require.Equal(t, http.StatusCreated, start.Status, string(start.Body))
	done := testenv.Do(t, base, testenv.Request{Method: "POST", Path: "/v1/activations/" + start.JSON["activation_id"].(string),
		Body: map[string]string{"code": p.code(start.JSON["card_number"].(string), start.JSON["key"].(string)), "new_password": newPassword}})
	require.Equal(t, http.StatusOK, done.Status, string(done.Body))
	ctx, log := browser(t)
	do(t, ctx, chromedp.Navigate("http://"+demoAddr+"/"))
	claim := logOnAtDemo(t, ctx, p, nil)
	assert.Equal(t, "http://"+httpAddr, claim("iss"))
	assert.Equal(t, "pwd otp", claim("amr"))
	assert.Contains(t, text(t, ctx, byTestID("demo-verified")), "verified")
	log.assertClean(t)

	checkDevUICodec(t, dev.Logs(), temporalAddr, base, id)

	// Every face of the system answers.
	for _, page := range []struct{ url, want string }{
		{base + "/console", "<html"},
		{base + "/book", "<html"},
		{base + "/.well-known/openid-configuration", `"issuer":"http://` + httpAddr + `"`},
		{"http://" + demoAddr + "/", "Log on with NemID"},
	} {
		assert.Contains(t, get(t, page.url), page.want, page.url)
	}
	audit := testenv.Do(t, base, testenv.Request{Method: "GET", Path: "/v1/audit?action=handover_pdf_fetched", Token: tokens["admin:all"]})
	require.Equal(t, http.StatusOK, audit.Status, string(audit.Body))
	assert.Len(t, audit.JSON["items"], 1, "the handover is in the audit log")

	// Ctrl-C stops it all, the Temporal dev server it started included.
	require.NoError(t, dev.Interrupt(t, 60*time.Second), "nemid dev exits 0 on Ctrl-C\n%s", dev.Logs())
	assert.Contains(t, dev.Logs(), "nemid dev: stopped")
	assert.False(t, listening(temporalAddr), "the Temporal dev server stopped with nemid dev")
	assert.False(t, listening(httpAddr), "the API stopped")

	verify := testenv.StartProcess(t, env, "", "audit", "verify")
	require.NoError(t, verify.Wait(t, 60*time.Second), verify.Logs())
	assert.Contains(t, verify.Logs(), "the chain holds")

	// A second start on the same data directory keeps what the first made.
	again := startDev(t, env, httpAddr)
	assert.Equal(t, tokens, printedTokens(t, again.Logs()), "the dev tokens are kept")
	kept := testenv.Do(t, base, testenv.Request{Method: "GET", Path: "/v1/issuances/" + id, Token: tokens["caseworker:KBH"]})
	require.Equal(t, http.StatusOK, kept.Status, string(kept.Body))
	assert.Equal(t, "active", kept.JSON["status"])
	anne := testenv.Do(t, base, testenv.Request{Method: "POST", Path: "/v1/issuances", Token: tokens["caseworker:KBH"],
		Body: strings.Replace(body, "010190-1234", "150285-4321", 1)})
	require.Equal(t, http.StatusCreated, anne.Status, "the restarted worker accepts: %s", anne.Body)
	waitStatusAt(t, base, tokens["caseworker:KBH"], anne.JSON["id"].(string), "awaiting_handover")
	require.NoError(t, again.Interrupt(t, 60*time.Second), again.Logs())
}

// devEnviron is the test's environment without anything that would point
// nemid dev at the test binary's own database or Temporal server.
func devEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "DATABASE_URL", "NEMID_DATA_DIR", "NEMID_HTTP_ADDR", "TEMPORAL_ADDRESS", "NEMID_DEMO_RP_ADDR", "NEMID_ISSUER":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// startDev starts `nemid dev`; Ctrl-C (not a kill, which would orphan the
// Temporal dev server it starts) ends it if the test stops early.
func startDev(t *testing.T, env []string, httpAddr string) *testenv.Process {
	t.Helper()
	dev := testenv.StartProcess(t, env, httpAddr, "dev")
	t.Cleanup(func() {
		if dev.Running() {
			_ = dev.Interrupt(t, 60*time.Second)
		}
	})
	eventually(t, "the welcome", func() bool { return strings.Contains(dev.Logs(), "Press Ctrl-C") })
	return dev
}

var printedToken = regexp.MustCompile(`(?m)^  ([a-z]+:[A-Za-z0-9]+)\s+.*\s(\S+)$`)

// printedTokens reads the dev tokens from the welcome, by role:scope.
func printedTokens(t *testing.T, out string) map[string]string {
	t.Helper()
	tokens := map[string]string{}
	for _, m := range printedToken.FindAllStringSubmatch(out, -1) {
		tokens[m[1]] = m[2]
	}
	for _, want := range []string{"caseworker:KBH", "embassy:LONDON", "bank:1234", "post:post", "admin:all"} {
		require.NotEmpty(t, tokens[want], "nemid dev prints a %s token\n%s", want, out)
	}
	return tokens
}

func waitStatusAt(t *testing.T, base, token, id, status string) {
	t.Helper()
	var last string
	eventually(t, id+" "+status, func() bool {
		res := testenv.Do(t, base, testenv.Request{Method: "GET", Path: "/v1/issuances/" + id, Token: token})
		last, _ = res.JSON["status"].(string)
		return last == status
	})
}

func get(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s: %s", url, b)
	return string(b)
}

func listening(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err == nil {
		_ = conn.Close()
	}
	return err == nil
}

var printedUI = regexp.MustCompile(`Temporal UI:\s+(http://\S+)`)

// checkDevUICodec: the dev server's Web UI, which has no sign-in, reads
// history decrypted through the codec endpoint nemid dev gave it (read
// from the UI's own settings, as the UI's page does): the issuance's
// start input, encrypted in history, comes back with the CPR in it. The
// UI's origin may call it; a wrong secret is 404, and the admin endpoint
// still wants a token.
func checkDevUICodec(t *testing.T, welcome, temporalAddr, base, issuanceID string) {
	t.Helper()
	m := printedUI.FindStringSubmatch(welcome)
	require.NotNil(t, m, "the welcome names the Temporal UI")
	uiURL := m[1]
	var settings struct{ Codec struct{ Endpoint string } }
	require.NoError(t, json.Unmarshal([]byte(get(t, uiURL+"/api/v1/settings")), &settings))
	endpoint := settings.Codec.Endpoint
	require.True(t, strings.HasPrefix(endpoint, base+"/codec/dev/"), "the UI's codec endpoint: %q", endpoint)
	assert.NotContains(t, welcome, strings.TrimPrefix(endpoint, base+"/codec/dev/"), "the secret is not logged")

	c, err := client.Dial(client.Options{HostPort: temporalAddr, Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	defer c.Close()
	history := c.GetWorkflowHistory(context.Background(), workflows.IssuanceWorkflowID(issuanceID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	first, err := history.Next()
	require.NoError(t, err)
	sealed := first.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
	require.NotEmpty(t, sealed)
	require.NotContains(t, string(sealed[0].Data), "0101901234", "history keeps the CPR encrypted")

	decoded, err := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{Endpoint: endpoint}).Decode(sealed)
	require.NoError(t, err, "the UI's endpoint decodes without a token")
	assert.Contains(t, string(decoded[0].Data), "0101901234")

	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: sealed})
	require.NoError(t, err)
	post := func(url string) *http.Response {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", uiURL)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		return res
	}
	ok := post(endpoint + "/decode")
	assert.Equal(t, http.StatusOK, ok.StatusCode)
	assert.Equal(t, uiURL, ok.Header.Get("Access-Control-Allow-Origin"), "the UI's origin may call it")
	assert.Equal(t, "no-store", ok.Header.Get("Cache-Control"))
	assert.Equal(t, http.StatusNotFound, post(base+"/codec/dev/not-the-secret/decode").StatusCode)
	assert.Equal(t, http.StatusUnauthorized, post(base+"/codec/decode").StatusCode, "the admin endpoint still wants a token")
}
