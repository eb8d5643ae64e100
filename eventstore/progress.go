package eventstore

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Progress is how far a long read (Verify, a replay) has come, for a
// progress display to poll while it runs. The zero value is ready; a nil
// *Progress counts nothing. It is safe for concurrent use.
type Progress struct {
	events atomic.Int64
	phase  atomic.Pointer[string]
}

// Add counts n more events read.
func (p *Progress) Add(n int64) {
	if p != nil {
		p.events.Add(n)
	}
}

// Events is how many events were read so far.
func (p *Progress) Events() int64 {
	if p == nil {
		return 0
	}
	return p.events.Load()
}

// SetPhase names what the read is doing now ("" while it reads events).
func (p *Progress) SetPhase(phase string) {
	if p != nil {
		p.phase.Store(&phase)
	}
}

// Phase is the phase last set, "" if none.
func (p *Progress) Phase() string {
	if p == nil {
		return ""
	}
	if s := p.phase.Load(); s != nil {
		return *s
	}
	return ""
}

// EstimateEvents is about how many events the store holds: the highest
// global position, read from its index (positions a rolled-back append took
// are counted too). It is meant for a progress display's total.
func (s *Events) EstimateEvents(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(global_position), 0) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("estimate events: %w", err)
	}
	return n, nil
}
