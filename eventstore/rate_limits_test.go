package eventstore_test

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestTakeRateConcurrentOnDatabaseClock: 100 concurrent decisions of one
// key on the database's clock (no time passed in) let exactly 60 through
// (they all fall within one minute), and the row keeps their times in
// order.
func TestTakeRateConcurrentOnDatabaseClock(t *testing.T) {
	t.Parallel()
	store, pool := newStore(t)
	ctx := context.Background()
	key := []byte("k")
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 20 {
		wg.Go(func() {
			for range 5 {
				d, err := store.TakeRate(ctx, "test", key, 60, 0, true, time.Time{})
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				} else if d.RetryAfter <= 0 || d.RetryAfter > time.Minute || d.Remaining != 0 {
					t.Errorf("refusal %+v", d)
				}
			}
		})
	}
	wg.Wait()
	var ts []time.Time
	if err := pool.QueryRow(ctx, `SELECT ts FROM rate_windows WHERE scope = 'test' AND key = $1`, key).Scan(&ts); err != nil {
		t.Fatal(err)
	}
	if allowed != 60 || len(ts) != 60 {
		t.Fatalf("%d allowed, %d times kept; want 60 and 60", allowed, len(ts))
	}
	for i := 1; i < len(ts); i++ {
		if ts[i].Before(ts[i-1]) {
			t.Fatalf("times out of order at %d: %v", i, ts)
		}
	}
	if ts[59].Sub(ts[0]) >= time.Minute {
		t.Fatalf("the 60 allowed span %v", ts[59].Sub(ts[0]))
	}
}

// TestTakeRateWindows: the two windows, peek, a lowered limit, a clock
// step back and the sweep, on given times.
func TestTakeRateWindows(t *testing.T) {
	t.Parallel()
	store, pool := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	take := func(at time.Duration, perMinute, burst int, count bool) (bool, int, time.Duration) {
		t.Helper()
		d, err := store.TakeRate(ctx, "w", []byte("k"), perMinute, burst, count, t0.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		return d.Allowed, d.Remaining, d.RetryAfter
	}
	for i := range 3 {
		if ok, rem, _ := take(0, 5, 3, true); !ok || rem != 4-i {
			t.Fatalf("request %d: allowed %v, remaining %d", i, ok, rem)
		}
	}
	if ok, rem, retry := take(500*time.Millisecond, 5, 3, true); ok || rem != 2 || retry != 500*time.Millisecond {
		t.Fatalf("fourth in a second: %v %d %v", ok, rem, retry)
	}
	if ok, _, _ := take(time.Second, 5, 3, false); !ok {
		t.Fatal("peek a second later: refused")
	}
	if ok, rem, _ := take(time.Second, 5, 3, false); !ok || rem != 2 {
		t.Fatalf("a peek counted: remaining %d", rem)
	}
	for range 2 {
		if ok, _, _ := take(time.Second, 5, 3, true); !ok {
			t.Fatal("a second later: refused")
		}
	}
	if ok, rem, retry := take(2*time.Second, 5, 3, true); ok || rem != 0 || retry != 58*time.Second {
		t.Fatalf("sixth in the minute: %v %d %v", ok, rem, retry)
	}
	// A clock step back counts as the newest time: still refused, with a
	// wait no shorter.
	if ok, _, retry := take(-time.Hour, 5, 3, true); ok || retry != 59*time.Second {
		t.Fatalf("clock stepped back: %v %v", ok, retry)
	}
	// The limit lowered to 2: only the 2 newest times count.
	if ok, rem, retry := take(30*time.Second, 2, 0, true); ok || rem != 0 || retry != 31*time.Second {
		t.Fatalf("limit lowered: %v %d %v", ok, rem, retry)
	}
	if ok, _, _ := take(time.Minute, 5, 3, true); !ok {
		t.Fatal("a minute later: refused")
	}
	// The row matters until its newest time plus a minute; the sweep with
	// one more idle minute deletes it only past that.
	if n, err := store.SweepRates(ctx, time.Minute, t0.Add(3*time.Minute)); err != nil || n != 0 {
		t.Fatalf("early sweep deleted %d: %v", n, err)
	}
	if n, err := store.SweepRates(ctx, time.Minute, t0.Add(3*time.Minute+time.Millisecond)); err != nil || n != 1 {
		t.Fatalf("sweep deleted %d: %v", n, err)
	}
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM rate_windows`).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("%d rows left: %v", rows, err)
	}
}
