package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

// bankInput is a bank's issuance: no centre.
func bankInput(env *testsuite.TestWorkflowEnvironment, how string) IssuanceInput {
	in := input(env, how)
	in.Path, in.Centre = "bank", ""
	return in
}

// A bank issuance posts two letters to the registered address and waits for
// both to be dispatched, then for the activation; it has no handover.
func TestBankLettersThenActivation(t *testing.T) {
	env, f := newEnv(t)
	var handover, activate updateResult
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateHandover, "h", handover.callbacks(), HandoverRequest{Actor: "caseworker:KBH"})
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalLetterDispatched, LetterDispatched{LetterID: "card-1"})
		env.SignalWorkflow(SignalLetterDispatched, LetterDispatched{LetterID: "password-1"})
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateActivate, "a", activate.callbacks(), ActivationRequest{ActivationID: "act-1"})
	}, 3*time.Hour)
	env.ExecuteWorkflow(BankIssuance, bankInput(env, "letters"))

	require.Equal(t, StatusActive, result(t, env))
	require.Equal(t, []string{StatusLettersPosted, StatusAwaitingActivation, StatusActive}, f.statuses())
	require.Error(t, handover.rejected, "a bank issuance has no handover")
	require.False(t, handover.accepted)
	require.Len(t, f.mints, 1)
	require.Equal(t, "letters", f.mints[0].Delivery)
	require.Equal(t, "Nørregade 1", f.mints[0].CardRecipient.Lines[0], "the card goes to the registered address")
	require.Equal(t, "Nørregade 1", f.mints[0].PasswordRecipient.Lines[0], "so does the password, in its own letter")
	require.NoError(t, activate.err)
	require.Zero(t, f.revoked)
}

func TestBankLettersExpireUndispatched(t *testing.T) {
	env, f := newEnv(t)
	env.ExecuteWorkflow(BankIssuance, bankInput(env, "letters"))

	require.Equal(t, StatusExpired, result(t, env))
	require.Equal(t, []string{StatusLettersPosted, StatusExpired}, f.statuses())
	require.Equal(t, 1, f.revoked, "expired credentials are revoked")
}

func TestBankRefusesAHandoverDelivery(t *testing.T) {
	env, _ := newEnv(t)
	env.ExecuteWorkflow(BankIssuance, bankInput(env, "handover"))

	require.True(t, env.IsWorkflowCompleted())
	require.ErrorContains(t, env.GetWorkflowError(), `the bank path cannot deliver by "handover"`)
}
