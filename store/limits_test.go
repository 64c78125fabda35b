package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

var t0 = time.Date(2025, 6, 15, 10, 0, 0, 0, time.UTC)

// TestTokenBucket: burst, refill by elapsed time capped at the burst, the
// wait until the next token, and clocks of two processes that disagree.
func TestTokenBucket(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()
			take := func(bucket string, now time.Time) (bool, time.Duration) {
				t.Helper()
				ok, wait, err := st.TakeToken(ctx, bucket, 2, 3, now)
				require.NoError(t, err)
				return ok, wait
			}
			for i := range 3 {
				ok, _ := take("a", t0)
				require.True(t, ok, "token %d of the burst", i+1)
			}
			ok, wait := take("a", t0)
			require.False(t, ok, "the burst is spent")
			assert.InDelta(t, 500*time.Millisecond, wait, float64(time.Millisecond), "one token per half second")
			ok, _ = take("b", t0)
			assert.True(t, ok, "another bucket is full")

			ok, _ = take("a", t0.Add(250*time.Millisecond))
			assert.False(t, ok, "half a token is not a token")
			ok, _ = take("a", t0.Add(501*time.Millisecond))
			assert.True(t, ok, "refilled after half a second")

			// A process whose clock is 10 s behind gets no refill (the elapsed
			// time is clamped at zero), and it does not move the bucket's
			// time back: the next caller on time refills only from t0+0.501s.
			ok, wait = take("a", t0.Add(-10*time.Second))
			assert.False(t, ok, "a clock behind refills nothing")
			assert.InDelta(t, 500*time.Millisecond, wait, float64(time.Millisecond))
			ok, _ = take("a", t0.Add(900*time.Millisecond))
			assert.False(t, ok, "0.4 s after the last refill is 0.8 tokens")
			ok, _ = take("a", t0.Add(1002*time.Millisecond))
			assert.True(t, ok)

			// Idle for an hour: full again, but no more than the burst.
			later := t0.Add(time.Hour)
			for range 3 {
				ok, _ = take("a", later)
				require.True(t, ok)
			}
			ok, _ = take("a", later)
			assert.False(t, ok, "refill is capped at the burst")

			_, _, err := st.TakeToken(ctx, "c", 0.25, 1, t0)
			require.NoError(t, err)
			ok, wait, err = st.TakeToken(ctx, "c", 0.25, 1, t0)
			require.NoError(t, err)
			assert.False(t, ok)
			assert.InDelta(t, 4*time.Second, wait, float64(time.Millisecond), "a fractional rate")

			n, err := st.DeleteIdleRateBuckets(ctx, t0.Add(time.Minute))
			require.NoError(t, err)
			assert.EqualValues(t, 2, n, "buckets b and c were idle since t0; a was used an hour later")
		})
	}
}

// TestTokenBucketIsAtomicAcrossConnections: two connection pools (two API
// processes) take from one bucket at once; exactly the burst gets through.
func TestTokenBucketIsAtomicAcrossConnections(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			one := b.Open(t)
			stores := []*store.Store{one, testenv.Reopen(t, one)}
			var allowed atomic.Int32
			var wg sync.WaitGroup
			now := time.Now()
			for i := range 60 {
				wg.Go(func() {
					ok, _, err := stores[i%2].TakeToken(context.Background(), "shared", 0.001, 10, now)
					assert.NoError(t, err)
					if ok {
						allowed.Add(1)
					}
				})
			}
			wg.Wait()
			assert.EqualValues(t, 10, allowed.Load(), "exactly the burst, however the takes interleave")
		})
	}
}

// TestAbroadOrderWindow: at most 5 orders per CPR hash in any 24 hours; a
// refused order is not counted; the wait is until the oldest leaves.
func TestAbroadOrderWindow(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()
			take := func(hash string, now time.Time) (bool, time.Duration) {
				t.Helper()
				ok, wait, err := st.TakeAbroadOrder(ctx, hash, now)
				require.NoError(t, err)
				return ok, wait
			}
			for i := range store.AbroadOrdersPerCPR {
				ok, _ := take("h1", t0.Add(time.Duration(i)*time.Hour))
				require.True(t, ok, "order %d", i+1)
			}
			at := t0.Add(10 * time.Hour)
			ok, wait := take("h1", at)
			require.False(t, ok, "the sixth within 24 hours")
			assert.Equal(t, 14*time.Hour, wait, "until the first order is 24 hours old")
			ok, _ = take("h2", at)
			assert.True(t, ok, "another CPR is counted apart")

			ok, _ = take("h1", t0.Add(24*time.Hour-time.Microsecond))
			assert.False(t, ok)
			ok, _ = take("h1", t0.Add(24*time.Hour))
			assert.True(t, ok, "the first order left the window; refused ones were not counted")
			ok, wait = take("h1", t0.Add(24*time.Hour))
			assert.False(t, ok, "the second order is still inside")
			assert.Equal(t, time.Hour, wait)

			// A clock behind by an hour cannot append an order before the
			// newest: the window stays ordered.
			ok, _ = take("h3", t0)
			require.True(t, ok)
			ok, _ = take("h3", t0.Add(-time.Hour))
			require.True(t, ok)

			n, err := st.DeleteStaleAbroadOrderWindows(ctx, t0.Add(24*time.Hour+30*time.Minute))
			require.NoError(t, err)
			assert.EqualValues(t, 1, n, "h3's newest order is older than 24 hours; h1 and h2 are not")
		})
	}
}

