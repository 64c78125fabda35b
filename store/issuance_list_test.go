package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// TestListPagesAreTheFilteredRowsNewestFirst: for every scope and filter,
// paging through ListIssuances by its cursor yields exactly the matching
// rows, newest first, each once — however the query splits into index
// walks (per status, the two halves of a caseworker's scope).
func TestListPagesAreTheFilteredRowsNewestFirst(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(3, 4))
			statuses := []string{"received", "letters_posted", "awaiting_activation", "active", "expired", "cancelled", "rejected"}
			var all []store.Issuance
			for i := range 160 {
				o := offices[rng.IntN(len(offices))]
				status := statuses[rng.IntN(len(statuses))]
				switch {
				case o.path == "counter" && rng.IntN(4) == 0:
					status = "awaiting_handover"
				case o.path == "abroad" && rng.IntN(3) == 0:
					status = "awaiting_pickup"
				}
				now := time.Now().UTC().Truncate(time.Microsecond)
				iss := store.Issuance{ID: uuid.Must(uuid.NewV7()).String(), Path: o.path, Status: status,
					CPRHash: fmt.Sprintf("person-%d", i%50), CPRMasked: "010190-XXXX", Centre: optional(o.centre),
					Representation: optional(o.representation), Bank: optional(o.bank), Reasons: "[]", CreatedAt: now, UpdatedAt: now}
				if !isFinal(status) {
					iss.CPRHash = fmt.Sprintf("open-%d", i) // one open issuance per person
				}
				require.NoError(t, st.CreateIssuance(ctx, &iss, nil))
				all = append(all, iss)
			}
			slices.Reverse(all) // newest first

			cases := []struct {
				name string
				f    store.ListFilter
			}{
				{"admin", store.ListFilter{}},
				{"admin, one status", store.ListFilter{Status: "active"}},
				{"admin, a centre", store.ListFilter{Centre: "KBH"}},
				{"admin, a centre and a status", store.ListFilter{Centre: "AAR", Status: "awaiting_handover"}},
				{"admin, a status no row of the centre has", store.ListFilter{Centre: "KBH", Status: "awaiting_pickup"}},
				{"admin, a path", store.ListFilter{Path: "abroad"}},
				{"admin, a path and a bank", store.ListFilter{Path: "bank", BankID: "5678"}},
				{"caseworker", store.ListFilter{Scope: store.Scope{Centre: "KBH", BankPathToo: true}}},
				{"caseworker, one status", store.ListFilter{Scope: store.Scope{Centre: "KBH", BankPathToo: true}, Status: "letters_posted"}},
				{"caseworker, a counter-only status", store.ListFilter{Scope: store.Scope{Centre: "AAR", BankPathToo: true}, Status: "awaiting_handover"}},
				{"caseworker, an abroad-only status", store.ListFilter{Scope: store.Scope{Centre: "AAR", BankPathToo: true}, Status: "awaiting_pickup"}},
				{"caseworker, another centre's filter", store.ListFilter{Scope: store.Scope{Centre: "KBH", BankPathToo: true}, Centre: "AAR"}},
				{"caseworker, a bank", store.ListFilter{Scope: store.Scope{Centre: "KBH", BankPathToo: true}, BankID: "1234"}},
				{"caseworker acting (own centre only)", store.ListFilter{Scope: store.Scope{Centre: "KBH"}}},
				{"embassy", store.ListFilter{Scope: store.Scope{Representation: "LONDON"}}},
				{"embassy, one status", store.ListFilter{Scope: store.Scope{Representation: "LONDON"}, Status: "awaiting_pickup"}},
				{"bank", store.ListFilter{Scope: store.Scope{Bank: "1234"}}},
				{"bank, one status", store.ListFilter{Scope: store.Scope{Bank: "1234"}, Status: "expired"}},
				{"a person, admin", store.ListFilter{CPRHash: "person-7"}},
				{"a person, caseworker", store.ListFilter{Scope: store.Scope{Centre: "AAR", BankPathToo: true}, CPRHash: "person-3"}},
				{"nobody", store.ListFilter{CPRHash: "nobody"}},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					var want []string
					for _, iss := range all {
						if listMatches(tc.f, iss) {
							want = append(want, iss.ID)
						}
					}
					for _, limit := range []int{1, 7, 500} {
						f := tc.f
						f.Limit = limit
						var got []string
						for pages := 0; ; pages++ {
							require.Less(t, pages, 200, "paging ends")
							rows, more, err := st.ListIssuances(ctx, f)
							require.NoError(t, err)
							require.LessOrEqual(t, len(rows), limit)
							for _, r := range rows {
								got = append(got, r.ID)
							}
							if !more {
								break
							}
							f.After = rows[len(rows)-1].ID
						}
						require.Equal(t, want, got, "limit %d", limit)
					}
				})
			}
		})
	}
}

// listMatches is the list's rule in plain Go: the scope (DESIGN.md §4) and
// every filter given.
func listMatches(f store.ListFilter, iss store.Issuance) bool {
	v := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	centre, rep, bank := v(iss.Centre), v(iss.Representation), v(iss.Bank)
	sc := f.Scope
	switch {
	case sc.Centre != "" && sc.BankPathToo:
		if centre != sc.Centre && iss.Path != "bank" {
			return false
		}
	case sc.Centre != "":
		if centre != sc.Centre {
			return false
		}
	}
	for _, c := range [][2]string{{sc.Representation, rep}, {sc.Bank, bank}, {f.Status, iss.Status}, {f.Path, iss.Path},
		{f.Centre, centre}, {f.Rep, rep}, {f.BankID, bank}, {f.CPRHash, iss.CPRHash}} {
		if c[0] != "" && c[0] != c[1] {
			return false
		}
	}
	return true
}
