package e2e

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/argon2"

	"github.com/opennemid/nemid/internal/config"
	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// doors are three API processes onto one database: the test's in-process
// server and two `nemid api` processes of their own. An attacker spreads a
// burst over all of them.
func doors(t *testing.T, app *testenv.App) []*testenv.App {
	return []*testenv.App{app, app.StartAPI(t).Client(app), app.StartAPI(t).Client(app)}
}

// burst sends every body at once, round-robin over the doors, and answers
// each one's status and error code in the order given.
func burst(t *testing.T, via []*testenv.App, path string, bodies []map[string]string) []testenv.Response {
	out := make([]testenv.Response, len(bodies))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, b := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = citizen(t, via[i%len(via)], path, b)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

func failedAttempts(t *testing.T, app *testenv.App, userID string) store.Credential {
	t.Helper()
	cred, err := app.Store.CredentialByUserID(context.Background(), userID)
	require.NoError(t, err)
	return cred
}

// TestLockoutHoldsUnderABurst sends 19 wrong secrets and the right one at
// once, over three API processes: at most three wrong secrets are ever
// verified (401); every other wrong one is refused unchecked (423); and
// after that even the right secret is refused.
func TestLockoutHoldsUnderABurst(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		via := doors(t, app)
		t.Run("passwords at logon", func(t *testing.T) {
			p := activeNemID(t, app, soeren)
			right := map[string]string{"user_id": p.userID, "password": newPassword}
			assertBurstLocks(t, app, via, "/v1/logins", p.userID, right, func(i int) map[string]string {
				return map[string]string{"user_id": p.userID, "password": fmt.Sprintf("Forkert%04d", i)}
			})
		})
		t.Run("temporary passwords at activation", func(t *testing.T) {
			p := handedOver(t, app, mette)
			right := map[string]string{"user_id": p.userID, "temporary_password": p.temporaryPassword}
			assertBurstLocks(t, app, via, "/v1/activations", p.userID, right, func(i int) map[string]string {
				return map[string]string{"user_id": p.userID, "temporary_password": wrongDigits(fmt.Sprintf("%06d", i*7919%1000000))}
			})
		})
	})
}

func assertBurstLocks(t *testing.T, app *testenv.App, via []*testenv.App, path, userID string, right map[string]string, wrong func(int) map[string]string) {
	t.Helper()
	const wrongOnes = 19
	bodies := make([]map[string]string, 0, wrongOnes+1)
	for i := range wrongOnes {
		w := wrong(i)
		require.NotEqual(t, right, w)
		bodies = append(bodies, w)
	}
	rightAt := rand.IntN(len(bodies) + 1)
	bodies = append(bodies[:rightAt], append([]map[string]string{right}, bodies[rightAt:]...)...)

	answers := burst(t, via, path, bodies)
	verified, refused := 0, 0
	for i, res := range answers {
		if i == rightAt {
			assert.Contains(t, []int{http.StatusCreated, http.StatusLocked}, res.Status, "the right secret in the burst: %s", res.Body)
			continue
		}
		switch res.Status {
		case http.StatusUnauthorized:
			verified++
		case http.StatusLocked:
			refused++
			assert.Equal(t, "locked", errorCode(res))
		default:
			t.Errorf("wrong secret %d answered %d %s", i, res.Status, res.Body)
		}
	}
	t.Logf("burst of %d wrong secrets over %d processes: %d verified, %d refused unchecked", wrongOnes, len(via), verified, refused)
	assert.LessOrEqual(t, verified, store.MaxFailedAttempts, "at most three wrong secrets are verified")
	assert.Equal(t, wrongOnes, verified+refused)
	cred := failedAttempts(t, app, userID)
	assert.Equal(t, store.MaxFailedAttempts, cred.FailedAttempts, "the failures counted")
	assert.True(t, cred.Locked(), "the burst locked the credential")
	for _, door := range via {
		res := citizen(t, door, path, right)
		assert.Equal(t, http.StatusLocked, res.Status, "the right secret after the lock: %s", res.Body)
	}
}

