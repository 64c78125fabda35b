package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/workflows"
)

// Appointments at Citizen Service centres (DESIGN.md §7).
//
// Slots never overbook: every appointment that holds a slot (unconfirmed,
// booked, checked_in) has taken one unit of its (centre, start) row in
// slot_loads, by a conditional increment (taken < desks) in the
// transaction that writes it; every move out of those statuses gives the
// unit back in the transaction that records the move, guarded by the
// status it leaves, so a retried move gives nothing back twice. Postgres
// serialises the increments on the row's lock, SQLite on its one writer.

// Appointment statuses.
const (
	AppointmentUnconfirmed = workflows.AppointmentUnconfirmed
	AppointmentBooked      = workflows.AppointmentBooked
	AppointmentExpired     = workflows.AppointmentExpired
	AppointmentCheckedIn   = workflows.AppointmentCheckedIn
	AppointmentCancelled   = workflows.AppointmentCancelled
	AppointmentNoShow      = workflows.AppointmentNoShow
)

// holdingStatuses hold their slot.
var holdingStatuses = []string{AppointmentUnconfirmed, AppointmentBooked, AppointmentCheckedIn}

// Errors of booking.
var (
	ErrSlotFull        = errors.New("the slot is full")
	ErrOpenAppointment = errors.New("the person already has a confirmed appointment")
	// ErrAppointmentMoved: the appointment is no longer in the status the
	// move starts from.
	ErrAppointmentMoved = errors.New("the appointment is not in a status that allows this")
)

// CentreRow is a centre as stored.
type CentreRow struct {
	Code, Name, Kind, Address, Postcode, City string
	Mon, Tue, Wed, Thu, Fri, Sat, Sun         string
	SlotMinutes                               int
	Desks                                     int
}

func (CentreRow) TableName() string { return "centres" }

// Domain is the centre as the domain reads it.
func (r CentreRow) Domain() domain.ServiceCentre {
	return domain.ServiceCentre{Code: r.Code, Name: r.Name, Kind: r.Kind, Address: r.Address, Postcode: r.Postcode, City: r.City,
		Hours: [7]string{r.Mon, r.Tue, r.Wed, r.Thu, r.Fri, r.Sat, r.Sun}, SlotMinutes: r.SlotMinutes, Desks: r.Desks}
}

func centreRow(c domain.ServiceCentre) CentreRow {
	h := c.Hours
	return CentreRow{Code: c.Code, Name: c.Name, Kind: c.Kind, Address: c.Address, Postcode: c.Postcode, City: c.City,
		Mon: h[0], Tue: h[1], Wed: h[2], Thu: h[3], Fri: h[4], Sat: h[5], Sun: h[6], SlotMinutes: c.SlotMinutes, Desks: c.Desks}
}

// ListCentres lists every centre by code.
func (s *Store) ListCentres(ctx context.Context) ([]domain.ServiceCentre, error) {
	var rows []CentreRow
	if err := s.db.WithContext(ctx).Order("code").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list centres: %w", err)
	}
	out := make([]domain.ServiceCentre, len(rows))
	for i, r := range rows {
		out[i] = r.Domain()
	}
	return out, nil
}

// GetCentre reads one centre; ErrNotFound when there is none.
func (s *Store) GetCentre(ctx context.Context, code string) (domain.ServiceCentre, error) {
	var r CentreRow
	if err := s.db.WithContext(ctx).Where("code = ?", code).Take(&r).Error; err != nil {
		return domain.ServiceCentre{}, notFound(err)
	}
	return r.Domain(), nil
}

// UpsertCentres adds or changes centres by code, in one transaction.
func (s *Store) UpsertCentres(ctx context.Context, centres []domain.ServiceCentre) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, c := range centres {
			r := centreRow(c)
			if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "code"}}, UpdateAll: true}).Create(&r).Error; err != nil {
				return fmt.Errorf("upsert centre %s: %w", c.Code, err)
			}
		}
		return nil
	})
}

// SlotLoad is how many appointments hold one slot.
type SlotLoad struct {
	Centre  string
	StartAt time.Time
	Taken   int
}

func (SlotLoad) TableName() string { return "slot_loads" }

// SlotLoads are the loads of a centre's slots starting in [from, to).
func (s *Store) SlotLoads(ctx context.Context, centre string, from, to time.Time) (map[time.Time]int, error) {
	var rows []SlotLoad
	if err := s.db.WithContext(ctx).Where("centre = ? AND start_at >= ? AND start_at < ?", centre, from.UTC(), to.UTC()).
		Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read slot loads: %w", err)
	}
	out := make(map[time.Time]int, len(rows))
	for _, r := range rows {
		out[r.StartAt.UTC()] = r.Taken
	}
	return out, nil
}

