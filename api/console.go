package api

import (
	"embed"
	"io/fs"
	"net/http"
	"path"

	"github.com/labstack/echo/v4"
)

// consoleFiles is the web console: one HTML page, one script, one style
// sheet, served as they are (no build step, nothing from a CDN).
//
//go:embed console/index.html console/book.html console/assets
var consoleFiles embed.FS

// consoleCSP allows only the console's own script and style sheet (no
// inline code, no eval) and calls to this origin; blob: lets the page offer
// a fetched PDF for download.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var consoleTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
}

// consoleRoutes serves the web console for caseworkers, embassies, banks,
// the post provider and admins, and GET /v1/whoami, which it signs in with.
// The page itself is public; every call it makes carries the bearer token
// the user typed in, so the API's own checks decide what is shown.
func (s *Server) consoleRoutes(e *echo.Echo) {
	e.GET("/console", serveConsolePage)
	e.GET("/console/assets/:name", serveConsoleAsset)

	who := e.Group("/v1/whoami", s.authenticate)
	who.GET("", s.whoami)
}

func consoleHeaders(c echo.Context) {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	// Assets are small and change with the binary; always revalidate.
	h.Set("Cache-Control", "no-cache")
}

func serveConsolePage(c echo.Context) error {
	page, err := consoleFiles.ReadFile("console/index.html")
	if err != nil {
		return err
	}
	consoleHeaders(c)
	return c.HTMLBlob(http.StatusOK, page)
}

func serveConsoleAsset(c echo.Context) error {
	name := c.Param("name")
	typ, ok := consoleTypes[path.Ext(name)]
	if !ok || name != path.Base(name) {
		return notFoundError("asset")
	}
	body, err := fs.ReadFile(consoleFiles, "console/assets/"+name)
	if err != nil {
		return notFoundError("asset")
	}
	consoleHeaders(c)
	return c.Blob(http.StatusOK, typ, body)
}

// ConsoleFile is one of the console's files (name relative to console/),
// for tests that read what the page calls.
func ConsoleFile(name string) ([]byte, error) { return consoleFiles.ReadFile("console/" + name) }
