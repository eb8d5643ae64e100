package eventstore

import (
	"context"
	"fmt"
	"time"
)

// RateDecision is the outcome of one rate-limited request as the shared
// windows of the rate_windows table decide it (migration 023).
type RateDecision struct {
	Allowed bool
	// Remaining is how many requests are left in the minute window.
	Remaining int
	// ResetAt is when the newest allowed request leaves the minute window
	// (the decision's own time when there is none).
	ResetAt time.Time
	// RetryAfter is, when refused, how long until a request would be
	// allowed.
	RetryAfter time.Duration
}

// TakeRate decides one request of key in scope under exact sliding windows
// shared by every process on this database: it is allowed iff fewer than
// perMinute (> 0) requests were allowed in the last 60 s and, when burst >
// 0, fewer than burst in the last second. With count, an allowed request is
// counted (the key's row is locked for the decision, so concurrent callers
// on any replica are serialised); without, nothing is written (a peek).
// now is the decision's time; the zero time means the database's clock,
// one clock for every replica. Refused requests do not count.
func (s *Store) TakeRate(ctx context.Context, scope string, key []byte, perMinute, burst int, count bool, now time.Time) (RateDecision, error) {
	var at *time.Time
	if !now.IsZero() {
		at = &now
	}
	var d RateDecision
	var retryUS *int64
	err := s.pool.QueryRow(ctx, `SELECT allowed, remaining, reset_at, retry_us FROM rate_take($1, $2, $3, $4, $5, $6)`,
		scope, key, perMinute, burst, count, at).Scan(&d.Allowed, &d.Remaining, &d.ResetAt, &retryUS)
	if err != nil {
		return RateDecision{}, fmt.Errorf("rate limit %s: %w", scope, err)
	}
	if retryUS != nil {
		d.RetryAfter = time.Duration(*retryUS) * time.Microsecond
	}
	return d, nil
}

// SweepRates deletes the windows that no longer affect any decision: those
// whose newest allowed request is more than idle older than a minute
// before now (the zero time: the database's clock). It returns how many it
// deleted.
func (s *Store) SweepRates(ctx context.Context, idle time.Duration, now time.Time) (int64, error) {
	var at *time.Time
	if !now.IsZero() {
		at = &now
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM rate_windows WHERE until < coalesce($1, clock_timestamp()) - make_interval(secs => $2)`,
		at, idle.Seconds())
	if err != nil {
		return 0, fmt.Errorf("sweep rate windows: %w", err)
	}
	return tag.RowsAffected(), nil
}
