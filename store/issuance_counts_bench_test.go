package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/opennemid/nemid/internal/testenv"
	"github.com/opennemid/nemid/store"
)

// BenchmarkCounterShards measures what the 16 counter shards are for, on
// Postgres: writers moving issuances of one centre from received to
// letters_posted at once, each move its own transaction that holds the two
// counter rows it changes from their upsert to its commit. The baseline of
// the same run is the same workload with one counter row per key. It
// reports both rates (moves/s) and their ratio.
//
//	go test -run '^$' -bench CounterShards -benchtime 1x ./store/
func BenchmarkCounterShards(b *testing.B) {
	st := testenv.Postgres(b)
	ctx := context.Background()
	const writers, moves = 16, 1600
	rate := func() float64 {
		centre := "KBH"
		ids := make([]string, moves)
		for i := range ids {
			now := time.Now().UTC()
			iss := store.Issuance{ID: uuid.Must(uuid.NewV7()).String(), Path: "counter", Status: "received",
				CPRHash: "bench-" + uuid.NewString(), CPRMasked: "010190-XXXX", Centre: &centre, Reasons: "[]", CreatedAt: now, UpdatedAt: now}
			if err := st.CreateIssuance(ctx, &iss, nil); err != nil {
				b.Fatal(err)
			}
			ids[i] = iss.ID
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		began := time.Now()
		for range writers {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < moves; i = next.Add(1) - 1 {
					err := st.ApplyTransition(ctx, store.Transition{IssuanceID: ids[i], Status: "letters_posted",
						Event: store.Event{DedupeKey: "letters_posted", At: time.Now().UTC(), Type: "letter_queued", Actor: "system"}})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return moves / time.Since(began).Seconds()
	}
	var sharded, single float64
	for range b.N {
		restore := store.OneCounterShardForTest()
		single += rate()
		restore()
		sharded += rate()
	}
	b.ReportMetric(sharded/float64(b.N), "moves/s-16-shards")
	b.ReportMetric(single/float64(b.N), "moves/s-1-shard")
	b.ReportMetric(sharded/single, "x-sharded/single")
}