// TestOneAnswerPerChallenge sends ten answers to one logon challenge at
// once (nine wrong codes and the right one): exactly one is judged, the
// others are refused before their code is looked at, and at most one
// failure is counted — so parallel guesses cannot try many codes for one key.
func TestOneAnswerPerChallenge(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		via := doors(t, app)
		p := activeNemID(t, app, soeren)
		start := citizen(t, app, "/v1/logins", map[string]string{"user_id": p.userID, "password": newPassword})
		require.Equal(t, http.StatusCreated, start.Status, string(start.Body))
		code := p.code(start.JSON["card_number"].(string), start.JSON["key"].(string))
		var bodies []map[string]string
		for i := range 9 {
			bodies = append(bodies, map[string]string{"code": fmt.Sprintf("%06d", (i+1)*111111%1000000)})
		}
		bodies = append(bodies, map[string]string{"code": code})
		answers := burst(t, via, "/v1/logins/"+start.JSON["login_id"].(string), bodies)
		judged := 0
		for _, res := range answers {
			switch {
			case res.Status == http.StatusOK, errorCode(res) == "invalid_code":
				judged++
			case errorCode(res) == "challenge_closed":
			default:
				t.Errorf("answer: %d %s", res.Status, res.Body)
			}
		}
		assert.Equal(t, 1, judged, "exactly one answer is judged")
		assert.LessOrEqual(t, failedAttempts(t, app, p.userID).FailedAttempts, 1)
	})
}

// TestActivationAsksTheSameKeyUntilAnswered: waiting out the challenge
// reveals no further key, and costs no attempt.
func TestActivationAsksTheSameKeyUntilAnswered(t *testing.T) {
	const ttl = time.Second
	opts := testenv.Options{Configure: func(c *config.Config) { c.RateLimit = 100000; c.ChallengeTTL = ttl }}
	forEachBackend(t, opts, func(t *testing.T, app *testenv.App) {
		p := handedOver(t, app, soeren)
		body := map[string]string{"user_id": p.userID, "temporary_password": p.temporaryPassword}
		first := citizen(t, app, "/v1/activations", body)
		require.Equal(t, http.StatusCreated, first.Status, string(first.Body))
		assert.Equal(t, "no-store", first.Header.Get("Cache-Control"))
		for range 3 {
			time.Sleep(ttl + 200*time.Millisecond)
			again := citizen(t, app, "/v1/activations", body)
			require.Equal(t, http.StatusCreated, again.Status, string(again.Body))
			assert.Equal(t, first.JSON["card_number"], again.JSON["card_number"])
			assert.Equal(t, first.JSON["key"], again.JSON["key"], "a new start after expiry asks the same key")
			assert.NotEqual(t, first.JSON["activation_id"], again.JSON["activation_id"])
		}
		assert.Equal(t, 0, failedAttempts(t, app, p.userID).FailedAttempts, "expired activation challenges count nothing")
		late := citizen(t, app, "/v1/activations/"+first.JSON["activation_id"].(string),
			map[string]string{"code": p.code(first.JSON["card_number"].(string), first.JSON["key"].(string)), "new_password": newPassword})
		assert.Equal(t, "challenge_expired", errorCode(late), string(late.Body))
		activate(t, app, p)
	})
}

