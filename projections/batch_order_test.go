package projections_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/projections"
)

// TestApplyBatchConcurrentNoDeadlock is the regression test of issue 14:
// concurrent consumers applying batches that share plans, in different
// orders (redeliveries, several fetch loops), must not deadlock each other
// (40P01): every batch writes its rows in one key order.
func TestApplyBatchConcurrentNoDeadlock(t *testing.T) {
	t.Parallel()
	store := eventstore.New(pgtest.NewPool(t))
	plans := projections.NewPlans(store)
	ctx := context.Background()
	now := time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC)
	var all []eventstore.Record
	var ids []int64
	for i := range 24 {
		recs := createPlan(t, store, 1, "10.00", now, i%2 == 0)
		all = append(all, recs...)
		ids = append(ids, mustPlanID(t, recs[0].StreamID))
	}
	const loops = 6
	var wg sync.WaitGroup
	errs := make(chan error, loops*8)
	for l := range loops {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(l), 14))
			for range 8 {
				batch := append([]eventstore.Record(nil), all...)
				rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
				if err := plans.ApplyBatch(ctx, batch[:16+rng.IntN(len(batch)-16)]); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent batch: %v", err)
	}
	if err := plans.ApplyBatch(ctx, all); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		wantFolded(t, plans, id)
	}
}
