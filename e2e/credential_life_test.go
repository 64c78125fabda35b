package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/config"
	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/register"
	"github.com/opennemid/nemid/store"
)

// activeNemID issues, hands over and activates a NemID for cpr.
func activeNemID(t *testing.T, app *testenv.App, cpr string) printed {
	t.Helper()
	p := handedOver(t, app, cpr)
	activate(t, app, p)
	waitForStatus(t, app, p.issuanceID, "active")
	return p
}

func staff(t *testing.T, app *testenv.App, token, method, path string, body any) testenv.Response {
	t.Helper()
	return app.Do(t, testenv.Request{Method: method, Path: path, Token: app.Tokens[token], Body: body})
}

func credentialStatus(t *testing.T, app *testenv.App, issuanceID string) any {
	t.Helper()
	return status(t, app, issuanceID).JSON["credential_status"]
}

func startLogon(t *testing.T, app *testenv.App, p printed, password string) testenv.Response {
	t.Helper()
	return citizen(t, app, "/v1/logins", map[string]string{"user_id": p.userID, "password": password})
}

var photoID = map[string]any{"type": "passport", "number": "P1", "expires": "2099-01-01"}

// TestBlockLogonUnblock: support blocks (any centre), every logon and
// activation then answers 423 blocked whatever the secret, sessions end,
// an unlock leaves the block, and only an unblock with the holder's CPR and
// a valid photo ID lifts it.
func TestBlockLogonUnblock(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := activeNemID(t, app, soeren)
		_, session := logon(t, app, p)
		path := "/v1/credentials/" + p.userID

		anonymous := app.Do(t, testenv.Request{Method: "POST", Path: path + "/block", Body: map[string]string{"reason": "x"}})
		assert.Equal(t, http.StatusUnauthorized, anonymous.Status)
		assert.Equal(t, http.StatusForbidden, staff(t, app, "post:post", "POST", path+"/block", map[string]string{"reason": "x"}).Status)
		assert.Equal(t, http.StatusBadRequest, staff(t, app, "caseworker:AAR", "POST", path+"/block", map[string]string{}).Status, "a reason is required")
		assert.Equal(t, http.StatusNotFound, staff(t, app, "caseworker:AAR", "POST", "/v1/credentials/123456789/block", map[string]string{"reason": "x"}).Status)

		blocked := staff(t, app, "caseworker:AAR", "POST", path+"/block", map[string]string{"reason": "the person called: phone stolen"})
		require.Equal(t, http.StatusOK, blocked.Status, "any centre blocks: %s", blocked.Body)
		assert.Equal(t, "blocked", blocked.JSON["status"])
		assert.Equal(t, http.StatusUnauthorized, me(t, app, session).Status, "the block ended the session")
		assert.Equal(t, "blocked", credentialStatus(t, app, p.issuanceID))

		refused := []struct {
			name string
			res  testenv.Response
		}{
			{"the right password", startLogon(t, app, p, newPassword)},
			{"a wrong password", startLogon(t, app, p, "Forkert2024")},
			{"an activation", citizen(t, app, "/v1/activations", map[string]string{"user_id": p.userID, "temporary_password": p.temporaryPassword})},
		}
		for _, r := range refused {
			assert.Equal(t, http.StatusLocked, r.res.Status, "%s: %s", r.name, r.res.Body)
			assert.Equal(t, "blocked", errorCode(r.res), r.name)
		}
		assert.Zero(t, failedAttempts(t, app, p.userID).FailedAttempts, "nothing was checked or counted")

		unlock := staff(t, app, "caseworker:KBH", "POST", path+"/unlock", map[string]any{"cpr": soeren, "document": photoID})
		require.Equal(t, http.StatusOK, unlock.Status, string(unlock.Body))
		assert.Equal(t, "blocked", unlock.JSON["status"], "the answer shows the block the unlock left")
		assert.Equal(t, "blocked", errorCode(startLogon(t, app, p, newPassword)), "unlock never lifts a block")

		unblockCases := []struct {
			name string
			body map[string]any
			want int
			code string
		}{
			{"no CPR", map[string]any{"document": photoID}, 422, "person_mismatch"},
			{"another person's CPR", map[string]any{"document": photoID, "cpr": anne}, 422, "person_mismatch"},
			{"an expired photo ID", map[string]any{"document": map[string]any{"type": "passport", "number": "P1", "expires": "2001-01-01"}, "cpr": soeren}, 422, "document_expired"},
			{"no document", map[string]any{"cpr": soeren}, 400, "invalid_request"},
		}
		for _, tc := range unblockCases {
			res := staff(t, app, "caseworker:AAR", "POST", path+"/unblock", tc.body)
			require.Equal(t, tc.want, res.Status, "%s: %s", tc.name, res.Body)
			if tc.want == 422 {
				assert.Contains(t, codesOf(res), tc.code, tc.name)
			}
		}
		assert.Equal(t, "blocked", errorCode(startLogon(t, app, p, newPassword)))

		unblocked := staff(t, app, "caseworker:AAR", "POST", path+"/unblock", map[string]any{"document": photoID, "cpr": soeren})
		require.Equal(t, http.StatusOK, unblocked.Status, string(unblocked.Body))
		assert.Equal(t, "active", unblocked.JSON["status"])
		logon(t, app, p)
		timeline := status(t, app, p.issuanceID)
		assert.Equal(t, 1, countType(timeline, "blocked"))
		assert.Equal(t, 1, countType(timeline, "unblocked"))
		assert.Equal(t, "active", timeline.JSON["credential_status"])

		// The person blocks it themselves.
		_, session = logon(t, app, p)
		own := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/me/block", Token: session})
		require.Equal(t, http.StatusOK, own.Status, string(own.Body))
		assert.Equal(t, "no-store", own.Header.Get("Cache-Control"))
		assert.Equal(t, http.StatusUnauthorized, me(t, app, session).Status)
		assert.Equal(t, "blocked", errorCode(startLogon(t, app, p, newPassword)))
		assert.Equal(t, http.StatusUnauthorized, app.Do(t, testenv.Request{Method: "POST", Path: "/v1/me/block", Token: session}).Status)
	})
}