// TestSessionsEnd: logout ends one session; a lock ends them all.
func TestSessionsEnd(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := activeNemID(t, app, soeren)

		start := citizen(t, app, "/v1/logins", map[string]string{"user_id": p.userID, "password": newPassword})
		require.Equal(t, http.StatusCreated, start.Status, string(start.Body))
		assert.Equal(t, "no-store", start.Header.Get("Cache-Control"), "a challenge is not cached")
		done := citizen(t, app, "/v1/logins/"+start.JSON["login_id"].(string),
			map[string]string{"code": p.code(start.JSON["card_number"].(string), start.JSON["key"].(string))})
		require.Equal(t, http.StatusOK, done.Status, string(done.Body))
		assert.Equal(t, "no-store", done.Header.Get("Cache-Control"), "a session token is not cached")
		token := done.JSON["session_token"].(string)

		_, other := logon(t, app, p)
		for _, body := range []any{nil, "{}"} {
			_, tok := logon(t, app, p)
			out := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/logout", Token: tok, Body: body})
			require.Equal(t, http.StatusOK, out.Status, string(out.Body))
			assert.Equal(t, "{}", string(out.Body[:2]))
			assert.Equal(t, http.StatusUnauthorized, me(t, app, tok).Status, "a logged-out session is gone")
			again := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/logout", Token: tok})
			assert.Equal(t, http.StatusUnauthorized, again.Status, "an ended session cannot log out again")
		}
		bad := app.Do(t, testenv.Request{Method: "POST", Path: "/v1/logout", Token: other, Body: `{"all":true}`})
		assert.Equal(t, http.StatusBadRequest, bad.Status, string(bad.Body))
		assert.Equal(t, http.StatusOK, me(t, app, token).Status, "other sessions stay")
		assert.Equal(t, http.StatusOK, me(t, app, other).Status)

		for range store.MaxFailedAttempts {
			citizen(t, app, "/v1/logins", map[string]string{"user_id": p.userID, "password": "Forkert2024"})
		}
		for _, tok := range []string{token, other} {
			assert.Equal(t, http.StatusUnauthorized, me(t, app, tok).Status, "a lock ends every session")
		}
	})
}

// TestUnknownUserIDsAnswerInTheSameTime compares the answer times of a
// real NemID number with a wrong secret and of an unknown one, interleaved:
// the medians differ by less than the noise allowance, so timing does not
// tell which NemID numbers exist.
func TestUnknownUserIDsAnswerInTheSameTime(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		active := activeNemID(t, app, soeren)
		pending := handedOver(t, app, mette)
		for _, door := range []struct {
			path        string
			known       map[string]string
			unknown     map[string]string
			credentialN string
		}{
			{"/v1/logins", map[string]string{"user_id": active.userID, "password": "Forkert2024"},
				map[string]string{"user_id": "999999999", "password": "Forkert2024"}, active.userID},
			{"/v1/activations", map[string]string{"user_id": pending.userID, "temporary_password": wrongDigits(pending.temporaryPassword)},
				map[string]string{"user_id": "999999999", "temporary_password": "123456"}, pending.userID},
		} {
			cred := failedAttempts(t, app, door.credentialN)
			var known, unknown []time.Duration
			var diff, allowed time.Duration
			// A leak is systematic: it stays in the medians however many
			// samples are pooled. A burst of load from other tests is not:
			// when a round's medians differ by more than the allowance,
			// another round of samples is pooled in, up to three.
			for round := 1; round <= 3; round++ {
				for range 15 {
					for _, sample := range []struct {
						body map[string]string
						into *[]time.Duration
					}{{door.known, &known}, {door.unknown, &unknown}} {
						began := time.Now()
						res := citizen(t, app, door.path, sample.body)
						*sample.into = append(*sample.into, time.Since(began))
						require.Equal(t, http.StatusUnauthorized, res.Status, string(res.Body))
						require.Equal(t, "invalid_credentials", errorCode(res))
					}
					// Keep the real credential unlocked: the comparison is of 401s.
					_, err := app.Store.Unlock(context.Background(), cred.ID, store.Event{DedupeKey: "timing:" + uuid.NewString(),
						At: time.Now().UTC(), Type: "unlocked", Actor: "test", Detail: "timing test"},
						store.AuditEntry{Actor: "test:timing", Action: store.AuditCredentialUnlocked, Target: store.CredentialTarget(cred.UserID)})
					require.NoError(t, err)
				}
				mk, mu := median(known), median(unknown)
				diff = mk - mu
				if diff < 0 {
					diff = -diff
				}
				// Noise grows with load (the race detector, other tests): allow
				// 15 ms or a tenth of the answer time, whichever is larger.
				allowed = max(15*time.Millisecond, max(mk, mu)/10)
				t.Logf("%s, round %d: median %v for a real NemID number, %v for an unknown one (difference %v, allowed %v)",
					door.path, round, mk, mu, diff, allowed)
				if diff < allowed {
					break
				}
			}
			assert.Less(t, diff, allowed, "%s answers tell real NemID numbers apart", door.path)
		}
	})
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// TestHashesFromBeforeThePepperKeepVerifying makes the credential look as a
// database from before key ids and the pepper stored it (a plain argon2id
// password hash, bare hex MACs), logs on, and sees the hash rewritten with
// the pepper; then rotates NEMID_HASH_KEY in a second API process (a new
// key first, the old one kept) and logs on there: what the old key wrote
// verifies, and the password is rewritten under the new key.
func TestHashesFromBeforeThePepperKeepVerifying(t *testing.T) {
	forEachBackend(t, generous, func(t *testing.T, app *testenv.App) {
		p := activeNemID(t, app, soeren)
		cred := failedAttempts(t, app, p.userID)
		require.True(t, strings.HasPrefix(*cred.PasswordHash, "$nemid-argon2id$k=0$"), *cred.PasswordHash)

		asBeforeThePepper(t, app, cred.ID, legacyArgon2(t, newPassword))
		cred = failedAttempts(t, app, p.userID)
		require.True(t, strings.HasPrefix(*cred.PasswordHash, "$argon2id$"), "the credential now looks as before the change")
		require.NotContains(t, cred.TemporaryPasswordMAC, ":")

		logon(t, app, p)
		cred = failedAttempts(t, app, p.userID)
		assert.True(t, strings.HasPrefix(*cred.PasswordHash, "$nemid-argon2id$k=0$"), "rehashed with the pepper at logon: %s", *cred.PasswordHash)

		rotated := app.StartAPI(t, "NEMID_HASH_KEY=k2:"+freshKey(t)+",0:"+app.Config.HashKey).Client(app)
		logon(t, rotated, p) // the codes' bare MACs and the k=0 password verify under the old key
		cred = failedAttempts(t, app, p.userID)
		assert.True(t, strings.HasPrefix(*cred.PasswordHash, "$nemid-argon2id$k=k2$"), "rehashed under the new key: %s", *cred.PasswordHash)
	})
}

