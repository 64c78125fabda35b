package domain

import "time"

// easter returns Easter Sunday of year in the Gregorian calendar (the
// anonymous algorithm of Meeus, Jones and Butcher).
func easter(year int) Date {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return Date{Year: year, Month: time.Month(month), Day: day}
}

// lastGreatPrayerDay: Store Bededag was abolished as a holiday from 2024.
const lastGreatPrayerDay = 2023

// isPublicHoliday reports whether d is a Danish public holiday for support
// hours (DESIGN.md §4). 24 and 31 December are not holidays but have their
// own hours.
func isPublicHoliday(d Date) bool {
	switch {
	case d.Month == time.January && d.Day == 1,
		d.Month == time.December && (d.Day == 25 || d.Day == 26):
		return true
	}
	switch days := int(d.utc().Sub(easter(d.Year).utc()).Hours() / 24); days {
	case -3, // Maundy Thursday
		-2, // Good Friday
		0,  // Easter Sunday
		1,  // Easter Monday
		39, // Ascension Day
		49, // Whit Sunday
		50: // Whit Monday
		return true
	case 26: // Great Prayer Day, the 4th Friday after Easter
		return d.Year <= lastGreatPrayerDay
	}
	return false
}
