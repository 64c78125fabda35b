package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/opennemid/nemid/store"
)

// The provider's login pages (DESIGN.md §11): user ID and password, then
// the code beside the key shown. Every step is POST /v1/logins' own
// (logonPassword, logonCode): the same lock, failures, spent codes and
// replacement card. The pages carry no script and a strict CSP.

func (p *oidcProvider) loginRoutes(e *echo.Echo) {
	e.GET(oidcLoginPath, p.loginPage, p.limitAddress)
	e.POST(oidcLoginPath, p.loginPassword, p.limitAddress)
	e.POST(oidcLoginPath+"/code", p.loginCode, p.limitAddress)
	e.GET(oidcLoggedOutPath, func(ec echo.Context) error {
		return page(ec, http.StatusOK, "password", loginView{Client: "NemID", Error: "You are logged out."})
	})
}

const loginStyle = `body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}
main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem}
input[type=text],input[type=password]{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1.2rem;padding:.6rem 1.2rem;font-size:1rem;background:#1b4f8a;color:#fff;border:0;border-radius:4px}
.error{color:#a40000;background:#fde8e8;padding:.6rem;border-radius:4px}.card{font-size:1.1rem}.sp{color:#555}`

var loginStyleHash = func() string {
	sum := sha256.Sum256([]byte(loginStyle))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

var loginPages = template.Must(template.New("password").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log on with NemID</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{{.Style}}</style></head>
<body><main>
<h1>Log on with NemID</h1>
<p class="sp">to <strong>{{.Client}}</strong></p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{if .Form}}<form method="post" action="{{.Action}}">
<input type="hidden" name="id" value="{{.ID}}">
<label for="user_id">User ID (NemID number)</label>
<input type="text" id="user_id" name="user_id" autocomplete="username" inputmode="numeric" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Next</button>
</form>{{end}}
</main></body></html>`))

var _ = template.Must(loginPages.New("code").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log on with NemID</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{{.Style}}</style></head>
<body><main>
<h1>Log on with NemID</h1>
<p class="sp">to <strong>{{.Client}}</strong></p>
<p class="card">Card number: <strong id="card_number">{{.CardNumber}}</strong></p>
<p class="card">Key: <strong id="key">{{.Key}}</strong></p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="id" value="{{.ID}}">
<label for="code">The code beside the key on your code card</label>
<input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric" required autofocus>
<button type="submit">Log on</button>
</form>
</main></body></html>`))

type loginView struct {
	Style       template.CSS
	Client      string
	ID          string
	Action      string
	Error       string
	Form        bool
	CardNumber  string
	Key         string
	formActions string // extra form-action sources of the CSP
}

// page writes a login page with its security headers. The code page's
// form is answered by a redirect to the client, which the CSP's
// form-action must allow.
func page(ec echo.Context, status int, name string, v loginView) error {
	v.Style = template.CSS(loginStyle)
	var buf bytes.Buffer
	if err := loginPages.ExecuteTemplate(&buf, name, v); err != nil {
		return err
	}
	h := ec.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src "+loginStyleHash+"; form-action 'self'"+v.formActions+
		"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	noStore(ec)
	return ec.HTMLBlob(status, buf.Bytes())
}

// request loads the authorization request a page belongs to, and its
// client; an unknown or expired one answers a page saying so.
func (p *oidcProvider) request(ec echo.Context, id string) (store.OIDCAuthRequest, store.OIDCClient, error) {
	ctx := ec.Request().Context()
	r, err := p.store.OIDCAuthRequestByID(ctx, id, p.now())
	if errors.Is(err, store.ErrNotFound) {
		return r, store.OIDCClient{}, page(ec, http.StatusNotFound, "password",
			loginView{Client: "the service", Error: "This logon has expired or is unknown. Go back to the service and start again."})
	}
	if err != nil {
		return r, store.OIDCClient{}, err
	}
	c, err := p.store.OIDCClientByID(ctx, r.ClientID)
	return r, c, err
}

func (p *oidcProvider) passwordForm(ec echo.Context, status int, r store.OIDCAuthRequest, c store.OIDCClient, msg string) error {
	return page(ec, status, "password", loginView{Client: c.Name, ID: r.ID, Action: oidcLoginPath, Error: msg, Form: true})
}

