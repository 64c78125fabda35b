package api

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/store"
	"github.com/opennemid/nemid/workflows"
)

// TestTheConsoleUsesTheContractsStatuses: the console's JavaScript cannot
// import the contract, so its lists are held to workflows.FinalStatuses
// and, for the header's counts, workflows.Statuses.
func TestTheConsoleUsesTheContractsStatuses(t *testing.T) {
	js, err := os.ReadFile("console/assets/console.js")
	require.NoError(t, err)
	for name, want := range map[string][]string{"FINAL": workflows.FinalStatuses(), "STATUSES": workflows.Statuses()} {
		m := regexp.MustCompile(`const ` + name + ` = \[([^\]]*)\]`).FindStringSubmatch(string(js))
		require.NotNil(t, m, "console.js declares %s", name)
		var statuses []string
		for _, s := range strings.Split(m[1], ",") {
			statuses = append(statuses, strings.Trim(strings.TrimSpace(s), "'\"\n "))
		}
		assert.ElementsMatch(t, want, statuses, name)
	}
}

// TestUndecodableReasonsAreReported: an issuance's reasons are JSON the
// workflow's activity wrote; a damaged list is an error, never shown empty.
func TestUndecodableReasonsAreReported(t *testing.T) {
	cases := []struct {
		name    string
		reasons string
		want    []Detail
		wantErr bool
	}{
		{"none yet", "", []Detail{}, false},
		{"an empty list", "[]", []Detail{}, false},
		{"one reason", `[{"code":"deceased","message":"the register records the person as deceased"}]`,
			[]Detail{{Code: "deceased", Message: "the register records the person as deceased"}}, false},
		{"truncated", `[{"code":"dec`, nil, true},
		{"of the wrong shape", `{"code":"deceased"}`, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := viewIssuance(store.Issuance{ID: "i-1", Status: workflows.StatusRejected, Reasons: tc.reasons})
			if tc.wantErr {
				require.ErrorContains(t, err, "issuance i-1")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, v.Reasons)
		})
	}
}
