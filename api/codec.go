package api

import (
	"io"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// codecRoutes serve Temporal's remote codec protocol (DESIGN.md §8) so that
// an operator reads workflow payloads in the Temporal Web UI: the UI posts
// {"payloads":[…]} to <endpoint>/decode and shows what comes back. Only
// decoding is offered — nobody needs the API to encrypt — and only to an
// admin token, since what comes back is the plaintext (CPR numbers among it).
// The UI runs on another origin, so CORS allows exactly the configured ones
// (NEMID_UI_ORIGIN); a preflight carries no token and is answered without one.
func (s *Server) codecRoutes(e *echo.Echo) {
	g := e.Group("/codec", middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins:     s.cfg.UIOrigins(),
		AllowMethods:     []string{http.MethodPost},
		AllowHeaders:     []string{echo.HeaderAuthorization, echo.HeaderContentType, "X-Namespace"},
		AllowCredentials: true,
		MaxAge:           600,
	}))
	g.OPTIONS("/decode", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	g.POST("/decode", s.decodePayloads, s.authenticate)
}

func (s *Server) decodePayloads(c echo.Context) error {
	if _, err := requireRole(c, RoleAdmin); err != nil {
		return err
	}
	if s.codec == nil {
		return unavailable("the payload codec")
	}
	raw, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return badRequest("read the body: %v", err)
	}
	var in commonpb.Payloads
	if err := protojson.Unmarshal(raw, &in); err != nil {
		return badRequest("want {\"payloads\":[{\"metadata\":{…},\"data\":\"…\"}]}: %v", err)
	}
	out, err := s.codec.Decode(in.Payloads)
	if err != nil {
		return newError(http.StatusBadRequest, "undecodable", "the payloads do not decode with this server's keys: %v", err)
	}
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
	if err != nil {
		return err
	}
	// The answer is plaintext of what history keeps encrypted.
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSONBlob(http.StatusOK, body)
}
