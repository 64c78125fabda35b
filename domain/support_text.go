package domain

// SupportPhone is printed on every letter and answered by GET /v1/support.
const SupportPhone = "+45 72 24 70 50"

// SupportHoursLines is the opening-hours text printed on letters.
func SupportHoursLines() []string {
	return []string{
		"Monday-Friday 08:30-20:00",
		"Saturday, Sunday and public holidays 10:00-16:00",
		"24 and 31 December 10:00-14:00",
	}
}
