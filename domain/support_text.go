package domain

// SupportPhone is printed on every letter and answered by GET /v1/support.
const SupportPhone = "+45 72 24 70 50"

// SupportHoursLines is the opening-hours text printed on letters, made from
// the same hours SupportStatus uses.
func SupportHoursLines() []string {
	return []string{
		"Monday-Friday " + weekdayHours.String(),
		"Saturday, Sunday and public holidays " + weekendHours.String(),
		"24 and 31 December " + decemberEveHours.String(),
	}
}
