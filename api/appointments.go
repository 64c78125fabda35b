package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/letterkeys"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// The staff side of appointments (DESIGN.md §7), known by id: a centre's
// day, and the check-in that is the counter application; and the outbox of
// notifications the post provider sends.

type appointmentView struct {
	ID         string    `json:"id"`
	Centre     string    `json:"centre"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Status     string    `json:"status"`
	IssuanceID *string   `json:"issuance_id"`
	CPRMasked  string    `json:"cpr_masked"`
}

func viewAppointment(a store.Appointment) appointmentView {
	return appointmentView{ID: a.ID, Centre: a.Centre, Start: stamp(a.StartAt), End: stamp(a.EndAt), Status: a.Status,
		IssuanceID: a.IssuanceID, CPRMasked: a.CPRMasked}
}

// listAppointments is a centre's day in time order: a caseworker's own
// centre, or for an admin every centre's (or one's, with centre=).
func (s *Server) listAppointments(c echo.Context) error {
	p, err := requireRole(c, RoleCaseworker, RoleAdmin)
	if err != nil {
		return err
	}
	raw := c.QueryParam("date")
	if raw == "" {
		return badRequest("date is required: YYYY-MM-DD")
	}
	day, err := domain.ParseDate(raw)
	if err != nil {
		return badRequest("date must be a date YYYY-MM-DD")
	}
	centre := c.QueryParam("centre")
	if p.Role == RoleCaseworker {
		if centre != "" && centre != p.Scope {
			return newError(http.StatusForbidden, "forbidden", "your token is for centre %s, not %s", p.Scope, centre)
		}
		centre = p.Scope
	}
	rows, err := s.store.ListAppointments(c.Request().Context(), centre, day.In(domain.Copenhagen()), day.AddDays(1).In(domain.Copenhagen()))
	if err != nil {
		return err
	}
	out := listView[appointmentView]{Items: make([]appointmentView, 0, len(rows))}
	for _, r := range rows {
		out.Items = append(out.Items, viewAppointment(r))
	}
	return c.JSON(http.StatusOK, out)
}

// checkInRequest is the counter application's own fields; path, CPR and
// centre come from the appointment.
type checkInRequest struct {
	Documents            []domain.Document `json:"documents"`
	CheckQuestionsPassed bool              `json:"check_questions_passed"`
	Witness              *domain.Witness   `json:"witness"`
}

// checkIn applies at the counter for a booked person: it answers exactly
// what POST /v1/issuances answers (the same acceptance, acceptCounter),
// and on 201 the appointment is checked_in with the issuance's id before
// the answer. Any refusal (422, 409 open_issuance) leaves it booked.
func (s *Server) checkIn(c echo.Context) error {
	p, err := requireRole(c, RoleCaseworker)
	if err != nil {
		return err
	}
	var req checkInRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	a, err := s.store.GetAppointment(ctx, c.Param("id"), p.Scope)
	if errors.Is(err, store.ErrNotFound) {
		return notFoundError("appointment")
	}
	if err != nil {
		return err
	}
	if a.Status != store.AppointmentBooked {
		return newError(http.StatusConflict, "conflict", "the appointment is %s", a.Status)
	}
	if !s.now().Before(a.EndAt) {
		return newError(http.StatusConflict, "conflict", "the appointment's slot has ended")
	}
	res, err := s.temporal.QueryWorkflow(ctx, workflows.AppointmentWorkflowID(a.ID), "", workflows.QueryAppointmentCPR)
	if err != nil {
		return err
	}
	var cpr string
	if err := res.Get(&cpr); err != nil {
		return err
	}
	row, err := s.acceptCounter(c, p, issuanceRequest{Path: "counter", CPR: cpr, Centre: a.Centre, Documents: req.Documents,
		CheckQuestionsPassed: req.CheckQuestionsPassed, Witness: req.Witness})
	if err != nil {
		return err
	}
	outcome, err := s.appointmentUpdate(ctx, a.ID, workflows.UpdateCheckIn,
		workflows.CheckInRequest{IssuanceID: row.ID, Actor: p.Actor(), ActorName: p.Name, ActorTokenID: p.TokenID})
	if err != nil || outcome.Outcome != workflows.MoveDone {
		// The issuance is accepted and runs; only the appointment's record of
		// it failed (its slot ended meanwhile). Answer the issuance.
		s.log.WarnContext(ctx, "check-in: the appointment did not record the issuance", "appointment_id", a.ID,
			"issuance_id", row.ID, "outcome", outcome.Outcome, "error", errString(err))
	}
	return respondIssuance(c, http.StatusCreated, row)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

type notificationView struct {
	ID        string      `json:"id"`
	Kind      string      `json:"kind"`
	To        contactView `json:"to"`
	Text      *string     `json:"text"`
	Status    string      `json:"status"`
	CreatedAt time.Time   `json:"created_at"`
}

func (s *Server) viewNotification(n store.Notification) (notificationView, error) {
	v := notificationView{ID: n.ID, Kind: n.Kind, Status: n.Status, CreatedAt: stamp(n.CreatedAt)}
	if n.ToEmail != nil {
		v.To.Email = *n.ToEmail
	}
	if n.ToPhone != nil {
		v.To.Phone = *n.ToPhone
	}
	if n.Status == store.NotificationQueued && n.Body != nil {
		text, err := s.keys.Unseal(n.ID, n.Body)
		if err != nil && !errors.Is(err, letterkeys.ErrNoKey) {
			return v, err
		}
		if err == nil {
			t := string(text)
			v.Text = &t
		}
	}
	return v, nil
}

// listNotifications is the outbox for the post provider.
func (s *Server) listNotifications(c echo.Context) error {
	if _, err := requireRole(c, RolePost); err != nil {
		return err
	}
	limit, after, err := pageParams(c)
	if err != nil {
		return err
	}
	status := c.QueryParam("status")
	if err := oneOf("status", status, []string{store.NotificationQueued, store.NotificationSent}); err != nil {
		return err
	}
	rows, more, err := s.store.ListNotifications(c.Request().Context(), status, after, limit)
	if err != nil {
		return err
	}
	out := listView[notificationView]{Items: make([]notificationView, 0, len(rows))}
	for _, n := range rows {
		v, err := s.viewNotification(n)
		if err != nil {
			return err
		}
		out.Items = append(out.Items, v)
	}
	if more {
		out.NextCursor = encodeCursor(rows[len(rows)-1].ID)
	}
	noStore(c)
	return c.JSON(http.StatusOK, out)
}

// notificationSent records a notification sent: its key is destroyed and
// its text purged, so it is readable nowhere after.
func (s *Server) notificationSent(c echo.Context) error {
	p, err := requireRole(c, RolePost)
	if err != nil {
		return err
	}
	if err := decodeOptionalEmpty(c); err != nil {
		return err
	}
	ctx := c.Request().Context()
	n, err := s.store.GetNotification(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return notFoundError("notification")
	}
	if err != nil {
		return err
	}
	if err := s.keys.Destroy(n.ID); err != nil {
		return err
	}
	if n, err = s.store.MarkNotificationSent(ctx, n.ID, s.now(), p.audit(store.AuditNotificationSent, store.NotificationTarget(n.ID))); err != nil {
		return err
	}
	v, err := s.viewNotification(n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}
