package workflows

import (
	"time"

	"github.com/opennemid/nemid/domain"
)

// IssuanceInput starts an issuance workflow. CPR is personal data: the
// payload codec encrypts it in history. Deadlines are absolute so that a
// replay or a retried start computes nothing from the clock.
type IssuanceInput struct {
	IssuanceID       string
	Path             string
	CPR              string
	Centre           string
	Delivery         string // "handover", "letters" or "representation", decided at acceptance
	DeliveryDeadline time.Time
	ActivationWindow time.Duration // NEMID_ACTIVATION_WINDOW, from entering awaiting_activation
	ReminderBefore   time.Duration // NEMID_REMINDER_BEFORE; 0 sends no reminder

	// The abroad path: the representation where the password is collected,
	// the order's address (where the code card and later letters go; the
	// register's name is put on it), and NEMID_PICKUP_WINDOW.
	Representation string     `json:",omitempty"`
	OrderAddress   *Recipient `json:",omitempty"`
	PickupWindow   time.Duration

	// Acceptance is the row the workflow's first step records. Absent in
	// workflows started before acceptance moved into the workflow: their
	// row was written by the API before the start.
	Acceptance *Acceptance `json:",omitempty"`

	// IssuingCentre is the counter path's centre as the store had it at
	// acceptance (imported centres too): later letters care of it use its
	// name and address. Absent in workflows started before it was carried:
	// they look Centre up in the built-in list (domain.LookupCentre).
	IssuingCentre *domain.Centre `json:",omitempty"`
}

// Acceptance is an application the API found eligible, as the accept step
// records it: the issuance row in received, its received event and, on the
// counter path, the witness statement, in one transaction. Hashes and the
// masked CPR only; the payload codec encrypts it in history all the same.
type Acceptance struct {
	CPRHash         string
	CPRMasked       string
	Centre          *string `json:",omitempty"`
	Representation  *string `json:",omitempty"`
	Bank            *string `json:",omitempty"`
	PublicSignature bool
	DocumentHash    *string   `json:",omitempty"`
	At              time.Time // when the application was made: created_at, the event's time, the statement's
	Actor           string
	// ActorTokenID is the staff token that applied (caseworker, bank):
	// the accept step audits the creation. Empty for an order from a
	// citizen, which is not a staff action.
	ActorName    string `json:",omitempty"` // the token's name; empty for a citizen
	ActorTokenID string `json:",omitempty"`
	Detail       string
	Witness      *WitnessStatement `json:",omitempty"`
}

// WitnessStatement is the sworn statement an accepted counter application
// records, if no more than Limit-1 others of the witness count since Since.
type WitnessStatement struct {
	WitnessCPRHash string
	Since          time.Time
	Limit          int
}

// AcceptInput asks the accept step to record an application.
type AcceptInput struct {
	IssuanceID string
	Path       string
	Deadline   time.Time // the delivery deadline the row starts with
	Acceptance Acceptance
}

// AcceptOutcome is what the accept step decided.
type AcceptOutcome struct {
	Outcome        string // AcceptAccepted, AcceptOpenIssuance, AcceptWitnessLimit or AcceptWitnessUnknown
	OpenIssuanceID string `json:",omitempty"`
}

// AcceptRequest is the accept Update's argument.
type AcceptRequest struct {
	IssuanceID string
}

// AcceptResult is the accept Update's answer: the outcome and, accepted,
// the application as this workflow recorded it (a retry that attaches to
// the Update gets the first attempt's, whatever it sent itself).
type AcceptResult struct {
	AcceptOutcome
	Application AcceptInput
}

// PickupRequest is the pickup Update's argument: the representation's
// confirmation, after the API compared the document shown with the order
// and checked the fee. The document number itself never reaches history.
type PickupRequest struct {
	Actor        string
	ActorName    string `json:",omitempty"` // the token's name, for the timeline and the fee
	ActorTokenID string `json:",omitempty"` // for the audit log: an id, never a name
	FeePaidDKK   int
	Receipt      string
}

