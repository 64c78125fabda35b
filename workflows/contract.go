// Package workflows holds the deterministic orchestration of NemID issuance.
// Nothing here performs I/O: side effects live in activities.
package workflows

import (
	"slices"
	"strconv"
)

// The contract between the API, the worker and running workflows. Names are
// explicit strings so renaming a Go function never breaks a running workflow.
const (
	TaskQueue = "nemid-issuance"

	CounterIssuanceWorkflow = "CounterIssuance"
	BankIssuanceWorkflow    = "BankIssuance"
	AbroadIssuanceWorkflow  = "AbroadIssuance"
	ReplacementCardWorkflow = "ReplacementCard"
	CardOrderWorkflow       = "CardOrder"
	PasswordResetWorkflow   = "PasswordReset"
	AppointmentWorkflow     = "Appointment"

	UpdateCancel           = "cancel"
	UpdateHandover         = "handover"
	UpdatePickup           = "pickup"
	UpdateActivate         = "activate"
	UpdateAccept           = "accept"
	QueryState             = "state"
	SignalLetterDispatched = "letter_dispatched"
	// SignalPersonDeceased tells an issuance's workflow that the register
	// recorded the person's death: a pending issuance ends rejected.
	SignalPersonDeceased = "person_deceased"

	// RegisterChangesWorkflow applies the register import's changes
	// (DESIGN.md §6); one runs per task queue.
	RegisterChangesWorkflow = "RegisterChanges"

	// SignalResetSuperseded tells a password reset's workflow that a newer
	// reset replaced its temporary password.
	SignalResetSuperseded = "reset_superseded"
)

// Activity names, registered explicitly by worker.Register.
const (
	ActivityAcceptIssuance    = "AcceptIssuance"
	ActivityRecordTransition  = "RecordTransition"
	ActivityCheckRegister     = "CheckRegister"
	ActivityMintCredentials   = "MintCredentials"
	ActivityQueueReminder     = "QueueReminder"
	ActivityRevokeCredentials = "RevokeCredentials"
	ActivityReplaceCard       = "ReplaceCard"

	ActivityPendingRegisterChanges = "PendingRegisterChanges"
	ActivityStopOpenIssuances      = "StopOpenIssuances"
	ActivityApplyRegisterChange    = "ApplyRegisterChange"
	ActivityMintOrderedCard        = "MintOrderedCard"
	ActivityPrintResetLetter       = "PrintResetLetter"
	ActivityRecordResetPickup      = "RecordResetPickup"
	ActivityActivateReset          = "ActivateReset"
	ActivityCloseReset             = "CloseReset"

	ActivityMoveAppointment          = "MoveAppointment"
	ActivityRescheduleAppointment    = "RescheduleAppointment"
	ActivityQueueAppointmentReminder = "QueueAppointmentReminder"
)

// Error types carried by temporal.ApplicationError, which the API maps to
// HTTP statuses.
const (
	ErrTypeConflict = "conflict" // 409: the issuance is not in a state that allows this
	ErrTypeInvalid  = "invalid"  // 422: the request breaks a rule
)

// IssuanceWorkflowID names an issuance's workflow. It carries only the
// issuance id: never a CPR number or anything personal.
func IssuanceWorkflowID(issuanceID string) string { return "issuance/" + issuanceID }

// AcceptUpdateID names the accept Update of an issuance: one per workflow,
// so a retried application attaches to the Update already sent.
func AcceptUpdateID(issuanceID string) string { return "accept/" + issuanceID }

// ReplacementWorkflowID names the workflow that makes card seq of a
// credential: one id per card, so starting it with a reject-duplicate
// policy mints each replacement exactly once. Ids only, nothing personal.
func ReplacementWorkflowID(credentialID string, seq int) string {
	return "replacement/" + credentialID + "/" + strconv.Itoa(seq)
}

// Audit actions the workflows ask their transitions to record (DESIGN.md
// §8; store.AuditActions lists every action the log holds).
const (
	AuditIssuanceCancelled = "issuance_cancelled"
	AuditHandoverConfirmed = "handover_confirmed"
	AuditPickupConfirmed   = "pickup_confirmed"
)

// RegisterChangesWorkflowID names the one register-changes workflow of a
// task queue.
func RegisterChangesWorkflowID(taskQueue string) string { return "register-changes/" + taskQueue }

// changePersonDeceased names the GetVersion change that lets a death in
// the register reject a pending issuance.
const changePersonDeceased = "person-deceased"

