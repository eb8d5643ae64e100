package eventstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// smallStore is a store on a new database whose pool has max connections.
func smallStore(t *testing.T, url string, max int32) *eventstore.Store {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = max
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return eventstore.New(pool)
}

// TestLocksHoldersDoNotExhaustThePool: with a pool of 2, four holders of
// a lock each need a pooled connection while they hold it (as the email
// worker reads the plan and records the outcome). All four hold their
// locks at once and each gets its connection: the locks do not occupy
// the pool (when each took a pooled connection for its lock, two holders
// took the whole pool and the other two, and then they, waited forever).
func TestLocksHoldersDoNotExhaustThePool(t *testing.T) {
	t.Parallel()
	s := smallStore(t, pgtest.NewDatabase(t), 2)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const holders = 4
	var all sync.WaitGroup
	all.Add(holders)
	errs := make(chan error, holders)
	for i := range holders {
		go func() {
			release, ok, err := s.TryLock(ctx, fmt.Sprintf("holder-%d", i))
			if err != nil || !ok {
				all.Done()
				errs <- fmt.Errorf("holder %d: lock ok=%v err=%v", i, ok, err)
				return
			}
			defer release()
			all.Done()
			all.Wait() // every holder holds its lock now
			var one int
			errs <- s.Pool().QueryRow(ctx, `SELECT 1`).Scan(&one)
		}()
	}
	for range holders {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Pool().Stat().MaxConns(); n != 2 {
		t.Fatalf("pool max %d, want 2", n)
	}
}

// TestLocksExclude: a name held is refused to another caller of the same
// process and to another process (another store on the database) until it
// is released; a lock session that breaks (here terminated, as a
// database restart does) is replaced on the next lock.
func TestLocksExclude(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	a, b := smallStore(t, url, 2), smallStore(t, url, 2)
	ctx := context.Background()
	try := func(s *eventstore.Store, name string, want bool) func() {
		t.Helper()
		release, ok, err := s.TryLock(ctx, name)
		if err != nil || ok != want {
			t.Fatalf("TryLock %s: ok=%v err=%v, want ok=%v", name, ok, err, want)
		}
		return release
	}
	release := try(a, "email:1", true)
	try(a, "email:1", false) // the same process
	try(b, "email:1", false) // another process
	other := try(b, "email:2", true)
	release()
	release() // twice is harmless
	try(b, "email:1", true)()
	other()
	again := try(a, "email:1", true)

	// Terminate a's lock session: its lock is gone with it.
	if _, err := b.Pool().Exec(ctx, `SELECT pg_terminate_backend(l.pid) FROM pg_locks l
		WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	pgtest.WaitFor(t, time.Minute, "the lock free after its session ended", func() bool {
		r, ok, err := b.TryLock(ctx, "email:3")
		if err != nil || !ok {
			return false
		}
		r()
		var n int
		_ = b.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
		return n == 0
	})
	again()                   // the old session's release: nothing to unlock
	try(a, "email:4", true)() // a new session for a
	try(b, "email:1", true)() // free once a's session ended
	try(a, "email:1", true)()
}
