package api

import (
	"context"
	"crypto/sha256"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// benchKeys are distinct limiter keys; spreading requests over many keys
// keeps them allowed (the path every accepted request takes).
func benchKeys(n int) [][32]byte {
	keys := make([][32]byte, n)
	for i := range keys {
		keys[i] = sha256.Sum256([]byte("bench-key-" + strconv.Itoa(i)))
	}
	return keys
}

// BenchmarkRateLimit compares one decision of the per-key limit (60 a
// minute, 10 a second) in process memory with the same decision shared by
// every replica through PostgreSQL: allowed requests spread over 1,000
// keys, and a refused key (the store's refusal remembered locally).
//
//	go test ./api -run '^$' -bench RateLimit -benchtime 3s
func BenchmarkRateLimit(b *testing.B) {
	keys := benchKeys(1000)
	b.Run("memory/allowed", func(b *testing.B) {
		clock := &fakeClock{t: seedNow}
		l := newRateLimiter(clock.now)
		for i := 0; b.Loop(); i++ {
			clock.advance(time.Millisecond) // each key every second: never over its limit
			if !l.allow(keys[i%len(keys)], 60, 10).allowed {
				b.Fatal("refused")
			}
		}
	})
	store := eventstore.New(pgtest.NewPool(b))
	shared := func(dbClock bool) (*sharedLimiter, *fakeClock) {
		clock := &fakeClock{t: seedNow}
		s := New(Config{Store: store, PublicURL: "https://goodplan.test/", Now: clock.now})
		l := s.newSharedLimiter("bench-"+strconv.FormatBool(dbClock)+"-"+strconv.FormatInt(time.Now().UnixNano(), 36), maxTrackedClients)
		l.dbClock = dbClock
		return l, clock
	}
	b.Run("postgres/round-trip-floor", func(b *testing.B) {
		// SELECT 1 on the same pool: what any shared store costs at least.
		ctx := context.Background()
		for b.Loop() {
			var one int
			if err := store.Pool().QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("postgres/allowed", func(b *testing.B) {
		l, clock := shared(false)
		ctx := context.Background()
		for i := 0; b.Loop(); i++ {
			clock.advance(time.Millisecond)
			d, err := l.allow(ctx, keys[i%len(keys)], 60, 10)
			if err != nil || !d.allowed {
				b.Fatal(d, err)
			}
		}
	})
	b.Run("postgres/allowed-parallel-db-clock", func(b *testing.B) {
		// The production setting: the database's clock, several requests
		// at once. 5,000 keys, each seen once before the clock starts (so
		// its row exists, as for any key in use): each sees far fewer than
		// 60 a minute.
		l, _ := shared(true)
		many := benchKeys(5000)
		ctx := context.Background()
		for _, k := range many {
			if _, err := l.allow(ctx, k, 60, 10); err != nil {
				b.Fatal(err)
			}
		}
		var next atomicCounter
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				d, err := l.allow(ctx, many[next.add()%len(many)], 60, 10)
				if err != nil || !d.allowed {
					b.Fatal(d, err)
				}
			}
		})
	})
	b.Run("postgres/refused", func(b *testing.B) {
		l, _ := shared(false)
		ctx := context.Background()
		for range 10 {
			if _, err := l.allow(ctx, keys[0], 60, 10); err != nil {
				b.Fatal(err)
			}
		}
		for b.Loop() {
			if d, err := l.allow(ctx, keys[0], 60, 10); err != nil || d.allowed {
				b.Fatal(d, err)
			}
		}
	})
}

// atomicCounter hands out distinct numbers to parallel benchmark loops.
type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) add() int { return int(c.n.Add(1)) }
