package store

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/workflows"
)

// TestTheOpenIssuanceIndexUsesTheFinalStatuses: SQL cannot import the
// contract, so the migrations' one-open-issuance-per-CPR index is held to
// workflows.FinalStatuses here, and so are the store's queries.
func TestTheOpenIssuanceIndexUsesTheFinalStatuses(t *testing.T) {
	in := regexp.MustCompile(`status NOT IN \(([^)]*)\)`)
	var found []string
	files, err := fs.ReadDir(migrationFiles, "migrations")
	require.NoError(t, err)
	for _, f := range files {
		sql, err := fs.ReadFile(migrationFiles, "migrations/"+f.Name())
		require.NoError(t, err)
		for _, match := range in.FindAllStringSubmatch(string(sql), -1) {
			var statuses []string
			for _, s := range strings.Split(match[1], ",") {
				statuses = append(statuses, strings.Trim(strings.TrimSpace(s), "'"))
			}
			assert.ElementsMatch(t, workflows.FinalStatuses(), statuses, "migration %s", f.Name())
			found = append(found, match[0])
		}
	}
	require.NotEmpty(t, found, "the open-issuance index is in the migrations")
	assert.ElementsMatch(t, workflows.FinalStatuses(), finalStatuses)
	assert.ElementsMatch(t, []string{"rejected", "expired", "cancelled"}, endedUnused())
}

// TestUndecodableRecipientsAreReported: a letter's recipient is JSON the
// store wrote; a damaged one is an error, never an empty address.
func TestUndecodableRecipientsAreReported(t *testing.T) {
	good, err := json.Marshal(Recipient{Name: "Søren", Lines: []string{"Nørregade 1"}})
	require.NoError(t, err)
	cases := []struct {
		name      string
		recipient string
		wantErr   bool
	}{
		{"written by the store", string(good), false},
		{"truncated", `{"name":"Sø`, true},
		{"empty", ``, true},
		{"of the wrong shape", `{"lines":"Nørregade 1"}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Letter{ID: "l-1", Recipient: tc.recipient}.RecipientOf()
			if tc.wantErr {
				require.ErrorContains(t, err, "letter l-1")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "Søren", r.Name)
		})
	}
}
