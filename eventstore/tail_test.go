package eventstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// TestReadAllWaitsForEarlierTransactions: an event that commits after a later
// one is still delivered, before it, and a naive reader ordering by
// global_position alone would have skipped it.
func TestReadAllWaitsForEarlierTransactions(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()

	slow, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback(ctx)
	slowRecs, err := eventstore.AppendInTx(ctx, slow, "plan-slow", eventstore.Head{}, events(1, "t"), eventstore.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	fastRecs, err := s.Append(ctx, "plan-fast", eventstore.Head{}, events(1, "t"), eventstore.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	if fastRecs[0].Position <= slowRecs[0].Position {
		t.Fatalf("setup: fast event position %d not after slow %d", fastRecs[0].Position, slowRecs[0].Position)
	}

	// The naive reader sees the fast event and would checkpoint past the slow one.
	var naive int64
	if err := pool.QueryRow(ctx, `SELECT max(global_position) FROM events`).Scan(&naive); err != nil || naive != fastRecs[0].Position {
		t.Fatalf("naive reader: %d, %v", naive, err)
	}
	got, err := s.ReadAll(ctx, eventstore.Cursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("ReadAll returned %d events while an earlier transaction is open", len(got))
	}
	if err := slow.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// The horizon is cluster-wide: a transaction of another test (another
	// database) that began between the two appends can hold it between them
	// for a while, so the slow event may show up alone first. Poll until
	// both are there; the fast one must never come first.
	pgtest.WaitForNil(t, 30*time.Second, "both events after the commit", func() error {
		if got, err = s.ReadAll(ctx, eventstore.Cursor{}, 10); err != nil {
			t.Fatal(err)
		}
		if len(got) > 0 && got[0].EventID != slowRecs[0].EventID {
			t.Fatalf("after commit: the fast event came before the slow one")
		}
		if len(got) < 2 {
			return fmt.Errorf("%d events read", len(got))
		}
		return nil
	})
	if len(got) != 2 || got[0].EventID != slowRecs[0].EventID || got[1].EventID != fastRecs[0].EventID {
		t.Fatalf("after commit: %d events, want slow then fast", len(got))
	}
}

// TestReadAllTailSeesEveryEventOnce: 16 writers append in transactions that
// commit (or roll back) after random delays while a reader tails ReadAll and
// checkpoints on each batch's last cursor. The reader must see every committed
// event exactly once, none of the rolled-back ones, in strictly increasing
// cursor order. Repeated over many rounds.
func TestReadAllTailSeesEveryEventOnce(t *testing.T) {
	t.Parallel()
	rounds := 12
	if testing.Short() {
		rounds = 3
	}
	s, pool := newStore(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	var cursor eventstore.Cursor
	seen := make(map[uuid.UUID]bool)
	for round := range rounds {
		ctx := context.Background()
		const writers, perWriter = 16, 12
		committed := make(chan uuid.UUID, writers*perWriter*3)
		delays := make([][]time.Duration, writers)
		for w := range delays {
			for range perWriter {
				delays[w] = append(delays[w], time.Duration(rng.IntN(4000))*time.Microsecond)
			}
		}
		var done atomic.Bool
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i, d := range delays[w] {
					stream := uuid.NewString()
					evs := events(1+i%3, "t")
					tx, err := pool.Begin(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if _, err := eventstore.AppendInTx(ctx, tx, stream, eventstore.Head{}, evs, eventstore.Metadata{}); err != nil {
						t.Error(err)
						tx.Rollback(ctx)
						return
					}
					time.Sleep(d)
					if i%7 == 3 { // some transactions never commit
						tx.Rollback(ctx)
						continue
					}
					if err := tx.Commit(ctx); err != nil {
						t.Error(err)
						return
					}
					for _, e := range evs {
						committed <- e.ID
					}
				}
			})
		}
		go func() { wg.Wait(); done.Store(true) }()

		read := func() int {
			recs, err := s.ReadAll(ctx, cursor, 50)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				c := r.Cursor()
				if c.TxID < cursor.TxID || (c.TxID == cursor.TxID && c.Position <= cursor.Position) {
					t.Fatalf("round %d: cursor went from %+v to %+v", round, cursor, c)
				}
				cursor = c
				if seen[r.EventID] {
					t.Fatalf("round %d: event %s delivered twice", round, r.EventID)
				}
				seen[r.EventID] = true
			}
			return len(recs)
		}
		for !done.Load() {
			if read() == 0 {
				time.Sleep(200 * time.Microsecond)
			}
		}
		// Drain. The xmin horizon is cluster-wide: a transaction open in
		// another database (another test package) holds it back for a while,
		// so an empty read does not mean the reader is done (on a machine loaded
		// with other test runs, for long: hence the generous wait).
		close(committed)
		var ids []uuid.UUID
		for id := range committed {
			ids = append(ids, id)
		}
		pgtest.WaitForNil(t, 2*time.Minute, fmt.Sprintf("every committed event of round %d (seed %d) to be read", round, seed), func() error {
			for read() > 0 { // everything below the horizon by now
			}
			for _, id := range ids {
				if !seen[id] {
					return fmt.Errorf("committed event %s never delivered", id)
				}
			}
			return nil
		})
		// Rolled-back events are not in the table, so equal counts mean the
		// reader saw nothing but committed events.
		var stored int64
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if int64(len(seen)) != stored {
			t.Fatalf("round %d: reader saw %d events, table holds %d", round, len(seen), stored)
		}
	}
}
