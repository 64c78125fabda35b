package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// The OpenID Connect provider (DESIGN.md §11), driven by zitadel/oidc's
// relying party: discovery, the login pages with the printed code card,
// the code exchange with PKCE, the verified ID token and userinfo.

// serviceProvider is a registered client and its relying party.
type serviceProvider struct {
	id, secret, redirect string
	name                 string
	rp                   rp.RelyingParty
	nonce                string
}

// registerClient registers a client through the admin API.
func registerClient(t *testing.T, app *testenv.App, name string, publicAuthority, confidential bool) serviceProvider {
	t.Helper()
	redirect := "http://127.0.0.1:9/" + strings.ToLower(strings.ReplaceAll(name, " ", "-")) + "/callback"
	res := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/oidc/clients", Token: app.Tokens["admin:all"],
		Body: map[string]any{"name": name, "redirect_uris": []string{redirect}, "public_authority": publicAuthority, "confidential": confidential}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	sp := serviceProvider{id: res.JSON["client_id"].(string), name: name, redirect: redirect, nonce: randomString(t)}
	if confidential {
		sp.secret = res.JSON["client_secret"].(string)
	} else {
		assert.NotContains(t, res.JSON, "client_secret")
	}
	return sp
}

// relyingParty is the client's view of the provider, scopes as given.
func (sp *serviceProvider) relyingParty(t *testing.T, app *testenv.App, scopes ...string) rp.RelyingParty {
	t.Helper()
	nonce := sp.nonce
	party, err := rp.NewRelyingPartyOIDC(context.Background(), app.URL, sp.id, sp.secret, sp.redirect, scopes,
		rp.WithVerifierOpts(rp.WithNonce(func(context.Context) string { return nonce })))
	require.NoError(t, err, "discovery at %s", app.URL)
	sp.rp = party
	return party
}

func randomString(t *testing.T) string {
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

// noRedirects is a browser that shows each redirect instead of following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

var (
	hiddenID  = regexp.MustCompile(`name="id" value="([^"]+)"`)
	cardShown = regexp.MustCompile(`Card number: <strong id="card_number">(\d+)</strong>`)
	keyShown  = regexp.MustCompile(`Key: <strong id="key">(\d{4})</strong>`)
)

type pageAnswer struct {
	status   int
	body     string
	location string
	header   http.Header
}

func browse(t *testing.T, method, target string, form url.Values) pageAnswer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := noRedirects.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return pageAnswer{status: res.StatusCode, body: string(raw), location: res.Header.Get("Location"), header: res.Header}
}

// flow is one authorization in progress.
type flow struct {
	state, verifier string
	requestID       string
}

// startFlow sends the browser to the authorization endpoint, which
// answers the password page itself (DESIGN.md §11), no redirect.
func startFlow(t *testing.T, app *testenv.App, sp serviceProvider) flow {
	t.Helper()
	f := flow{state: randomString(t), verifier: randomString(t)}
	sum := sha256.Sum256([]byte(f.verifier))
	auth := rp.AuthURL(f.state, sp.rp, rp.WithCodeChallenge(base64.RawURLEncoding.EncodeToString(sum[:])),
		rp.AuthURLOpt(rp.WithURLParam("nonce", sp.nonce)))
	page := browse(t, "GET", auth, nil)
	require.Equal(t, http.StatusOK, page.status, page.body)
	assert.Contains(t, page.header.Get("Content-Type"), "text/html")
	assert.Contains(t, page.body, sp.name, "the page names the service provider")
	assert.Regexp(t, `<form method="post" action="/oidc/login">`, page.body)
	assert.Contains(t, page.body, `name="user_id"`)
	assert.Contains(t, page.body, `name="password"`)
	assert.Equal(t, "no-store", page.header.Get("Cache-Control"))
	assert.Contains(t, page.body, "Log on with NemID")
	assert.Contains(t, page.header.Get("Content-Security-Policy"), "default-src 'none'")
	assert.NotContains(t, page.body, "<script")
	f.requestID = hiddenID.FindStringSubmatch(page.body)[1]
	return f
}

