package domain

// Delivery says how the code card and the temporary password reach the
// person.
type Delivery string

const (
	// DeliveryHandover: both are printed and handed over at the counter,
	// sealed separately.
	DeliveryHandover Delivery = "handover"
	// DeliveryLetters: two separate letters to the CPR-registered address.
	DeliveryLetters Delivery = "letters"
	// DeliveryRepresentation: the code card by letter to the order's foreign
	// address, the password in a sealed letter collected at the chosen
	// representation.
	DeliveryRepresentation Delivery = "representation"
)

// Outcome is what an accepted application leads to. Evaluations return the
// zero Outcome together with any violation: an application that breaks a
// rule leads nowhere.
type Outcome struct {
	Delivery Delivery
	// Reason says in English why this delivery was chosen.
	Reason string
	// Note says in English what was shown but set aside (an expired or
	// undated photo ID beside two documents that qualify); "" when nothing
	// was. It belongs on the timeline with the reason.
	Note string
	// PublicSignature: a valid photo ID was shown, so the NemID may be used
	// as a public digital signature.
	PublicSignature bool
	// WitnessStatement: a valid witness statement is part of the application
	// and must be recorded (it counts toward the witness's limit).
	WitnessStatement bool
	// Representation is where an abroad password is collected; nil on the
	// other paths.
	Representation *Representation
}