// TestFindACredential: by NemID number and by CPR (in the body), with its
// cards; 404 for none; staff only.
func TestFindACredential(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := activeNemID(t, app, soeren)
		card := cardPattern.FindStringSubmatch(p.text)[1]
		want := map[string]any{"user_id": p.userID, "issuance_id": p.issuanceID, "status": "active",
			"cards": []any{map[string]any{"card_number": card, "status": "active", "unspent": float64(147)}}}
		cases := []struct {
			name, token, method, path string
			body                      any
			want                      int
		}{
			{"by NemID number, another centre", "caseworker:AAR", "GET", "/v1/credentials/" + p.userID, nil, 200},
			{"by CPR with the dash", "admin:all", "POST", "/v1/credentials/search", map[string]string{"cpr": soeren}, 200},
			{"by CPR without", "caseworker:KBH", "POST", "/v1/credentials/search", map[string]string{"cpr": strings.ReplaceAll(soeren, "-", "")}, 200},
			{"a person without a NemID", "caseworker:KBH", "POST", "/v1/credentials/search", map[string]string{"cpr": anne}, 404},
			{"an unknown NemID number", "caseworker:KBH", "GET", "/v1/credentials/123456789", nil, 404},
			{"a malformed CPR", "caseworker:KBH", "POST", "/v1/credentials/search", map[string]string{"cpr": "310290-1234"}, 422},
			{"a bank", "bank:1234", "GET", "/v1/credentials/" + p.userID, nil, 403},
		}
		for _, tc := range cases {
			res := staff(t, app, tc.token, tc.method, tc.path, tc.body)
			require.Equal(t, tc.want, res.Status, "%s: %s", tc.name, res.Body)
			if tc.want == 200 {
				assert.Equal(t, want, res.JSON, tc.name)
			}
		}
	})
}

// TestChangePasswordEndsOtherSessions: the policy first (422, nothing
// counted), a wrong current password counts, the change ends every other
// session and keeps the asking one.
func TestChangePasswordEndsOtherSessions(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := activeNemID(t, app, soeren)
		_, asking := logon(t, app, p)
		_, other := logon(t, app, p)
		change := func(current, next string) testenv.Response {
			return app.Do(t, testenv.Request{Method: "POST", Path: "/v1/me/password", Token: asking,
				Body: map[string]string{"current_password": current, "new_password": next}})
		}
		const changed = "Nyt2025kodeord"
		steps := []struct {
			name              string
			current, proposed string
			want              int
			code              string
			failures          int
		}{
			{"the policy", newPassword, "1234", 422, "rules_broken", 0},
			{"a wrong current password", "Forkert2024", changed, 401, "invalid_credentials", 1},
			{"missing a field", "", changed, 400, "invalid_request", 1},
			{"the change", newPassword, changed, 200, "", 0},
		}
		for _, s := range steps {
			res := change(s.current, s.proposed)
			assert.Equal(t, s.want, res.Status, "%s: %s", s.name, res.Body)
			assert.Equal(t, s.code, errorCode(res), s.name)
			assert.Equal(t, s.failures, failedAttempts(t, app, p.userID).FailedAttempts, s.name)
		}
		assert.Equal(t, http.StatusOK, me(t, app, asking).Status, "the asking session stays")
		assert.Equal(t, http.StatusUnauthorized, me(t, app, other).Status, "every other session ends")
		assert.Equal(t, http.StatusUnauthorized, startLogon(t, app, p, newPassword).Status, "the old password is gone")
		start := startLogon(t, app, p, changed)
		require.Equal(t, http.StatusCreated, start.Status, string(start.Body))
		assert.Equal(t, 1, countType(status(t, app, p.issuanceID), "password_changed"))
		assert.NotContains(t, app.DumpDatabase(t), changed)
		assert.NotContains(t, app.LogText(), changed)
	})
}