// FeePaid is the fee a pickup records with its transition, once.
type FeePaid struct {
	Representation string
	AmountDKK      int
	Receipt        string
}

// HandoverRequest is the handover Update's argument.
type HandoverRequest struct {
	Actor        string
	ActorName    string `json:",omitempty"` // the token's name, for the timeline
	ActorTokenID string `json:",omitempty"` // for the audit log: an id, never a name
}

// ActivationRequest is the activation Update's argument: only the id of the
// challenge the API verified. No secret ever reaches the workflow.
type ActivationRequest struct {
	ActivationID string
}

// RegisterCheck asks the register whether the facts still allow issuing.
type RegisterCheck struct {
	IssuanceID string
	CPR        string
	Delivery   string
}

// RegisterFacts is the register's answer: any reason to reject, and where
// letters go.
type RegisterFacts struct {
	Violations       []Reason
	Name             string
	Address          Recipient
	AddressProtected bool
	LivesAbroad      bool
}

// Reason is a broken rule, as on a rejected issuance.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ReminderInput asks for a reminder letter.
type ReminderInput struct {
	IssuanceID string
	Recipient  Recipient
	ActivateBy time.Time
	At         time.Time
}

// CancelRequest is the cancel Update's argument.
type CancelRequest struct {
	Reason       string
	Actor        string // "role:scope" of the caller, for the timeline
	ActorName    string `json:",omitempty"` // the caller's token's name, for the timeline
	ActorTokenID string `json:",omitempty"` // for the audit log: an id, never a name
}

// State is what the state Query and the Updates answer.
type State struct {
	Status   string
	Deadline *time.Time
}

// IssuanceResult is the workflow's result.
type IssuanceResult struct {
	Status string
}

// TransitionInput asks the activity to record a status change and its
// timeline event. At is the workflow's time of decision.
type TransitionInput struct {
	IssuanceID string
	Status     string
	Deadline   *time.Time
	EventKey   string
	EventType  string
	Actor      string
	Detail     string
	Reasons    []Reason
	Fee        *FeePaid `json:",omitempty"`
	// ActivationID, on the move to active, names the answered activation
	// challenge whose chosen password the activity moves into the
	// credential in the same transaction. An id, never a secret.
	ActivationID string `json:",omitempty"`
	At           time.Time
	// ActorName is the name of the token behind Actor; empty for the
	// system and citizens. Histories recorded before names existed carry
	// none, and replay the same: it is only an activity's argument.
	ActorName string `json:",omitempty"`
	// Audit, for a staff action (a cancel, handover or pickup), asks the
	// activity to append the audit entry in the transition's transaction.
	Audit *AuditStep `json:",omitempty"`
}

// AuditStep is the audit entry a transition appends: the action and who
// did it, as ids (role:scope and the token's id), never a name or personal
// data. Adding it to a transition changes the activity's argument only,
// not the workflow's commands, so running workflows replay unchanged.
type AuditStep struct {
	Action       string
	Actor        string
	ActorTokenID string `json:",omitempty"`
}

// Recipient is a letter's address block. Addresses are personal data: the
// payload codec encrypts them in history.
type Recipient struct {
	Name     string
	Lines    []string
	Postcode string
	City     string
	Country  string
}

// MintInput asks for credentials to be minted and printed. Delivery is
// "handover" (one held document for the counter) or "letters" /
// "representation" (a code-card letter and a separate password letter).
type MintInput struct {
	IssuanceID        string
	Delivery          string
	CardRecipient     Recipient
	PasswordRecipient Recipient
	ActivateBy        time.Time // printed when set
	At                time.Time
}

// MintResult carries only identifiers: the secrets never leave the activity.
type MintResult struct {
	CredentialID string
	CardNumber   string
	LetterIDs    []string
}

// LetterDispatched is the signal the post API sends for each dispatched letter.
type LetterDispatched struct {
	LetterID string
}
