package domain

import (
	"fmt"
	"time"
)

// supportHours is a half-open interval [open, close) of minutes after local
// midnight.
type supportHours struct{ open, close int }

func (h supportHours) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", h.open/60, h.open%60, h.close/60, h.close%60)
}

var (
	weekdayHours     = supportHours{open: 8*60 + 30, close: 20 * 60}
	weekendHours     = supportHours{open: 10 * 60, close: 16 * 60} // also public holidays
	decemberEveHours = supportHours{open: 10 * 60, close: 14 * 60} // 24 and 31 December
)

// supportHoursOn returns the hours of a Copenhagen calendar day. 24 and 31
// December have their own hours whatever weekday they fall on.
func supportHoursOn(d Date) supportHours {
	switch {
	case d.Month == time.December && (d.Day == 24 || d.Day == 31):
		return decemberEveHours
	case isPublicHoliday(d):
		return weekendHours
	}
	switch d.utc().Weekday() {
	case time.Saturday, time.Sunday:
		return weekendHours
	}
	return weekdayHours
}

// SupportStatus tells whether telephone support is open at now and the
// day's hours in Europe/Copenhagen as "08:30-20:00". hoursToday would be nil
// on a day closed throughout; under the current rules every day has hours.
// Hours follow the local clock, also on the days clocks change.
func SupportStatus(now time.Time) (openNow bool, hoursToday *string) {
	local := now.In(copenhagen)
	hours := supportHoursOn(dateOfTime(local))
	minute := local.Hour()*60 + local.Minute()
	text := hours.String()
	return hours.open <= minute && minute < hours.close, &text
}
