package worker

import (
	"time"

	"go.temporal.io/sdk/worker"
)

// StopTimeout is how long a stopping worker lets activities in flight
// finish. Every activity is idempotent and retried, so cutting one short
// loses nothing; but letting a mint or a letter finish its few
// milliseconds of work means a stop (a deploy, a test's end) does not leave
// a half-done attempt for another worker to redo, nor a process still
// writing a letter key after its caller has moved on.
const StopTimeout = 10 * time.Second

// Options are the worker settings the binary and the tests share.
func Options() worker.Options {
	return worker.Options{WorkerStopTimeout: StopTimeout}
}
