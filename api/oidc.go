package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/opennemid/nemid/store"
)

// The OpenID Connect provider of DESIGN.md §11, built on zitadel/oidc's op
// package: the library speaks the protocol (discovery, JWKS, authorize,
// token, userinfo, end_session); this file is its storage on our store, and
// oidc_login.go the login pages, which share every logon step with
// POST /v1/logins.

// Lifetimes. A code is redeemable for at most 60 seconds (DESIGN.md §11).
const (
	oidcCodeTTL        = 60 * time.Second
	oidcAuthRequestTTL = 15 * time.Minute // from the client's redirect to the right code
	oidcAccessTokenTTL = 10 * time.Minute
	oidcIDTokenTTL     = 10 * time.Minute
	// ScopeCPR asks for the person's CPR number in userinfo; granted only
	// to public-authority clients (for others the scope is dropped).
	ScopeCPR = "cpr"
)

// Paths of the provider's endpoints, relative to the issuer.
const (
	oidcAuthorizePath  = "oidc/authorize"
	oidcTokenPath      = "oidc/token"
	oidcUserinfoPath   = "oidc/userinfo"
	oidcRevokePath     = "oidc/revoke"
	oidcEndSessionPath = "oidc/end_session"
	oidcKeysPath       = "oidc/keys"
	oidcLoginPath      = "/oidc/login"
	oidcLoggedOutPath  = "/oidc/logged-out" // end_session without a client's redirect lands here
)

type oidcProvider struct {
	*citizenAPI
	op   *op.Provider
	keys *signingKeys
}

// oidcRoutes mounts the provider on the Echo server. Only the endpoints
// of the authorization code flow are routed; the library's others
// (introspection, device authorization, its own login callback) answer 404.
func (c *citizenAPI) oidcRoutes(e *echo.Echo) {
	p := &oidcProvider{citizenAPI: c, keys: newSigningKeys(c.store, c.hashKeys, c.now)}
	issuer := c.cfg.Issuer
	if issuer == "" {
		issuer = "http://" + cmpOr(c.cfg.HTTPAddr, "127.0.0.1:8080")
	}
	var cryptoKey [32]byte
	copy(cryptoKey[:], p.derive("oidc token and code encryption"))
	conf := &op.Config{CryptoKey: cryptoKey, CodeMethodS256: true, AuthMethodPost: true, DefaultLogoutRedirectURI: oidcLoggedOutPath,
		SupportedScopes: []string{oidc.ScopeOpenID, oidc.ScopeProfile, ScopeCPR},
		SupportedClaims: []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "amr", "at_hash", "azp", "name", "cpr"}}
	opts := []op.Option{
		op.WithCustomEndpoints(op.NewEndpoint(oidcAuthorizePath), op.NewEndpoint(oidcTokenPath), op.NewEndpoint(oidcUserinfoPath),
			op.NewEndpoint(oidcRevokePath), op.NewEndpoint(oidcEndSessionPath), op.NewEndpoint(oidcKeysPath)),
		op.WithLogger(c.log),
	}
	if strings.HasPrefix(issuer, "http://") {
		opts = append(opts, op.WithAllowInsecure())
	}
	provider, err := op.NewProvider(conf, &oidcStorage{p: p}, op.StaticIssuer(issuer), opts...)
	if err != nil {
		// Only a malformed issuer fails here, and config.FromEnv refuses one.
		panic(fmt.Sprintf("oidc provider for issuer %q: %v", issuer, err))
	}
	p.op = provider
	h := echo.WrapHandler(provider)
	e.GET("/.well-known/openid-configuration", discovery(provider))
	e.GET("/"+oidcKeysPath, h)
	e.GET("/"+oidcAuthorizePath, p.authorize(provider))
	e.POST("/"+oidcAuthorizePath, p.authorize(provider))
	e.POST("/"+oidcTokenPath, h, noStoreMW)
	e.GET("/"+oidcUserinfoPath, h, p.liveAccessToken)
	e.POST("/"+oidcUserinfoPath, h, p.liveAccessToken)
	e.GET("/"+oidcEndSessionPath, h)
	e.POST("/"+oidcEndSessionPath, h)
	e.POST("/"+oidcRevokePath, h)
	p.loginRoutes(e)
}

// bufferedResponse holds what the library answered, so the routes below
// can look at it before anything reaches the client.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(status int)      { b.status = status }

func (b *bufferedResponse) copyTo(w http.ResponseWriter) error {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	_, err := w.Write(b.body.Bytes())
	return err
}

func serveBuffered(h http.Handler, r *http.Request) *bufferedResponse {
	out := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
	h.ServeHTTP(out, r)
	return out
}

