package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// ledgerFee is a fee placed in the ledger by a test: an abroad issuance row
// and its fee, paid at an exact instant.
type ledgerFee struct {
	id, rep string
	amount  int
	at      time.Time
}

func addFees(t *testing.T, app *testenv.App, fees []ledgerFee) {
	t.Helper()
	ctx := context.Background()
	for i, f := range fees {
		rep, yes := f.rep, true
		iss := store.Issuance{ID: f.id, Path: "abroad", Status: "awaiting_activation", CPRHash: fmt.Sprintf("fee-test-%d", i),
			CPRMasked: "200788-XXXX", Representation: &rep, PublicSignature: &yes, Reasons: "[]", CreatedAt: f.at, UpdatedAt: f.at}
		require.NoError(t, app.Store.CreateIssuance(ctx, &iss, nil))
		_, err := app.Store.ExecForTests(ctx, "INSERT INTO fees (id, issuance_id, representation, amount_dkk, receipt, actor, paid_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			f.id, f.id, f.rep, f.amount, "R-"+f.id, "embassy:"+f.rep, f.at.UTC())
		require.NoError(t, err)
	}
}

func ledger(t *testing.T, app *testenv.App, token string, query url.Values) testenv.Response {
	t.Helper()
	return app.Do(t, testenv.Request{Method: "GET", Path: "/v1/fees?" + query.Encode(), Token: token})
}

func ledgerIDs(res testenv.Response) []string {
	ids := []string{}
	for _, it := range res.JSON["items"].([]any) {
		ids = append(ids, it.(map[string]any)["issuance_id"].(string))
	}
	return ids
}

// TestFeesLedgerScope: an embassy reads its own representation's fees (by
// default, and when it names itself) and never another's (403); an admin
// reads all or one; nobody else reads the ledger.
func TestFeesLedgerScope(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		at := time.Date(2025, 5, 10, 9, 0, 0, 0, time.UTC)
		addFees(t, app, []ledgerFee{
			{"fee-lon-1", "LONDON", 200, at},
			{"fee-lon-2", "LONDON", 250, at.Add(time.Hour)},
			{"fee-par-1", "PARIS", 300, at.Add(2 * time.Hour)},
		})
		paris, err := app.Store.CreateToken(context.Background(), "embassy", "PARIS")
		require.NoError(t, err)
		london, admin := app.Tokens["embassy:LONDON"], app.Tokens["admin:all"]
		cases := []struct {
			name   string
			token  string
			query  url.Values
			status int
			ids    []string
			total  float64
		}{
			{"an embassy's own fees by default", london, url.Values{}, 200, []string{"fee-lon-2", "fee-lon-1"}, 450},
			{"an embassy naming itself", london, url.Values{"representation": {"LONDON"}}, 200, []string{"fee-lon-2", "fee-lon-1"}, 450},
			{"the other embassy sees only its own", paris, url.Values{}, 200, []string{"fee-par-1"}, 300},
			{"embassy A cannot read B", london, url.Values{"representation": {"PARIS"}}, 403, nil, 0},
			{"embassy B cannot read A", paris, url.Values{"representation": {"LONDON"}}, 403, nil, 0},
			{"an embassy cannot read a representation that does not exist", london, url.Values{"representation": {"NOPE"}}, 403, nil, 0},
			{"an admin reads every representation", admin, url.Values{}, 200, []string{"fee-par-1", "fee-lon-2", "fee-lon-1"}, 750},
			{"an admin filters one", admin, url.Values{"representation": {"PARIS"}}, 200, []string{"fee-par-1"}, 300},
			{"an admin naming an unknown representation", admin, url.Values{"representation": {"NOPE"}}, 400, nil, 0},
			{"a caseworker", app.Tokens["caseworker:KBH"], url.Values{}, 403, nil, 0},
			{"the post provider", app.Tokens["post:post"], url.Values{}, 403, nil, 0},
			{"no token", "", url.Values{}, 401, nil, 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := ledger(t, app, tc.token, tc.query)
				require.Equal(t, tc.status, res.Status, string(res.Body))
				if tc.status != http.StatusOK {
					assert.NotContains(t, string(res.Body), "fee-", "a refusal shows no fee")
					return
				}
				assert.Equal(t, tc.ids, ledgerIDs(res))
				assert.Equal(t, tc.total, res.JSON["total_dkk"])
				assert.Equal(t, float64(len(tc.ids)), res.JSON["count"])
			})
		}
		one := ledger(t, app, london, url.Values{"limit": {"1"}}).JSON["items"].([]any)[0].(map[string]any)
		assert.Equal(t, map[string]any{"issuance_id": "fee-lon-2", "representation": "LONDON", "amount_dkk": float64(250),
			"receipt": "R-fee-lon-2", "actor_name": nil, "at": "2025-05-10T10:00:00Z"}, one, "the item's exact shape")
	})
}

