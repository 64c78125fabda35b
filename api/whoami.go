package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

type whoamiView struct {
	Role  string `json:"role"`
	Scope string `json:"scope"`
	Name  string `json:"name"`
}

// whoami answers the role, scope and holder's name of the bearer token,
// whatever the role: the console signs in with it, greets the person and
// picks the views that role may use.
func (s *Server) whoami(c echo.Context) error {
	p, err := requireRole(c, RoleCaseworker, RoleEmbassy, RoleBank, RolePost, RoleAdmin)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, whoamiView{Role: p.Role, Scope: p.Scope, Name: p.Name})
}
