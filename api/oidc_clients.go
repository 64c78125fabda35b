package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/store"
)

// oidcClientRoutes serves the admin's registration of service providers
// (DESIGN.md §11). A confidential client's secret is answered once, at
// creation, and kept only hashed.
func (s *Server) oidcClientRoutes(staff *echo.Group) {
	staff.POST("/oidc/clients", s.createOIDCClient)
	staff.GET("/oidc/clients", s.listOIDCClients)
}

// OIDCClientSpec is a client to register.
type OIDCClientSpec struct {
	Name            string   `json:"name"`
	RedirectURIs    []string `json:"redirect_uris"`
	PublicAuthority bool     `json:"public_authority"`
	Confidential    bool     `json:"confidential"`
}

// OIDCClientView is a registered client; ClientSecret only in the answer
// that created a confidential client.
type OIDCClientView struct {
	ClientID        string    `json:"client_id"`
	ClientSecret    string    `json:"client_secret,omitempty"`
	Name            string    `json:"name"`
	RedirectURIs    []string  `json:"redirect_uris"`
	PublicAuthority bool      `json:"public_authority"`
	Confidential    bool      `json:"confidential"`
	CreatedAt       time.Time `json:"created_at"`
}

func viewOIDCClient(c store.OIDCClient) OIDCClientView {
	return OIDCClientView{ClientID: c.ID, Name: c.Name, RedirectURIs: c.RedirectURIs(), PublicAuthority: c.PublicAuthority,
		Confidential: c.Confidential, CreatedAt: stamp(c.CreatedAt)}
}

// CheckOIDCClientSpec reports every broken rule of a registration: a name,
// at least one redirect URI, each an absolute https URL without fragment
// (http only for a loopback host, for development).
func CheckOIDCClientSpec(spec OIDCClientSpec) []Detail {
	var broken []Detail
	if strings.TrimSpace(spec.Name) == "" {
		broken = append(broken, Detail{Code: "name_invalid", Message: "name is required"})
	} else if msg := nameProblem(spec.Name); msg != "" {
		broken = append(broken, Detail{Code: "name_invalid", Message: msg})
	}
	if len(spec.RedirectURIs) == 0 {
		broken = append(broken, Detail{Code: "redirect_uri_invalid", Message: "at least one redirect URI is required"})
	}
	for _, raw := range spec.RedirectURIs {
		if msg := redirectURIProblem(raw); msg != "" {
			broken = append(broken, Detail{Code: "redirect_uri_invalid", Message: msg})
		}
	}
	return broken
}

func redirectURIProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || strings.ContainsAny(raw, "\n\r") {
		return "redirect URI " + quoteShort(raw) + " is not an absolute URL"
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "redirect URI " + quoteShort(raw) + " must not have a fragment"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if host := u.Hostname(); host == "localhost" || net.ParseIP(host).IsLoopback() {
			return ""
		}
	}
	return "redirect URI " + quoteShort(raw) + " must use https (http only for localhost)"
}

func quoteShort(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return `"` + s + `"`
}

// RegisterOIDCClient stores a checked client, audited as by, and answers
// it with its secret (confidential clients only).
func RegisterOIDCClient(ctx context.Context, st *store.Store, spec OIDCClientSpec, by store.AuditEntry, now time.Time) (OIDCClientView, error) {
	c := store.OIDCClient{ID: "nemid-" + randomText(12), Name: strings.TrimSpace(spec.Name),
		RedirectURIList: strings.Join(spec.RedirectURIs, "\n"), PublicAuthority: spec.PublicAuthority,
		Confidential: spec.Confidential, CreatedAt: now}
	var secret string
	if spec.Confidential {
		secret = randomText(32)
		hash := store.HashToken(secret)
		c.SecretHash = &hash
	}
	by.Action, by.Target = store.AuditOIDCClientCreated, store.OIDCClientTarget(c.ID)
	if err := st.CreateOIDCClient(ctx, c, by); err != nil {
		return OIDCClientView{}, err
	}
	v := viewOIDCClient(c)
	v.ClientSecret = secret
	return v, nil
}

func randomText(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) createOIDCClient(c echo.Context) error {
	p, err := requireRole(c, RoleAdmin)
	if err != nil {
		return err
	}
	var spec OIDCClientSpec
	if err := decodeStrict(c, &spec); err != nil {
		return err
	}
	if broken := CheckOIDCClientSpec(spec); len(broken) > 0 {
		return ruleViolations(broken)
	}
	v, err := RegisterOIDCClient(c.Request().Context(), s.store, spec, p.audit(store.AuditOIDCClientCreated, ""), s.now())
	if err != nil {
		return err
	}
	answerOnce(c)
	return c.JSON(http.StatusCreated, v)
}

func (s *Server) listOIDCClients(c echo.Context) error {
	if _, err := requireRole(c, RoleAdmin); err != nil {
		return err
	}
	limit, after, err := pageParams(c)
	if err != nil {
		return err
	}
	rows, more, err := s.store.ListOIDCClients(c.Request().Context(), after, limit)
	if err != nil {
		return err
	}
	out := listView[OIDCClientView]{Items: make([]OIDCClientView, 0, len(rows))}
	for _, row := range rows {
		out.Items = append(out.Items, viewOIDCClient(row))
	}
	if more {
		out.NextCursor = encodeCursor(rows[len(rows)-1].ID)
	}
	return c.JSON(http.StatusOK, out)
}