// TestIdempotencyKeysExpire: a key is remembered for 24 hours, then treated
// as unused (its row replaced), and cleaned up.
func TestIdempotencyKeysExpire(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()
			claim := store.IdempotencyKey{Principal: "anonymous:127.0.0.2", Key: "k1", Method: "POST", Path: "/v1/issuances", RequestHash: "h1"}
			_, claimed, err := st.ClaimIdempotencyKey(ctx, claim)
			require.NoError(t, err)
			require.True(t, claimed)
			require.NoError(t, st.CompleteIdempotencyKey(ctx, claim.Principal, claim.Key, 422, []byte(`{"a":1}`)))

			other := claim
			other.RequestHash = "h2"
			prior, claimed, err := st.ClaimIdempotencyKey(ctx, other)
			require.NoError(t, err)
			require.False(t, claimed, "a live key is not claimed again")
			assert.Equal(t, "h1", prior.RequestHash)
			assert.Equal(t, 422, prior.StatusCode)

			n, err := st.ExecForTests(ctx, "UPDATE idempotency_keys SET created_at = ? WHERE principal = ? AND key = ?",
				time.Now().UTC().Add(-store.IdempotencyKeyTTL-time.Minute), claim.Principal, claim.Key)
			require.NoError(t, err)
			require.EqualValues(t, 1, n)
			mine, claimed, err := st.ClaimIdempotencyKey(ctx, other)
			require.NoError(t, err)
			require.True(t, claimed, "an expired key is unused")
			assert.Equal(t, "h2", mine.RequestHash)
			prior, claimed, err = st.ClaimIdempotencyKey(ctx, claim)
			require.NoError(t, err)
			require.False(t, claimed)
			assert.Equal(t, "h2", prior.RequestHash, "the old row was replaced")
			assert.Equal(t, 0, prior.StatusCode, "and its old answer is gone")
			assert.Empty(t, prior.ResponseBody)

			old := claim
			old.Key = "k2"
			_, claimed, err = st.ClaimIdempotencyKey(ctx, old)
			require.NoError(t, err)
			require.True(t, claimed)
			_, err = st.ExecForTests(ctx, "UPDATE idempotency_keys SET created_at = ? WHERE key = ?",
				time.Now().UTC().Add(-store.IdempotencyKeyTTL-time.Second), "k2")
			require.NoError(t, err)
			n, err = st.DeleteExpiredIdempotencyKeys(ctx, time.Now())
			require.NoError(t, err)
			assert.EqualValues(t, 1, n, "only the expired key is cleaned up")
			_, claimed, err = st.ClaimIdempotencyKey(ctx, claim)
			require.NoError(t, err)
			assert.False(t, claimed, "k1 is still there")
		})
	}
}

// TestIdempotencyClaimsAreReleasedAndLeased: a released key runs again and
// keeps its first CreatedAt (ids derived from it stay the same); a running
// claim whose process died is taken over by the same request after the
// lease, never by another request.
func TestIdempotencyClaimsAreReleasedAndLeased(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ctx := context.Background()
			claim := store.IdempotencyKey{Principal: "tok-1", Key: "k1", Method: "POST", Path: "/v1/issuances", RequestHash: "h1"}
			first, claimed, err := st.ClaimIdempotencyKey(ctx, claim)
			require.NoError(t, err)
			require.True(t, claimed)
			require.NoError(t, st.ReleaseIdempotencyKey(ctx, claim.Principal, claim.Key))
			time.Sleep(5 * time.Millisecond)
			again, claimed, err := st.ClaimIdempotencyKey(ctx, claim)
			require.NoError(t, err)
			require.True(t, claimed, "a released key runs again")
			assert.True(t, first.CreatedAt.Equal(again.CreatedAt), "with its first CreatedAt: %v, %v", first.CreatedAt, again.CreatedAt)

			_, claimed, err = st.ClaimIdempotencyKey(ctx, claim)
			require.NoError(t, err)
			require.False(t, claimed, "a running claim holds the key")
			_, err = st.ExecForTests(ctx, "UPDATE idempotency_keys SET created_at = ? WHERE key = ?",
				first.CreatedAt.Add(-store.IdempotencyLease-time.Second), "k1")
			require.NoError(t, err)
			other := claim
			other.RequestHash = "h2"
			_, claimed, err = st.ClaimIdempotencyKey(ctx, other)
			require.NoError(t, err)
			require.False(t, claimed, "another request never takes a running claim over")
			taken, claimed, err := st.ClaimIdempotencyKey(ctx, claim)
			require.NoError(t, err)
			require.True(t, claimed, "the same request takes it over after the lease")
			assert.True(t, first.CreatedAt.Add(-store.IdempotencyLease-time.Second).Equal(taken.CreatedAt), "keeping its first use")
		})
	}
}