// TestApplyAgainReplacesTheActiveNemID: a person with an active NemID may
// apply again; activating the new one revokes the old in the same step.
func TestApplyAgainReplacesTheActiveNemID(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		old := activeNemID(t, app, soeren)
		_, oldSession := logon(t, app, old)

		fresh := handedOver(t, app, soeren)
		assert.Equal(t, "active", credentialStatus(t, app, old.issuanceID), "the old NemID works until the new one is activated")
		assert.Equal(t, "pending", credentialStatus(t, app, fresh.issuanceID))
		assert.Equal(t, http.StatusOK, me(t, app, oldSession).Status)

		activate(t, app, fresh)
		// Read your writes: the activation's 200 already shows the old revoked.
		was := status(t, app, old.issuanceID)
		assert.Equal(t, "active", was.JSON["status"], "the old issuance stays active for good")
		assert.Equal(t, "revoked", was.JSON["credential_status"])
		assert.Equal(t, 1, countType(was, "credential_replaced"))
		assert.Equal(t, http.StatusUnauthorized, me(t, app, oldSession).Status, "the old NemID's sessions ended")
		assert.Equal(t, http.StatusUnauthorized, startLogon(t, app, old, newPassword).Status)
		logon(t, app, fresh)
		var active int64
		require.NoError(t, app.Store.ScanForTests(context.Background(), &active, "SELECT COUNT(*) FROM credentials WHERE status = 'active'"))
		assert.EqualValues(t, 1, active)
		search := staff(t, app, "caseworker:KBH", "POST", "/v1/credentials/search", map[string]string{"cpr": soeren})
		assert.Equal(t, fresh.userID, search.JSON["user_id"], "the current NemID")
	})
}

// importRegister imports the demo register with change applied, as
// `nemid registry import` does.
func importRegister(t *testing.T, app *testenv.App, cpr string, change func(*store.Person)) {
	t.Helper()
	people, err := register.Demo(time.Now())
	require.NoError(t, err)
	want := strings.ReplaceAll(cpr, "-", "")
	for i := range people {
		if people[i].CPR == want {
			change(&people[i])
		}
	}
	_, err = app.Store.ImportPersons(context.Background(), people, time.Now().UTC())
	require.NoError(t, err)
}

// TestRegisterDeathRejectsAndRevokes: the register import records a death;
// the worker's sweep rejects the open issuance (deceased) through its
// workflow and revokes the active NemID, ending its sessions.
func TestRegisterDeathRejectsAndRevokes(t *testing.T) {
	opts := testenv.Options{Configure: func(c *config.Config) { c.RateLimit = 100000; c.RegisterSweep = time.Second }}
	forEachBackend(t, opts, func(t *testing.T, app *testenv.App) {
		old := activeNemID(t, app, soeren)
		_, session := logon(t, app, old)
		open := create(t, app, soeren)
		require.Equal(t, http.StatusCreated, open.Status, string(open.Body))
		openID := open.JSON["id"].(string)
		waitForStatus(t, app, openID, "awaiting_handover")

		importRegister(t, app, soeren, func(p *store.Person) { p.Deceased = true })
		rejected := waitForStatus(t, app, openID, "rejected")
		assert.Equal(t, []string{"deceased"}, codesOf(testenv.Response{JSON: map[string]any{"error": map[string]any{"details": rejected.JSON["reasons"]}}}))
		assert.Equal(t, "revoked", rejected.JSON["credential_status"])
		eventually(t, "the active NemID revoked", func() bool { return credentialStatus(t, app, old.issuanceID) == "revoked" })
		assert.Equal(t, 1, countType(status(t, app, old.issuanceID), "revoked"))
		assert.Equal(t, http.StatusUnauthorized, me(t, app, session).Status)
		assert.Equal(t, http.StatusUnauthorized, startLogon(t, app, old, newPassword).Status)
		eventually(t, "the change applied", func() bool {
			pending, err := app.Store.PendingRegisterChanges(context.Background(), 10)
			require.NoError(t, err)
			return len(pending) == 0
		})
		again := create(t, app, soeren)
		assert.Equal(t, http.StatusUnprocessableEntity, again.Status, "a deceased person cannot apply")
		assertCountsAreTheList(t, app) // the register's rejection moved the counts too
	})
}