// discovery is the library's discovery document told the truth about this
// provider (DESIGN.md §11): subjects are pairwise, only the authorization
// code flow is served, and the endpoints that are not routed here
// (introspection, device authorization) are not named. The library's
// document always says public subjects and the implicit flow.
func discovery(lib http.Handler) echo.HandlerFunc {
	return func(ec echo.Context) error {
		res := serveBuffered(lib, ec.Request())
		if res.status != http.StatusOK {
			return res.copyTo(ec.Response())
		}
		var doc oidc.DiscoveryConfiguration
		if err := json.Unmarshal(res.body.Bytes(), &doc); err != nil {
			return fmt.Errorf("read the library's discovery document: %w", err)
		}
		doc.SubjectTypesSupported = []string{"pairwise"}
		doc.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
		doc.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode}
		doc.IntrospectionEndpoint, doc.DeviceAuthorizationEndpoint = "", ""
		doc.IntrospectionEndpointAuthMethodsSupported, doc.IntrospectionEndpointAuthSigningAlgValuesSupported = nil, nil
		for k, v := range res.header {
			if k != "Content-Length" {
				ec.Response().Header()[k] = v
			}
		}
		return ec.JSON(http.StatusOK, &doc)
	}
}

// authorize answers a valid authorization request with the password page
// itself (DESIGN.md §11: the authorization endpoint answers an HTML page
// with the form), not with the library's redirect to the login URL. Every
// other answer (an error redirect to the client, an error page) passes
// through as the library wrote it.
func (p *oidcProvider) authorize(lib http.Handler) echo.HandlerFunc {
	return func(ec echo.Context) error {
		res := serveBuffered(lib, ec.Request())
		if id, ok := loginRedirect(res); ok {
			r, c, err := p.request(ec, id)
			if err != nil || r.ID == "" {
				return err
			}
			return p.passwordForm(ec, http.StatusOK, r, c, "")
		}
		return res.copyTo(ec.Response())
	}
}

// loginRedirect is the authorization request id when the library answered
// with its redirect to our login page.
func loginRedirect(res *bufferedResponse) (string, bool) {
	if res.status != http.StatusFound && res.status != http.StatusSeeOther {
		return "", false
	}
	u, err := url.Parse(res.header.Get("Location"))
	if err != nil || u.Host != "" || u.Path != oidcLoginPath {
		return "", false
	}
	id := u.Query().Get("id")
	return id, id != ""
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func noStoreMW(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		noStore(ec)
		return next(ec)
	}
}

