package api

import (
	"crypto/subtle"
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
	preflight := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
	g.OPTIONS("/decode", preflight)
	g.POST("/decode", s.decodeForAdmins, s.authenticate)
	if s.cfg.DevUICodecSecret != "" {
		// `nemid dev` only: its dev server's Web UI has no sign-in, so it
		// cannot send an admin token; it gets a capability URL instead,
		// made afresh at each start and known only to that UI (which is
		// served on loopback and shows every workflow anyway).
		g.OPTIONS("/dev/:secret/decode", preflight)
		g.POST("/dev/:secret/decode", s.decodeForTheDevUI)
	}
}

func (s *Server) decodeForAdmins(c echo.Context) error {
	if _, err := requireRole(c, RoleAdmin); err != nil {
		return err
	}
	return s.decodePayloads(c)
}

func (s *Server) decodeForTheDevUI(c echo.Context) error {
	if subtle.ConstantTimeCompare([]byte(c.Param("secret")), []byte(s.cfg.DevUICodecSecret)) != 1 {
		return notFoundError("codec endpoint")
	}
	return s.decodePayloads(c)
}

// decodePayloads answers the plaintext of the payloads posted: the caller
// has been let through.
func (s *Server) decodePayloads(c echo.Context) error {
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
