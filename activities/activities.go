// Package activities performs the side effects the workflows decide: writes
// to the read model, register checks, minting and printing, the outbox.
// Every activity is idempotent, because Temporal may run it more than once.
package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/internal/letterkeys"
	"github.com/opennemid/nemid/register"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// Activities holds the dependencies every activity needs.
type Activities struct {
	Store    *store.Store
	Logger   *slog.Logger
	HashKeys domain.HashKeys // NEMID_HASH_KEY: MACs of codes and temporary passwords, CPR lookups
	// LetterKeys is where every letter's PDF key is created
	// (NEMID_LETTER_KEY_DIR), shared with the API that serves, dispatches
	// and hands over the letters and destroys the keys.
	LetterKeys *letterkeys.Dir
}

func (a *Activities) register() register.Register { return register.Register{Store: a.Store} }

// RecordTransition writes a workflow's decision to the read model; the move
// to active activates the credential, and a staff action's audit entry is
// appended, in the same transaction. The event's key makes a retry a no-op.
func (a *Activities) RecordTransition(ctx context.Context, in workflows.TransitionInput) error {
	t := store.Transition{
		IssuanceID:   in.IssuanceID,
		Status:       in.Status,
		Deadline:     in.Deadline,
		ActivationID: in.ActivationID,
		Event: store.Event{
			DedupeKey: in.EventKey, At: in.At.UTC(), Type: in.EventType, Actor: in.Actor, ActorName: store.NameOrNil(in.ActorName),
			Detail: in.Detail,
		},
	}
	if in.Reasons != nil {
		t.Reasons = in.Reasons
	}
	if a := in.Audit; a != nil {
		t.Audit = &store.AuditEntry{Actor: a.Actor, TokenID: a.ActorTokenID, Action: a.Action, Target: store.IssuanceTarget(in.IssuanceID)}
	}
	if in.Fee != nil {
		t.Fee = &store.Fee{Representation: in.Fee.Representation, AmountDKK: in.Fee.AmountDKK, Receipt: in.Fee.Receipt,
			Actor: in.Actor, ActorName: store.NameOrNil(in.ActorName), PaidAt: in.At.UTC()}
	}
	err := a.Store.ApplyTransition(ctx, t)
	if errors.Is(err, store.ErrActivationUnknown) {
		// Only an Update naming no answered activation gets here: a retry
		// cannot make one appear.
		return permanent(fmt.Sprintf("record %s for issuance %s", in.Status, in.IssuanceID), err)
	}
	if err != nil {
		return fmt.Errorf("record %s %s for issuance %s: %w", in.Status, in.EventType, in.IssuanceID, err)
	}
	if in.Status == workflows.StatusActive {
		return a.shredReplaced(ctx, in.IssuanceID)
	}
	return nil
}
