package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
)

// Roles a token can carry (DESIGN.md §4).
const (
	RoleCaseworker = "caseworker"
	RoleEmbassy    = "embassy"
	RoleBank       = "bank"
	RolePost       = "post"
	RoleAdmin      = "admin"
)

// Principal is who is calling, from a verified token. Name is the token's
// holder (a person or a system), empty for a citizen.
type Principal struct {
	TokenID string
	Role    string
	Scope   string
	Name    string
}

// Actor is how the principal appears on a timeline.
func (p Principal) Actor() string { return p.Role + ":" + p.Scope }

// ActorName is the name beside Actor on a timeline: nil for a citizen.
func (p Principal) ActorName() *string { return store.NameOrNil(p.Name) }

// readScope is what the principal may read: its action scope and, for a
// caseworker, every bank-path issuance too (people bring them to any
// centre, e.g. for the public-signature upgrade; DESIGN.md §4).
func (p Principal) readScope() store.Scope {
	sc := p.storeScope()
	sc.BankPathToo = p.Role == RoleCaseworker
	return sc
}

// storeScope turns the principal into the restriction on what it may act
// on (cancel, hand over, confirm a pickup).
func (p Principal) storeScope() store.Scope {
	switch p.Role {
	case RoleCaseworker:
		return store.Scope{Centre: p.Scope}
	case RoleEmbassy:
		return store.Scope{Representation: p.Scope}
	case RoleBank:
		return store.Scope{Bank: p.Scope}
	}
	return store.Scope{}
}

const principalKey = "principal"

// authenticate verifies a bearer token when one is sent and remembers the
// principal; routes decide with requireRole whether one is needed. The
// token's row is read on every request (no process caches it), so a
// revoked or expired token is refused at once by every API process; its
// last use is written at most once per store.TokenTouchInterval.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		header := c.Request().Header.Get(echo.HeaderAuthorization)
		if header == "" {
			return next(c)
		}
		token, ok := strings.CutPrefix(header, "Bearer ")
		if !ok || strings.TrimSpace(token) == "" {
			return newError(http.StatusUnauthorized, "unauthorized", "use Authorization: Bearer <token>")
		}
		ctx := c.Request().Context()
		t, err := s.store.TokenByValue(ctx, strings.TrimSpace(token))
		if errors.Is(err, store.ErrNotFound) {
			return newError(http.StatusUnauthorized, "unauthorized", "unknown, revoked or expired token")
		}
		if err != nil {
			return err
		}
		if now := time.Now(); t.TokenNeedsTouch(now) {
			if err := s.store.TouchToken(ctx, t.ID, now); err != nil {
				return fmt.Errorf("record the use of token %s: %w", t.ID, err)
			}
		}
		c.Set(principalKey, Principal{TokenID: t.ID, Role: t.Role, Scope: t.Scope, Name: t.Name})
		return next(c)
	}
}

func principalOf(c echo.Context) (Principal, bool) {
	p, ok := c.Get(principalKey).(Principal)
	return p, ok
}

// requireRole answers 401 without a token and 403 for a role not listed.
func requireRole(c echo.Context, roles ...string) (Principal, error) {
	p, ok := principalOf(c)
	if !ok {
		return Principal{}, newError(http.StatusUnauthorized, "unauthorized", "this route needs Authorization: Bearer <token>")
	}
	for _, r := range roles {
		if p.Role == r {
			return p, nil
		}
	}
	return Principal{}, newError(http.StatusForbidden, "forbidden", "role %s may not do this (allowed: %s)", p.Role, strings.Join(roles, ", "))
}

// ValidRole reports whether role is one tokens may carry; used by the CLI.
func ValidRole(role string) bool {
	switch role {
	case RoleCaseworker, RoleEmbassy, RoleBank, RolePost, RoleAdmin:
		return true
	}
	return false
}

// ValidScope checks that a token's scope fits its role: a caseworker's is
// one of centres (the codes of the store's centres: the built-in ones and
// those `nemid centres import` added), an embassy's a representation, a
// bank's a registration number, post's "post" and admin's "all".
func ValidScope(role, scope string, centres []string) error {
	switch role {
	case RoleCaseworker:
		if !slices.Contains(centres, scope) {
			return fmt.Errorf("caseworker scope must be the code of a centre (GET /v1/centres): %s", strings.Join(centres, ", "))
		}
	case RoleEmbassy:
		if _, ok := domain.FindRepresentation(domain.BuiltinRepresentations(), scope); !ok {
			return fmt.Errorf("embassy scope must be a representation code such as LONDON or PARIS")
		}
	case RoleBank:
		if len(scope) != 4 || strings.Trim(scope, "0123456789") != "" {
			return fmt.Errorf("bank scope must be the bank's 4-digit registration number")
		}
	case RolePost:
		if scope != "post" {
			return fmt.Errorf("post scope must be post")
		}
	case RoleAdmin:
		if scope != "all" {
			return fmt.Errorf("admin scope must be all")
		}
	}
	return nil
}
