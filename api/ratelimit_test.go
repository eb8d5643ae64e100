package api

import (
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestRateLimiterBurstThenSustained(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newRateLimiter(clock.now)
	key := [32]byte{1}

	// A burst of at most 10 in one second.
	for i := range 10 {
		d := l.allow(key, 60, 10)
		if !d.allowed || d.remaining != 59-i {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
	d := l.allow(key, 60, 10)
	if d.allowed || d.retryAfter <= 0 || d.retryAfter > 100*time.Millisecond {
		t.Fatalf("11th request in the same second: %+v", d)
	}

	// 60 per minute in all: five more one-second bursts of 10 are allowed
	// (the minute bucket refills 1 token a second: 60 - 50 + 5 = 15 left
	// before the last burst), then the seventh second only gets the 5 + 1
	// tokens that remain.
	for sec := 1; sec <= 5; sec++ {
		clock.advance(time.Second)
		for i := range 10 {
			if !l.allow(key, 60, 10).allowed {
				t.Fatalf("second %d request %d refused", sec, i)
			}
		}
	}
	clock.advance(time.Second)
	allowed := 0
	for range 10 {
		if l.allow(key, 60, 10).allowed {
			allowed++
		}
	}
	if allowed != 6 {
		t.Fatalf("allowed %d in the seventh second, want 6", allowed)
	}
	d = l.allow(key, 60, 10)
	if d.allowed || d.remaining != 0 || d.retryAfter < 900*time.Millisecond || d.retryAfter > time.Second {
		t.Fatalf("over the minute limit: %+v", d)
	}
	// A minute of silence refills the bucket completely.
	clock.advance(time.Minute)
	if d := l.allow(key, 60, 10); !d.allowed || d.remaining != 59 {
		t.Fatalf("after a minute: %+v", d)
	}
	// Keys are independent.
	if d := l.allow([32]byte{2}, 60, 10); !d.allowed || d.remaining != 59 {
		t.Fatalf("other key: %+v", d)
	}
}

func TestRateLimiterResetIsWhenFull(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newRateLimiter(clock.now)
	d := l.allow([32]byte{1}, 60, 10)
	if got := d.reset.Sub(clock.t); got != time.Second {
		t.Fatalf("reset %v after one request, want 1s", got)
	}
}
