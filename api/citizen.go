package api

import "github.com/labstack/echo/v4"

// citizenRoutes registers the routes citizens call with their credentials
// rather than a token: activation, logon, /v1/me, and support.
func (s *Server) citizenRoutes(e *echo.Echo) {}
