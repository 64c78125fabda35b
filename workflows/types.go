package workflows

import "time"

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
}

// CancelRequest is the cancel Update's argument.
type CancelRequest struct {
	Reason string
	Actor  string // "role:scope" of the caller, for the timeline
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
	At         time.Time
}
