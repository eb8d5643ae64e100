package api

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"goodplan/eventstore"
)

// rateStoreTimeout bounds one decision by the shared store: when
// PostgreSQL is down or hung, a limited request is answered (503 for a
// key, the local windows for an address) within it rather than waiting.
const rateStoreTimeout = 2 * time.Second

// sharedLimiter is a rateLimiter whose windows every replica on the
// database shares: each decision is one call of rate_take (migration 023),
// which locks the key's row, so the limits hold for the whole cluster, not
// per process. Two things stay in process memory:
//
//   - blocked, the refusals the store answered, until they run out: no
//     request can be allowed anywhere before the time the store gave
//     (allowed requests only ever push it later), so refusing locally
//     until then is exact and a client hammering a full window costs one
//     round trip per refusal period and replica, not one per request;
//   - local, the windows of the requests this process allowed, the
//     fallback when the store does not answer (per-process limits then,
//     for the callers that prefer that to refusing; see allowOr).
type sharedLimiter struct {
	store *eventstore.Store
	scope string // rate_windows.scope: which limit the keys belong to
	now   func() time.Time
	// dbClock makes the database's clock the decisions' time (the zero
	// time to TakeRate), one clock for every replica; tests that set
	// Config.Now pass theirs.
	dbClock bool
	log     *slog.Logger
	local   *rateLimiter

	mu        sync.Mutex
	blocked   map[[32]byte]refusal
	lastSweep time.Time
	// lastWarn is when the fallback was last logged (unix nanoseconds),
	// so a database outage logs once every few seconds, not per request.
	lastWarn atomic.Int64
}

// refusal is a store refusal remembered until it runs out (until is on
// the limiter's clock), for the limits it was given under.
type refusal struct {
	until            time.Time
	perMinute, burst int
	remaining        int
	reset            time.Time
}

// newSharedLimiter returns the limiter of scope on s's store.
func (s *Server) newSharedLimiter(scope string, maxKeys int) *sharedLimiter {
	local := newRateLimiter(s.now)
	local.maxKeys = maxKeys
	return &sharedLimiter{store: s.store, scope: scope, now: s.now, dbClock: s.dbClock, log: s.log,
		local: local, blocked: make(map[[32]byte]refusal)}
}

// allow decides one request for key under the given limits, for the whole
// cluster, and counts it if allowed (see rateLimiter.allow). An error
// means the store did not answer within rateStoreTimeout.
func (l *sharedLimiter) allow(ctx context.Context, key [32]byte, perMinute, burst int) (rateDecision, error) {
	return l.decide(ctx, key, perMinute, burst, true)
}

// peek is allow without counting.
func (l *sharedLimiter) peek(ctx context.Context, key [32]byte, perMinute, burst int) (rateDecision, error) {
	return l.decide(ctx, key, perMinute, burst, false)
}

// allowOr is allow that, when the store does not answer, decides by this
// process's windows alone and logs why: for the limits whose routes may
// still work without the database (the health check, sign-in failures).
func (l *sharedLimiter) allowOr(ctx context.Context, key [32]byte, perMinute, burst int) rateDecision {
	d, err := l.allow(ctx, key, perMinute, burst)
	if err != nil {
		l.warn(ctx, "shared rate limit unavailable; this replica's own windows decide", err)
		return l.local.allow(key, perMinute, burst)
	}
	return d
}

// peekOr is peek with allowOr's fallback.
func (l *sharedLimiter) peekOr(ctx context.Context, key [32]byte, perMinute, burst int) rateDecision {
	d, err := l.peek(ctx, key, perMinute, burst)
	if err != nil {
		l.warn(ctx, "shared rate limit unavailable; this replica's own windows decide", err)
		return l.local.peek(key, perMinute, burst)
	}
	return d
}

// warn logs msg about the store not answering, at most every 10 s.
func (l *sharedLimiter) warn(ctx context.Context, msg string, err error) {
	now, last := time.Now().UnixNano(), l.lastWarn.Load()
	if now-last < int64(10*time.Second) || !l.lastWarn.CompareAndSwap(last, now) {
		return
	}
	l.log.WarnContext(ctx, msg, "scope", l.scope, "err", err)
}

func (l *sharedLimiter) decide(ctx context.Context, key [32]byte, perMinute, burst int, count bool) (rateDecision, error) {
	if perMinute <= 0 {
		return rateDecision{allowed: true, reset: ceilSecond(l.now())}, nil
	}
	if d, ok := l.refused(key, perMinute, burst); ok {
		return d, nil
	}
	ctx, cancel := context.WithTimeout(ctx, rateStoreTimeout)
	defer cancel()
	var at time.Time
	if !l.dbClock {
		at = l.now()
	}
	r, err := l.store.TakeRate(ctx, l.scope, key[:], perMinute, burst, count, at)
	if err != nil {
		return rateDecision{}, err
	}
	l.sweep(ctx) // after the decision, so it never delays one that has to wait
	d := rateDecision{allowed: r.Allowed, limit: perMinute, remaining: r.Remaining,
		reset: ceilSecond(r.ResetAt), retryAfter: r.RetryAfter}
	if d.allowed {
		if count {
			l.local.allow(key, perMinute, burst)
		}
		return d, nil
	}
	l.mu.Lock()
	if len(l.blocked) >= maxTrackedClients {
		clear(l.blocked) // only a saving, never needed
	}
	// Measured from after the answer: a little later than the store's
	// time, which errs on the strict side.
	l.blocked[key] = refusal{until: l.now().Add(d.retryAfter), perMinute: perMinute, burst: burst,
		remaining: d.remaining, reset: d.reset}
	l.mu.Unlock()
	return d, nil
}

// refused returns the store's refusal of key if it still holds.
func (l *sharedLimiter) refused(key [32]byte, perMinute, burst int) (rateDecision, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.blocked[key]
	if !ok {
		return rateDecision{}, false
	}
	if !now.Before(b.until) || b.perMinute != perMinute || b.burst != burst {
		delete(l.blocked, key)
		return rateDecision{}, false
	}
	return rateDecision{limit: perMinute, remaining: b.remaining, reset: b.reset, retryAfter: b.until.Sub(now)}, true
}

// sweep deletes, at most once a minute from this process, the windows that
// no longer affect any decision (rateLimiter.sweep's rule), so the table
// holds only the keys active in the last few minutes. A failed sweep is
// retried a minute later.
func (l *sharedLimiter) sweep(ctx context.Context) {
	now := l.now()
	l.mu.Lock()
	due := now.Sub(l.lastSweep) >= time.Minute
	if due {
		l.lastSweep = now
	}
	l.mu.Unlock()
	if !due {
		return
	}
	var at time.Time
	if !l.dbClock {
		at = now
	}
	if _, err := l.store.SweepRates(ctx, idleAfter-minuteWindow, at); err != nil {
		l.log.WarnContext(ctx, "sweep rate windows", "scope", l.scope, "err", err)
	}
}
