// Package worker registers the workflows and activities on a Temporal worker.
// The binary and the tests call the same Register, so they cannot drift.
package worker

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/opennemid/nemid/activities"
	"github.com/opennemid/nemid/workflows"
)

// Register puts every workflow and activity on w under its contract name.
func Register(w worker.Registry, acts *activities.Activities) {
	w.RegisterWorkflowWithOptions(workflows.CounterIssuance, workflow.RegisterOptions{Name: workflows.CounterIssuanceWorkflow})
	w.RegisterWorkflowWithOptions(workflows.BankIssuance, workflow.RegisterOptions{Name: workflows.BankIssuanceWorkflow})
	w.RegisterWorkflowWithOptions(workflows.AbroadIssuance, workflow.RegisterOptions{Name: workflows.AbroadIssuanceWorkflow})
	w.RegisterActivityWithOptions(acts.AcceptIssuance, activity.RegisterOptions{Name: workflows.ActivityAcceptIssuance})
	w.RegisterActivityWithOptions(acts.RecordTransition, activity.RegisterOptions{Name: workflows.ActivityRecordTransition})
	w.RegisterActivityWithOptions(acts.MintCredentials, activity.RegisterOptions{Name: workflows.ActivityMintCredentials})
	w.RegisterActivityWithOptions(acts.CheckRegister, activity.RegisterOptions{Name: workflows.ActivityCheckRegister})
	w.RegisterActivityWithOptions(acts.QueueReminder, activity.RegisterOptions{Name: workflows.ActivityQueueReminder})
	w.RegisterActivityWithOptions(acts.RevokeCredentials, activity.RegisterOptions{Name: workflows.ActivityRevokeCredentials})
	w.RegisterWorkflowWithOptions(workflows.ReplacementCard, workflow.RegisterOptions{Name: workflows.ReplacementCardWorkflow})
	w.RegisterActivityWithOptions(acts.ReplaceCard, activity.RegisterOptions{Name: workflows.ActivityReplaceCard})
	w.RegisterWorkflowWithOptions(workflows.RegisterChanges, workflow.RegisterOptions{Name: workflows.RegisterChangesWorkflow})
	w.RegisterActivityWithOptions(acts.PendingRegisterChanges, activity.RegisterOptions{Name: workflows.ActivityPendingRegisterChanges})
	w.RegisterActivityWithOptions(acts.StopOpenIssuances, activity.RegisterOptions{Name: workflows.ActivityStopOpenIssuances})
	w.RegisterActivityWithOptions(acts.ApplyRegisterChange, activity.RegisterOptions{Name: workflows.ActivityApplyRegisterChange})
	w.RegisterWorkflowWithOptions(workflows.CardOrder, workflow.RegisterOptions{Name: workflows.CardOrderWorkflow})
	w.RegisterWorkflowWithOptions(workflows.PasswordReset, workflow.RegisterOptions{Name: workflows.PasswordResetWorkflow})
	w.RegisterActivityWithOptions(acts.MintOrderedCard, activity.RegisterOptions{Name: workflows.ActivityMintOrderedCard})
	w.RegisterActivityWithOptions(acts.PrintResetLetter, activity.RegisterOptions{Name: workflows.ActivityPrintResetLetter})
	w.RegisterActivityWithOptions(acts.RecordResetPickup, activity.RegisterOptions{Name: workflows.ActivityRecordResetPickup})
	w.RegisterActivityWithOptions(acts.ActivateReset, activity.RegisterOptions{Name: workflows.ActivityActivateReset})
	w.RegisterActivityWithOptions(acts.CloseReset, activity.RegisterOptions{Name: workflows.ActivityCloseReset})
	w.RegisterWorkflowWithOptions(workflows.Appointment, workflow.RegisterOptions{Name: workflows.AppointmentWorkflow})
	w.RegisterActivityWithOptions(acts.MoveAppointment, activity.RegisterOptions{Name: workflows.ActivityMoveAppointment})
	w.RegisterActivityWithOptions(acts.RescheduleAppointment, activity.RegisterOptions{Name: workflows.ActivityRescheduleAppointment})
	w.RegisterActivityWithOptions(acts.QueueAppointmentReminder, activity.RegisterOptions{Name: workflows.ActivityQueueAppointmentReminder})
}