// loginPage is where the library sends the person: the password form.
func (p *oidcProvider) loginPage(ec echo.Context) error {
	r, c, err := p.request(ec, ec.QueryParam("id"))
	if err != nil || r.ID == "" {
		return err
	}
	if r.CredentialID != nil {
		return p.passwordForm(ec, http.StatusConflict, r, c, "This logon is already complete. Go back to the service.")
	}
	return p.passwordForm(ec, http.StatusOK, r, c, "")
}

// loginPassword is the password step: right, the code page; wrong,
// locked, blocked or refused, the form again with why.
func (p *oidcProvider) loginPassword(ec echo.Context) error {
	began := time.Now()
	r, c, err := p.request(ec, ec.FormValue("id"))
	if err != nil || r.ID == "" {
		return err
	}
	if r.CredentialID != nil {
		return p.passwordForm(ec, http.StatusConflict, r, c, "This logon is already complete. Go back to the service.")
	}
	userID, password := ec.FormValue("user_id"), ec.FormValue("password")
	if userID == "" || password == "" {
		return p.passwordForm(ec, http.StatusBadRequest, r, c, "Enter your user ID and password.")
	}
	ctx := ec.Request().Context()
	ch, err := p.logonPassword(ctx, began, userID, password)
	if err != nil {
		return p.refused(ec, r, c, err)
	}
	if err := p.store.SetOIDCChallenge(ctx, r.ID, ch.ID); err != nil {
		return err
	}
	return page(ec, http.StatusOK, "code", loginView{Client: c.Name, ID: r.ID, Action: oidcLoginPath + "/code",
		CardNumber: ch.CardNumber, Key: ch.Key, formActions: " " + origin(r.RedirectURI)})
}

// loginCode is the code step: right, the redirect to the client with the
// authorization code; otherwise the password form again with why (a wrong
// code ends the challenge, as at POST /v1/logins).
func (p *oidcProvider) loginCode(ec echo.Context) error {
	r, c, err := p.request(ec, ec.FormValue("id"))
	if err != nil || r.ID == "" {
		return err
	}
	if r.ChallengeID == nil || r.CredentialID != nil {
		return p.passwordForm(ec, http.StatusConflict, r, c, "Start with your user ID and password.")
	}
	code := ec.FormValue("code")
	if code == "" {
		return p.passwordForm(ec, http.StatusBadRequest, r, c, "Enter the code; log on again for a new key.")
	}
	ctx := ec.Request().Context()
	_, err = p.logonCode(ctx, *r.ChallengeID, code, func(cred store.Credential, at time.Time, s *store.Success) {
		name := c.Name
		audit := store.AuditEntry{Actor: "oidc_client:" + c.ID, ActorName: &name, Action: store.AuditOIDCLogon,
			Target: store.CredentialTarget(cred.UserID)}
		s.Then = store.OIDCLogonStep(r.ID, cred.ID, p.subject(c.ID, cred.CPRHash), at, audit)
	})
	if err != nil {
		return p.refused(ec, r, c, err)
	}
	done, err := p.store.OIDCAuthRequestByID(ctx, r.ID, p.now())
	if err != nil {
		return err
	}
	op.NewIssuerInterceptor(p.op.IssuerFromRequest).HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		op.AuthResponse(authRequest{done}, p.op, w, req)
	})(ec.Response(), ec.Request())
	return nil
}

// refused shows the password form with the reason a step failed, under
// the status POST /v1/logins would answer; other errors are the server's.
func (p *oidcProvider) refused(ec echo.Context, r store.OIDCAuthRequest, c store.OIDCClient, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	msg := e.Message
	switch e.Code {
	case "invalid_credentials":
		msg = "The user ID or password is wrong."
	case "invalid_code":
		msg = "The code is wrong. Log on again for a new key."
	case "challenge_expired", "challenge_closed", "not_found":
		msg = "The key has expired or was answered. Log on again for a new key."
	}
	if e.retryAfter != "" {
		ec.Response().Header().Set("Retry-After", e.retryAfter)
	}
	return p.passwordForm(ec, e.Status, r, c, msg)
}

// origin is the scheme and host of a URL, for the CSP.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
