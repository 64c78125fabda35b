package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/opennemid/nemid/domain"
	"github.com/opennemid/nemid/workflows"
)

// CheckRegister re-reads the register before minting. Acceptance checked
// everything already, so a violation here means a fact changed since: the
// person died, left the register, or may no longer receive post.
func (a *Activities) CheckRegister(ctx context.Context, in workflows.RegisterCheck) (workflows.RegisterFacts, error) {
	cpr, err := domain.ParseCPR(in.CPR, activity.GetInfo(ctx).StartedTime)
	if err != nil {
		return workflows.RegisterFacts{}, temporal.NewNonRetryableApplicationError("malformed CPR in workflow input", workflows.ErrTypeInvalid, nil)
	}
	person, err := a.register().Lookup(ctx, cpr)
	if err != nil {
		return workflows.RegisterFacts{}, fmt.Errorf("check register: %w", err)
	}
	if person == nil {
		return workflows.RegisterFacts{Violations: []workflows.Reason{{Code: domain.CodeCPRUnknown,
			Message: "the CPR number is no longer in the CPR register"}}}, nil
	}
	facts := workflows.RegisterFacts{Name: person.Name, AddressProtected: person.AddressProtected, LivesAbroad: person.LivesAbroad(),
		Address: workflows.Recipient{Name: person.Name, Lines: person.AddressLines, Postcode: person.Postcode, City: person.City, Country: person.Country}}
	if person.Deceased {
		facts.Violations = append(facts.Violations, workflows.Reason{Code: domain.CodeDeceased, Message: "the register records the person as deceased"})
	}
	if in.Delivery == string(domain.DeliveryRepresentation) && !person.LivesAbroad() {
		facts.Violations = append(facts.Violations, workflows.Reason{Code: domain.CodeNotAbroad,
			Message: "the person has moved to Denmark per the register, so NemID is no longer ordered from abroad"})
	}
	if in.Delivery == string(domain.DeliveryLetters) {
		for _, v := range domain.RegisteredAddressViolations(person, "the register changed after acceptance, so the letters cannot be posted") {
			facts.Violations = append(facts.Violations, workflows.Reason{Code: v.Code, Message: v.Message})
		}
	}
	return facts, nil
}
