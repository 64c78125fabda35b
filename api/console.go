package api

import "github.com/labstack/echo/v4"

// consoleRoutes serves the web console for caseworkers, embassies, banks,
// the post provider and admins.
func (s *Server) consoleRoutes(e *echo.Echo) {}
