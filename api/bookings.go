package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/opennemid/nemid/activities"
	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// The public side of appointments (DESIGN.md §7): centres, free slots and
// bookings, known only by their reference. Anonymous, rate limited per
// client address, and no register oracle: a booking checks only what the
// CPR number itself tells; the register is consulted at check-in.

// appointmentRoutes registers the public routes of appointments and the
// staff's (on staff: authenticated, idempotent).
func (s *Server) appointmentRoutes(e *echo.Echo, staff *echo.Group) {
	c := &citizenAPI{Server: s}
	e.GET("/v1/centres", s.listCentres, c.limitAddress)
	e.GET("/v1/centres/:code/slots", s.centreSlots, c.limitAddress)
	e.POST("/v1/bookings", s.book, c.limitAddress, s.idempotent)
	e.GET("/v1/bookings/:reference", s.getBooking, c.limitAddress)
	e.POST("/v1/bookings/:reference/confirm", s.confirmBooking, c.limitAddress, s.idempotent)
	e.POST("/v1/bookings/:reference/cancel", s.cancelBooking, c.limitAddress, s.idempotent)
	e.POST("/v1/bookings/:reference/reschedule", s.rescheduleBooking, c.limitAddress, s.idempotent)
	e.GET("/book", serveBookingPage)

	staff.GET("/appointments", s.listAppointments)
	staff.POST("/appointments/:id/check-in", s.checkIn)
	staff.GET("/notifications", s.listNotifications)
	staff.POST("/notifications/:id/sent", s.notificationSent)
}

type centreView struct {
	Code        string             `json:"code"`
	Name        string             `json:"name"`
	Kind        string             `json:"kind"`
	Address     string             `json:"address"`
	Postcode    string             `json:"postcode"`
	City        string             `json:"city"`
	Hours       map[string]*string `json:"hours"`
	SlotMinutes int                `json:"slot_minutes"`
	Desks       int                `json:"desks"`
}

func viewCentre(c domain.ServiceCentre) centreView {
	v := centreView{Code: c.Code, Name: c.Name, Kind: c.Kind, Address: c.Address, Postcode: c.Postcode, City: c.City,
		Hours: map[string]*string{}, SlotMinutes: c.SlotMinutes, Desks: c.Desks}
	for i, day := range domain.Weekdays {
		if h := c.Hours[i]; h != "" {
			v.Hours[day] = &h
		} else {
			v.Hours[day] = nil
		}
	}
	return v
}

func (s *Server) listCentres(c echo.Context) error {
	centres, err := s.store.ListCentres(c.Request().Context())
	if err != nil {
		return err
	}
	out := listView[centreView]{Items: make([]centreView, 0, len(centres))}
	for _, ce := range centres {
		out.Items = append(out.Items, viewCentre(ce))
	}
	return c.JSON(http.StatusOK, out)
}

type slotView struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Free  int       `json:"free"`
}

// centreSlots lists a centre's free slots in [from, to] (inclusive
// Copenhagen dates, at most 31 days; both default to today): none past,
// none full, none on a holiday.
func (s *Server) centreSlots(c echo.Context) error {
	ctx := c.Request().Context()
	centre, err := s.store.GetCentre(ctx, c.Param("code"))
	if errors.Is(err, store.ErrNotFound) {
		return notFoundError("centre")
	}
	if err != nil {
		return err
	}
	now := s.now()
	from, to, err := dateRange(c.QueryParam("from"), c.QueryParam("to"), domain.DateOf(now))
	if err != nil {
		return err
	}
	loads, err := s.store.SlotLoads(ctx, centre.Code, from.In(domain.Copenhagen()), to.AddDays(1).In(domain.Copenhagen()))
	if err != nil {
		return err
	}
	out := listView[slotView]{Items: []slotView{}}
	for d := from; !d.After(to); d = d.AddDays(1) {
		for _, start := range centre.SlotStarts(d) {
			free := centre.Desks - loads[start]
			if start.After(now) && free > 0 {
				out.Items = append(out.Items, slotView{Start: start, End: start.Add(centre.SlotLength()), Free: free})
			}
		}
	}
	return c.JSON(http.StatusOK, out)
}

