package eventstore

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// AppendInTx runs the real append statement inside tx, so tests can hold a
// commit open and make transactions commit out of order.
func AppendInTx(ctx context.Context, tx pgx.Tx, stream string, expected Head, events []NewEvent, meta Metadata, opts ...AppendOption) ([]Record, error) {
	return appendWith(ctx, tx, stream, expected, events, meta, opts...)
}

// PlanNumber is planNumber, for the test that holds it to PlanIDOf.
var PlanNumber = planNumber[string]

// BatchAppend is one append of AppendBatch.
type BatchAppend struct {
	Stream   string
	Expected Head
	Events   []NewEvent
	Meta     Metadata
}

// AppendBatch runs appends as one group-commit batch, as if their callers
// had queued them together, and returns each one's outcome.
func AppendBatch(ctx context.Context, s *Store, appends []BatchAppend) ([][]Record, []error) {
	batch := make([]*queuedAppend, len(appends))
	for i, a := range appends {
		p, err := prepare(a.Stream, a.Expected, a.Events, a.Meta, nil)
		if err != nil {
			panic(err)
		}
		batch[i] = &queuedAppend{p: p, done: make(chan struct{})}
	}
	order := append([]*queuedAppend(nil), batch...)
	s.group.flush(batch)
	recs, errs := make([][]Record, len(order)), make([]error, len(order))
	for i, q := range order {
		recs[i], errs[i] = q.recs, q.err
	}
	return recs, errs
}

// GroupCommitStats returns how many multi-append statements the store's
// group commit has run, and how many batches it had to run one by one.
func GroupCommitStats(s *Store) (batches, fallbacks int64) {
	return s.group.batches.Load(), s.group.fallbacks.Load()
}

// SetMaxPendingBytes sets ScanStreams' bound until the test ends.
func SetMaxPendingBytes(t interface{ Cleanup(func()) }, n int64) {
	old := maxPendingBytes
	maxPendingBytes = n
	t.Cleanup(func() { maxPendingBytes = old })
}
