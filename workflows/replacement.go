package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ReplacementThreshold is how many unspent codes are left on a credential's
// newest card when its replacement is printed and posted (DESIGN.md §2).
const ReplacementThreshold = 20

// ReplacementInput asks for card Seq of a credential. It carries ids only:
// the activity finds the person and the address from the database.
type ReplacementInput struct {
	CredentialID string
	Seq          int
}

// ReplacementResult carries identifiers only; the codes never leave the
// activity.
type ReplacementResult struct {
	CardNumber string
	LetterID   string
}

// ReplacementCard mints, prints and queues one replacement code card. The
// API starts it under ReplacementWorkflowID with a reject-duplicate policy
// when a logon leaves ReplacementThreshold codes on the newest card, so each
// card is made once however many logons race past the threshold; the
// activity is idempotent by (credential, seq) for its own retries.
func ReplacementCard(ctx workflow.Context, in ReplacementInput) (ReplacementResult, error) {
	if in.CredentialID == "" || in.Seq < 2 {
		return ReplacementResult{}, temporal.NewNonRetryableApplicationError(
			"a credential id and a replacement seq of at least 2 are required", ErrTypeInvalid, nil)
	}
	var res ReplacementResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, printOptions), ActivityReplaceCard, in).Get(ctx, &res)
	if err != nil {
		return res, fmt.Errorf("replace card %d of credential %s: %w", in.Seq, in.CredentialID, err)
	}
	return res, nil
}