// password posts the password form.
func (f flow) password(t *testing.T, app *testenv.App, userID, password string) pageAnswer {
	t.Helper()
	return browse(t, "POST", app.URL+"/oidc/login", url.Values{"id": {f.requestID}, "user_id": {userID}, "password": {password}})
}

// code posts the code form.
func (f flow) code(t *testing.T, app *testenv.App, code string) pageAnswer {
	t.Helper()
	return browse(t, "POST", app.URL+"/oidc/login/code", url.Values{"id": {f.requestID}, "code": {code}})
}

// logOnAt runs the whole logon at a service provider and answers the
// authorization code and the flow.
func logOnAt(t *testing.T, app *testenv.App, sp serviceProvider, p printed) (string, flow) {
	t.Helper()
	f := startFlow(t, app, sp)
	page := f.password(t, app, p.userID, newPassword)
	require.Equal(t, http.StatusOK, page.status, page.body)
	card, key := cardShown.FindStringSubmatch(page.body), keyShown.FindStringSubmatch(page.body)
	require.NotNil(t, card, page.body)
	require.NotNil(t, key, page.body)
	done := f.code(t, app, p.code(card[1], key[1]))
	require.Contains(t, []int{http.StatusFound, http.StatusSeeOther}, done.status, done.body)
	back, err := url.Parse(done.location)
	require.NoError(t, err)
	require.Equal(t, sp.redirect, back.Scheme+"://"+back.Host+back.Path)
	require.Equal(t, f.state, back.Query().Get("state"))
	require.NotEmpty(t, back.Query().Get("code"))
	return back.Query().Get("code"), f
}

// signedIn logs p on at sp and redeems the code: the tokens sp holds.
func signedIn(t *testing.T, app *testenv.App, sp serviceProvider, p printed) *oidc.Tokens[*oidc.IDTokenClaims] {
	t.Helper()
	code, f := logOnAt(t, app, sp, p)
	tokens, err := exchange(sp, code, f.verifier)
	require.NoError(t, err)
	return tokens
}

func exchange(sp serviceProvider, code, verifier string) (*oidc.Tokens[*oidc.IDTokenClaims], error) {
	return rp.CodeExchange[*oidc.IDTokenClaims](context.Background(), code, sp.rp, rp.WithCodeVerifier(verifier))
}

func userinfo(sp serviceProvider, tokens *oidc.Tokens[*oidc.IDTokenClaims]) (*oidc.UserInfo, error) {
	return rp.Userinfo[*oidc.UserInfo](context.Background(), tokens.AccessToken, tokens.TokenType, tokens.IDTokenClaims.Subject, sp.rp)
}