// TestBlockRacesLogons: logons racing a block never leave a session alive
// once the block has answered.
func TestBlockRacesLogons(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		second := app.SecondAPI(t)
		p := activeNemID(t, app, soeren)
		var mu sync.Mutex
		var sessions []string
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for i := range 6 {
			wg.Go(func() {
				base := app.URL
				if i%2 == 1 {
					base = second
				}
				for {
					select {
					case <-stop:
						return
					default:
					}
					start := testenv.Do(t, base, testenv.Request{Method: "POST", Path: "/v1/logins", Body: map[string]string{"user_id": p.userID, "password": newPassword}})
					if start.Status != http.StatusCreated {
						continue
					}
					code := p.code(start.JSON["card_number"].(string), start.JSON["key"].(string))
					done := testenv.Do(t, base, testenv.Request{Method: "POST", Path: "/v1/logins/" + start.JSON["login_id"].(string), Body: map[string]string{"code": code}})
					if done.Status == http.StatusOK {
						mu.Lock()
						sessions = append(sessions, done.JSON["session_token"].(string))
						mu.Unlock()
					}
				}
			})
		}
		time.Sleep(300 * time.Millisecond)
		blocked := staff(t, app, "caseworker:KBH", "POST", "/v1/credentials/"+p.userID+"/block", map[string]string{"reason": "race"})
		require.Equal(t, http.StatusOK, blocked.Status, string(blocked.Body))
		// Every session is dead from the block's answer on, including any
		// a logon in flight completes afterwards.
		deadline := time.Now().Add(300 * time.Millisecond)
		for time.Now().Before(deadline) {
			mu.Lock()
			snapshot := append([]string(nil), sessions...)
			mu.Unlock()
			for _, s := range snapshot {
				require.Equal(t, http.StatusUnauthorized, me(t, app, s).Status, "a session outlived the block")
			}
		}
		close(stop)
		wg.Wait()
		for _, s := range sessions {
			assert.Equal(t, http.StatusUnauthorized, me(t, app, s).Status)
		}
		t.Logf("%d logons completed before the block", len(sessions))
		assert.Equal(t, "blocked", errorCode(startLogon(t, app, p, newPassword)))
	})
}

// TestWrongCurrentPasswordsInParallel: a burst of wrong current passwords
// on two API processes verifies at most three; the third locks and ends
// the session itself.
func TestWrongCurrentPasswordsInParallel(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		bases := []string{app.URL, app.SecondAPI(t)}
		p := activeNemID(t, app, soeren)
		_, session := logon(t, app, p)
		const n = 16
		answers := make([]testenv.Response, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				answers[i] = testenv.Do(t, bases[i%2], testenv.Request{Method: "POST", Path: "/v1/me/password", Token: session,
					Body: map[string]string{"current_password": fmt.Sprintf("Forkert%04d", i), "new_password": "Nyt2025kodeord"}})
			})
		}
		close(start)
		wg.Wait()
		verified := 0
		for i, res := range answers {
			switch {
			case res.Status == http.StatusUnauthorized && errorCode(res) == "invalid_credentials":
				verified++
			case res.Status == http.StatusLocked && errorCode(res) == "locked",
				res.Status == http.StatusUnauthorized && errorCode(res) == "unauthorized": // the lock ended the session
			default:
				t.Errorf("answer %d: %d %s", i, res.Status, res.Body)
			}
		}
		t.Logf("%d wrong current passwords verified of %d", verified, n)
		assert.LessOrEqual(t, verified, store.MaxFailedAttempts)
		cred := failedAttempts(t, app, p.userID)
		assert.True(t, cred.Locked())
		assert.Equal(t, store.MaxFailedAttempts, cred.FailedAttempts)
		assert.Equal(t, http.StatusUnauthorized, me(t, app, session).Status, "the lock ended the session")
		assert.Equal(t, "locked", errorCode(startLogon(t, app, p, newPassword)))
	})
}
