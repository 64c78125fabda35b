package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/opennemid/nemid/internal/codec"
)

// ReplayTestCodecKey encrypts the histories recorded for replay tests. It
// is public test data, never a production key.
const ReplayTestCodecKey = "replay-test:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

// NewReplayer returns a replayer with every workflow registered under its
// contract name, reading payloads encrypted with ReplayTestCodecKey.
func NewReplayer() (worker.WorkflowReplayer, error) {
	c, err := codec.Parse(ReplayTestCodecKey)
	if err != nil {
		return nil, err
	}
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: c.DataConverter()})
	if err != nil {
		return nil, err
	}
	r.RegisterWorkflowWithOptions(CounterIssuance, workflow.RegisterOptions{Name: CounterIssuanceWorkflow})
	r.RegisterWorkflowWithOptions(BankIssuance, workflow.RegisterOptions{Name: BankIssuanceWorkflow})
	r.RegisterWorkflowWithOptions(AbroadIssuance, workflow.RegisterOptions{Name: AbroadIssuanceWorkflow})
	r.RegisterWorkflowWithOptions(ReplacementCard, workflow.RegisterOptions{Name: ReplacementCardWorkflow})
	r.RegisterWorkflowWithOptions(Appointment, workflow.RegisterOptions{Name: AppointmentWorkflow})
	return r, nil
}