// takeSlot takes one unit of a slot if fewer than desks are taken.
func takeSlot(tx *gorm.DB, centre string, start time.Time, desks int) error {
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&SlotLoad{Centre: centre, StartAt: start.UTC(), Taken: 0}).Error; err != nil {
		return fmt.Errorf("slot load row: %w", err)
	}
	res := tx.Model(&SlotLoad{}).Where("centre = ? AND start_at = ? AND taken < ?", centre, start.UTC(), desks).
		Update("taken", gorm.Expr("taken + 1"))
	if res.Error != nil {
		return fmt.Errorf("take slot: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return ErrSlotFull
	}
	return nil
}

// freeSlot gives one unit of a slot back.
func freeSlot(tx *gorm.DB, centre string, start time.Time) error {
	if err := tx.Model(&SlotLoad{}).Where("centre = ? AND start_at = ? AND taken > 0", centre, start.UTC()).
		Update("taken", gorm.Expr("taken - 1")).Error; err != nil {
		return fmt.Errorf("free slot: %w", err)
	}
	return nil
}

// Appointment is one booking. The reference is never stored, only its
// keyed hash; the full CPR neither (CPRHash for the one-booked-per-person
// guard, CPRMasked for the centre's list).
type Appointment struct {
	ID            string `gorm:"primaryKey"`
	ReferenceHash string
	Centre        string
	StartAt       time.Time
	EndAt         time.Time
	Status        string
	CPRHash       string `gorm:"column:cpr_hash"`
	CPRMasked     string `gorm:"column:cpr_masked"`
	ContactEmail  *string
	ContactPhone  *string
	CodeMAC       *string `gorm:"column:code_mac"`
	CodeAttempts  int
	ConfirmBy     time.Time
	IssuanceID    *string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (Appointment) TableName() string { return "appointments" }

// Booking is a new appointment with its confirmation notification.
type Booking struct {
	Appointment  Appointment
	Desks        int
	Notification Notification
}

// Book records an unconfirmed appointment, takes its slot and queues its
// confirmation code, in one transaction: ErrOpenAppointment when the
// person already has a confirmed booking, ErrSlotFull when every desk of
// the slot is held.
func (s *Store) Book(ctx context.Context, b Booking) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var open int64
		if err := tx.Model(&Appointment{}).Where("cpr_hash = ? AND status = ?", b.Appointment.CPRHash, AppointmentBooked).
			Count(&open).Error; err != nil {
			return fmt.Errorf("look for a confirmed booking: %w", err)
		}
		if open > 0 {
			return ErrOpenAppointment
		}
		if err := takeSlot(tx, b.Appointment.Centre, b.Appointment.StartAt, b.Desks); err != nil {
			return err
		}
		if err := tx.Create(&b.Appointment).Error; err != nil {
			return fmt.Errorf("record appointment: %w", err)
		}
		if err := tx.Create(&b.Notification).Error; err != nil {
			return fmt.Errorf("queue the confirmation code: %w", err)
		}
		return nil
	})
}

// Unbook removes a booking whose workflow could not be started, giving its
// slot back: it never existed for anyone.
func (s *Store) Unbook(ctx context.Context, id string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var a Appointment
		if err := tx.Where("id = ?", id).Take(&a).Error; err != nil {
			return notFound(err)
		}
		if err := tx.Where("appointment_id = ?", id).Delete(&Notification{}).Error; err != nil {
			return fmt.Errorf("drop notifications: %w", err)
		}
		res := tx.Where("id = ? AND status = ?", id, AppointmentUnconfirmed).Delete(&Appointment{})
		if res.Error != nil {
			return fmt.Errorf("drop appointment: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			return freeSlot(tx, a.Centre, a.StartAt)
		}
		return nil
	})
}

// StaleBookingGrace is how long past its confirmation deadline an
// unconfirmed booking may wait for its workflow to expire it before the
// API's sweep does (ExpireStaleBookings).
const StaleBookingGrace = 2 * time.Minute