// TestFeesLedgerDatesAreCopenhagenDays: from and to are inclusive
// Europe/Copenhagen dates, also across the clock changes (30 March 2025 has
// 23 hours, 26 October 2025 has 25).
func TestFeesLedgerDatesAreCopenhagenDays(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		utc := func(s string) time.Time {
			v, err := time.Parse(time.RFC3339Nano, s)
			require.NoError(t, err)
			return v
		}
		addFees(t, app, []ledgerFee{
			{"mar29-last", "LONDON", 1, utc("2025-03-29T22:59:59.999999Z")}, // 23:59:59.999999 CET on the 29th
			{"mar30-first", "LONDON", 2, utc("2025-03-29T23:00:00Z")},       // midnight CET: the 30th
			{"mar30-last", "LONDON", 4, utc("2025-03-30T21:59:59Z")},        // 23:59:59 CEST on the 30th
			{"mar31-first", "LONDON", 8, utc("2025-03-30T22:00:00Z")},       // midnight CEST: the 31st
			{"oct26-first", "LONDON", 16, utc("2025-10-25T22:00:00Z")},      // midnight CEST: the 26th
			{"oct26-last", "LONDON", 32, utc("2025-10-26T22:59:59Z")},       // 23:59:59 CET on the 26th
			{"oct27-first", "LONDON", 64, utc("2025-10-26T23:00:00Z")},      // midnight CET: the 27th
		})
		london := app.Tokens["embassy:LONDON"]
		cases := []struct {
			name     string
			from, to string
			ids      []string
			total    float64
		}{
			{"one 23-hour day", "2025-03-30", "2025-03-30", []string{"mar30-last", "mar30-first"}, 6},
			{"the day before, to its last microsecond", "2025-03-29", "2025-03-29", []string{"mar29-last"}, 1},
			{"the day after, from its first instant", "2025-03-31", "2025-03-31", []string{"mar31-first"}, 8},
			{"one 25-hour day", "2025-10-26", "2025-10-26", []string{"oct26-last", "oct26-first"}, 48},
			{"from only", "2025-10-27", "", []string{"oct27-first"}, 64},
			{"to only", "", "2025-03-29", []string{"mar29-last"}, 1},
			{"both inclusive", "2025-03-30", "2025-10-26", []string{"oct26-last", "oct26-first", "mar31-first", "mar30-last", "mar30-first"}, 62},
			{"a day without fees", "2025-06-01", "2025-06-01", []string{}, 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				q := url.Values{}
				if tc.from != "" {
					q.Set("from", tc.from)
				}
				if tc.to != "" {
					q.Set("to", tc.to)
				}
				res := ledger(t, app, london, q)
				require.Equal(t, http.StatusOK, res.Status, string(res.Body))
				assert.Equal(t, tc.ids, ledgerIDs(res))
				assert.Equal(t, tc.total, res.JSON["total_dkk"])
				assert.Equal(t, float64(len(tc.ids)), res.JSON["count"])
			})
		}
		for _, bad := range []url.Values{{"from": {"2025-02-30"}}, {"to": {"30-03-2025"}}, {"from": {"2025-03-31"}, "to": {"2025-03-30"}},
			{"limit": {"501"}}, {"limit": {"0"}}, {"cursor": {"nope"}}} {
			res := ledger(t, app, london, bad)
			assert.Equal(t, http.StatusBadRequest, res.Status, "%v: %s", bad, res.Body)
		}
	})
}

// TestFeesLedgerTotalsSpanEveryPage: keyset pages, newest first, each
// carrying the total and count of the whole range; fees paid at the same
// instant are neither skipped nor repeated across a page boundary.
func TestFeesLedgerTotalsSpanEveryPage(t *testing.T) {
	forEachBackend(t, testenv.Options{}, func(t *testing.T, app *testenv.App) {
		base := time.Date(2025, 8, 1, 12, 0, 0, 0, time.UTC)
		var fees []ledgerFee
		var want []string
		wantTotal := 0
		for i := range 7 {
			at := base.Add(time.Duration(i/2) * time.Minute) // pairs share an instant
			fees = append(fees, ledgerFee{fmt.Sprintf("page-%d", i), "LONDON", 200 + i, at})
			wantTotal += 200 + i
		}
		fees = append(fees, ledgerFee{"page-paris", "PARIS", 999, base}, ledgerFee{"page-outside", "LONDON", 999, base.AddDate(0, 0, 2)})
		addFees(t, app, fees)
		for i := 6; i >= 0; i-- {
			want = append(want, fmt.Sprintf("page-%d", i))
		}
		for _, limit := range []int{1, 2, 3, 7, 500} {
			t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
				var got []string
				cursor, pages := "", 0
				for {
					q := url.Values{"from": {"2025-08-01"}, "to": {"2025-08-01"}, "limit": {fmt.Sprint(limit)}}
					if cursor != "" {
						q.Set("cursor", cursor)
					}
					res := ledger(t, app, app.Tokens["embassy:LONDON"], q)
					require.Equal(t, http.StatusOK, res.Status, string(res.Body))
					pages++
					assert.Equal(t, float64(wantTotal), res.JSON["total_dkk"], "page %d carries the whole range's total", pages)
					assert.Equal(t, float64(7), res.JSON["count"], "page %d carries the whole range's count", pages)
					items := ledgerIDs(res)
					assert.LessOrEqual(t, len(items), limit)
					got = append(got, items...)
					next, _ := res.JSON["next_cursor"].(string)
					if next == "" {
						break
					}
					cursor = next
					require.Less(t, pages, 20, "paging does not end")
				}
				assert.Equal(t, want, got, "every fee once, newest first")
				assert.Equal(t, (7+limit-1)/limit, pages)
			})
		}
	})
}
