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
		// Anonymous callers share no key space: each client address has its
		// own, so one caller's key never answers another's request.
		principal := "anonymous:" + clientAddress(c)
		if p, ok := principalOf(c); ok {
			principal = p.TokenID
		}
		sum := sha256.Sum256(append([]byte(c.Request().URL.Path+"\n"), body...))
		claim := store.IdempotencyKey{Principal: principal, Key: key, Method: http.MethodPost,
			Path: c.Request().URL.Path, RequestHash: hex.EncodeToString(sum[:])}
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
