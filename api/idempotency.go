package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/store"
)

const maxIdempotencyKeyLen = 200

// idempotencyClaim is where the middleware leaves the request's claim
// (store.IdempotencyKey) for a handler that derives ids from it.
const idempotencyClaim = "idempotency.claim"

// idempotencyOnce marks an answer that carries a secret shown once (a new
// token): it is never kept, and a replay of its key answers 410 (see
// answerOnce).
const idempotencyOnce = "idempotency.once"

// statusClientClosed is what a request whose client went away answers
// (classify): no answer to keep.
const statusClientClosed = 499

// idempotent makes a POST with an Idempotency-Key answer its first answer
// again for 24 hours (store.IdempotencyKeyTTL; an older key is unused). The
// key is scoped to the principal, or for anonymous callers to the client
// address; reusing it for a different request is refused, and a request
// still running answers 409 — for store.IdempotencyLease: a claim held
// longer than that (its process died) is taken over by the next retry.
func (s *Server) idempotent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := c.Request().Header.Get("Idempotency-Key")
		if c.Request().Method != http.MethodPost || key == "" {
			return next(c)
		}
		if len(key) > maxIdempotencyKeyLen {
			return badRequest("Idempotency-Key is longer than %d characters", maxIdempotencyKeyLen)
		}
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return badRequest("could not read the body")
		}
		c.Request().Body = io.NopCloser(bytes.NewReader(body))
		principal := idempotencyPrincipal(c)
		sum := sha256.Sum256(append([]byte(c.Request().URL.Path+"\n"), body...))
		// The route's pattern is kept, not the path: a booking's path holds
		// its reference, which the database keeps only hashed.
		claim := store.IdempotencyKey{Principal: principal, Key: key, Method: http.MethodPost,
			Path: c.Path(), RequestHash: hex.EncodeToString(sum[:])}
		ctx := c.Request().Context()
		s.housekeeping(ctx)
		prior, claimed, err := s.store.ClaimIdempotencyKey(ctx, claim)
		if err != nil {
			return err
		}
		if !claimed {
			return replay(c, prior, claim.RequestHash)
		}
		c.Set(idempotencyClaim, prior)
		rec := &recorder{ResponseWriter: c.Response().Writer}
		c.Response().Writer = rec
		err = next(c)
		if err != nil {
			s.errorHandler(err, c)
		}
		status := c.Response().Status
		if once, _ := c.Get(idempotencyOnce).(bool); once && status < 300 {
			// The secret was answered once: what is kept says so instead.
			return s.store.CompleteIdempotencyKey(context.WithoutCancel(ctx), principal, key, http.StatusGone, answeredOnceBody)
		}
		json := strings.HasPrefix(c.Response().Header().Get(echo.HeaderContentType), echo.MIMEApplicationJSON)
		// The claim is settled even when the client has gone: a claim left
		// running would answer its retries 409 until the lease ends.
		ctx = context.WithoutCancel(ctx)
		if status >= 500 || status == http.StatusTooManyRequests || status == statusClientClosed || !json {
			// Our failure or the client's absence, not an answer, or a
			// document (a PDF holds secrets and is served once): keep
			// nothing, let a retry run again.
			return s.store.ReleaseIdempotencyKey(ctx, principal, key)
		}
		return s.store.CompleteIdempotencyKey(ctx, principal, key, status, rec.body.Bytes())
	}
}

// idempotencyPrincipal is whose key space an Idempotency-Key lives in: a
// token holder's own; a citizen's session's own (identified by the token's
// hash, as the sessions table keeps it), so two sessions behind one address
// never answer each other's requests; otherwise the client address, so one
// anonymous caller's key never answers another's request.
func idempotencyPrincipal(c echo.Context) string {
	if p, ok := principalOf(c); ok {
		return p.TokenID
	}
	if token, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer "); ok && strings.TrimSpace(token) != "" {
		return "session:" + store.HashToken(strings.TrimSpace(token))
	}
	return "anonymous:" + clientAddress(c)
}

// answeredOnceBody is what a replay of a key whose answer carried a secret
// hears.
var answeredOnceBody = []byte(`{"error":{"code":"gone","message":"the first answer to this Idempotency-Key carried a secret that is shown only once; it was not kept"}}`)

// answerOnce marks the answer as one that carries a secret: not stored in
// any cache (Cache-Control: no-store) and never kept for an
// Idempotency-Key replay, which answers 410 instead.
func answerOnce(c echo.Context) {
	c.Set(idempotencyOnce, true)
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
}

func replay(c echo.Context, prior store.IdempotencyKey, requestHash string) error {
	if prior.RequestHash != requestHash {
		return newError(http.StatusUnprocessableEntity, "idempotency_key_reused",
			"this Idempotency-Key was used for a different request")
	}
	if prior.StatusCode <= 0 {
		return newError(http.StatusConflict, "idempotency_in_progress",
			"the first request with this Idempotency-Key is still running; retry shortly")
	}
	c.Response().Header().Set("Idempotent-Replayed", "true")
	return c.Blob(prior.StatusCode, echo.MIMEApplicationJSON, prior.ResponseBody)
}

// recorder keeps a copy of the response body for replay.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
