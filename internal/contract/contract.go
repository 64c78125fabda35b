// Package contract holds the API to its own document: every request and
// answer of the end-to-end tests is validated against api/openapi.json with
// kin-openapi's openapi3filter, so the document cannot drift from what the
// server does. Only tests use it.
package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/opennemid/nemid/api"
)

// Validator checks request/answer pairs against one OpenAPI document.
type Validator struct {
	router routers.Router
}

var (
	served     *Validator
	servedErr  error
	servedOnce sync.Once
)

// Served is the validator for the document the API serves at /openapi.json.
func Served() (*Validator, error) {
	servedOnce.Do(func() { served, servedErr = New(api.OpenAPIDocument()) })
	return served, servedErr
}

// New loads and validates an OpenAPI document.
func New(doc []byte) (*Validator, error) {
	registerDecoders()
	spec, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("load openapi.json: %w", err)
	}
	if err := spec.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.json is not a valid OpenAPI document: %w", err)
	}
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		return nil, fmt.Errorf("route openapi.json: %w", err)
	}
	return &Validator{router: router}, nil
}

var decodersOnce sync.Once

// registerDecoders lets non-JSON answers through to their content-type
// check: a PDF or a page is validated by its Content-Type, not parsed.
func registerDecoders() {
	decodersOnce.Do(func() {
		for _, ct := range []string{"application/pdf", "text/html", "text/javascript", "text/css", "image/svg+xml"} {
			openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
		}
	})
}

// Exchange is one request and the answer it got.
type Exchange struct {
	Request     *http.Request // its Body is not read; RequestBody is
	RequestBody []byte
	Status      int
	Header      http.Header
	Body        []byte
}

// Check reports how the exchange breaks the document, or nil:
//   - a request to a path or method the document does not name must have
//     been answered 404 or 405;
//   - a request the document does not allow (body, parameters, a body
//     where none is documented, a missing bearer token) must have been
//     refused with a 4xx;
//   - every answer's status must be documented for its operation, and its
//     headers, Content-Type and body must match what is documented there.
func (v *Validator) Check(x Exchange) error {
	req := x.Request.Clone(context.Background())
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		// A GET's body has no meaning in HTTP; the server ignores it (the
		// fuzzer sends some), so it is not held against the document.
		x.RequestBody = nil
	}
	req.Body = io.NopCloser(bytes.NewReader(x.RequestBody))
	req.ContentLength = int64(len(x.RequestBody))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(x.RequestBody)), nil }
	if req.URL.Host == "" {
		req.URL.Host = req.Host
	}
	if ProtocolPath(req.URL.Path) {
		return nil
	}
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		if x.Status == http.StatusNotFound || x.Status == http.StatusMethodNotAllowed {
			return nil
		}
		return fmt.Errorf("the route is not in openapi.json (%v) but was answered %d", err, x.Status)
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus:             true,
		RejectWhenRequestBodyNotSpecified: true,
		MultiError:                        true,
		AuthenticationFunc:                bearerPresent,
		// One line per violation, not the whole schema it broke.
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	var errs []error
	if reqErr := openapi3filter.ValidateRequest(context.Background(), in); reqErr != nil && (x.Status < 400 || x.Status > 499) {
		errs = append(errs, fmt.Errorf("the document does not allow the request (%v), yet it was answered %d", reqErr, x.Status))
	}
	// The request's body was consumed by its validation; the answer's
	// validation needs only the route.
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: x.Status, Header: x.Header, Options: opts}
	out.SetBodyBytes(x.Body)
	if resErr := openapi3filter.ValidateResponse(context.Background(), out); resErr != nil {
		errs = append(errs, fmt.Errorf("the answer breaks the document: %w", resErr))
	}
	return errors.Join(errs...)
}

// ProtocolPath reports whether a path belongs to the OpenID Connect
// provider (DESIGN.md §11): discovery, JWKS, authorize, token, userinfo,
// end_session and revoke, served by zitadel/oidc and specified by OpenID
// Connect Core/Discovery and RFC 6749/7009/7636 rather than by
// openapi.json, and its HTML login pages. Their exchanges are not checked
// against the document; the OIDC tests (e2e/oidc_test.go) drive them with
// the library's relying party, which checks the protocol.
func ProtocolPath(path string) bool {
	return path == "/.well-known/openid-configuration" || strings.HasPrefix(path, "/oidc/")
}

// bearerPresent accepts a request when it carries the bearer header the
// security scheme asks for; whether the token is good is the server's to say.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme := in.SecurityScheme
	if scheme.Type != "http" || !strings.EqualFold(scheme.Scheme, "bearer") {
		return fmt.Errorf("unexpected security scheme %s %s", scheme.Type, scheme.Scheme)
	}
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if !strings.HasPrefix(h, "Bearer ") {
		return errors.New("no Authorization: Bearer header")
	}
	return nil
}

// Describe names an exchange in a failure message.
func Describe(x Exchange) string {
	return fmt.Sprintf("%s %s → %d", x.Request.Method, x.Request.URL.RequestURI(), x.Status)
}
