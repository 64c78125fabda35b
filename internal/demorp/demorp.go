// Package demorp is a tiny service provider (relying party) that `nemid
// dev` serves beside the API, to show the OpenID Connect provider of
// DESIGN.md §11 from a service's side: a "Log on with NemID" button, the
// authorization code flow with PKCE run by zitadel/oidc's rp package, and
// the verified ID token's claims. It keeps no state but one encrypted
// cookie per logon in progress (state, nonce and PKCE verifier).
package demorp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Name is the demo service's name, as registered and shown on the login page.
const Name = "NemID demo service"

// CallbackPath is where the provider sends the person back; the client's
// redirect URI is the demo's base URL followed by it.
const CallbackPath = "/callback"

// Config says which provider the demo logs on at, and as which client.
type Config struct {
	Issuer   string // the provider (NEMID_ISSUER)
	ClientID string // a public client registered with BaseURL + CallbackPath
	BaseURL  string // where the demo is served, e.g. http://127.0.0.1:8088
}

const cookieName = "nemid_demo_rp"

// flight is what the demo remembers of a logon between the button and
// the callback, in its cookie.
type flight struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
}

type nonceKey struct{}

type demo struct {
	cfg     Config
	cookies *httphelper.CookieHandler
	mu      sync.Mutex
	party   rp.RelyingParty // made at first use: the provider may start after the demo
}

