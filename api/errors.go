package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// Detail is one broken rule: {"code","message"}.
type Detail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is the one error shape of the API:
// {"error":{"code","message","details":[…]}}.
type Error struct {
	Status     int      `json:"-"`
	Code       string   `json:"code"`
	Message    string   `json:"message"`
	Details    []Detail `json:"details,omitempty"`
	IssuanceID string   `json:"issuance_id,omitempty"`
	retryAfter string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func newError(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "invalid_request", format, args...)
}

func notFoundError(what string) *Error {
	return newError(http.StatusNotFound, "not_found", "%s not found", what)
}

// ruleViolations is the 422 listing every broken rule.
func ruleViolations(details []Detail) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "rules_broken",
		Message: fmt.Sprintf("%d rule(s) broken; see details", len(details)), Details: details}
}

func unavailable(what string) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
		Message: what + " is unreachable; try again shortly", retryAfter: "5"}
}

// errorHandler renders every error in the contract's shape. Anything it does
// not recognise is a bug: logged, and answered 500 without internals.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	apiErr := s.classify(err)
	if apiErr.Status >= 500 {
		s.log.ErrorContext(c.Request().Context(), "request failed", "method", c.Request().Method,
			"route", c.Path(), "status", apiErr.Status, "error", err.Error())
	}
	if apiErr.retryAfter != "" {
		c.Response().Header().Set("Retry-After", apiErr.retryAfter)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(apiErr.Status)
		return
	}
	if werr := c.JSON(apiErr.Status, map[string]*Error{"error": apiErr}); werr != nil {
		s.log.Error("write error response", "error", werr)
	}
}

func (s *Server) classify(err error) *Error {
	var apiErr *Error
	var httpErr *echo.HTTPError
	var appErr *temporal.ApplicationError
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.As(err, &httpErr):
		return fromEchoError(httpErr)
	case errors.As(err, &appErr):
		return fromWorkflowError(appErr)
	case isTemporalUnavailable(err):
		return unavailable("the workflow engine")
	case store.IsUnavailable(err):
		return unavailable("the database")
	case errors.Is(err, context.Canceled):
		return newError(statusClientClosed, "client_closed", "the client closed the request")
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return notFoundError("workflow")
	}
	return newError(http.StatusInternalServerError, "internal", "internal error")
}

func fromEchoError(e *echo.HTTPError) *Error {
	code := map[int]string{
		http.StatusNotFound:              "not_found",
		http.StatusMethodNotAllowed:      "method_not_allowed",
		http.StatusRequestEntityTooLarge: "request_too_large",
		http.StatusUnsupportedMediaType:  "unsupported_media_type",
		http.StatusTooManyRequests:       "rate_limited",
		http.StatusUnauthorized:          "unauthorized",
		http.StatusBadRequest:            "invalid_request",
	}[e.Code]
	if code == "" {
		code = "error"
	}
	return newError(e.Code, code, "%v", e.Message)
}

// fromWorkflowError maps a workflow's refusal (an Update validator or
// handler) onto the HTTP status its type names.
func fromWorkflowError(e *temporal.ApplicationError) *Error {
	switch e.Type() {
	case workflows.ErrTypeConflict:
		return newError(http.StatusConflict, "conflict", "%s", e.Message())
	case workflows.ErrTypeInvalid:
		return newError(http.StatusUnprocessableEntity, "invalid", "%s", e.Message())
	}
	return newError(http.StatusInternalServerError, "internal", "internal error")
}

func isTemporalUnavailable(err error) bool {
	var unavail *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	return errors.As(err, &unavail) || errors.As(err, &deadline)
}
