package domain

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Appointments at Citizen Service centres (DESIGN.md §7): the centres'
// opening hours and slots, the booking's reference and confirmation code,
// and what a booking may check without the register.

// CodeSlotUnknown: the start asked for is not a slot of the centre (not a
// slot start, in the past, on a closed day or a holiday).
const CodeSlotUnknown = "slot_unknown"

// Centre kinds.
const (
	CentreCitizenService = "citizen_service"
	CentreTax            = "tax"
)

// Weekdays as the centres' hours name them, Monday first.
var Weekdays = [7]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// ServiceCentre is a Citizen Service or tax centre as reference data.
type ServiceCentre struct {
	Code, Name, Kind, Address, Postcode, City string
	// Hours per weekday, Monday first: "09:00-17:00", or "" when closed.
	Hours       [7]string
	SlotMinutes int
	Desks       int
}

// Centre is the centre as letters care of it address it: the address's
// comma-separated parts are the lines (the stored "Københavns Rådhus,
// Rådhuspladsen 1" is the two lines of the built-in KBH), in Denmark.
func (c ServiceCentre) Centre() Centre {
	var lines []string
	for _, part := range strings.Split(c.Address, ",") {
		if part = strings.TrimSpace(part); part != "" {
			lines = append(lines, part)
		}
	}
	return Centre{Code: c.Code, Name: c.Name, Address: Address{Lines: lines, Postcode: c.Postcode, City: c.City, Country: "DK"}}
}

// Validate reports what is wrong with a centre, as an import would refuse it.
func (c ServiceCentre) Validate() error {
	var problems []string
	if c.Code == "" || strings.ToUpper(c.Code) != c.Code || strings.ContainsAny(c.Code, " /-") {
		problems = append(problems, "code must be upper case letters and digits")
	}
	if c.Name == "" {
		problems = append(problems, "name is required")
	}
	if c.Kind != CentreCitizenService && c.Kind != CentreTax {
		problems = append(problems, "kind must be citizen_service or tax")
	}
	if c.SlotMinutes < 5 || c.SlotMinutes > 240 {
		problems = append(problems, "slot_minutes must be from 5 to 240")
	}
	if c.Desks < 0 || c.Desks > 100 {
		problems = append(problems, "desks must be from 0 to 100")
	}
	for i, h := range c.Hours {
		if _, _, err := ParseHours(h); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", Weekdays[i], err))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("centre %q: %s", c.Code, strings.Join(problems, "; "))
	}
	return nil
}

// ParseHours reads "09:00-17:00" as minutes after midnight, [open, close);
// "" is closed (0, 0).
func ParseHours(s string) (open, close int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("hours %q are not HH:MM-HH:MM", s)
	}
	if open, err = clockMinutes(a); err == nil {
		close, err = clockMinutes(b)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("hours %q are not HH:MM-HH:MM", s)
	}
	if close <= open {
		return 0, 0, fmt.Errorf("hours %q close before they open", s)
	}
	return open, close, nil
}

func clockMinutes(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("not HH:MM")
	}
	return t.Hour()*60 + t.Minute(), nil
}

// IsPublicHoliday reports whether d is a Danish public holiday: centres are
// closed then.
func IsPublicHoliday(d Date) bool { return isPublicHoliday(d) }

// weekdayIndex is d's index in Weekdays (Monday 0).
func weekdayIndex(d Date) int { return (int(d.utc().Weekday()) + 6) % 7 }

// SlotStarts are the starts of the centre's slots on day d, in order: none
// on a holiday or a closed day. A slot must end by closing time.
func (c ServiceCentre) SlotStarts(d Date) []time.Time {
	if IsPublicHoliday(d) || c.SlotMinutes <= 0 {
		return nil
	}
	open, close, err := ParseHours(c.Hours[weekdayIndex(d)])
	if err != nil || open == close {
		return nil
	}
	midnight := d.In(copenhagen)
	var out []time.Time
	for m := open; m+c.SlotMinutes <= close; m += c.SlotMinutes {
		// Wall-clock minutes of the day, so a DST change keeps the hours.
		out = append(out, time.Date(midnight.Year(), midnight.Month(), midnight.Day(), m/60, m%60, 0, 0, copenhagen).UTC())
	}
	return out
}

// IsSlotStart reports whether start is the start of one of the centre's
// slots (whatever its load).
func (c ServiceCentre) IsSlotStart(start time.Time) bool {
	for _, s := range c.SlotStarts(DateOf(start)) {
		if s.Equal(start) {
			return true
		}
	}
	return false
}

// SlotLength is the length of one slot.
func (c ServiceCentre) SlotLength() time.Duration { return time.Duration(c.SlotMinutes) * time.Minute }

// MaxSlotRangeDays bounds GET /v1/centres/{code}/slots.
const MaxSlotRangeDays = 31

// BookingWindow is how long a booking waits for its confirmation code.
const BookingWindow = 15 * time.Minute

// ReminderBefore is how long before its start an appointment's reminder goes.
const ReminderBefore = 24 * time.Hour

// MaxCodeAttempts wrong confirmation codes expire a booking.
const MaxCodeAttempts = 3

// CheckBooker applies the rules a booking can check without the register
// (no register oracle for anonymous callers, DESIGN.md §9): a valid CPR
// number and at least 15 years on the day of booking.
func CheckBooker(rawCPR string, today time.Time) (CPR, []Violation) {
	c, err := ParseCPR(rawCPR, today)
	if err != nil {
		return c, []Violation{cprViolation("The CPR number", err)}
	}
	if age := c.AgeOn(today); age < MinimumAge {
		return c, []Violation{violation(CodeUnder15,
			"The person is %d; a NemID needs at least %d completed years.", age, MinimumAge)}
	}
	return c, nil
}

// referenceAlphabet is Crockford's base 32 (no I, L, O, U): easy to read
// out at a counter.
const referenceAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// referenceChars × 5 bits = 40 random bits.
const referenceChars = 8

// NewReference draws a booking reference such as KBH-7F3K2Q9M from
// crypto/rand: the centre's code and 40 random bits.
func NewReference(centre string) (string, error) {
	var b strings.Builder
	b.WriteString(centre)
	b.WriteByte('-')
	for range referenceChars {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(referenceAlphabet))))
		if err != nil {
			return "", fmt.Errorf("draw a booking reference: %w", err)
		}
		b.WriteByte(referenceAlphabet[n.Int64()])
	}
	return b.String(), nil
}

// NormalReference is a reference as typed (any case, spaces) in its
// printed form.
func NormalReference(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
}

// NewBookingCode draws a 6-digit confirmation code from crypto/rand.
func NewBookingCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("draw a confirmation code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

const (
	labelBookingReference = "nemid/booking-reference/v1"
	labelBookingCode      = "nemid/booking-code/v1"
)

// ReferenceLookupHash is the keyed hash a booking is found by: the
// reference itself is never stored. Like the CPR lookup it uses one key.
func ReferenceLookupHash(lookupKey []byte, reference string) string {
	return macHex(lookupKey, labelBookingReference, NormalReference(reference))
}

// BookingCodeMAC is the keyed MAC stored for a booking's confirmation code,
// bound to the appointment.
func BookingCodeMAC(keys HashKeys, appointmentID, code string) string {
	return keys.sealMAC(labelBookingCode, appointmentID, code)
}

// VerifyBookingCode reports, in constant time, whether code is the one
// whose BookingCodeMAC is mac.
func VerifyBookingCode(keys HashKeys, appointmentID, code, mac string) bool {
	return keys.verifyMAC(mac, labelBookingCode, appointmentID, code)
}