func userinfoStatus(t *testing.T, app *testenv.App, accessToken string) int {
	t.Helper()
	req, err := http.NewRequest("GET", app.URL+"/oidc/userinfo", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode
}

// TestLogOnAtServiceProvidersWithNemID: the whole flow at a public
// authority (confidential, scope cpr) and a private client (public, asks
// cpr and is not given it); pairwise subjects; single-use codes; the
// audit log; a block ends the access token and refuses the login page.
func TestLogOnAtServiceProvidersWithNemID(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := activeNemID(t, app, soeren)

		borger := registerClient(t, app, "Borger dk", true, true)
		borger.relyingParty(t, app, "openid", "cpr")
		bank := registerClient(t, app, "Netbank", false, false)
		bank.relyingParty(t, app, "openid", "profile", "cpr")

		code, f := logOnAt(t, app, borger, p)
		tokens, err := exchange(borger, code, f.verifier)
		require.NoError(t, err, "the code exchange and the ID token's verification")
		claims := tokens.IDTokenClaims
		assert.Equal(t, app.Config.Issuer, claims.Issuer)
		assert.Equal(t, []string{borger.id}, []string(claims.Audience))
		assert.Equal(t, borger.nonce, claims.Nonce)
		assert.Equal(t, []string{"pwd", "otp"}, []string(claims.AuthenticationMethodsReferences))
		assert.False(t, claims.AuthTime.AsTime().IsZero())
		assert.NotEmpty(t, tokens.AccessToken)
		sub := claims.Subject
		require.NotEmpty(t, sub)
		for _, secret := range []string{p.userID, strings.ReplaceAll(soeren, "-", ""), soeren} {
			assert.NotContains(t, sub, secret, "sub is neither the NemID number nor the CPR")
		}
		info, err := userinfo(borger, tokens)
		require.NoError(t, err)
		assert.Equal(t, sub, info.Subject)
		assert.NotEmpty(t, info.Name)
		assert.Equal(t, strings.ReplaceAll(soeren, "-", ""), info.Claims["cpr"], "a public authority that asked for cpr gets it")

		_, err = exchange(borger, code, f.verifier)
		assert.ErrorContains(t, err, "invalid_grant", "a code works once")

		again, f2 := logOnAt(t, app, borger, p)
		tokens2, err := exchange(borger, again, f2.verifier)
		require.NoError(t, err)
		assert.Equal(t, sub, tokens2.IDTokenClaims.Subject, "the same person at the same client: the same sub")

		atBank, f3 := logOnAt(t, app, bank, p)
		bankTokens, err := exchange(bank, atBank, f3.verifier)
		require.NoError(t, err)
		assert.NotEqual(t, sub, bankTokens.IDTokenClaims.Subject, "another client: another sub")
		bankInfo, err := userinfo(bank, bankTokens)
		require.NoError(t, err)
		assert.NotContains(t, bankInfo.Claims, "cpr", "a private client never gets the CPR")
		assert.Empty(t, bankInfo.Claims["cpr"])

		audit := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/audit?action=oidc_logon", Token: app.Tokens["admin:all"]})
		require.Equal(t, http.StatusOK, audit.Status, "%s", audit.Body)
		actors := map[string]int{}
		for _, it := range audit.JSON["items"].([]any) {
			e := it.(map[string]any)
			assert.Equal(t, "credential:"+p.userID, e["target"])
			actors[e["actor"].(string)]++
		}
		assert.Equal(t, map[string]int{"oidc_client:" + borger.id: 2, "oidc_client:" + bank.id: 1}, actors, "every logon, with its client")

		require.Equal(t, http.StatusOK, userinfoStatus(t, app, bankTokens.AccessToken))
		block := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/credentials/" + p.userID + "/block", Token: app.Tokens["caseworker:KBH"],
			Body: map[string]any{"reason": "stolen"}})
		require.Equal(t, http.StatusOK, block.Status, "%s", block.Body)
		assert.Equal(t, http.StatusUnauthorized, userinfoStatus(t, app, bankTokens.AccessToken), "a blocked NemID's access token stops working")
		assert.Equal(t, http.StatusUnauthorized, userinfoStatus(t, app, tokens2.AccessToken))

		blocked := startFlow(t, app, borger).password(t, app, p.userID, newPassword)
		assert.Equal(t, http.StatusLocked, blocked.status)
		assert.Contains(t, blocked.body, "blocked")
		assert.NotRegexp(t, keyShown, blocked.body, "a blocked NemID gets no key")
	})
}