// derive is a key for one purpose, derived from the lookup key, so every
// API process derives the same.
func (p *oidcProvider) derive(purpose string) []byte {
	m := hmac.New(sha256.New, p.hashKey)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// subject is the pairwise pseudonym of a person at a client: a keyed hash
// of the client and the person's CPR lookup hash, so it is the same for
// every NemID the person holds, differs from client to client, and reveals
// neither the CPR nor the NemID number.
func (p *oidcProvider) subject(clientID, cprHash string) string {
	m := hmac.New(sha256.New, p.hashKey)
	m.Write([]byte("oidc pairwise subject\x00" + clientID + "\x00" + cprHash))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// liveAccessToken answers 401 for an access token whose NemID is blocked,
// locked or revoked, or which is unknown or expired, before the library
// serves userinfo (which would answer such a token 403).
func (p *oidcProvider) liveAccessToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		token, ok := strings.CutPrefix(ec.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
		if !ok {
			token = ec.FormValue("access_token")
		}
		if _, _, err := p.accessToken(ec.Request().Context(), strings.TrimSpace(token)); err != nil {
			ec.Response().Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			return ec.JSON(http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": err.Error()})
		}
		return next(ec)
	}
}

var errTokenDead = errors.New("the access token is unknown or expired, or its NemID is blocked, locked or revoked")

// accessToken resolves an access token to its record and credential, and
// refuses one whose NemID can no longer log on.
func (p *oidcProvider) accessToken(ctx context.Context, token string) (store.OIDCAccessToken, store.Credential, error) {
	if token == "" {
		return store.OIDCAccessToken{}, store.Credential{}, errTokenDead
	}
	plain, err := p.op.Crypto().Decrypt(token)
	if err != nil {
		return store.OIDCAccessToken{}, store.Credential{}, errTokenDead
	}
	id, _, _ := strings.Cut(plain, ":")
	return p.liveToken(ctx, id)
}

func (p *oidcProvider) liveToken(ctx context.Context, tokenID string) (store.OIDCAccessToken, store.Credential, error) {
	t, err := p.store.OIDCAccessTokenByID(ctx, tokenID, p.now())
	if errors.Is(err, store.ErrNotFound) {
		return t, store.Credential{}, errTokenDead
	}
	if err != nil {
		return t, store.Credential{}, err
	}
	cred, err := p.store.CredentialByID(ctx, t.CredentialID)
	if err != nil {
		return t, cred, fmt.Errorf("load credential of access token: %w", err)
	}
	if cred.Blocked() || cred.Locked() || cred.Status != store.CredentialActive {
		return t, cred, errTokenDead
	}
	return t, cred, nil
}

// oidcClient is a registered client as the library sees it.
type oidcClient struct{ store.OIDCClient }

func (c oidcClient) GetID() string                       { return c.ID }
func (c oidcClient) RedirectURIs() []string              { return c.OIDCClient.RedirectURIs() }
func (c oidcClient) PostLogoutRedirectURIs() []string    { return c.OIDCClient.RedirectURIs() }
func (c oidcClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c oidcClient) AuthMethod() oidc.AuthMethod {
	if c.Confidential {
		return oidc.AuthMethodBasic // the library takes the secret from Basic or the form
	}
	return oidc.AuthMethodNone
}
func (c oidcClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c oidcClient) GrantTypes() []oidc.GrantType        { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c oidcClient) LoginURL(id string) string           { return oidcLoginPath + "?id=" + id }
func (c oidcClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c oidcClient) IDTokenLifetime() time.Duration      { return oidcIDTokenTTL }

// DevMode lets the library accept a registered http:// redirect URI; the
// registration allows http only for loopback addresses, and the match is
// exact either way.
func (c oidcClient) DevMode() bool { return true }
func (c oidcClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c oidcClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed grants the scope cpr to public authorities only; the
// library drops it from a private client's request.
func (c oidcClient) IsScopeAllowed(scope string) bool {
	return scope == ScopeCPR && c.PublicAuthority
}
func (c oidcClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c oidcClient) ClockSkew() time.Duration             { return 0 }

// authRequest is a stored authorization request as the library sees it.
type authRequest struct{ store.OIDCAuthRequest }

func (a authRequest) GetID() string         { return a.ID }
func (a authRequest) GetACR() string        { return "" }
func (a authRequest) GetAMR() []string      { return []string{"pwd", "otp"} }
func (a authRequest) GetAudience() []string { return []string{a.ClientID} }
func (a authRequest) GetAuthTime() time.Time {
	if a.AuthTime == nil {
		return time.Time{}
	}
	return *a.AuthTime
}
func (a authRequest) GetClientID() string { return a.ClientID }
func (a authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: oidc.CodeChallengeMethodS256}
}
func (a authRequest) GetNonce() string                   { return a.Nonce }
func (a authRequest) GetRedirectURI() string             { return a.RedirectURI }
func (a authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseTypeCode }
func (a authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.ResponseMode) }
func (a authRequest) GetScopes() []string                { return strings.Fields(a.Scopes) }
func (a authRequest) GetState() string                   { return a.State }
func (a authRequest) GetSubject() string {
	if a.Subject == nil {
		return ""
	}
	return *a.Subject
}
func (a authRequest) Done() bool { return a.CredentialID != nil }

// oidcStorage is op.Storage on the store.
type oidcStorage struct{ p *oidcProvider }

var _ op.Storage = (*oidcStorage)(nil)

func codeHash(code string) string { return store.HashToken(code) }

// CreateAuthRequest stores a validated authorization request. PKCE with
// S256 is required of every client.
func (s *oidcStorage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE is required: send code_challenge with code_challenge_method=S256")
	}
	if req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery {
		return nil, oidc.ErrInvalidRequest().WithDescription("only response_mode=query is supported")
	}
	now := s.p.now()
	r := store.OIDCAuthRequest{ID: uuid.NewString(), ClientID: req.ClientID, RedirectURI: req.RedirectURI,
		Scopes: strings.Join(req.Scopes, " "), State: req.State, Nonce: req.Nonce, CodeChallenge: req.CodeChallenge,
		ResponseMode: string(oidc.ResponseModeQuery), CreatedAt: now, ExpiresAt: now.Add(oidcAuthRequestTTL)}
	if err := s.p.store.CreateOIDCAuthRequest(ctx, r); err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return authRequest{r}, nil
}

func (s *oidcStorage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.p.store.OIDCAuthRequestByID(ctx, id, s.p.now())
	if err != nil {
		return nil, err
	}
	return authRequest{r}, nil
}