// dateRange reads from and to (inclusive dates, both defaulting to today,
// to defaulting to from) and holds them to MaxSlotRangeDays.
func dateRange(rawFrom, rawTo string, today domain.Date) (domain.Date, domain.Date, error) {
	from, to := today, domain.Date{}
	var err error
	if rawFrom != "" {
		if from, err = domain.ParseDate(rawFrom); err != nil {
			return from, to, badRequest("from must be a date YYYY-MM-DD")
		}
	}
	to = from
	if rawTo != "" {
		if to, err = domain.ParseDate(rawTo); err != nil {
			return from, to, badRequest("to must be a date YYYY-MM-DD")
		}
	}
	if to.Before(from) {
		return from, to, badRequest("to must not be before from")
	}
	if !to.Before(from.AddDays(domain.MaxSlotRangeDays)) {
		return from, to, badRequest("at most %d days at a time", domain.MaxSlotRangeDays)
	}
	return from, to, nil
}

type contactView struct {
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

type bookingRequest struct {
	CPR     string       `json:"cpr"`
	Centre  string       `json:"centre"`
	Start   *time.Time   `json:"start"`
	Contact *contactView `json:"contact"`
}

type bookingView struct {
	Reference string    `json:"reference"`
	Centre    string    `json:"centre"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Status    string    `json:"status"`
}

func viewBooking(reference string, a store.Appointment) bookingView {
	return bookingView{Reference: domain.NormalReference(reference), Centre: a.Centre, Start: stamp(a.StartAt),
		End: stamp(a.EndAt), Status: a.Status}
}

var phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 ]{6,18}[0-9]$`)

// checkContact: exactly one of an e-mail address or a phone number.
func checkContact(ct *contactView) []Detail {
	bad := func(msg string) []Detail { return []Detail{{Code: "contact_invalid", Message: msg}} }
	switch {
	case ct == nil || (ct.Email == "") == (ct.Phone == ""):
		return bad("give the contact as exactly one of email or phone")
	case ct.Email != "" && (len(ct.Email) > 254 || strings.Count(ct.Email, "@") != 1 || strings.ContainsAny(ct.Email, " \t\r\n") ||
		strings.HasPrefix(ct.Email, "@") || !strings.Contains(ct.Email[strings.Index(ct.Email, "@"):], ".")):
		return bad("the e-mail address is not one")
	case ct.Phone != "" && !phonePattern.MatchString(ct.Phone):
		return bad("the phone number is not one")
	}
	return nil
}

// book records an unconfirmed booking holding its slot, queues its
// confirmation code to the contact and starts its workflow.
func (s *Server) book(c echo.Context) error {
	var req bookingRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	now := s.now()
	cpr, violations := domain.CheckBooker(req.CPR, now)
	problems := details(violations)
	problems = append(problems, checkContact(req.Contact)...)
	centre, err := s.store.GetCentre(ctx, req.Centre)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var start time.Time
	if req.Start != nil {
		start = req.Start.UTC()
	}
	if err != nil || req.Start == nil || !start.After(now) || !centre.IsSlotStart(start) {
		problems = append(problems, Detail{Code: domain.CodeSlotUnknown,
			Message: "the centre has no slot starting then: pick one from GET /v1/centres/{code}/slots"})
	}
	if len(problems) > 0 {
		return ruleViolations(problems)
	}
	id := uuid.Must(uuid.NewV7()).String()
	reference, err := domain.NewReference(centre.Code)
	if err != nil {
		return err
	}
	code, err := domain.NewBookingCode()
	if err != nil {
		return err
	}
	mac := domain.BookingCodeMAC(s.hashKeys, id, code)
	appt := store.Appointment{ID: id, ReferenceHash: domain.ReferenceLookupHash(s.hashKey, reference), Centre: centre.Code,
		StartAt: start, EndAt: start.Add(centre.SlotLength()), Status: store.AppointmentUnconfirmed,
		CPRHash: domain.CPRLookupHash(s.hashKey, cpr), CPRMasked: cpr.Masked(), CodeMAC: &mac,
		ConfirmBy: now.Add(domain.BookingWindow), CreatedAt: now, UpdatedAt: now}
	n := store.Notification{ID: uuid.NewString(), DedupeKey: "booking_confirmation:" + id, AppointmentID: &appt.ID,
		Kind: activities.NotificationBookingConfirmation, Status: store.NotificationQueued, CreatedAt: now}
	if e := req.Contact.Email; e != "" {
		appt.ContactEmail, n.ToEmail = &e, &e
	} else {
		p := req.Contact.Phone
		appt.ContactPhone, n.ToPhone = &p, &p
	}
	text := fmt.Sprintf("Your confirmation code for the appointment at %s on %s is %s. It is valid for 15 minutes.",
		centre.Name, start.In(domain.Copenhagen()).Format("2006-01-02 15:04"), code)
	if n.Body, err = s.keys.Seal(n.ID, []byte(text)); err != nil {
		return fmt.Errorf("seal the confirmation code: %w", err)
	}
	err = s.store.Book(ctx, store.Booking{Appointment: appt, Desks: centre.Desks, Notification: n})
	if err != nil {
		s.destroyNotificationKey(ctx, n.ID)
	}
	switch {
	case errors.Is(err, store.ErrSlotFull):
		return newError(http.StatusConflict, "slot_full", "every desk of that slot is booked: pick another")
	case errors.Is(err, store.ErrOpenAppointment):
		return newError(http.StatusConflict, "open_appointment", "this person already has a confirmed appointment")
	case err != nil:
		return err
	}
	if err := s.startAppointment(ctx, appt, cpr); err != nil {
		return err
	}
	// The reference is the booking's only key and is kept only hashed: the
	// answer is never kept for an Idempotency-Key replay (which answers 410).
	answerOnce(c)
	return c.JSON(http.StatusCreated, viewBooking(reference, appt))
}

// startAppointment starts the booking's workflow; when it cannot start,
// the booking is taken back (slot and notification) and the answer is 503:
// never a booking without its workflow.
func (s *Server) startAppointment(ctx context.Context, a store.Appointment, cpr domain.CPR) error {
	in := workflows.AppointmentInput{AppointmentID: a.ID, Centre: a.Centre, CPR: cpr.String(), Start: a.StartAt,
		End: a.EndAt, ConfirmBy: a.ConfirmBy, RemindBefore: domain.ReminderBefore}
	_, err := s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.AppointmentWorkflowID(a.ID),
		TaskQueue: s.queue, WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE}, workflows.AppointmentWorkflow, in)
	if err == nil {
		return nil
	}
	s.log.ErrorContext(ctx, "start the appointment workflow", "appointment_id", a.ID, "error", err.Error())
	// The request's context may be gone; the undo must still run.
	undo, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if uerr := s.store.Unbook(undo, a.ID); uerr != nil {
		return fmt.Errorf("take back booking %s after a failed start: %w", a.ID, uerr)
	}
	return unavailable("the workflow engine")
}

