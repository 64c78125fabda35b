package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// PersonDeceased is the signal an issuance's workflow gets when the
// register records the person's death. It carries nothing personal.
type PersonDeceased struct {
	ChangeID int64
}

// listenForDeath records the death signal for the whole run.
func listenForDeath(ctx workflow.Context, deceased **PersonDeceased) {
	ch := workflow.GetSignalChannel(ctx, SignalPersonDeceased)
	workflow.Go(ctx, func(ctx workflow.Context) {
		var s PersonDeceased
		if ch.Receive(ctx, &s) {
			*deceased = &s
		}
	})
}

// RegisterChangesInput configures the register-changes workflow.
type RegisterChangesInput struct {
	Every time.Duration // between sweeps (NEMID_REGISTER_SWEEP)
}

// RegisterChangeRef names one pending register change; the activities
// read the person from the database, so no CPR enters history.
type RegisterChangeRef struct {
	ID   int64
	Kind string
}

// Kinds of register change (store.ChangeDeceased, store.ChangeAddressProtected).
const (
	RegisterChangeDeceased         = "deceased"
	RegisterChangeAddressProtected = "address_protected"
)

// registerRounds sweeps run before the workflow continues as new, which
// keeps its history short.
const registerRounds = 100

// sweepOptions: listing and applying are quick writes; applying a death
// waits (by retrying) until the person's open issuances have ended, for at
// most ScheduleToCloseTimeout, after which the change stays pending and the
// next sweep signals and waits again.
var sweepOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: 2 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second,
		NonRetryableErrorTypes: []string{ErrTypeInvalid},
	},
}

// RegisterChanges applies what `nemid registry import` recorded
// (register_changes rows, written in the import's transaction): a death
// rejects the person's pending issuances — each by its own workflow, the
// one writer of its status, told by a signal — and then revokes their
// NemIDs; address protection marks the change seen (later letters read the
// register when they are made). It sweeps every in.Every, so a change acts
// within that of the import, and survives crashes: a change stays pending
// in the database until applied, and applying it again changes nothing.
func RegisterChanges(ctx workflow.Context, in RegisterChangesInput) error {
	if in.Every <= 0 {
		return temporal.NewNonRetryableApplicationError("the sweep interval must be positive", ErrTypeInvalid, nil)
	}
	ctx = workflow.WithActivityOptions(ctx, sweepOptions)
	log := workflow.GetLogger(ctx)
	for range registerRounds {
		var changes []RegisterChangeRef
		if err := workflow.ExecuteActivity(ctx, ActivityPendingRegisterChanges).Get(ctx, &changes); err != nil {
			log.Warn("list register changes; the next sweep tries again", "error", err)
		}
		for _, c := range changes {
			if err := applyRegisterChange(ctx, c); err != nil {
				log.Warn("register change not applied yet; the next sweep tries again", "change", c.ID, "error", err)
			}
		}
		if err := workflow.Sleep(ctx, in.Every); err != nil {
			return err
		}
	}
	return workflow.NewContinueAsNewError(ctx, RegisterChangesWorkflow, in)
}

// applyRegisterChange signals the death to each pending issuance of the
// person, then records the change (ApplyRegisterChange revokes, once no
// issuance of the person is pending). A signal that does not arrive (the
// workflow ended meanwhile) is not an error: the activity checks the
// outcome, not the signal.
func applyRegisterChange(ctx workflow.Context, c RegisterChangeRef) error {
	if c.Kind == RegisterChangeDeceased {
		var open []string
		if err := workflow.ExecuteActivity(ctx, ActivityStopOpenIssuances, c).Get(ctx, &open); err != nil {
			return fmt.Errorf("list the pending issuances: %w", err)
		}
		for _, id := range open {
			err := workflow.SignalExternalWorkflow(ctx, IssuanceWorkflowID(id), "", SignalPersonDeceased, PersonDeceased{ChangeID: c.ID}).Get(ctx, nil)
			if err != nil {
				workflow.GetLogger(ctx).Info("death signal not delivered", "issuance", id, "error", err)
			}
		}
	}
	if err := workflow.ExecuteActivity(ctx, ActivityApplyRegisterChange, c).Get(ctx, nil); err != nil {
		return fmt.Errorf("apply register change %d: %w", c.ID, err)
	}
	return nil
}
