package api

import (
	"context"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// limiterIdle is how long an unused bucket is kept; a bucket idle that long
// is full again anyway, so forgetting it changes nothing but memory.
const limiterIdle = 10 * time.Minute

// limiters are token buckets per key (a client address, a user ID): rate
// tokens per second, a burst of one second's worth.
type limiters struct {
	mu      sync.Mutex
	rate    rate.Limit
	burst   int
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

func newLimiters(perSecond float64) *limiters {
	burst := int(math.Ceil(perSecond))
	if burst < 1 {
		burst = 1
	}
	return &limiters{rate: rate.Limit(perSecond), burst: burst, buckets: map[string]*bucket{}}
}

// allow takes a token for key, or tells how long until one is there.
func (l *limiters) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[key] = b
	}
	b.used = now
	r := b.lim.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return false, delay
	}
	return true, 0
}

func (l *limiters) sweep(now time.Time) {
	if now.Sub(l.swept) < limiterIdle {
		return
	}
	for k, b := range l.buckets {
		if now.Sub(b.used) > limiterIdle {
			delete(l.buckets, k)
		}
	}
	l.swept = now
}

// tooMany is the 429 with Retry-After in whole seconds, at least one.
func tooMany(what string, wait time.Duration) *Error {
	e := newError(http.StatusTooManyRequests, "rate_limited", "too many requests from this %s; retry later", what)
	e.retryAfter = strconv.Itoa(int(math.Ceil(wait.Seconds())))
	if e.retryAfter == "0" {
		e.retryAfter = "1"
	}
	return e
}

// limitAddress rate-limits citizen endpoints per client address. The
// address is the connection's peer, not X-Forwarded-For, which any client
// can write; behind a proxy, configure it to keep its own limit.
func (c *citizenAPI) limitAddress(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		if err := limitByAddress(c.byAddress, ec); err != nil {
			return err
		}
		return next(ec)
	}
}

// rateLimit is NEMID_RATE_LIMIT, or its default for a Config not read from
// the environment.
func (s *Server) rateLimit() float64 {
	if s.cfg.RateLimit <= 0 {
		return defaultRateLimit
	}
	return s.cfg.RateLimit
}

// limitByAddress takes a token for the request's client address from l.
func limitByAddress(l *limiters, c echo.Context) error {
	host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
	if err != nil {
		host = c.Request().RemoteAddr
	}
	if ok, wait := l.allow(host, time.Now()); !ok {
		return tooMany("address", wait)
	}
	return nil
}

// limitUser rate-limits per NemID number, so that many addresses cannot
// hammer one credential faster than one address could.
func (c *citizenAPI) limitUser(_ context.Context, userID string) error {
	if ok, wait := c.byUser.allow(userID, time.Now()); !ok {
		return tooMany("user ID", wait)
	}
	return nil
}
