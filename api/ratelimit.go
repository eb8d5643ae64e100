package api

import (
	"math"
	"sync"
	"time"
)

// rateLimiter enforces, per API key, a sustained rate (requests per minute)
// and a burst cap (requests in any one second) with two token buckets: the
// minute bucket holds perMinute tokens and refills perMinute/60 per second;
// the second bucket holds burst tokens and refills burst per second. A request
// takes one token from each.
//
// State is process memory: with several replicas, each enforces the limit on
// its own (README, "Past one machine").
type rateLimiter struct {
	now    func() time.Time
	mu     sync.Mutex
	keys   map[[32]byte]*bucketPair
	sweeps int
}

type bucketPair struct {
	minute, second float64 // tokens
	last           time.Time
}

// rateDecision is the outcome for one request, for the X-RateLimit-* headers.
type rateDecision struct {
	allowed    bool
	limit      int
	remaining  int
	reset      time.Time     // when the minute bucket is full again
	retryAfter time.Duration // when a token is next available (if refused)
}

func newRateLimiter(now func() time.Time) *rateLimiter {
	return &rateLimiter{now: now, keys: make(map[[32]byte]*bucketPair)}
}

// allow takes a token for key under the given limits.
func (l *rateLimiter) allow(key [32]byte, perMinute, burst int) rateDecision {
	now := l.now()
	minuteRate := float64(perMinute) / 60 // tokens per second
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.keys[key]
	if b == nil {
		b = &bucketPair{minute: float64(perMinute), second: float64(burst), last: now}
		l.keys[key] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.minute = math.Min(float64(perMinute), b.minute+dt*minuteRate)
		b.second = math.Min(float64(burst), b.second+dt*float64(burst))
		b.last = now
	}
	d := rateDecision{limit: perMinute}
	hasBurst := burst <= 0 || b.second >= 1
	if b.minute >= 1 && hasBurst {
		b.minute--
		if burst > 0 {
			b.second--
		}
		d.allowed = true
	} else {
		wait := 0.0
		if b.minute < 1 {
			wait = (1 - b.minute) / minuteRate
		}
		if !hasBurst {
			wait = math.Max(wait, (1-b.second)/float64(burst))
		}
		d.retryAfter = time.Duration(wait * float64(time.Second))
	}
	d.remaining = int(math.Floor(b.minute))
	d.reset = now.Add(time.Duration((float64(perMinute) - b.minute) / minuteRate * float64(time.Second)))
	return d
}

// sweep drops buckets idle long enough to be full again, every 1024 calls,
// so memory stays bounded by the keys active in the last minute or so.
func (l *rateLimiter) sweep(now time.Time) {
	l.sweeps++
	if l.sweeps%1024 != 0 {
		return
	}
	for k, b := range l.keys {
		if now.Sub(b.last) > 2*time.Minute {
			delete(l.keys, k)
		}
	}
}