// TestOIDCRefusals: what the provider refuses, each once.
func TestOIDCRefusals(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), generous)
	p := activeNemID(t, app, soeren)
	sp := registerClient(t, app, "Kommune", true, true)
	sp.relyingParty(t, app, "openid")
	other := registerClient(t, app, "Other", false, false)
	other.relyingParty(t, app, "openid")

	t.Run("a wrong verifier", func(t *testing.T) {
		code, _ := logOnAt(t, app, sp, p)
		_, err := exchange(sp, code, randomString(t))
		assert.ErrorContains(t, err, "invalid_grant")
	})
	t.Run("a code older than 60 seconds", func(t *testing.T) {
		code, f := logOnAt(t, app, sp, p)
		var expires time.Time
		hash := store.HashToken(code)
		require.NoError(t, app.Store.ScanForTests(context.Background(), &expires, "SELECT code_expires_at FROM oidc_auth_requests WHERE code_hash = ?", hash))
		assert.LessOrEqual(t, time.Until(expires), 60*time.Second, "a code lives at most 60 s")
		_, err := app.Store.ExecForTests(context.Background(), "UPDATE oidc_auth_requests SET code_expires_at = ? WHERE code_hash = ?",
			time.Now().Add(-time.Second).UTC(), hash)
		require.NoError(t, err)
		_, err = exchange(sp, code, f.verifier)
		assert.ErrorContains(t, err, "invalid_grant")
	})
	t.Run("another client's code", func(t *testing.T) {
		code, f := logOnAt(t, app, sp, p)
		_, err := exchange(other, code, f.verifier)
		assert.Error(t, err)
		assert.Regexp(t, "invalid_grant|invalid_client", err.Error())
	})
	t.Run("a confidential client without its secret", func(t *testing.T) {
		code, f := logOnAt(t, app, sp, p)
		res, err := http.PostForm(app.URL+"/oidc/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {sp.redirect}, "code_verifier": {f.verifier}, "client_id": {sp.id}})
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "%s", body)
		assert.Contains(t, string(body), "invalid_client")
	})
	t.Run("a foreign redirect URI", func(t *testing.T) {
		auth := rp.AuthURL("s", sp.rp, rp.WithCodeChallenge("x"))
		auth = strings.Replace(auth, url.QueryEscape(sp.redirect), url.QueryEscape("https://evil.example/callback"), 1)
		res := browse(t, "GET", auth, nil)
		assert.NotEqual(t, http.StatusFound, res.status, "never redirected to an unregistered URI: %s", res.location)
		assert.NotContains(t, res.location, "evil.example")
	})
	t.Run("a redirect URI that only starts like the registered one", func(t *testing.T) {
		auth := rp.AuthURL("s", sp.rp, rp.WithCodeChallenge("x"))
		auth = strings.Replace(auth, url.QueryEscape(sp.redirect), url.QueryEscape(sp.redirect+"/more"), 1)
		res := browse(t, "GET", auth, nil)
		assert.NotContains(t, res.location, "/oidc/login")
		assert.NotEqual(t, http.StatusOK, res.status, "no password page for an unregistered URI")
		assert.NotContains(t, res.body, `name="password"`)
	})
	t.Run("no PKCE", func(t *testing.T) {
		res := browse(t, "GET", rp.AuthURL("s", sp.rp), nil)
		require.Equal(t, http.StatusFound, res.status, res.body)
		assert.Contains(t, res.location, "error=invalid_request")
		assert.NotContains(t, res.location, "/oidc/login")
	})
	t.Run("PKCE plain", func(t *testing.T) {
		auth := rp.AuthURL("s", sp.rp, rp.WithCodeChallenge("x"))
		res := browse(t, "GET", strings.Replace(auth, "code_challenge_method=S256", "code_challenge_method=plain", 1), nil)
		assert.Contains(t, res.location, "error=invalid_request")
	})
	t.Run("a wrong code shows the form again and counts", func(t *testing.T) {
		f := startFlow(t, app, sp)
		page := f.password(t, app, p.userID, newPassword)
		require.Equal(t, http.StatusOK, page.status, page.body)
		card, key := cardShown.FindStringSubmatch(page.body), keyShown.FindStringSubmatch(page.body)
		wrong := f.code(t, app, wrongDigits(p.code(card[1], key[1])))
		assert.Equal(t, http.StatusUnauthorized, wrong.status)
		assert.Contains(t, wrong.body, "The code is wrong")
		assert.Contains(t, wrong.body, `name="password"`, "the form again")
		var failures int
		require.NoError(t, app.Store.ScanForTests(context.Background(), &failures, "SELECT failed_attempts FROM credentials WHERE user_id = ?", p.userID))
		assert.Equal(t, 1, failures)
		logon(t, app, p) // a success resets the count
	})
}

