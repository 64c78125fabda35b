package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// RevokeCredentials makes an issuance's unactivated credentials unusable
// as the issuance ends unused (store.RevokeCredential): its queued letters
// are withdrawn and a handover document still held is purged. Their keys
// are destroyed first, so a failure in between leaves documents that are
// already gone, and a retry finishes the purge; the keys of letters
// withdrawn by the revocation are destroyed after it too (one queued in
// between).
func (a *Activities) RevokeCredentials(ctx context.Context, issuanceID string) error {
	issuances := []string{issuanceID}
	if err := a.shredLetters(ctx, issuances, a.Store.LettersToWithdraw); err != nil {
		return fmt.Errorf("revoke credentials of %s: %w", issuanceID, err)
	}
	if err := a.Store.RevokeCredential(ctx, issuanceID); err != nil {
		return fmt.Errorf("revoke credentials of %s: %w", issuanceID, err)
	}
	if err := a.shredLetters(ctx, issuances, a.Store.WithdrawnLetterIDs); err != nil {
		return fmt.Errorf("revoke credentials of %s: %w", issuanceID, err)
	}
	return nil
}

// shredReplaced destroys the keys of the letters withdrawn when the person's
// previous NemID was revoked by this issuance's activation (in the
// activation's transaction: store.ApplyTransition). Only after it: until
// the activation commits, the old NemID and its letters stand. A retry of
// RecordTransition runs this again.
func (a *Activities) shredReplaced(ctx context.Context, issuanceID string) error {
	iss, err := a.Store.GetIssuance(ctx, issuanceID, store.Scope{})
	if err != nil {
		return fmt.Errorf("load issuance %s: %w", issuanceID, err)
	}
	others, err := a.Store.IssuancesOfPerson(ctx, iss.CPRHash)
	if err != nil {
		return fmt.Errorf("list the person's NemIDs: %w", err)
	}
	return a.shredLetters(ctx, others, a.Store.WithdrawnLetterIDs)
}

// shredLetters destroys the keys of the letters list finds; destroying a
// key twice is harmless.
func (a *Activities) shredLetters(ctx context.Context, issuanceIDs []string, list func(context.Context, []string) ([]string, error)) error {
	ids, err := list(ctx, issuanceIDs)
	if err != nil {
		return err
	}
	if len(ids) > 0 && a.LetterKeys == nil {
		return temporal.NewNonRetryableApplicationError("no letter key directory configured (NEMID_LETTER_KEY_DIR)", workflows.ErrTypeInvalid, nil)
	}
	for _, id := range ids {
		if err := a.LetterKeys.Destroy(id); err != nil {
			return err
		}
	}
	return nil
}
