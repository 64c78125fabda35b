package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

const pickupWindow = 2160 * time.Hour

// abroadInput is an order from London with the code card to a London flat.
func abroadInput(env *testsuite.TestWorkflowEnvironment) IssuanceInput {
	in := input(env, "representation")
	in.Path, in.Centre, in.Representation, in.PickupWindow = "abroad", "", "LONDON", pickupWindow
	in.OrderAddress = &Recipient{Lines: []string{"10 Downing Street, Flat 2"}, Postcode: "SW1A 2AA", City: "London", Country: "GB"}
	return in
}

func dispatchBoth(env *testsuite.TestWorkflowEnvironment, after time.Duration) {
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalLetterDispatched, LetterDispatched{LetterID: "card-1"})
		env.SignalWorkflow(SignalLetterDispatched, LetterDispatched{LetterID: "password-1"})
	}, after)
}

func pickupBy(actor string) PickupRequest {
	return PickupRequest{Actor: actor, FeePaidDKK: 200, Receipt: "R-1"}
}

func TestAbroadLettersPickupActivation(t *testing.T) {
	env, f := newEnv(t)
	var early, pickup, activate updateResult
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdatePickup, "early", early.callbacks(), pickupBy("embassy:LONDON"))
	}, time.Hour)
	dispatchBoth(env, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdatePickup, "p", pickup.callbacks(), pickupBy("embassy:LONDON"))
	}, 30*24*time.Hour)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateActivate, "a", activate.callbacks(), ActivationRequest{ActivationID: "act-1"})
	}, 31*24*time.Hour)
	env.ExecuteWorkflow(AbroadIssuance, abroadInput(env))

	require.Equal(t, StatusActive, result(t, env))
	require.Equal(t, []string{StatusLettersPosted, StatusAwaitingPickup, StatusAwaitingActivation, StatusActive}, f.statuses())
	require.ErrorContains(t, early.rejected, "not awaiting a pickup", "the password letter is not at the representation yet")
	require.NoError(t, pickup.err)
	require.Equal(t, StatusAwaitingActivation, pickup.state.Status, "the pickup answers once recorded")

	picked := f.transitions[2]
	require.Equal(t, "pickup_confirmed", picked.EventType)
	require.Equal(t, "embassy:LONDON", picked.Actor)
	require.Equal(t, &FeePaid{Representation: "LONDON", AmountDKK: 200, Receipt: "R-1"}, picked.Fee, "the fee is recorded with the pickup")
	require.Equal(t, activation, picked.Deadline.Sub(picked.At), "the activation window opens at the pickup")
	require.Equal(t, 30*24*time.Hour, picked.At.Sub(f.transitions[0].At),
		"recorded when the representation confirmed")

	m := f.mints[0]
	require.Equal(t, "representation", m.Delivery)
	require.Equal(t, []string{"10 Downing Street, Flat 2"}, m.CardRecipient.Lines, "the code card goes to the order's address")
	require.Equal(t, "Søren Ærø", m.CardRecipient.Name, "under the register's name")
	require.Equal(t, "c/o Royal Danish Embassy in London", m.PasswordRecipient.Lines[0], "the password waits at the representation")
	require.Equal(t, "GB", m.PasswordRecipient.Country)
	require.Zero(t, f.revoked)
}

func TestAbroadDeadlines(t *testing.T) {
	t.Run("an uncollected password expires after the pickup window", func(t *testing.T) {
		env, f := newEnv(t)
		dispatchBoth(env, time.Hour)
		env.ExecuteWorkflow(AbroadIssuance, abroadInput(env))

		require.Equal(t, StatusExpired, result(t, env))
		require.Equal(t, []string{StatusLettersPosted, StatusAwaitingPickup, StatusExpired}, f.statuses())
		pickupDeadline := *f.transitions[1].Deadline
		require.Equal(t, pickupWindow, pickupDeadline.Sub(f.transitions[1].At), "NEMID_PICKUP_WINDOW from entering awaiting_pickup")
		require.Equal(t, 1, f.revoked)
	})
	t.Run("the reminder goes to the order's address", func(t *testing.T) {
		env, f := newEnv(t)
		dispatchBoth(env, time.Hour)
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(UpdatePickup, "p", (&updateResult{}).callbacks(), pickupBy("embassy:LONDON"))
		}, 2*time.Hour)
		env.ExecuteWorkflow(AbroadIssuance, abroadInput(env))

		require.Equal(t, StatusExpired, result(t, env))
		require.Len(t, f.reminders, 1)
		require.Equal(t, []string{"10 Downing Street, Flat 2"}, f.reminders[0].Recipient.Lines)
		require.Equal(t, "GB", f.reminders[0].Recipient.Country)
	})
}

func TestAbroadCancelWhileAwaitingPickup(t *testing.T) {
	env, f := newEnv(t)
	dispatchBoth(env, time.Hour)
	var cancel updateResult
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateCancel, "c", cancel.callbacks(), CancelRequest{Reason: "moved home", Actor: "admin:all"})
	}, 2*time.Hour)
	env.ExecuteWorkflow(AbroadIssuance, abroadInput(env))

	require.Equal(t, StatusCancelled, result(t, env))
	require.Equal(t, []string{StatusLettersPosted, StatusAwaitingPickup, StatusCancelled}, f.statuses())
	require.Equal(t, 1, f.revoked)
}

func TestPickupValidator(t *testing.T) {
	env, _ := newEnv(t)
	dispatchBoth(env, time.Hour)
	var noReceipt, ok, twice updateResult
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdatePickup, "bad", noReceipt.callbacks(), PickupRequest{Actor: "embassy:LONDON", FeePaidDKK: 200})
		env.UpdateWorkflow(UpdatePickup, "ok", ok.callbacks(), pickupBy("embassy:LONDON"))
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdatePickup, "again", twice.callbacks(), pickupBy("embassy:LONDON"))
	}, 3*time.Hour)
	env.ExecuteWorkflow(AbroadIssuance, abroadInput(env))

	require.ErrorContains(t, noReceipt.rejected, "receipt")
	require.NoError(t, ok.err)
	require.ErrorContains(t, twice.rejected, "not awaiting a pickup", "a second pickup is refused, never recorded twice")
}

func TestAbroadOrderMustBeComplete(t *testing.T) {
	env, _ := newEnv(t)
	in := abroadInput(env)
	in.Representation = "OSLO"
	env.ExecuteWorkflow(AbroadIssuance, in)
	require.ErrorContains(t, env.GetWorkflowError(), "known representation")
}
