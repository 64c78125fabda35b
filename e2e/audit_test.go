package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

type audited struct{ actor, action, target string }

// auditLog reads the whole log through GET /v1/audit, page by page.
func auditLog(t *testing.T, app *testenv.App, query string, limit int) []map[string]any {
	t.Helper()
	var out []map[string]any
	cursor := ""
	for page := 0; ; page++ {
		require.Less(t, page, 1000, "paging ends")
		q := url.Values{}
		q.Set("limit", strconv.Itoa(limit))
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		res := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/audit?" + q.Encode() + query, Token: app.Tokens["admin:all"]})
		require.Equal(t, http.StatusOK, res.Status, string(res.Body))
		items := res.JSON["items"].([]any)
		require.LessOrEqual(t, len(items), limit)
		for _, it := range items {
			out = append(out, it.(map[string]any))
		}
		next, _ := res.JSON["next_cursor"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
}

// TestAuditRecordsStaffActions drives every audited staff action and PDF
// fetch over HTTP (two API processes among them) and reads them back from
// GET /v1/audit: one entry each, newest first, filtered and paged; the chain
// verifies; and the log holds no CPR, secret, token or document number of
// the session.
func TestAuditRecordsStaffActions(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		kbh, aar, post := app.Tokens["caseworker:KBH"], app.Tokens["caseworker:AAR"], app.Tokens["post:post"]
		began := time.Now().UTC()
		var want []audited

		// Counter: created, handed over, the handover document fetched; unlocked.
		p := handedOver(t, app, soeren)
		counter := "issuance:" + p.issuanceID
		want = append(want, audited{"caseworker:KBH", "issuance_created", counter}, audited{"caseworker:KBH", "handover_confirmed", counter},
			audited{"caseworker:KBH", "handover_pdf_fetched", counter})
		require.Equal(t, http.StatusGone, app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + p.issuanceID + "/handover", Token: kbh}).Status)
		unlock := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/credentials/" + p.userID + "/unlock", Token: kbh,
			Body: map[string]any{"cpr": soeren, "document": passport}})
		require.Equal(t, http.StatusOK, unlock.Status, string(unlock.Body))
		want = append(want, audited{"caseworker:KBH", "credential_unlocked", "credential:" + p.userID})

		// Bank: created, its letters fetched through two API processes at
		// once and dispatched (a repeat changes nothing: no entry), upgraded
		// at another centre, then cancelled.
		bank := createAtBank(t, app, bankBody(anne, false))
		require.Equal(t, http.StatusCreated, bank.Status, string(bank.Body))
		bankID := bank.JSON["id"].(string)
		want = append(want, audited{"bank:1234", "issuance_created", "issuance:" + bankID})
		waitForStatus(t, app, bankID, "letters_posted")
		second := app.SecondAPI(t)
		var texts []string
		for _, l := range lettersOf(t, app, bankID) {
			path := "/v1/letters/" + l
			var wg sync.WaitGroup
			bodies := make([][]byte, 6)
			for i := range bodies {
				wg.Go(func() {
					r := testenv.Request{Method: "GET", Path: path + "/pdf", Token: post}
					var res testenv.Response
					if i%2 == 0 {
						res = testenv.Do(t, second, r)
					} else {
						res = app.Do(t, r)
					}
					if res.Status == http.StatusOK {
						bodies[i] = res.Body
					}
				})
			}
			wg.Wait()
			for i, b := range bodies {
				require.NotNil(t, b, "fetch %d of %s", i, l)
				want = append(want, audited{"post:post", "letter_pdf_fetched", "letter:" + l})
			}
			texts = append(texts, testenv.PDFText(t, bodies[0]))
			require.Equal(t, http.StatusOK, testenv.Do(t, second, testenv.Request{Method: "POST", Path: path + "/dispatched", Token: post}).Status)
			require.Equal(t, http.StatusOK, app.Do(t, testenv.Request{Method: "POST", Path: path + "/dispatched", Token: post}).Status)
			want = append(want, audited{"post:post", "letter_dispatched", "letter:" + l})
		}
		waitForStatus(t, app, bankID, "awaiting_activation")
		refused := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + bankID + "/public-signature", Token: aar,
			Body: map[string]any{"cpr": anne, "document": health}})
		require.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, refused.Status,
			"a refused check changes nothing and is not audited: %s", refused.Body)
		upgrade := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + bankID + "/public-signature", Token: aar,
			Body: map[string]any{"cpr": anne, "document": passport}})
		if upgrade.Status == http.StatusBadRequest { // before the upgrade takes the CPR (DESIGN §9)
			upgrade = app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + bankID + "/public-signature", Token: aar,
				Body: map[string]any{"document": passport}})
		}
		require.Equal(t, http.StatusOK, upgrade.Status, string(upgrade.Body))
		want = append(want, audited{"caseworker:AAR", "public_signature_upgraded", "issuance:" + bankID})
		cancel := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + bankID + "/cancel", Token: app.Tokens["admin:all"],
			Body: map[string]any{"reason": "the customer withdrew"}})
		require.Equal(t, http.StatusOK, cancel.Status, string(cancel.Body))
		want = append(want, audited{"admin:all", "issuance_cancelled", "issuance:" + bankID})

		// Abroad: the person's own order is no staff action; the embassy's
		// pickup is.
		order := order(t, app, abroadOrder(jens, nil))
		require.Equal(t, http.StatusCreated, order.Status, string(order.Body))
		abroadID := order.JSON["id"].(string)
		waitForStatus(t, app, abroadID, "letters_posted")
		for _, l := range lettersOf(t, app, abroadID) {
			pdf := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/letters/" + l + "/pdf", Token: post})
			require.Equal(t, http.StatusOK, pdf.Status)
			texts = append(texts, testenv.PDFText(t, pdf.Body))
			require.Equal(t, http.StatusOK, app.Do(t, testenv.Request{Method: "POST", Path: "/v1/letters/" + l + "/dispatched", Token: post}).Status)
			want = append(want, audited{"post:post", "letter_pdf_fetched", "letter:" + l}, audited{"post:post", "letter_dispatched", "letter:" + l})
		}
		waitForStatus(t, app, abroadID, "awaiting_pickup")
		pickup := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/issuances/" + abroadID + "/pickup", Token: app.Tokens["embassy:LONDON"],
			Body: map[string]any{"document_number": "DP1234567", "fee_paid_dkk": 200, "receipt": "LON-9"}})
		require.Equal(t, http.StatusOK, pickup.Status, string(pickup.Body))
		want = append(want, audited{"embassy:LONDON", "pickup_confirmed", "issuance:" + abroadID})

		// Read back: everything once, nothing else, newest first.
		all := auditLog(t, app, "", 500)
		var got []audited
		for i, e := range all {
			got = append(got, audited{e["actor"].(string), e["action"].(string), e["target"].(string)})
			assert.Equal(t, "ok", e["outcome"])
			assert.Equal(t, e["actor"], e["actor_name"], "the acting token's name (the test tokens are named role:scope)")
			assert.Regexp(t, `^[0-9a-f]{64}$`, e["hash"])
			at, err := time.Parse(time.RFC3339Nano, e["at"].(string))
			require.NoError(t, err)
			assert.False(t, at.Before(began.Add(-time.Second)))
			assert.True(t, strings.HasSuffix(e["at"].(string), "Z"))
			if i > 0 {
				assert.Equal(t, all[i-1]["seq"].(float64)-1, e["seq"].(float64), "newest first, no gaps")
			}
		}
		assert.ElementsMatch(t, want, got)
		assert.Equal(t, float64(1), all[len(all)-1]["seq"])
		assert.Equal(t, all, auditLog(t, app, "", 3), "paging by 3 reads the same log")
		assert.Equal(t, "issuance_created", all[len(all)-1]["action"], "oldest last")

		dispatched := auditLog(t, app, "&action=letter_dispatched", 2)
		assert.Len(t, dispatched, 4)
		for _, e := range dispatched {
			assert.Equal(t, "letter_dispatched", e["action"])
		}
		later := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		assert.Empty(t, auditLog(t, app, "&from="+later, 50))
		earlier := url.QueryEscape(began.Add(-time.Hour).Format(time.RFC3339))
		assert.Empty(t, auditLog(t, app, "&to="+earlier, 50))
		assert.Len(t, auditLog(t, app, "&from="+earlier+"&to="+later, 50), len(all))
		// An offset other than Z names the same instant.
		plusTwo := url.QueryEscape(time.Now().Add(time.Hour).In(time.FixedZone("", 2*3600)).Format(time.RFC3339))
		assert.Empty(t, auditLog(t, app, "&from="+plusTwo, 50))

		v, err := app.Store.VerifyAudit(context.Background())
		require.NoError(t, err)
		require.True(t, v.Holds(), "broken at %d: %s", v.BrokenSeq, v.Reason)
		assert.Equal(t, int64(len(all)), v.Count)
		assert.Zero(t, v.Unkeyed, "every entry is linked under NEMID_HASH_KEY, by the API and by the worker")
		keyed, _, err := app.Store.ListAudit(context.Background(), store.AuditFilter{Limit: 500})
		require.NoError(t, err)
		for _, e := range keyed {
			assert.Equal(t, app.Store.HashKeys().PrimaryID(), e.KeyID, "entry %d (%s) names the key that wrote it", e.Seq, e.Action)
		}

		// No CPR (with or without its dash), no printed secret, no token, no
		// document number in the log.
		var rows []string
		for _, line := range strings.Split(app.DumpDatabase(t), "\n") {
			if strings.HasPrefix(line, "audit_log ") {
				rows = append(rows, line)
			}
		}
		require.Len(t, rows, len(all), "the dump holds the log (the scan below can fail)")
		logText := strings.Join(rows, "\n")
		var secrets []string
		for _, cpr := range []string{soeren, anne, jens} {
			digits := strings.ReplaceAll(cpr, "-", "")
			secrets = append(secrets, digits, digits[:6]+"-"+digits[6:])
		}
		for _, text := range append(texts, p.text) {
			for _, m := range passwordPattern.FindAllStringSubmatch(text, -1) {
				secrets = append(secrets, m[1])
			}
			for _, pair := range pairPattern.FindAllString(text, -1) {
				secrets = append(secrets, pair[5:])
			}
		}
		for _, tok := range app.Tokens {
			secrets = append(secrets, tok)
		}
		secrets = append(secrets, "DP1234567", "P1", "LON-9", "the customer withdrew")
		require.Greater(t, len(secrets), 300, "the codes of three cards are among them")
		for _, s := range secrets {
			assert.Empty(t, tokenContext(logText, s), "found in the audit log: %q", s)
		}
	})
}