func (s *Server) destroyNotificationKey(ctx context.Context, id string) {
	if err := s.keys.Destroy(id); err != nil {
		s.log.ErrorContext(ctx, "destroy a notification key", "notification_id", id, "error", err.Error())
	}
}

// bookingOf finds the booking named by the path's reference: 404 for an
// unknown one (a reference says nothing else).
func (s *Server) bookingOf(c echo.Context) (store.Appointment, error) {
	a, err := s.store.AppointmentByReference(c.Request().Context(), domain.ReferenceLookupHash(s.hashKey, c.Param("reference")))
	if errors.Is(err, store.ErrNotFound) {
		return a, notFoundError("booking")
	}
	return a, err
}

func (s *Server) getBooking(c echo.Context) error {
	a, err := s.bookingOf(c)
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, viewBooking(c.Param("reference"), a))
}

// answerBooking reads the booking back after its workflow moved it, so the
// 2xx shows what the next GET shows.
func (s *Server) answerBooking(c echo.Context, id string) error {
	a, err := s.store.GetAppointment(c.Request().Context(), id, "")
	if err != nil {
		return err
	}
	answerOnce(c) // it names the reference: see book
	return c.JSON(http.StatusOK, viewBooking(c.Param("reference"), a))
}

func notAllowed(a store.Appointment) error {
	return newError(http.StatusConflict, "conflict", "the booking is %s", a.Status)
}

type confirmRequest struct {
	Code string `json:"code"`
}

