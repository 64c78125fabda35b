package domain

import (
	"encoding/json"
	"fmt"
	"time"
)

// Date is a civil calendar date without time or zone: document expiry and
// issue dates, arrival dates, birth dates. The zero value means "no date".
// Its text and JSON form is "2006-01-02"; a zero Date marshals as JSON null
// and as empty text.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

const dateLayout = "2006-01-02"

// ParseDate parses "YYYY-MM-DD" and rejects dates that do not exist.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("parse date %q: want a real date as YYYY-MM-DD", s)
	}
	return dateOfTime(t), nil
}

// DateOf returns the calendar date of t in Europe/Copenhagen, the day on
// which every rule of the system is judged.
func DateOf(t time.Time) Date { return dateOfTime(t.In(copenhagen)) }

func dateOfTime(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// Valid reports whether d is a real calendar date.
func (d Date) Valid() bool {
	return d.Month >= time.January && d.Month <= time.December &&
		d.Day >= 1 && d.Day <= daysIn(d.Year, d.Month)
}

func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// String formats d as "2006-01-02".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return sign(d.Year - o.Year)
	case d.Month != o.Month:
		return sign(int(d.Month - o.Month))
	default:
		return sign(d.Day - o.Day)
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// Before reports whether d is strictly before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is strictly after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// AddDays returns the date n days after d (before it when n < 0).
func (d Date) AddDays(n int) Date { return dateOfTime(d.utc().AddDate(0, 0, n)) }

// AddMonths returns the same day n calendar months later (earlier when
// n < 0), clamped to the last day of a shorter month: 31 May minus three
// months is 28 (or 29) February, not 3 March.
func (d Date) AddMonths(n int) Date {
	first := time.Date(d.Year, d.Month+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	return Date{Year: first.Year(), Month: first.Month(), Day: min(d.Day, daysIn(first.Year(), first.Month()))}
}

// In returns the start of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

func (d Date) utc() time.Time { return d.In(time.UTC) }

// yearsUntil counts the completed years from d to later; an anniversary on
// 29 February falls on 1 March in other years.
func (d Date) yearsUntil(later Date) int {
	years := later.Year - d.Year
	if later.Month < d.Month || (later.Month == d.Month && later.Day < d.Day) {
		years--
	}
	return years
}

// MarshalText formats d as "2006-01-02", or empty for the zero Date.
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	if !d.Valid() {
		return nil, fmt.Errorf("marshal date: %s is not a real date", d)
	}
	return []byte(d.String()), nil
}

// UnmarshalText parses "2006-01-02"; empty text gives the zero Date (a CSV
// column left empty).
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	parsed, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// MarshalJSON writes "2006-01-02", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	text, err := d.MarshalText()
	if err != nil {
		return nil, err
	}
	return json.Marshal(string(text))
}

// UnmarshalJSON reads "2006-01-02"; null leaves d unchanged, as encoding/json
// does for other types.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("parse date: want a JSON string YYYY-MM-DD")
	}
	parsed, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}