// ExpireStaleBookings expires the unconfirmed bookings whose confirmation
// deadline passed more than StaleBookingGrace before now, giving their
// slots back. Their workflow does the same at the deadline; this catches
// a booking whose workflow never started (the API died between the booking
// and the start), which would otherwise hold its slot for good. Each move
// is MoveAppointment's, guarded by the status it leaves, so a workflow
// expiring the same booking changes nothing twice. It reports how many it
// expired.
func (s *Store) ExpireStaleBookings(ctx context.Context, now time.Time) (int, error) {
	var ids []string
	if err := s.db.WithContext(ctx).Model(&Appointment{}).
		Where("status = ? AND confirm_by < ?", AppointmentUnconfirmed, now.Add(-StaleBookingGrace).UTC()).
		Limit(500).Pluck("id", &ids).Error; err != nil {
		return 0, fmt.Errorf("find stale bookings: %w", err)
	}
	expired := 0
	for _, id := range ids {
		_, err := s.MoveAppointment(ctx, Move{AppointmentID: id, From: []string{AppointmentUnconfirmed}, To: AppointmentExpired, At: now})
		switch {
		case errors.Is(err, ErrAppointmentMoved):
			continue // confirmed or expired meanwhile
		case err != nil:
			return expired, fmt.Errorf("expire stale booking %s: %w", id, err)
		}
		expired++
	}
	return expired, nil
}

// AppointmentByReference finds a booking by its reference's lookup hash.
func (s *Store) AppointmentByReference(ctx context.Context, referenceHash string) (Appointment, error) {
	var a Appointment
	err := s.db.WithContext(ctx).Where("reference_hash = ?", referenceHash).Take(&a).Error
	return a, notFound(err)
}

// GetAppointment reads one appointment; centre "" reads any centre's.
func (s *Store) GetAppointment(ctx context.Context, id, centre string) (Appointment, error) {
	q := s.db.WithContext(ctx).Where("id = ?", id)
	if centre != "" {
		q = q.Where("centre = ?", centre)
	}
	var a Appointment
	err := q.Take(&a).Error
	return a, notFound(err)
}

// ListAppointments lists a centre's appointments starting in [from, to) in
// time order ("" centre: every centre's).
func (s *Store) ListAppointments(ctx context.Context, centre string, from, to time.Time) ([]Appointment, error) {
	q := s.db.WithContext(ctx).Where("start_at >= ? AND start_at < ?", from.UTC(), to.UTC())
	if centre != "" {
		q = q.Where("centre = ?", centre)
	}
	var out []Appointment
	if err := q.Order("start_at, created_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list appointments: %w", err)
	}
	return out, nil
}

// ClaimCodeAttempt counts one confirmation code against a booking before
// it is checked, so however many answers arrive at once, in however many
// processes, at most MaxCodeAttempts codes are ever compared. It answers
// the attempt's number (1..3), or ErrAppointmentMoved when the booking is
// not waiting for a code, its window has passed or its attempts are spent.
func (s *Store) ClaimCodeAttempt(ctx context.Context, id string, now time.Time) (int, error) {
	var n int
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Appointment{}).
			Where("id = ? AND status = ? AND code_attempts < ? AND confirm_by > ?", id, AppointmentUnconfirmed, domain.MaxCodeAttempts, now.UTC()).
			Update("code_attempts", gorm.Expr("code_attempts + 1"))
		if res.Error != nil {
			return fmt.Errorf("count a code attempt: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrAppointmentMoved
		}
		var a Appointment
		if err := tx.Select("code_attempts").Where("id = ?", id).Take(&a).Error; err != nil {
			return err
		}
		n = a.CodeAttempts
		return nil
	})
	return n, err
}

// Move is one status move of an appointment, as its workflow decides it.
type Move struct {
	AppointmentID string
	From          []string
	To            string
	At            time.Time
	IssuanceID    string      // check-in: the issuance started at the counter
	Event         *Event      // check-in: the issuance's timeline entry
	Audit         *AuditEntry // a staff action's entry
}

// MoveAppointment records a move when the appointment is still in one of
// From (ErrAppointmentMoved otherwise, and a retry that already moved it
// to To is a no-op), gives the slot back when the move leaves the statuses
// that hold it, and writes the move's timeline event and audit entry, in
// one transaction. A confirmation that would give the person a second
// confirmed booking answers ErrOpenAppointment.
func (s *Store) MoveAppointment(ctx context.Context, m Move) (Appointment, error) {
	var a Appointment
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", m.AppointmentID).Take(&a).Error; err != nil {
			return notFound(err)
		}
		if a.Status == m.To {
			return nil // a retry of a move already recorded
		}
		updates := map[string]any{"status": m.To, "updated_at": m.At.UTC()}
		if m.IssuanceID != "" {
			updates["issuance_id"] = m.IssuanceID
		}
		if m.To != AppointmentUnconfirmed {
			updates["code_mac"] = nil // the code has done its work
		}
		res := tx.Model(&Appointment{}).Where("id = ? AND status IN ?", m.AppointmentID, m.From).Updates(updates)
		if errors.Is(res.Error, gorm.ErrDuplicatedKey) {
			return ErrOpenAppointment
		}
		if res.Error != nil {
			return fmt.Errorf("move appointment to %s: %w", m.To, res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrAppointmentMoved
		}
		if holds(a.Status) && !holds(m.To) {
			if err := freeSlot(tx, a.Centre, a.StartAt); err != nil {
				return err
			}
		}
		a.Status = m.To
		if m.IssuanceID != "" {
			a.IssuanceID = &m.IssuanceID
		}
		if m.Event != nil {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(m.Event).Error; err != nil {
				return fmt.Errorf("record %s: %w", m.Event.Type, err)
			}
		}
		if m.Audit != nil {
			return AppendAudit(tx, *m.Audit)
		}
		return nil
	})
	return a, err
}

