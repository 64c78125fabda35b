package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/opennemid/nemid/register"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// registerBatch bounds the changes one sweep takes on.
const registerBatch = 50

// PendingRegisterChanges lists register changes not yet applied, by id and
// kind only (the CPR stays in the database).
func (a *Activities) PendingRegisterChanges(ctx context.Context) ([]workflows.RegisterChangeRef, error) {
	rows, err := a.Store.PendingRegisterChanges(ctx, registerBatch)
	if err != nil {
		return nil, fmt.Errorf("list pending register changes: %w", err)
	}
	out := make([]workflows.RegisterChangeRef, 0, len(rows))
	for _, r := range rows {
		out = append(out, workflows.RegisterChangeRef{ID: r.ID, Kind: r.Kind})
	}
	return out, nil
}

// StopOpenIssuances lists the pending issuances of a deceased person, whose
// workflows the sweep then tells of the death.
func (a *Activities) StopOpenIssuances(ctx context.Context, c workflows.RegisterChangeRef) ([]string, error) {
	hash, err := a.changedPerson(ctx, c)
	if err != nil {
		return nil, err
	}
	ids, err := a.Store.OpenIssuancesOf(ctx, hash)
	if err != nil {
		return nil, fmt.Errorf("list the pending issuances of register change %d: %w", c.ID, err)
	}
	return ids, nil
}

// ErrIssuancesPending: a deceased person's issuances are still pending; the
// activity is retried until their workflows have ended them.
var ErrIssuancesPending = errors.New("the person's pending issuances have not ended yet")

// ApplyRegisterChange acts on one register change and marks it applied.
// A death revokes every NemID of the person (reason deceased, timeline
// `revoked`: sessions, challenges end, queued letters are withdrawn and
// their keys destroyed), but only once no issuance of the person is
// pending: those end rejected by their own workflows first, which revoke
// their own credentials; one that was activated in the meantime is
// revoked here. Address protection needs nothing more: later letters read
// the register when they are made. Applying a change again does nothing
// new.
func (a *Activities) ApplyRegisterChange(ctx context.Context, c workflows.RegisterChangeRef) error {
	now := activity.GetInfo(ctx).StartedTime.UTC()
	if c.Kind == workflows.RegisterChangeDeceased {
		hash, err := a.changedPerson(ctx, c)
		if err != nil {
			return err
		}
		open, err := a.Store.OpenIssuancesOf(ctx, hash)
		if err != nil {
			return fmt.Errorf("list the pending issuances: %w", err)
		}
		if len(open) > 0 {
			return fmt.Errorf("register change %d: %d issuance(s): %w", c.ID, len(open), ErrIssuancesPending)
		}
		issuances, err := a.Store.IssuancesOfPerson(ctx, hash)
		if err != nil {
			return fmt.Errorf("list the person's NemIDs: %w", err)
		}
		if err := a.shredLetters(ctx, issuances, a.Store.LettersToWithdraw); err != nil {
			return err
		}
		if _, err := a.Store.RevokeCredentialsOf(ctx, hash, store.RevokedDeceased, "revoked",
			"revoked: the CPR register records the person as deceased", now); err != nil {
			return fmt.Errorf("revoke the NemIDs of register change %d: %w", c.ID, err)
		}
		if err := a.shredLetters(ctx, issuances, a.Store.WithdrawnLetterIDs); err != nil {
			return err
		}
	}
	return a.Store.MarkRegisterChangeApplied(ctx, c.ID, now)
}

// changedPerson is the CPR lookup hash of the person a change is about.
func (a *Activities) changedPerson(ctx context.Context, c workflows.RegisterChangeRef) (string, error) {
	row, err := a.Store.RegisterChangeByID(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf("no register change %d", c.ID), workflows.ErrTypeInvalid, err)
	}
	if err != nil {
		return "", fmt.Errorf("load register change %d: %w", c.ID, err)
	}
	hash, err := register.CPRHasher(a.HashKeys.Lookup(), activity.GetInfo(ctx).StartedTime)(row.CPR)
	if err != nil {
		return "", permanent(fmt.Sprintf("register change %d names an invalid CPR", c.ID), err)
	}
	return hash, nil
}
