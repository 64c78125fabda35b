package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/store"
)

// maxTokenName bounds a token's name: it is shown on timelines and lists.
const maxTokenName = 200

// tokenRoutes serves the admin's token lifecycle (DESIGN.md §8): create a
// named token, list them, revoke one. The token itself is answered once, at
// creation, and kept only hashed.
func (s *Server) tokenRoutes(staff *echo.Group) {
	staff.POST("/tokens", s.createToken)
	staff.GET("/tokens", s.listTokens)
	staff.POST("/tokens/:id/revoke", s.revokeToken)
}

type tokenRequest struct {
	Role  string  `json:"role"`
	Scope string  `json:"scope"`
	Name  *string `json:"name"`
	TTL   *string `json:"ttl"`
}

// createdTokenView is the one answer that shows a token.
type createdTokenView struct {
	ID        string     `json:"id"`
	Token     string     `json:"token"`
	Role      string     `json:"role"`
	Scope     string     `json:"scope"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// tokenView is a token as lists and revocations show it: never the token.
type tokenView struct {
	ID         string     `json:"id"`
	Role       string     `json:"role"`
	Scope      string     `json:"scope"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func viewToken(t store.APIToken) tokenView {
	return tokenView{ID: t.ID, Role: t.Role, Scope: t.Scope, Name: t.Name, CreatedAt: stamp(t.CreatedAt),
		ExpiresAt: stampPtr(t.ExpiresAt), RevokedAt: stampPtr(t.RevokedAt), LastUsedAt: stampPtr(t.LastUsedAt)}
}

// ParseTokenSpec checks a token request's fields and reports every broken
// rule: role, scope for the role (a caseworker's among centres, the codes
// of the store's centres), name (empty: role:scope) and ttl (nil: no
// expiry; otherwise a Go duration above zero). The CLI and the API share
// it.
func ParseTokenSpec(role, scope, name string, ttl *string, centres []string) (store.NewToken, []Detail) {
	var broken []Detail
	spec := store.NewToken{Role: role, Scope: scope, Name: strings.TrimSpace(name)}
	if !ValidRole(role) {
		broken = append(broken, Detail{Code: "role_invalid", Message: "role must be caseworker, embassy, bank, post or admin"})
	} else if scope == "" {
		broken = append(broken, Detail{Code: "scope_invalid", Message: "scope is required"})
	} else if err := ValidScope(role, scope, centres); err != nil {
		broken = append(broken, Detail{Code: "scope_invalid", Message: err.Error()})
	}
	if msg := nameProblem(spec.Name); msg != "" {
		broken = append(broken, Detail{Code: "name_invalid", Message: msg})
	}
	if spec.Name == "" {
		spec.Name = role + ":" + scope
	}
	if ttl != nil {
		d, err := time.ParseDuration(strings.TrimSpace(*ttl))
		switch {
		case err != nil:
			broken = append(broken, Detail{Code: "ttl_invalid", Message: "ttl must be a Go duration such as 90s, 8h or 2160h"})
		case d <= 0:
			broken = append(broken, Detail{Code: "ttl_invalid", Message: "ttl must be longer than zero (leave it out for a token that does not expire)"})
		default:
			spec.TTL = d
		}
	}
	return spec, broken
}

// CentreCodes are the codes of the store's centres, which a caseworker's
// token may be scoped to.
func CentreCodes(ctx context.Context, st *store.Store) ([]string, error) {
	centres, err := st.ListCentres(ctx)
	if err != nil {
		return nil, err
	}
	codes := make([]string, len(centres))
	for i, c := range centres {
		codes[i] = c.Code
	}
	return codes, nil
}

func nameProblem(name string) string {
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxTokenName {
		return "name must be text of at most 200 characters"
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "name must not contain control characters"
	}
	return ""
}

func (s *Server) createToken(c echo.Context) error {
	p, err := requireRole(c, RoleAdmin)
	if err != nil {
		return err
	}
	var req tokenRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	name := ""
	if req.Name != nil {
		name = *req.Name
	}
	centres, err := CentreCodes(c.Request().Context(), s.store)
	if err != nil {
		return err
	}
	spec, broken := ParseTokenSpec(req.Role, req.Scope, name, req.TTL, centres)
	if len(broken) > 0 {
		return ruleViolations(broken)
	}
	t, token, err := s.store.IssueToken(c.Request().Context(), spec, store.AuditToken(p.audit(store.AuditTokenCreated, "")))
	if err != nil {
		return err
	}
	answerOnce(c)
	return c.JSON(http.StatusCreated, createdTokenView{ID: t.ID, Token: token, Role: t.Role, Scope: t.Scope, Name: t.Name,
		CreatedAt: stamp(t.CreatedAt), ExpiresAt: stampPtr(t.ExpiresAt)})
}

func (s *Server) listTokens(c echo.Context) error {
	if _, err := requireRole(c, RoleAdmin); err != nil {
		return err
	}
	limit, after, err := pageParams(c)
	if err != nil {
		return err
	}
	rows, more, err := s.store.ListTokens(c.Request().Context(), after, limit)
	if err != nil {
		return err
	}
	out := listView[tokenView]{Items: make([]tokenView, 0, len(rows))}
	for _, t := range rows {
		out.Items = append(out.Items, viewToken(t))
	}
	if more {
		out.NextCursor = encodeCursor(rows[len(rows)-1].ID)
	}
	return c.JSON(http.StatusOK, out)
}

// revokeToken revokes a token for good; the next request with it answers
// 401 in every API process. Revoking a revoked token answers it unchanged.
func (s *Server) revokeToken(c echo.Context) error {
	p, err := requireRole(c, RoleAdmin)
	if err != nil {
		return err
	}
	t, err := s.store.RevokeToken(c.Request().Context(), c.Param("id"), s.now(), store.AuditToken(p.audit(store.AuditTokenRevoked, "")))
	if errors.Is(err, store.ErrNotFound) {
		return notFoundError("token")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewToken(t))
}