// asBeforeThePepper makes a credential look as a database from before key
// ids and the pepper stored it: a plain argon2id password hash, and bare
// hex MACs for its temporary password and codes (MACs of key "0", the id a
// bare NEMID_HASH_KEY has, were stored bare before key ids).
func asBeforeThePepper(t *testing.T, app *testenv.App, credentialID, passwordHash string) {
	ctx := context.Background()
	for _, stmt := range []struct {
		query string
		args  []any
	}{
		{`UPDATE credentials SET password_hash = ? WHERE id = ?`, []any{passwordHash, credentialID}},
		{`UPDATE credentials SET temporary_password_mac = substr(temporary_password_mac, 3)
			WHERE id = ? AND temporary_password_mac LIKE '0:%'`, []any{credentialID}},
		{`UPDATE card_codes SET code_mac = substr(code_mac, 3) WHERE code_mac LIKE '0:%'
			AND card_number IN (SELECT card_number FROM code_cards WHERE credential_id = ?)`, []any{credentialID}},
	} {
		_, err := app.Store.ExecForTests(ctx, stmt.query, stmt.args...)
		require.NoError(t, err)
	}
}

func legacyArgon2(t *testing.T, password string) string {
	salt := make([]byte, 16)
	_, err := crand.Read(salt)
	require.NoError(t, err)
	sum := argon2.IDKey([]byte(password), salt, 2, 19*1024, 1, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=19456,t=2,p=1$%s$%s", argon2.Version,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sum))
}

func freshKey(t *testing.T) string {
	raw := make([]byte, 32)
	_, err := crand.Read(raw)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(raw)
}