// lettersOf lists the ids of an issuance's queued letters.
func lettersOf(t *testing.T, app *testenv.App, issuanceID string) []string {
	t.Helper()
	queue := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/letters?status=queued&limit=500", Token: app.Tokens["post:post"]})
	require.Equal(t, http.StatusOK, queue.Status, string(queue.Body))
	var ids []string
	for _, it := range queue.JSON["items"].([]any) {
		if l := it.(map[string]any); l["issuance_id"] == issuanceID {
			ids = append(ids, l["id"].(string))
		}
	}
	require.Len(t, ids, 2)
	return ids
}

// TestAuditListIsForAdmins: only an admin reads the log; bad filters and
// limits are 400s, never an empty page.
func TestAuditListIsForAdmins(t *testing.T) {
	app := testenv.NewApp(t, testenv.SQLite(t), testenv.Options{})
	cases := []struct {
		name, token, query string
		status             int
	}{
		{"an admin", "admin:all", "", 200},
		{"a filter by action", "admin:all", "?action=credential_unlocked&limit=500", 200},
		{"no token", "", "", 401},
		{"a caseworker", "caseworker:KBH", "", 403},
		{"the post provider", "post:post", "", 403},
		{"an embassy", "embassy:LONDON", "", 403},
		{"a limit above 500", "admin:all", "?limit=501", 400},
		{"a limit of 0", "admin:all", "?limit=0", 400},
		{"an unknown action", "admin:all", "?action=dropped_tables", 400},
		{"a date, not an instant", "admin:all", "?from=2025-01-01", 400},
		{"from after to", "admin:all", "?from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z", 400},
		{"a forged cursor", "admin:all", "?cursor=djE6eA", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := app.Do(t, testenv.Request{Method: "GET", Path: "/v1/audit" + tc.query, Token: app.Tokens[tc.token]})
			assert.Equal(t, tc.status, res.Status, string(res.Body))
			if tc.status == 200 {
				assert.NotNil(t, res.JSON["items"])
			} else {
				assert.NotEmpty(t, errorCode(res))
			}
		})
	}
}