// confirmBooking checks the confirmation code. Each answer is counted
// before its code is compared (store.ClaimCodeAttempt), so at most three
// codes are ever compared, however many arrive at once; the third wrong
// one expires the booking and frees its slot before the answer.
func (s *Server) confirmBooking(c echo.Context) error {
	var req confirmRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	a, err := s.bookingOf(c)
	if err != nil {
		return err
	}
	if a.Status != store.AppointmentUnconfirmed {
		return notAllowed(a)
	}
	ctx := c.Request().Context()
	n, err := s.store.ClaimCodeAttempt(ctx, a.ID, s.now())
	if errors.Is(err, store.ErrAppointmentMoved) {
		return newError(http.StatusConflict, "conflict", "the booking can no longer be confirmed")
	}
	if err != nil {
		return err
	}
	if a.CodeMAC == nil || !domain.VerifyBookingCode(s.hashKeys, a.ID, req.Code, *a.CodeMAC) {
		if n >= domain.MaxCodeAttempts {
			if _, err := s.appointmentUpdate(ctx, a.ID, workflows.UpdateExpire, nil); err != nil {
				return err
			}
			return newError(http.StatusUnauthorized, "invalid_code", "the code is wrong; after 3 wrong codes the booking expired and its slot is free")
		}
		return newError(http.StatusUnauthorized, "invalid_code", "the code is wrong; %d tries left", domain.MaxCodeAttempts-n)
	}
	outcome, err := s.appointmentUpdate(ctx, a.ID, workflows.UpdateConfirm, nil)
	if err != nil {
		return err
	}
	switch outcome.Outcome {
	case workflows.MoveDone:
		return s.answerBooking(c, a.ID)
	case workflows.MoveOpenAppointment:
		return newError(http.StatusConflict, "open_appointment", "this person already has a confirmed appointment")
	}
	return newError(http.StatusConflict, "conflict", "the booking can no longer be confirmed")
}

func (s *Server) cancelBooking(c echo.Context) error {
	a, err := s.bookingOf(c)
	if err != nil {
		return err
	}
	if err := decodeOptionalEmpty(c); err != nil {
		return err
	}
	if a.Status != store.AppointmentBooked {
		return notAllowed(a)
	}
	outcome, err := s.appointmentUpdate(c.Request().Context(), a.ID, workflows.UpdateCancel, nil)
	if err != nil {
		return err
	}
	if outcome.Outcome != workflows.MoveDone {
		return newError(http.StatusConflict, "conflict", "the booking can no longer be cancelled")
	}
	return s.answerBooking(c, a.ID)
}

type rescheduleRequest struct {
	Start *time.Time `json:"start"`
}

func (s *Server) rescheduleBooking(c echo.Context) error {
	var req rescheduleRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	a, err := s.bookingOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	centre, err := s.store.GetCentre(ctx, a.Centre)
	if err != nil {
		return err
	}
	if req.Start == nil || !req.Start.After(s.now()) || !centre.IsSlotStart(req.Start.UTC()) {
		return ruleViolations([]Detail{{Code: domain.CodeSlotUnknown, Message: "the centre has no slot starting then"}})
	}
	if a.Status != store.AppointmentBooked {
		return notAllowed(a)
	}
	if req.Start.UTC().Equal(a.StartAt.UTC()) {
		return s.answerBooking(c, a.ID)
	}
	outcome, err := s.appointmentUpdate(ctx, a.ID, workflows.UpdateReschedule, workflows.RescheduleRequest{Start: req.Start.UTC()})
	if err != nil {
		return err
	}
	switch outcome.Outcome {
	case workflows.MoveDone:
		return s.answerBooking(c, a.ID)
	case workflows.MoveSlotFull:
		return newError(http.StatusConflict, "slot_full", "every desk of that slot is booked: pick another")
	case workflows.MoveSlotUnknown:
		return ruleViolations([]Detail{{Code: domain.CodeSlotUnknown, Message: "the centre has no slot starting then"}})
	}
	return newError(http.StatusConflict, "conflict", "the booking can no longer be moved")
}

// appointmentUpdate sends an Update to an appointment's workflow and waits
// for its outcome; a validator's refusal is the caller's 409 or 422.
func (s *Server) appointmentUpdate(ctx context.Context, id, name string, arg any) (workflows.MoveResult, error) {
	var args []any
	if arg != nil {
		args = append(args, arg)
	}
	var res workflows.MoveResult
	h, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.AppointmentWorkflowID(id),
		UpdateName: name, Args: args, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		return res, err
	}
	if name == workflows.UpdateReschedule {
		err = h.Get(ctx, &res)
	} else {
		err = h.Get(ctx, &res.Outcome)
	}
	return res, err
}

// serveBookingPage is the public booking page: plain HTML and its own
// script from the console's assets, under the console's CSP.
func serveBookingPage(c echo.Context) error {
	page, err := consoleFiles.ReadFile("console/book.html")
	if err != nil {
		return err
	}
	consoleHeaders(c)
	return c.HTMLBlob(http.StatusOK, page)
}