// New is the demo's handler: GET / (the button), POST /login (to the
// provider), GET /callback (the claims).
func New(cfg Config) (http.Handler, error) {
	if _, err := url.Parse(cfg.BaseURL); err != nil || cfg.Issuer == "" || cfg.ClientID == "" {
		return nil, errors.New("demorp: want an issuer, a client_id and a base URL")
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	var opts []httphelper.CookieHandlerOpt
	if strings.HasPrefix(cfg.BaseURL, "http://") {
		opts = append(opts, httphelper.WithUnsecure())
	}
	d := &demo{cfg: cfg, cookies: httphelper.NewCookieHandler(random(32), random(32), opts...)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", d.home)
	mux.HandleFunc("POST /login", d.login)
	mux.HandleFunc("GET "+CallbackPath, d.callback)
	return mux, nil
}

func random(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

func randomText() string { return base64.RawURLEncoding.EncodeToString(random(32)) }

// relyingParty discovers the provider once it answers.
func (d *demo) relyingParty(ctx context.Context) (rp.RelyingParty, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.party != nil {
		return d.party, nil
	}
	party, err := rp.NewRelyingPartyOIDC(ctx, d.cfg.Issuer, d.cfg.ClientID, "", d.cfg.BaseURL+CallbackPath,
		[]string{oidc.ScopeOpenID, oidc.ScopeProfile},
		rp.WithVerifierOpts(rp.WithNonce(func(ctx context.Context) string {
			n, _ := ctx.Value(nonceKey{}).(string)
			return n
		})))
	if err != nil {
		return nil, err
	}
	d.party = party
	return party, nil
}

func (d *demo) home(w http.ResponseWriter, r *http.Request) {
	d.page(w, http.StatusOK, view{})
}

// login starts a logon: a fresh state, nonce and PKCE verifier in the
// cookie, and the person to the provider's authorization endpoint.
func (d *demo) login(w http.ResponseWriter, r *http.Request) {
	party, err := d.relyingParty(r.Context())
	if err != nil {
		d.page(w, http.StatusBadGateway, view{Error: "The NemID provider at " + d.cfg.Issuer + " does not answer: " + err.Error()})
		return
	}
	f := flight{State: randomText(), Nonce: randomText(), Verifier: randomText()}
	raw, _ := json.Marshal(f)
	if err := d.cookies.SetCookie(w, cookieName, string(raw)); err != nil {
		d.page(w, http.StatusInternalServerError, view{Error: "Could not remember the logon: " + err.Error()})
		return
	}
	sum := sha256.Sum256([]byte(f.Verifier))
	target := rp.AuthURL(f.State, party, rp.WithCodeChallenge(base64.RawURLEncoding.EncodeToString(sum[:])),
		rp.AuthURLOpt(rp.WithURLParam("nonce", f.Nonce)))
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// callback checks the state, redeems the code with the verifier, lets
// the rp package verify the ID token (signature from the JWKS, issuer,
// audience, expiry, nonce), and shows its claims and userinfo's name.
func (d *demo) callback(w http.ResponseWriter, r *http.Request) {
	raw, err := d.cookies.CheckCookie(r, cookieName)
	var f flight
	if err != nil || json.Unmarshal([]byte(raw), &f) != nil {
		d.page(w, http.StatusBadRequest, view{Error: "No logon in progress in this browser. Start again."})
		return
	}
	d.cookies.DeleteCookie(w, cookieName)
	q := r.URL.Query()
	if q.Get("state") != f.State {
		d.page(w, http.StatusBadRequest, view{Error: "The state does not match this browser's logon. Start again."})
		return
	}
	if e := q.Get("error"); e != "" {
		d.page(w, http.StatusBadRequest, view{Error: "The provider answered " + e + ": " + q.Get("error_description")})
		return
	}
	party, err := d.relyingParty(r.Context())
	if err != nil {
		d.page(w, http.StatusBadGateway, view{Error: err.Error()})
		return
	}
	ctx := context.WithValue(r.Context(), nonceKey{}, f.Nonce)
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, q.Get("code"), party, rp.WithCodeVerifier(f.Verifier))
	if err != nil {
		d.page(w, http.StatusBadGateway, view{Error: "The code exchange or the ID token's verification failed: " + err.Error()})
		return
	}
	v := view{Claims: claimRows(tokens.IDTokenClaims), KeyID: keyID(tokens.IDToken)}
	if info, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, tokens.TokenType, tokens.IDTokenClaims.Subject, party); err == nil {
		v.Name = info.Name
	} else {
		v.Error = "Userinfo failed: " + err.Error()
	}
	d.page(w, http.StatusOK, v)
}

func keyID(idToken string) string {
	jws, err := jose.ParseSignedCompact(idToken, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(jws.Signatures) == 0 {
		return ""
	}
	return jws.Signatures[0].Header.KeyID
}

type claim struct{ Name, Value string }

func claimRows(c *oidc.IDTokenClaims) []claim {
	at := func(t oidc.Time) string { return t.AsTime().UTC().Format(time.RFC3339) }
	return []claim{
		{"iss", c.Issuer},
		{"aud", strings.Join(c.Audience, " ")},
		{"sub", c.Subject},
		{"nonce", c.Nonce},
		{"amr", strings.Join(c.AuthenticationMethodsReferences, " ")},
		{"auth_time", at(c.AuthTime)},
		{"iat", at(c.IssuedAt)},
		{"exp", at(c.Expiration)},
	}
}

type view struct {
	Style  template.CSS
	Error  string
	Claims []claim
	KeyID  string
	Name   string
}

const style = `body{font-family:system-ui,sans-serif;background:#eef2f0;margin:0}
main{max-width:40rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin-top:0}button{padding:.7rem 1.4rem;font-size:1rem;background:#1b4f8a;color:#fff;border:0;border-radius:4px}
.error{color:#a40000;background:#fde8e8;padding:.6rem;border-radius:4px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}td{font-family:monospace;word-break:break-all}
.muted{color:#555}`

var styleHash = func() string {
	sum := sha256.Sum256([]byte(style))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

var pages = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>` + Name + `</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{{.Style}}</style></head>
<body><main>
<h1>` + Name + `</h1>
{{if .Error}}<p class="error" role="alert" data-testid="demo-error">{{.Error}}</p>{{end}}
{{if .Claims}}<p data-testid="demo-verified">You are logged on{{if .Name}} as <strong data-testid="demo-name">{{.Name}}</strong>{{end}}.
The ID token's signature (RS256, key <code>{{.KeyID}}</code> from the provider's JWKS), issuer, audience, expiry and nonce are verified.</p>
<table data-testid="demo-claims"><thead><tr><th>Claim</th><th>Value</th></tr></thead><tbody>
{{range .Claims}}<tr data-claim="{{.Name}}"><th>{{.Name}}</th><td>{{.Value}}</td></tr>
{{end}}</tbody></table>
<p class="muted"><code>sub</code> is pairwise: this service always sees the same one for you, and another service a different one.</p>
{{else}}<p class="muted">A service provider that lets people log on with their NemID (OpenID Connect: the authorization code flow with PKCE).</p>{{end}}
<form method="post" action="login"><button type="submit" data-testid="demo-login">Log on with NemID</button></form>
</main></body></html>`))

// page writes a page under a strict CSP: no script, the style by hash,
// forms only to the demo itself, which redirects to the provider.
func (d *demo) page(w http.ResponseWriter, status int, v view) {
	v.Style = template.CSS(style)
	var buf bytes.Buffer
	if err := pages.Execute(&buf, v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src "+styleHash+"; form-action 'self' "+origin(d.cfg.Issuer)+
		"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
