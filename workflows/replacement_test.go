package workflows

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

func TestReplacementCard(t *testing.T) {
	tests := []struct {
		name      string
		in        ReplacementInput
		failFirst bool // the activity fails once and is retried
		wantErr   bool
		wantCalls int
	}{
		{name: "mints and queues once", in: ReplacementInput{CredentialID: "c1", Seq: 2}, wantCalls: 1},
		{name: "a failed attempt is retried", in: ReplacementInput{CredentialID: "c1", Seq: 3}, failFirst: true, wantCalls: 2},
		{name: "the first card is not a replacement", in: ReplacementInput{CredentialID: "c1", Seq: 1}, wantErr: true},
		{name: "a credential is required", in: ReplacementInput{Seq: 2}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestWorkflowEnvironment()
			var calls []ReplacementInput
			replace := func(_ context.Context, in ReplacementInput) (ReplacementResult, error) {
				calls = append(calls, in)
				if tt.failFirst && len(calls) == 1 {
					return ReplacementResult{}, errors.New("database unreachable")
				}
				return ReplacementResult{CardNumber: "2000000002", LetterID: "letter-1"}, nil
			}
			env.RegisterActivityWithOptions(replace, activity.RegisterOptions{Name: ActivityReplaceCard})
			env.ExecuteWorkflow(ReplacementCard, tt.in)
			require.True(t, env.IsWorkflowCompleted())
			err := env.GetWorkflowError()
			require.Len(t, calls, tt.wantCalls)
			if tt.wantErr {
				var appErr *temporal.ApplicationError
				require.ErrorAs(t, err, &appErr)
				require.Equal(t, ErrTypeInvalid, appErr.Type())
				return
			}
			require.NoError(t, err)
			var res ReplacementResult
			require.NoError(t, env.GetWorkflowResult(&res))
			require.Equal(t, ReplacementResult{CardNumber: "2000000002", LetterID: "letter-1"}, res)
			for _, c := range calls {
				require.Equal(t, tt.in, c, "the activity gets ids only")
			}
		})
	}
}

func TestReplacementWorkflowIDCarriesNoPersonalData(t *testing.T) {
	require.Equal(t, "replacement/c1/2", ReplacementWorkflowID("c1", 2))
}
