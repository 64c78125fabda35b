package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/domain"
)

type supportView struct {
	Phone      string  `json:"phone"`
	OpenNow    bool    `json:"open_now"`
	HoursToday *string `json:"hours_today"`
}

// support tells whether telephone support is open now and today's hours in
// Europe/Copenhagen ("08:30-20:00", or null on a day closed throughout).
func (c *citizenAPI) support(ec echo.Context) error {
	open, hours := domain.SupportStatus(c.now())
	return ec.JSON(http.StatusOK, supportView{Phone: domain.SupportPhone, OpenNow: open, HoursToday: hours})
}
