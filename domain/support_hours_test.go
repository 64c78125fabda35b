package domain

import (
	"slices"
	"testing"
	"time"
)

func TestEaster(t *testing.T) {
	known := map[int]string{
		1818: "1818-03-22", 1943: "1943-04-25", 1961: "1961-04-02", 2000: "2000-04-23", 2008: "2008-03-23",
		2011: "2011-04-24", 2019: "2019-04-21", 2023: "2023-04-09", 2024: "2024-03-31", 2025: "2025-04-20",
		2038: "2038-04-25", 2285: "2285-03-22",
	}
	for year, want := range known {
		if got := easter(year).String(); got != want {
			t.Errorf("Easter %d = %s, want %s", year, got, want)
		}
	}
}

func TestPublicHolidays(t *testing.T) {
	holidays := func(year int) []string {
		var out []string
		for d := (Date{year, time.January, 1}); d.Year == year; d = d.AddDays(1) {
			if isPublicHoliday(d) {
				out = append(out, d.String())
			}
		}
		return out
	}
	tests := []struct {
		year int
		want []string
	}{
		{2023, []string{"2023-01-01", "2023-04-06", "2023-04-07", "2023-04-09", "2023-04-10",
			"2023-05-05", // Great Prayer Day, the last one
			"2023-05-18", "2023-05-28", "2023-05-29", "2023-12-25", "2023-12-26"}},
		{2024, []string{"2024-01-01", "2024-03-28", "2024-03-29", "2024-03-31", "2024-04-01",
			"2024-05-09", "2024-05-19", "2024-05-20", "2024-12-25", "2024-12-26"}},
		{2025, []string{"2025-01-01", "2025-04-17", "2025-04-18", "2025-04-20", "2025-04-21",
			"2025-05-29", "2025-06-08", "2025-06-09", "2025-12-25", "2025-12-26"}},
	}
	for _, tt := range tests {
		if got := holidays(tt.year); !slices.Equal(got, tt.want) {
			t.Errorf("holidays %d:\n got %v\nwant %v", tt.year, got, tt.want)
		}
	}
}

func TestSupportStatus(t *testing.T) {
	utc := func(year int, month time.Month, day, hour, minute int) time.Time {
		return time.Date(year, month, day, hour, minute, 0, 0, time.UTC)
	}
	const weekday, weekend, eve = "08:30-20:00", "10:00-16:00", "10:00-14:00"
	tests := []struct {
		name  string
		now   time.Time
		open  bool
		hours string
	}{
		{"Monday before opening", at(2025, 6, 16, 8, 29), false, weekday},
		{"Monday at opening", at(2025, 6, 16, 8, 30), true, weekday},
		{"Monday last minute", time.Date(2025, 6, 16, 19, 59, 59, 999, copenhagen), true, weekday},
		{"Monday at closing", at(2025, 6, 16, 20, 0), false, weekday},
		{"Friday evening", at(2025, 6, 20, 19, 0), true, weekday},
		{"Saturday before opening", at(2025, 6, 14, 9, 59), false, weekend},
		{"Saturday at opening", at(2025, 6, 14, 10, 0), true, weekend},
		{"Saturday at closing", at(2025, 6, 14, 16, 0), false, weekend},
		{"Sunday afternoon", at(2025, 6, 15, 15, 59), true, weekend},
		{"Ascension Day, a Thursday, at 09:00", at(2025, 5, 29, 9, 0), false, weekend},
		{"Ascension Day, a Thursday, at 15:00", at(2025, 5, 29, 15, 0), true, weekend},
		{"New Year's Day, a Wednesday", at(2025, 1, 1, 8, 45), false, weekend},
		{"Maundy Thursday", at(2025, 4, 17, 12, 0), true, weekend},
		{"Good Friday evening", at(2025, 4, 18, 18, 0), false, weekend},
		{"Easter Monday", at(2025, 4, 21, 10, 0), true, weekend},
		{"Whit Monday", at(2025, 6, 9, 9, 0), false, weekend},
		{"Great Prayer Day 2023", at(2023, 5, 5, 9, 0), false, weekend},
		{"the 4th Friday after Easter 2024 is a working day", at(2024, 4, 26, 9, 0), true, weekday},
		{"Christmas Eve, a Wednesday, before closing", at(2025, 12, 24, 13, 59), true, eve},
		{"Christmas Eve at 14:00", at(2025, 12, 24, 14, 0), false, eve},
		{"Christmas Eve on a Sunday keeps its own hours", at(2023, 12, 24, 15, 0), false, eve},
		{"Christmas Day", at(2025, 12, 25, 15, 0), true, weekend},
		{"26 December, a Friday", at(2025, 12, 26, 9, 0), false, weekend},
		{"New Year's Eve", at(2025, 12, 31, 10, 0), true, eve},
		{"Monday's hours from the first minute after midnight, Copenhagen time", utc(2025, 6, 15, 22, 30), false, weekday},
		{"still Sunday in Copenhagen", utc(2025, 6, 15, 13, 59), true, weekend},
		// 30 March 2025: clocks go from 02:00 CET to 03:00 CEST.
		{"spring forward: 09:59 CEST", utc(2025, 3, 30, 7, 59), false, weekend},
		{"spring forward: 10:00 CEST", utc(2025, 3, 30, 8, 0), true, weekend},
		{"spring forward: 16:00 CEST", utc(2025, 3, 30, 14, 0), false, weekend},
		// 26 October 2025: clocks go from 03:00 CEST back to 02:00 CET.
		{"fall back: 09:59 CET", utc(2025, 10, 26, 8, 59), false, weekend},
		{"fall back: 10:00 CET", utc(2025, 10, 26, 9, 0), true, weekend},
		{"fall back: 15:59 CET", utc(2025, 10, 26, 14, 59), true, weekend},
		{"the Monday after: 08:30 CET", utc(2025, 10, 27, 7, 30), true, weekday},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			open, hours := SupportStatus(tt.now)
			if open != tt.open || hours == nil || *hours != tt.hours {
				got := "<nil>"
				if hours != nil {
					got = *hours
				}
				t.Errorf("SupportStatus(%v) = %v, %s; want %v, %s", tt.now, open, got, tt.open, tt.hours)
			}
		})
	}
}

func TestSupportHoursLines(t *testing.T) {
	want := []string{
		"Monday-Friday 08:30-20:00",
		"Saturday, Sunday and public holidays 10:00-16:00",
		"24 and 31 December 10:00-14:00",
	}
	if got := SupportHoursLines(); !slices.Equal(got, want) {
		t.Errorf("SupportHoursLines() = %q", got)
	}
	if SupportPhone != "+45 72 24 70 50" {
		t.Errorf("SupportPhone = %q", SupportPhone)
	}
}
