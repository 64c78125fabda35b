package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/labstack/echo/v4"
)

// decodeStrict reads exactly one JSON object into v, refusing unknown
// fields, wrong types and trailing data, with a message a client can act on.
// The Content-Type is not checked: `curl -d` labels JSON as a form, and the
// body itself says whether it is JSON.
func decodeStrict(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("%s", describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("the body must hold exactly one JSON object")
	}
	return nil
}

func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "the body is empty; send a JSON object"
	case errors.As(err, &syntax):
		return fmt.Sprintf("malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typeErr):
		return fmt.Sprintf("field %q must be a JSON %s", typeErr.Field, typeErr.Type.Kind())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON body ends too early"
	}
	return "malformed JSON: " + err.Error()
}

// decodeOptionalEmpty accepts an empty body or an empty JSON object, for
// actions that take no input (logout).
func decodeOptionalEmpty(c echo.Context) error {
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, 1<<10))
	if err != nil {
		return badRequest("could not read the body")
	}
	if strings.TrimSpace(string(raw)) == "" {
		return nil
	}
	var empty struct{}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&empty); err != nil {
		return badRequest("%s; send no body or {}", describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("the body must be empty or {}")
	}
	return nil
}
