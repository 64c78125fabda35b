package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
)

// heartbeatEvery is how often a printing activity tells the server it is
// alive: well inside workflows' printing HeartbeatTimeout (10 s), so only a
// dead worker misses it.
const heartbeatEvery = 2 * time.Second

// keepAlive heartbeats for the activity of ctx until the returned stop is
// called. A printing activity takes milliseconds, but its start-to-close
// bound is minutes (a slow database must not fail it); the heartbeat lets
// the server see a killed worker within the heartbeat timeout and retry
// elsewhere at once, instead of after that bound (DESIGN §10: a person at
// the counter waits for the mint). Outside an activity (a direct call in a
// test) it does nothing.
func keepAlive(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		tick := time.NewTicker(heartbeatEvery)
		defer tick.Stop()
		for {
			activity.RecordHeartbeat(ctx)
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	// Stop waits for the heartbeat goroutine, so none is sent after the
	// activity has returned.
	return func() { close(done); <-exited }
}
