package api

import (
	"context"
	"time"
)

// sweepEvery is how often an API process deletes what has expired: idle
// rate-limit buckets, order windows that have passed and idempotency keys
// older than 24 hours. Sweeps run on the requests that write those tables,
// so without traffic there is nothing to sweep either; several processes
// sweeping at once only delete the same rows.
const sweepEvery = time.Minute

// bucketIdle is how long an unused bucket is kept. A bucket idle that long
// is full again anyway (it refills in burst/rate, about a second), so
// forgetting it changes nothing but the table's size.
const bucketIdle = 10 * time.Minute

// housekeeping starts a sweep at most once per sweepEvery in this process,
// beside the request, which does not wait for it. Its failures are logged:
// the request's own statement decides.
func (s *Server) housekeeping(ctx context.Context) {
	now := time.Now()
	next := s.nextSweep.Load()
	if now.UnixNano() < next || !s.nextSweep.CompareAndSwap(next, now.Add(sweepEvery).UnixNano()) {
		return
	}
	go s.sweep(context.WithoutCancel(ctx), now)
}

func (s *Server) sweep(ctx context.Context, now time.Time) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	idle := max(bucketIdle, time.Duration(2*float64(s.burst())/s.rateLimit()*float64(time.Second)))
	if _, err := s.store.DeleteIdleRateBuckets(ctx, now.Add(-idle)); err != nil {
		s.log.WarnContext(ctx, "sweep idle rate buckets", "error", err.Error())
	}
	if _, err := s.store.DeleteStaleAbroadOrderWindows(ctx, now); err != nil {
		s.log.WarnContext(ctx, "sweep abroad order windows", "error", err.Error())
	}
	if _, err := s.store.DeleteExpiredIdempotencyKeys(ctx, now); err != nil {
		s.log.WarnContext(ctx, "sweep expired idempotency keys", "error", err.Error())
	}
	if _, err := s.store.ExpireStaleBookings(ctx, now); err != nil {
		s.log.WarnContext(ctx, "sweep bookings left without a workflow", "error", err.Error())
	}
}
