package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/opennemid/nemid/register"
	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// AcceptIssuance is an issuance workflow's first step: it records the
// application (the row in received, its received event and any witness
// statement, and the audit entry of a staff application) in one
// transaction, guarded by the one-open-per-CPR index, the register (the
// witness a living person in it) and the witness limit, or records nothing
// and says why; a broken witness rule is reported before another open
// issuance, as the API reports a 422 before a 409. It is idempotent: a
// retry that finds its own row reports it accepted and writes nothing more.
func (a *Activities) AcceptIssuance(ctx context.Context, in workflows.AcceptInput) (workflows.AcceptOutcome, error) {
	if in.IssuanceID == "" || in.Path == "" || in.Acceptance.CPRHash == "" {
		return workflows.AcceptOutcome{}, temporal.NewNonRetryableApplicationError("an acceptance needs the issuance id, path and CPR hash",
			workflows.ErrTypeInvalid, nil)
	}
	iss := ReceivedRow(in)
	var witness, audit store.TxStep
	if w := in.Acceptance.Witness; w != nil {
		// The register's lookup hashes of rows imported since the last
		// lookup are filled here, so the transaction's check finds them.
		_, err := a.Store.PersonByCPRHash(ctx, w.WitnessCPRHash, register.CPRHasher(a.HashKeys.Lookup(), in.Acceptance.At))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return workflows.AcceptOutcome{}, fmt.Errorf("accept issuance %s: look up the witness: %w", in.IssuanceID, err)
		}
		witness = a.Store.RecordWitnessStatement(store.WitnessStatement{WitnessCPRHash: w.WitnessCPRHash, IssuanceID: in.IssuanceID,
			AcceptedAt: in.Acceptance.At.UTC()}, w.Since.UTC(), w.Limit)
	}
	if acc := in.Acceptance; acc.ActorTokenID != "" { // a staff application; last, as AppendAudit asks
		e := store.AuditEntry{Actor: acc.Actor, TokenID: acc.ActorTokenID, Action: store.AuditIssuanceCreated,
			Target: store.IssuanceTarget(in.IssuanceID)}
		audit = store.AuditStep(e)
	}
	err := a.Store.AcceptIssuance(ctx, &iss, witness, audit)
	var open *store.OpenIssuanceError
	switch {
	case errors.As(err, &open):
		return workflows.AcceptOutcome{Outcome: workflows.AcceptOpenIssuance, OpenIssuanceID: open.ID}, nil
	case errors.Is(err, store.ErrWitnessLimit):
		return workflows.AcceptOutcome{Outcome: workflows.AcceptWitnessLimit}, nil
	case errors.Is(err, store.ErrWitnessUnknown):
		return workflows.AcceptOutcome{Outcome: workflows.AcceptWitnessUnknown}, nil
	case err != nil:
		return workflows.AcceptOutcome{}, fmt.Errorf("accept issuance %s: %w", in.IssuanceID, err)
	}
	return workflows.AcceptOutcome{Outcome: workflows.AcceptAccepted}, nil
}

// ReceivedRow is the read-model row of an accepted application, exactly as
// the accept step writes it; the API answers its 201 with the same row.
func ReceivedRow(in workflows.AcceptInput) store.Issuance {
	a := in.Acceptance
	at, deadline := a.At.UTC(), in.Deadline.UTC()
	publicSignature := a.PublicSignature
	return store.Issuance{
		ID: in.IssuanceID, Path: in.Path, Status: workflows.StatusReceived,
		CPRHash: a.CPRHash, CPRMasked: a.CPRMasked, Centre: a.Centre, Representation: a.Representation, Bank: a.Bank,
		PublicSignature: &publicSignature, DocumentHash: a.DocumentHash,
		Reasons: "[]", Deadline: &deadline, CreatedAt: at, UpdatedAt: at,
		Events: []store.Event{{DedupeKey: "received", At: at, Type: "received", Actor: a.Actor, ActorName: store.NameOrNil(a.ActorName),
			Detail: a.Detail}},
	}
}