func holds(status string) bool {
	for _, h := range holdingStatuses {
		if h == status {
			return true
		}
	}
	return false
}

// Reschedule moves a booked appointment to another slot in one
// transaction: the new slot taken (ErrSlotFull), the old one given back.
// A retry that finds it already at start is a no-op.
func (s *Store) Reschedule(ctx context.Context, id string, start, end time.Time, desks int, now time.Time) (Appointment, error) {
	var a Appointment
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&a).Error; err != nil {
			return notFound(err)
		}
		if a.StartAt.Equal(start) {
			return nil
		}
		if a.Status != AppointmentBooked {
			return ErrAppointmentMoved
		}
		if err := takeSlot(tx, a.Centre, start, desks); err != nil {
			return err
		}
		res := tx.Model(&Appointment{}).Where("id = ? AND status = ? AND start_at = ?", id, AppointmentBooked, a.StartAt.UTC()).
			Updates(map[string]any{"start_at": start.UTC(), "end_at": end.UTC(), "updated_at": now.UTC()})
		if res.Error != nil {
			return fmt.Errorf("reschedule: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrAppointmentMoved
		}
		if err := freeSlot(tx, a.Centre, a.StartAt); err != nil {
			return err
		}
		a.StartAt, a.EndAt = start.UTC(), end.UTC()
		return nil
	})
	return a, err
}

// Notification statuses.
const (
	NotificationQueued = "queued"
	NotificationSent   = "sent"
)

// Notification is a message queued to a person's contact. Body is the text
// sealed under a key of its own (internal/letterkeys, the notification id
// as its name): the key is destroyed when the message is sent, and the
// body purged.
type Notification struct {
	ID            string `gorm:"primaryKey"`
	DedupeKey     string
	AppointmentID *string
	Kind          string
	ToEmail       *string
	ToPhone       *string
	Body          []byte
	Status        string
	CreatedAt     time.Time
	SentAt        *time.Time
}

func (Notification) TableName() string { return "notifications" }

// QueueNotification queues n unless one with its dedupe key is queued
// already (a retried activity); it answers the id that holds the key.
func (s *Store) QueueNotification(ctx context.Context, n Notification) (string, bool, error) {
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&n)
	if res.Error != nil {
		return "", false, fmt.Errorf("queue notification: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return n.ID, true, nil
	}
	var have Notification
	if err := s.db.WithContext(ctx).Select("id").Where("dedupe_key = ?", n.DedupeKey).Take(&have).Error; err != nil {
		return "", false, fmt.Errorf("find queued notification: %w", err)
	}
	return have.ID, false, nil
}

// ListNotifications pages notifications by id; status "" lists all.
func (s *Store) ListNotifications(ctx context.Context, status, after string, limit int) ([]Notification, bool, error) {
	q := s.db.WithContext(ctx).Order("id").Limit(limit + 1)
	if status != "" {
		q = q.Where("status = ?", status)
	}
	if after != "" {
		q = q.Where("id > ?", after)
	}
	var out []Notification
	if err := q.Find(&out).Error; err != nil {
		return nil, false, fmt.Errorf("list notifications: %w", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// GetNotification reads one notification.
func (s *Store) GetNotification(ctx context.Context, id string) (Notification, error) {
	var n Notification
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&n).Error
	return n, notFound(err)
}

// MarkNotificationSent records a notification sent and purges its text,
// with audit (notification_sent) in the same transaction (idempotent: a
// second call changes nothing and audits nothing).
func (s *Store) MarkNotificationSent(ctx context.Context, id string, at time.Time, audit AuditEntry) (Notification, error) {
	var n Notification
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Notification{}).Where("id = ? AND status = ?", id, NotificationQueued).
			Updates(map[string]any{"status": NotificationSent, "sent_at": at.UTC(), "body": nil})
		if res.Error != nil {
			return fmt.Errorf("mark notification sent: %w", res.Error)
		}
		if err := tx.Where("id = ?", id).Take(&n).Error; err != nil {
			return err
		}
		if res.RowsAffected == 0 {
			return nil
		}
		return AppendAudit(tx, audit)
	})
	return n, notFound(err)
}