// AuthRequestByCode redeems a code: once, within oidcCodeTTL.
func (s *oidcStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.p.store.RedeemOIDCCode(ctx, codeHash(code), s.p.now())
	if err != nil {
		return nil, err
	}
	return authRequest{r}, nil
}

func (s *oidcStorage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.p.store.SaveOIDCCode(ctx, id, codeHash(code), s.p.now().Add(oidcCodeTTL))
}

func (s *oidcStorage) DeleteAuthRequest(ctx context.Context, id string) error {
	return s.p.store.DeleteOIDCAuthRequest(ctx, id)
}

func (s *oidcStorage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	a, ok := req.(authRequest)
	if !ok || a.CredentialID == nil {
		return "", time.Time{}, oidc.ErrInvalidGrant()
	}
	now := s.p.now()
	t := store.OIDCAccessToken{ID: uuid.NewString(), ClientID: a.ClientID, CredentialID: *a.CredentialID,
		Subject: a.GetSubject(), Scopes: a.Scopes, CreatedAt: now, ExpiresAt: now.Add(oidcAccessTokenTTL)}
	if err := s.p.store.CreateOIDCAccessToken(ctx, t); err != nil {
		return "", time.Time{}, err
	}
	return t.ID, t.ExpiresAt, nil
}

func (s *oidcStorage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType().WithDescription("refresh tokens are not issued")
}

func (s *oidcStorage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, oidc.ErrInvalidGrant().WithDescription("refresh tokens are not issued")
}

// TerminateSession ends the person's access tokens at the client
// (end_session with an id_token_hint).
func (s *oidcStorage) TerminateSession(ctx context.Context, subject, clientID string) error {
	return s.p.store.EndOIDCTokens(ctx, clientID, subject)
}

// RevokeToken ends an access token's person's tokens at the client. A
// token that is not one of our access tokens comes without a subject (the
// library takes it for a refresh token, which we never issue): unknown,
// and RFC 7009 answers an unknown token 200.
func (s *oidcStorage) RevokeToken(ctx context.Context, tokenID, subject, clientID string) *oidc.Error {
	if subject == "" {
		return nil
	}
	t, err := s.p.store.OIDCAccessTokenByID(ctx, tokenID, s.p.now())
	if err != nil || t.ClientID != clientID {
		return nil // RFC 7009: an unknown token is not an error
	}
	if err := s.p.store.EndOIDCTokens(ctx, clientID, subject); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

func (s *oidcStorage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *oidcStorage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	return s.p.keys.signing(ctx)
}

func (s *oidcStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *oidcStorage) KeySet(ctx context.Context) ([]op.Key, error) {
	return s.p.keys.published(ctx)
}

func (s *oidcStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.p.store.OIDCClientByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("unknown client %q", id)
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return oidcClient{c}, nil
}

func (s *oidcStorage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.p.store.OIDCClientByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("unknown client %q", id)
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if c.SecretHash == nil || secret == "" || !hmac.Equal([]byte(*c.SecretHash), []byte(store.HashToken(secret))) {
		return errors.New("wrong client secret")
	}
	return nil
}

// SetUserinfoFromScopes puts nothing in the ID token beyond the library's
// claims (iss, aud, sub, nonce, iat, exp, auth_time, amr): the name and
// the CPR are for userinfo, where a blocked NemID's token is refused.
func (s *oidcStorage) SetUserinfoFromScopes(_ context.Context, info *oidc.UserInfo, subject, _ string, _ []string) error {
	info.Subject = subject // the library copies the userinfo's subject into the ID token
	return nil
}

// SetUserinfoFromToken answers userinfo: sub and name, and cpr for a
// public authority that was granted the scope.
func (s *oidcStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, _, _ string) error {
	t, cred, err := s.p.liveToken(ctx, tokenID)
	if err != nil {
		return err
	}
	info.Subject = t.Subject
	person, err := s.p.personOf(ctx, cred.CPRHash)
	if err != nil {
		return err
	}
	if person == nil {
		return errTokenDead
	}
	info.Name = person.Name
	client, err := s.p.store.OIDCClientByID(ctx, t.ClientID)
	if err != nil {
		return fmt.Errorf("load client of access token: %w", err)
	}
	if client.PublicAuthority && slices.Contains(strings.Fields(t.Scopes), ScopeCPR) {
		info.AppendClaims("cpr", person.CPR.String())
	}
	return nil
}

func (s *oidcStorage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("introspection is not offered")
}

func (s *oidcStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *oidcStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT profile grants are not offered")
}

func (s *oidcStorage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile grants are not offered")
}

func (s *oidcStorage) Health(ctx context.Context) error { return s.p.store.Ping(ctx) }
