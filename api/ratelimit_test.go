package api

import (
	"math/rand/v2"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

var limiterEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newTestLimiter() (*rateLimiter, *fakeClock) {
	clock := &fakeClock{t: limiterEpoch}
	return newRateLimiter(clock.now), clock
}

func TestRateLimiterBurstOfTenPerSecond(t *testing.T) {
	t.Parallel()
	l, clock := newTestLimiter()
	key := [32]byte{1}
	// Ten spread over 0.9 s are allowed.
	for i := range 10 {
		d := l.allow(key, 60, 10)
		if !d.allowed || d.remaining != 59-i {
			t.Fatalf("request %d: %+v", i, d)
		}
		clock.advance(100 * time.Millisecond)
	}
	// At 1.0 s the first one has left the second window; at 0.95 s it has not.
	clock.advance(-50 * time.Millisecond)
	d := l.allow(key, 60, 10)
	if d.allowed || d.retryAfter != 50*time.Millisecond || d.remaining != 50 {
		t.Fatalf("11th request within a second: %+v", d)
	}
	clock.advance(50 * time.Millisecond)
	if d := l.allow(key, 60, 10); !d.allowed || d.remaining != 49 {
		t.Fatalf("at 1.0 s: %+v", d)
	}
	// Keys are independent.
	if d := l.allow([32]byte{2}, 60, 10); !d.allowed || d.remaining != 59 {
		t.Fatalf("other key: %+v", d)
	}
}

func TestRateLimiterNoDoubleBurst(t *testing.T) {
	t.Parallel()
	l, clock := newTestLimiter()
	key := [32]byte{1}
	for i := range 10 {
		if !l.allow(key, 60, 10).allowed {
			t.Fatalf("request %d at 0 s refused", i)
		}
	}
	// Two token buckets let 9 more through here, 19 in 0.99 s.
	clock.advance(990 * time.Millisecond)
	for i := range 9 {
		d := l.allow(key, 60, 10)
		if d.allowed || d.retryAfter != 10*time.Millisecond {
			t.Fatalf("request %d at 0.99 s: %+v", i, d)
		}
	}
	// Refused requests do not count: at 1.0 s a full burst is allowed again.
	clock.advance(10 * time.Millisecond)
	for i := range 10 {
		if !l.allow(key, 60, 10).allowed {
			t.Fatalf("request %d at 1.0 s refused", i)
		}
	}
	if l.allow(key, 60, 10).allowed {
		t.Fatal("21st request allowed")
	}
}

func TestRateLimiterSixtyPerMinute(t *testing.T) {
	t.Parallel()
	l, clock := newTestLimiter()
	key := [32]byte{1}
	// Six bursts of 10, one a second, use the whole minute.
	for sec := range 6 {
		for i := range 10 {
			d := l.allow(key, 60, 10)
			if !d.allowed || d.remaining != 59-10*sec-i {
				t.Fatalf("second %d request %d: %+v", sec, i, d)
			}
			if want := limiterEpoch.Add(time.Duration(sec)*time.Second + time.Minute); !d.reset.Equal(want) {
				t.Fatalf("reset %v, want %v", d.reset, want)
			}
		}
		clock.advance(time.Second)
	}
	// At 6 s: nothing more until the first burst leaves the minute window at 60 s.
	d := l.allow(key, 60, 10)
	if d.allowed || d.remaining != 0 || d.retryAfter != 54*time.Second ||
		!d.reset.Equal(limiterEpoch.Add(65*time.Second)) {
		t.Fatalf("61st request: %+v", d)
	}
	clock.advance(53*time.Second + 500*time.Millisecond)
	if d := l.allow(key, 60, 10); d.allowed || d.retryAfter != 500*time.Millisecond {
		t.Fatalf("at 59.5 s: %+v", d)
	}
	clock.advance(500 * time.Millisecond)
	// Only the burst at 0 s has left; those at 1 s to 5 s still count.
	for i := range 10 {
		if d := l.allow(key, 60, 10); !d.allowed || d.remaining != 9-i {
			t.Fatalf("request %d at 60 s: %+v", i, d)
		}
	}
	if d := l.allow(key, 60, 10); d.allowed || d.retryAfter != time.Second {
		t.Fatalf("11th at 60 s: %+v", d)
	}
	// Silence for a minute gives the whole allowance back.
	clock.advance(time.Minute)
	if d := l.allow(key, 60, 10); !d.allowed || d.remaining != 59 {
		t.Fatalf("after a quiet minute: %+v", d)
	}
}

func TestRateLimiterRetryAfterWaitsForBothWindows(t *testing.T) {
	t.Parallel()
	l, clock := newTestLimiter()
	key := [32]byte{1}
	allowN := func(n int) {
		t.Helper()
		for i := range n {
			if !l.allow(key, 60, 10).allowed {
				t.Fatalf("request %d at %v refused", i, clock.t.Sub(limiterEpoch))
			}
		}
	}
	allowN(1) // at 0 s
	clock.advance(10 * time.Second)
	for range 4 {
		allowN(10)
		clock.advance(time.Second)
	}
	allowN(9)                                            // 50 at 14 s
	clock.advance(45*time.Second + 500*time.Millisecond) // 59.5 s
	allowN(10)                                           // 60 in the minute, 10 in the second
	clock.advance(100 * time.Millisecond)
	// The minute window frees a slot at 60 s, but then the last second
	// still holds 10; both hold from 60.5 s.
	d := l.allow(key, 60, 10)
	if d.allowed || d.retryAfter != 900*time.Millisecond {
		t.Fatalf("at 59.6 s: %+v", d)
	}
	clock.advance(900 * time.Millisecond)
	if d := l.allow(key, 60, 10); !d.allowed {
		t.Fatalf("at 60.5 s: %+v", d)
	}
}

func TestRateLimiterResetRoundsUp(t *testing.T) {
	t.Parallel()
	l, clock := newTestLimiter()
	clock.advance(1500 * time.Millisecond)
	d := l.allow([32]byte{1}, 60, 10)
	if want := limiterEpoch.Add(62 * time.Second); !d.reset.Equal(want) {
		t.Fatalf("reset %v, want %v", d.reset, want)
	}
}

func TestRateLimiterNoBurstCap(t *testing.T) {
	t.Parallel()
	l, _ := newTestLimiter()
	for i := range 60 {
		if !l.allow([32]byte{1}, 60, 0).allowed {
			t.Fatalf("request %d refused", i)
		}
	}
	if d := l.allow([32]byte{1}, 60, 0); d.allowed || d.retryAfter != time.Minute {
		t.Fatalf("61st: %+v", d)
	}
}

func TestRateLimiterDropsIdleKeys(t *testing.T) {
	t.Parallel()
	l, clock := newTestLimiter()
	for i := range 100 {
		l.allow([32]byte{byte(i)}, 60, 10)
	}
	clock.advance(2*time.Minute + time.Second)
	l.allow([32]byte{200}, 60, 10)
	if n := len(l.keys); n != 1 {
		t.Fatalf("%d keys kept, want 1", n)
	}
}

// TestRateLimiterWindowsProperty checks the limiter against a brute-force
// model over random arrival schedules: every decision, Remaining and
// Retry-After is what the definition says, so no 60 s window ever holds
// more than 60 allowed requests and no 1 s window more than 10.
func TestRateLimiterWindowsProperty(t *testing.T) {
	t.Parallel()
	const perMinute, burst = 60, 10
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 42))
		l, clock := newTestLimiter()
		key := [32]byte{1}
		var allowed []time.Duration                  // since limiterEpoch
		count := func(now, span time.Duration) int { // allowed is sorted
			n := 0
			for i := len(allowed) - 1; i >= 0 && now-allowed[i] < span; i-- {
				n++
			}
			return n
		}
		at := time.Duration(0)
		for range 2000 {
			// Mostly bursts of near-simultaneous requests, sometimes pauses.
			switch r := rng.IntN(100); {
			case r < 60:
				at += time.Duration(rng.IntN(50)) * time.Millisecond
			case r < 95:
				at += time.Duration(rng.IntN(2000)) * time.Millisecond
			default:
				at += time.Duration(rng.IntN(90)) * time.Second
			}
			clock.t = limiterEpoch.Add(at)
			inMinute, inSecond := count(at, time.Minute), count(at, time.Second)
			want := inMinute < perMinute && inSecond < burst
			d := l.allow(key, perMinute, burst)
			if d.allowed != want {
				t.Fatalf("seed %d at %v: allowed %v with %d in the minute and %d in the second",
					seed, at, d.allowed, inMinute, inSecond)
			}
			if d.allowed {
				allowed = append(allowed, at)
				if got, want := d.remaining, perMinute-inMinute-1; got != want {
					t.Fatalf("seed %d at %v: remaining %d, want %d", seed, at, got, want)
				}
				continue
			}
			if d.retryAfter <= 0 {
				t.Fatalf("seed %d at %v: refused with retryAfter %v", seed, at, d.retryAfter)
			}
			// Allowed at now+retryAfter, and not a nanosecond before.
			then := at + d.retryAfter
			before := then - 1
			if count(then, time.Minute) >= perMinute || count(then, time.Second) >= burst {
				t.Fatalf("seed %d at %v: still full after retryAfter %v", seed, at, d.retryAfter)
			}
			if count(before, time.Minute) < perMinute && count(before, time.Second) < burst {
				t.Fatalf("seed %d at %v: retryAfter %v is too long", seed, at, d.retryAfter)
			}
		}
		// The invariant itself, over every window starting at an allowed request.
		for i, a := range allowed {
			inMinute, inSecond := 0, 0
			for _, b := range allowed[i:] {
				if b-a >= time.Minute {
					break
				}
				inMinute++
				if b-a < time.Second {
					inSecond++
				}
			}
			if inMinute > perMinute || inSecond > burst {
				t.Fatalf("seed %d: %d allowed in 60 s and %d in 1 s from %v", seed, inMinute, inSecond, a)
			}
		}
	}
}

