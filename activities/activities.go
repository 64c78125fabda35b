// Package activities performs the side effects the workflows decide: writes
// to the read model, minting and printing, the outbox. Every activity is
// idempotent, because Temporal may run it more than once.
package activities

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// Activities holds the dependencies every activity needs.
type Activities struct {
	Store  *store.Store
	Logger *slog.Logger
}

// RecordTransition writes a workflow's decision to the read model. The
// event's key makes a retry a no-op.
func (a *Activities) RecordTransition(ctx context.Context, in workflows.TransitionInput) error {
	err := a.Store.ApplyTransition(ctx, store.Transition{
		IssuanceID: in.IssuanceID,
		Status:     in.Status,
		Deadline:   in.Deadline,
		Event: store.Event{
			DedupeKey: in.EventKey, At: in.At.UTC(), Type: in.EventType, Actor: in.Actor, Detail: in.Detail,
		},
	})
	if err != nil {
		return fmt.Errorf("record %s for issuance %s: %w", in.EventType, in.IssuanceID, err)
	}
	return nil
}
