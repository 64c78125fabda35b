package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// stoppingWorker stands in for the SDK worker's Run: it returns nil when
// interrupted, or fatal (if set) after a moment, as the SDK does when the
// worker stops on its own (namespace gone, client refused).
type stoppingWorker struct{ fatal error }

func (w stoppingWorker) Run(interrupt <-chan any) error {
	if w.fatal == nil {
		<-interrupt
		return nil
	}
	select {
	case <-interrupt:
		return nil
	case <-time.After(10 * time.Millisecond):
		return w.fatal
	}
}

// TestRunUntilDone: a worker's fatal error ends `nemid worker` (and, through
// its errgroup, `nemid dev`) with that error; the old code waited for the
// context and idled without a worker.
func TestRunUntilDone(t *testing.T) {
	fatal := errors.New("namespace default is not found")
	tests := []struct {
		name   string
		worker stoppingWorker
		cancel bool
		want   error
	}{
		{"the worker stops on a fatal error", stoppingWorker{fatal: fatal}, false, fatal},
		{"the process is asked to stop", stoppingWorker{}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if tt.cancel {
				cancel()
			}
			err := runUntilDone(ctx, tt.worker)
			if tt.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.want)
			assert.NoError(t, ctx.Err(), "returned on the worker's error, not on the deadline")
		})
	}
}
