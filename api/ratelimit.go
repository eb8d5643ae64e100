package api

import (
	"sync"
	"time"
)

// rateLimiter enforces, per API key, two exact sliding windows: a request is
// allowed iff fewer than perMinute requests were allowed in the last 60 s and
// fewer than burst in the last second. Only allowed requests are remembered
// (a refused request does not count against the key), as a ring of at most
// perMinute timestamps; the last burst of them, which the second window
// needs, are in that ring too (a burst above perMinute can never bind).
//
// Token buckets would be cheaper still, but they let through more than the
// advertised numbers: a full minute bucket plus its refill during the first
// minute passes nearly twice perMinute in 60 s, and a second bucket refilled
// continuously passes burst plus burst-1 within one second.
//
// State is process memory. The server's limits are sharedLimiter, the same
// windows in PostgreSQL for every replica (ratelimit_shared.go and
// migration 023's rate_take, which follows this code); a rateLimiter holds
// a replica's own windows, the fallback when the database does not answer.
type rateLimiter struct {
	now       func() time.Time
	base      time.Time // timestamps are nanoseconds since base
	mu        sync.Mutex
	keys      map[[32]byte]*window
	lastSweep time.Duration
	// maxKeys bounds the keys remembered (0: no bound): past it, idle keys
	// are swept at once and, if that is not enough, an arbitrary key is
	// forgotten, so a flood of distinct clients cannot grow memory.
	maxKeys int
}

// window is the ring of one key's allowed-request times, oldest first.
type window struct {
	ts      []time.Duration // since rateLimiter.base
	head, n int
}

// rateDecision is the outcome for one request, for the X-RateLimit-* headers.
type rateDecision struct {
	allowed    bool
	limit      int
	remaining  int           // requests left in the current 60 s window
	reset      time.Time     // when the full allowance is back, rounded up to a whole second
	retryAfter time.Duration // until this request would be allowed (if refused)
}

const (
	minuteWindow = time.Minute
	secondWindow = time.Second
	// idleAfter is how long a key's state is kept after its last allowed
	// request; past one minute it no longer affects any decision.
	idleAfter = 2 * time.Minute
)

func newRateLimiter(now func() time.Time) *rateLimiter {
	return &rateLimiter{now: now, base: now(), keys: make(map[[32]byte]*window)}
}

// allow decides one request for key under the given limits and, if it is
// allowed, counts it. perMinute <= 0 means no limit; burst <= 0 means no
// per-second cap.
func (l *rateLimiter) allow(key [32]byte, perMinute, burst int) rateDecision {
	return l.decide(key, perMinute, burst, true)
}

// peek is allow without counting: whether a request would be allowed now.
func (l *rateLimiter) peek(key [32]byte, perMinute, burst int) rateDecision {
	return l.decide(key, perMinute, burst, false)
}

func (l *rateLimiter) decide(key [32]byte, perMinute, burst int, count bool) rateDecision {
	l.mu.Lock()
	defer l.mu.Unlock()
	// The clock is read under the lock so that timestamps enter each ring
	// in order. Durations since base use the monotonic clock when the
	// clock provides one, so a wall-clock step does not skew the windows.
	nowT := l.now()
	now := nowT.Sub(l.base)
	if perMinute <= 0 {
		return rateDecision{allowed: true, reset: ceilSecond(nowT)}
	}
	l.sweep(now)
	w := l.keys[key]
	if w == nil {
		w = &window{}
		if count {
			l.makeRoom(now)
			l.keys[key] = w
		}
	}
	w.expire(now, perMinute)

	// The last second holds burst requests iff the burst-th newest does.
	secondFull := burst > 0 && w.n >= burst && now-w.newest(burst) < secondWindow
	d := rateDecision{limit: perMinute}
	if w.n < perMinute && !secondFull {
		if count {
			w.push(now, perMinute)
		}
		d.allowed = true
	} else {
		// Both counts only fall as time passes, so the request becomes
		// allowed when the later of the two windows frees a slot.
		at := now
		if w.n >= perMinute {
			at = max(at, w.newest(perMinute)+minuteWindow)
		}
		if secondFull {
			at = max(at, w.newest(burst)+secondWindow)
		}
		d.retryAfter = at - now
	}
	d.remaining = max(perMinute-w.n, 0)
	resetAt := now
	if w.n > 0 {
		resetAt = w.newest(1) + minuteWindow
	}
	d.reset = ceilSecond(nowT.Add(resetAt - now))
	return d
}

// expire drops the times that left the minute window and, if perMinute
// shrank since the key was last seen, the oldest ones beyond it.
func (w *window) expire(now time.Duration, perMinute int) {
	for w.n > 0 && (w.n > perMinute || now-w.ts[w.head] >= minuteWindow) {
		w.head = (w.head + 1) % len(w.ts)
		w.n--
	}
}

// newest returns the i-th newest time (i = 1 is the newest); 1 <= i <= n.
func (w *window) newest(i int) time.Duration {
	return w.ts[(w.head+w.n-i)%len(w.ts)]
}

// push appends t, growing the ring (up to perMinute entries) as needed so a
// key that sends little costs little.
func (w *window) push(t time.Duration, perMinute int) {
	if w.n == len(w.ts) {
		ts := make([]time.Duration, min(max(2*w.n, 8), perMinute))
		for i := range w.n {
			ts[i] = w.ts[(w.head+i)%len(w.ts)]
		}
		w.ts, w.head = ts, 0
	}
	w.ts[(w.head+w.n)%len(w.ts)] = t
	w.n++
}

// sweep drops, at most once a minute, the keys with no allowed request in
// the last idleAfter, so memory is bounded by the keys active in the last
// few minutes and the cost per request stays constant on average.
func (l *rateLimiter) sweep(now time.Duration) {
	if now-l.lastSweep < time.Minute {
		return
	}
	l.lastSweep = now
	for k, w := range l.keys {
		if w.n == 0 || now-w.newest(1) > idleAfter {
			delete(l.keys, k)
		}
	}
}

// makeRoom keeps the map under maxKeys before a key is added: first the
// idle keys go (a sweep), then, if every key is active, an eighth of them
// chosen arbitrarily (Go's map order), whose clients merely get fresh
// windows. Either costs O(maxKeys) once per maxKeys/8 new keys at most, so
// a flood of new clients costs O(1) per request on average.
func (l *rateLimiter) makeRoom(now time.Duration) {
	if l.maxKeys <= 0 || len(l.keys) < l.maxKeys {
		return
	}
	l.lastSweep = now - time.Minute
	l.sweep(now)
	drop := len(l.keys) - l.maxKeys + max(l.maxKeys/8, 1)
	for k := range l.keys {
		if len(l.keys) < l.maxKeys && drop <= 0 {
			break
		}
		delete(l.keys, k)
		drop--
	}
}

// ceilSecond rounds t up to a whole second, for the X-RateLimit-Reset header.
func ceilSecond(t time.Time) time.Time {
	s := t.Truncate(time.Second)
	if s.Before(t) {
		s = s.Add(time.Second)
	}
	return s
}
