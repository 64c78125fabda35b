package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
)

// Rate limits are token buckets of NEMID_RATE_LIMIT tokens per second and a
// burst of one second's worth, kept in the database (store.TakeToken), so
// that every API process draws from the same buckets (DESIGN.md §9). A
// bucket belongs to one kind of key and one value of it.
const (
	bucketCitizenAddress = "citizen-address" // citizen routes, per client address
	bucketUser           = "user"            // activation and logon, per NemID number
	bucketOrderAddress   = "order-address"   // anonymous abroad orders, per client address
)

// tooMany is the 429 with Retry-After in whole seconds, at least one.
func tooMany(what string, wait time.Duration) *Error {
	e := newError(http.StatusTooManyRequests, "rate_limited", "too many requests %s; retry later", what)
	e.retryAfter = strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
	return e
}

// rateLimit is NEMID_RATE_LIMIT, or its default for a Config not read from
// the environment.
func (s *Server) rateLimit() float64 {
	if s.cfg.RateLimit <= 0 {
		return defaultRateLimit
	}
	return s.cfg.RateLimit
}

// burst is one second's worth of requests, at least one.
func (s *Server) burst() int { return max(1, int(math.Ceil(s.rateLimit()))) }

// takeToken takes a token from the bucket of kind for value, or answers the
// 429. A database that cannot decide is an error (503 when unreachable):
// a request is never let through unlimited.
func (s *Server) takeToken(ctx context.Context, kind, value, what string) error {
	s.housekeeping(ctx)
	ok, wait, err := s.store.TakeToken(ctx, s.bucketName(kind, value), s.rateLimit(), s.burst(), time.Now())
	if err != nil {
		return fmt.Errorf("rate limit %s: %w", kind, err)
	}
	if !ok {
		return tooMany(what, wait)
	}
	return nil
}

// bucketName keys a bucket by a keyed hash of its value, so the table holds
// neither client addresses nor NemID numbers.
func (s *Server) bucketName(kind, value string) string {
	m := hmac.New(sha256.New, s.hashKey)
	m.Write([]byte(kind + "\x00" + value))
	return kind + ":" + hex.EncodeToString(m.Sum(nil))
}

// clientAddress is the connection's peer, not X-Forwarded-For, which any
// client can write; behind a proxy, configure it to keep its own limit.
func clientAddress(c echo.Context) string {
	host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
	if err != nil {
		return c.Request().RemoteAddr
	}
	return host
}

// limitAddress rate-limits citizen endpoints per client address.
func (c *citizenAPI) limitAddress(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		if err := c.takeToken(ec.Request().Context(), bucketCitizenAddress, clientAddress(ec), "from this address"); err != nil {
			return err
		}
		return next(ec)
	}
}

// limitUser rate-limits per NemID number, so that many addresses cannot
// hammer one credential faster than one address could. Call it before any
// secret is checked: a 429 checks and counts nothing.
func (c *citizenAPI) limitUser(ctx context.Context, userID string) error {
	return c.takeToken(ctx, bucketUser, userID, "for this user ID")
}

// limitOrderAddress rate-limits anonymous abroad orders per client address.
func (s *Server) limitOrderAddress(c echo.Context) error {
	return s.takeToken(c.Request().Context(), bucketOrderAddress, clientAddress(c), "from this address")
}

// limitOrdersFor counts an abroad order against its CPR number: at most
// store.AbroadOrdersPerCPR in any 24 hours (DESIGN.md §9), whoever orders
// from wherever, keyed by the CPR lookup hash (never the plain number).
//
// Every order that carries a valid CPR number and gets this far counts,
// whatever it then answers (201, 409, 422 with any code, or a 503 from
// Temporal): the register is consulted for each of them, so a refused
// order is no free probe. Unknown and known CPR numbers count alike (the
// 429 itself must not tell them apart). An order this limit refuses is
// not counted: it consulted nothing, and not counting it keeps the window
// at 24 hours after the fifth counted order, and the table at one row per
// CPR with five times in it.
func (s *Server) limitOrdersFor(ctx context.Context, cpr domain.CPR) error {
	ok, wait, err := s.store.TakeAbroadOrder(ctx, domain.CPRLookupHash(s.hashKey, cpr), time.Now())
	if err != nil {
		return fmt.Errorf("count the abroad order: %w", err)
	}
	if !ok {
		return tooMany(fmt.Sprintf("for this CPR number: at most %d orders in 24 hours", store.AbroadOrdersPerCPR), wait)
	}
	return nil
}