// TestTheLockIsSharedWithLogins: two wrong passwords at POST /v1/logins
// and one at the provider lock the NemID; then even the right password is
// told so and gets no key, and earlier access tokens stop working.
func TestTheLockIsSharedWithLogins(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := activeNemID(t, app, soeren)
		sp := registerClient(t, app, "Skat", true, false)
		sp.relyingParty(t, app, "openid")
		tokens := signedIn(t, app, sp, p)
		require.Equal(t, http.StatusOK, userinfoStatus(t, app, tokens.AccessToken))

		for range 2 {
			res := logonStart(t, app, p.userID, "Forkert1234")
			require.Equal(t, http.StatusUnauthorized, res.Status, "%s", res.Body)
		}
		third := startFlow(t, app, sp).password(t, app, p.userID, "Forkert1234")
		assert.Equal(t, http.StatusUnauthorized, third.status)
		assert.Contains(t, third.body, "The user ID or password is wrong")

		right := startFlow(t, app, sp).password(t, app, p.userID, newPassword)
		assert.Equal(t, http.StatusLocked, right.status)
		assert.Contains(t, right.body, "locked")
		assert.NotRegexp(t, keyShown, right.body)
		assert.Equal(t, http.StatusLocked, logonStart(t, app, p.userID, newPassword).Status)
		assert.Equal(t, http.StatusUnauthorized, userinfoStatus(t, app, tokens.AccessToken), "a locked NemID's access token stops working")
	})
}

func getJSON(t *testing.T, target string, into any) {
	t.Helper()
	res, err := http.Get(target)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, target)
	require.NoError(t, json.NewDecoder(res.Body).Decode(into))
}

// TestDiscoveryTellsTheTruth: on a provider that has signed nothing yet the
// JWKS already holds the RS256 key the first ID token is signed with;
// discovery names pairwise subjects and only the authorization code flow,
// and no endpoint that is not served.
func TestDiscoveryTellsTheTruth(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), generous)
	var doc map[string]any
	getJSON(t, app.URL+"/.well-known/openid-configuration", &doc)
	assert.Equal(t, []any{"pairwise"}, doc["subject_types_supported"])
	assert.Equal(t, []any{"code"}, doc["response_types_supported"])
	assert.Equal(t, []any{"authorization_code"}, doc["grant_types_supported"])
	assert.Equal(t, []any{"S256"}, doc["code_challenge_methods_supported"])
	assert.Equal(t, []any{"RS256"}, doc["id_token_signing_alg_values_supported"])
	for name, v := range doc {
		target, ok := v.(string)
		if !strings.HasSuffix(name, "_endpoint") || !ok {
			continue
		}
		res, err := http.Post(target, "application/x-www-form-urlencoded", nil)
		require.NoError(t, err)
		res.Body.Close()
		assert.NotEqual(t, http.StatusNotFound, res.StatusCode, "%s %s is served", name, target)
	}
	var before jose.JSONWebKeySet
	getJSON(t, doc["jwks_uri"].(string), &before)
	require.Len(t, before.Keys, 1, "the JWKS of a provider that has signed nothing yet")
	assert.Equal(t, "RS256", before.Keys[0].Algorithm)

	p := activeNemID(t, app, soeren)
	sp := registerClient(t, app, "Kommune", true, false)
	sp.relyingParty(t, app, "openid")
	tokens := signedIn(t, app, sp, p)
	sig, err := jose.ParseSignedCompact(tokens.IDToken, []jose.SignatureAlgorithm{jose.RS256})
	require.NoError(t, err)
	assert.Equal(t, before.Keys[0].KeyID, sig.Signatures[0].Header.KeyID, "signed with the key published before")
	_, err = sig.Verify(before.Keys[0].Public())
	assert.NoError(t, err)
}