// CardOrderWorkflowID names the workflow that mints the card of order n of
// a kind (lost, extra) for a credential: starting it with a
// reject-duplicate policy mints each order's card once, however often the
// request is repeated. Ids only, nothing personal.
func CardOrderWorkflowID(credentialID, kind string, n int) string {
	return "card-order/" + credentialID + "/" + kind + "/" + strconv.Itoa(n)
}

// PasswordResetWorkflowID names a password reset's workflow by the reset's
// id (the id of the reset challenge whose code opened it).
func PasswordResetWorkflowID(resetID string) string { return "password-reset/" + resetID }

// Password reset statuses, as the reset workflow's state and the
// password_resets rows carry them.
const (
	ResetAwaitingPickup = "awaiting_pickup"
	ResetOpen           = "open"
	ResetActivated      = "activated"
	ResetExpired        = "expired"
	ResetSuperseded     = "superseded"
)

// Statuses of DESIGN.md §4.
const (
	StatusReceived           = "received"
	StatusRejected           = "rejected"
	StatusLettersPosted      = "letters_posted"
	StatusAwaitingHandover   = "awaiting_handover"
	StatusAwaitingPickup     = "awaiting_pickup"
	StatusAwaitingActivation = "awaiting_activation"
	StatusActive             = "active"
	StatusExpired            = "expired"
	StatusCancelled          = "cancelled"
	// StatusRefused ends a workflow whose application was refused at
	// acceptance (another open issuance, the witness limit): it never had a
	// row, so this status is only the workflow's, never the read model's.
	StatusRefused = "refused"
)

// Outcomes of the accept step (AcceptResult.Outcome).
const (
	AcceptAccepted       = "accepted"
	AcceptOpenIssuance   = "open_issuance"   // another issuance of the CPR is open: OpenIssuanceID
	AcceptWitnessLimit   = "witness_limit"   // the witness's last statement was taken meanwhile
	AcceptWitnessUnknown = "witness_unknown" // the register holds no living person for the witness (any more)
)

// Statuses lists every status of DESIGN.md §4, in the order an issuance
// moves through them.
func Statuses() []string {
	return []string{StatusReceived, StatusRejected, StatusLettersPosted, StatusAwaitingHandover,
		StatusAwaitingPickup, StatusAwaitingActivation, StatusActive, StatusExpired, StatusCancelled}
}

// FinalStatuses end an issuance; every other status is pending. This is the
// one list: the workflows, the store's queries, the API and the console use
// it, and a test holds the open-issuance index of the migrations to it.
func FinalStatuses() []string {
	return []string{StatusRejected, StatusActive, StatusExpired, StatusCancelled}
}

// IsFinal reports whether status ends an issuance.
func IsFinal(status string) bool { return slices.Contains(FinalStatuses(), status) }

// EndedUnused reports whether status ends an issuance without an active
// NemID (rejected, expired, cancelled).
func EndedUnused(status string) bool { return IsFinal(status) && status != StatusActive }

// Appointments (DESIGN.md §7): one workflow per booking, named by the
// appointment's id (never the reference, never a CPR).
const (
	UpdateConfirm    = "confirm"     // the right confirmation code was given
	UpdateExpire     = "expire"      // the third wrong code: the booking ends, its slot freed
	UpdateReschedule = "reschedule"  // a booked appointment moves to another slot
	UpdateCheckIn    = "check_in"    // the person arrived; the counter application was accepted
	QueryAppointment = "appointment" // AppointmentState
	// QueryAppointmentCPR answers the booking's CPR number to the API that
	// checks the person in (the payload codec encrypts it on the wire).
	QueryAppointmentCPR = "appointment_cpr"

	AuditAppointmentCheckedIn = "appointment_checked_in"
)

// Appointment statuses.
const (
	AppointmentUnconfirmed = "unconfirmed"
	AppointmentBooked      = "booked"
	AppointmentExpired     = "expired"
	AppointmentCheckedIn   = "checked_in"
	AppointmentCancelled   = "cancelled"
	AppointmentNoShow      = "no_show"
)

// AppointmentStatuses lists every appointment status.
func AppointmentStatuses() []string {
	return []string{AppointmentUnconfirmed, AppointmentBooked, AppointmentExpired, AppointmentCheckedIn,
		AppointmentCancelled, AppointmentNoShow}
}

// AppointmentWorkflowID names an appointment's workflow.
func AppointmentWorkflowID(appointmentID string) string { return "appointment/" + appointmentID }
