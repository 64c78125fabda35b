package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/opennemid/nemid/domain"
)

// awaitPickup waits, once both letters are out, for the representation to
// hand over the sealed password letter. It reports false when the issuance
// ended meanwhile (cancelled, or expired uncollected).
func (w *issuanceRun) awaitPickup(ctx workflow.Context) (bool, error) {
	deadline := workflow.Now(ctx).Add(w.in.PickupWindow)
	w.setState(StatusAwaitingPickup, &deadline)
	if err := w.db.record(ctx, w.move(StatusAwaitingPickup, &deadline, "", "", "")); err != nil {
		return false, err
	}
	ok, err := awaitUntil(ctx, deadline, func() bool { return w.pickup != nil || w.stopped() })
	switch {
	case err != nil:
		return false, err
	case w.stopped():
		_, err = w.endStopped(ctx)
		return false, err
	case !ok:
		_, err = w.endExpired(ctx, "the temporary password was not collected before the deadline")
		return false, err
	}
	return true, nil
}

func (w *issuanceRun) validatePickup(ctx workflow.Context, req PickupRequest) error {
	if w.ending || w.pickup != nil || w.state.Status != StatusAwaitingPickup {
		return temporal.NewApplicationError("the issuance is "+w.state.Status+", not awaiting a pickup", ErrTypeConflict)
	}
	if req.Receipt == "" || req.FeePaidDKK < 0 || req.Actor == "" {
		return temporal.NewApplicationError("a pickup needs the actor, the fee paid and a receipt", ErrTypeInvalid)
	}
	return nil
}

// handlePickup answers once the pickup and its fee are recorded and the
// activation window is open, so the representation's confirmation is final.
func (w *issuanceRun) handlePickup(ctx workflow.Context, req PickupRequest) (State, error) {
	w.pickup = &req
	if err := workflow.Await(ctx, func() bool { return w.activationOpen || isFinal(w.state.Status) }); err != nil {
		return State{}, err
	}
	if !w.activationOpen {
		return w.state, temporal.NewApplicationError("the issuance became "+w.state.Status, ErrTypeConflict)
	}
	return w.state, nil
}

// pickupTransition opens the activation window with the pickup on the
// timeline and its fee recorded in the same write.
func (w *issuanceRun) pickupTransition(deadline time.Time) TransitionInput {
	t := w.move(StatusAwaitingActivation, &deadline, "pickup_confirmed", w.pickup.Actor,
		fmt.Sprintf("temporary password collected at %s; fee DKK %d paid, receipt %s", w.in.Representation, w.pickup.FeePaidDKK, w.pickup.Receipt))
	t.ActorName = w.pickup.ActorName
	t.Fee = &FeePaid{Representation: w.in.Representation, AmountDKK: w.pickup.FeePaidDKK, Receipt: w.pickup.Receipt}
	t.Audit = &AuditStep{Action: AuditPickupConfirmed, Actor: w.pickup.Actor, ActorTokenID: w.pickup.ActorTokenID}
	return t
}

func (w *issuanceRun) orderComplete() bool {
	_, known := domain.FindRepresentation(domain.BuiltinRepresentations(), w.in.Representation)
	return known && w.in.OrderAddress != nil && len(w.in.OrderAddress.Lines) > 0
}

// orderRecipient is the order's address under the register's name.
func (w *issuanceRun) orderRecipient(name string) Recipient {
	to := Recipient{Name: name}
	if a := w.in.OrderAddress; a != nil {
		to.Lines, to.Postcode, to.City, to.Country = a.Lines, a.Postcode, a.City, a.Country
	}
	return to
}

// CareOfRepresentation addresses the sealed password letter to the person
// care of the representation that hands it over.
func CareOfRepresentation(name, code string) Recipient {
	rep, _ := domain.FindRepresentation(domain.BuiltinRepresentations(), code)
	lines := append([]string{"c/o " + rep.Name}, rep.Address.Lines...)
	return Recipient{Name: name, Lines: lines, Postcode: rep.Address.Postcode, City: rep.Address.City, Country: rep.Address.Country}
}