func BenchmarkRateLimiter(b *testing.B) {
	l := newRateLimiter(time.Now)
	keys := make([][32]byte, 1000)
	for i := range keys {
		keys[i] = [32]byte{byte(i), byte(i >> 8)}
	}
	b.ResetTimer()
	for i := range b.N {
		l.allow(keys[i%len(keys)], 6000, 100)
	}
}

func TestRateLimiterPeekDoesNotCount(t *testing.T) {
	t.Parallel()
	l, _ := newTestLimiter()
	key := [32]byte{7}
	for range 5 {
		if !l.peek(key, 1, 0).allowed {
			t.Fatal("peek refused an unused key")
		}
	}
	if len(l.keys) != 0 {
		t.Fatalf("peek remembered %d keys", len(l.keys))
	}
	l.allow(key, 1, 0)
	if d := l.peek(key, 1, 0); d.allowed || d.retryAfter != time.Minute {
		t.Fatalf("peek after the one allowed request: %+v", d)
	}
}

func TestRateLimiterKeysBounded(t *testing.T) {
	t.Parallel()
	l, clock := newTestLimiter()
	l.maxKeys = 100
	for i := range 1000 {
		var k [32]byte
		k[0], k[1] = byte(i), byte(i>>8)
		if !l.allow(k, 60, 10).allowed {
			t.Fatalf("new key %d refused", i)
		}
		clock.advance(time.Millisecond)
		if len(l.keys) > l.maxKeys {
			t.Fatalf("%d keys remembered, bound %d", len(l.keys), l.maxKeys)
		}
	}
}
