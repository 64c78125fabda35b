package api

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDocument is hand-kept beside the handlers; a test fails when a
// route is served that the document does not describe.
//
//go:embed openapi.json
var openAPIDocument []byte

func serveOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIDocument)
}

// OpenAPIDocument is the served spec, for tests that hold the API to it.
func OpenAPIDocument() []byte { return append([]byte(nil), openAPIDocument...) }
