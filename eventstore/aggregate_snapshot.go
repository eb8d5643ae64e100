package eventstore

import (
	"context"
	"fmt"
)

// The aggregate side of snapshots (the table's side is snapshots.go): how
// the command path and every live reader get an aggregate as it is now
// without folding its whole stream.

// SnapshotEvery is how many events past its last snapshot (or from the
// start) an aggregate folds before the command path records a new one: a
// command never folds more than about this many events, whatever the age
// of its stream.
const SnapshotEvery = 50

// Current returns aggregate id as it is now and its stream head, restored
// from its snapshot and the events after it (a fold of every event when it
// has no snapshot, or one that cannot be used). It records a new snapshot
// when it folded SnapshotEvery events or more. ErrNotFound if the
// aggregate has no events. Replay and verify use Load instead: they never
// depend on a snapshot.
func (g Aggregate[A]) Current(ctx context.Context, log EventLog, id int64) (A, Head, error) {
	stream := g.Stream(id)
	a, head, snapAt, err := g.current(ctx, log, stream)
	if err != nil {
		var zero A
		return zero, Head{}, err
	}
	if head.Version == 0 {
		var zero A
		return zero, Head{}, fmt.Errorf("%s %d: %w", g.Name, id, ErrNotFound)
	}
	g.maybeSnapshot(ctx, log, stream, a, head, snapAt)
	return a, head, nil
}

// At returns aggregate id as it was at version (a reader of an older
// event: the webhook fan-out), from its snapshot when that is at or before
// version, else from its first event. ErrNotFound if the stream has no
// event at version.
func (g Aggregate[A]) At(ctx context.Context, log EventLog, id, version int64) (A, error) {
	stream := g.Stream(id)
	a := g.New()
	var recs []Record
	if g.Snapshot != nil {
		snap, after, _, err := log.LoadSnapshot(ctx, stream, g.SnapshotSchema)
		if err != nil {
			return a, err
		}
		if snap.Version > 0 && snap.Version <= version {
			if restored, err := g.Restore(snap.State); err == nil && g.Version(restored) == snap.Version {
				for _, r := range after {
					if r.Version <= version {
						recs = append(recs, r)
					}
				}
				if folded, err := g.Fold(restored, recs); err == nil && g.Version(folded) == version {
					return folded, nil
				}
			}
		}
	}
	recs, err := log.LoadRange(ctx, stream, 1, version)
	if err != nil {
		return a, err
	}
	if int64(len(recs)) != version || version < 1 {
		return a, fmt.Errorf("%s %d at version %d: %w", g.Name, id, version, ErrNotFound)
	}
	return g.Fold(a, recs)
}

// current is the aggregate of stream restored and caught up (see
// Current), with its head and the version of the snapshot it started from
// (0: none). A stream without events is New() at the zero Head.
func (g Aggregate[A]) current(ctx context.Context, log EventLog, stream string) (A, Head, int64, error) {
	if g.Snapshot == nil {
		recs, head, err := log.Load(ctx, stream)
		if err != nil {
			return g.New(), Head{}, 0, err
		}
		a, err := g.Fold(g.New(), recs)
		return a, head, 0, err
	}
	snap, recs, head, err := log.LoadSnapshot(ctx, stream, g.SnapshotSchema)
	if err != nil {
		return g.New(), Head{}, 0, err
	}
	if snap.Version > 0 {
		if a, err := g.Restore(snap.State); err == nil && g.Version(a) == snap.Version {
			if a, err = g.Fold(a, recs); err == nil {
				return a, head, snap.Version, nil
			}
		}
		// A snapshot that does not restore, or does not fold on: the
		// events are the truth.
		if recs, head, err = log.Load(ctx, stream); err != nil {
			return g.New(), Head{}, 0, err
		}
	}
	a, err := g.Fold(g.New(), recs)
	return a, head, 0, err
}

// maybeSnapshot records a's snapshot at head when SnapshotEvery events or
// more were folded past snapAt. A failure is not the command's: the
// snapshot is a cache, and the next command tries again.
func (g Aggregate[A]) maybeSnapshot(ctx context.Context, log EventLog, stream string, a A, head Head, snapAt int64) {
	if g.Snapshot == nil || head.Version-snapAt < SnapshotEvery || g.Version(a) != head.Version {
		return
	}
	state, err := g.Snapshot(a)
	if err != nil {
		return
	}
	_ = log.SaveSnapshot(context.WithoutCancel(ctx), stream, g.SnapshotSchema, Snapshot{Version: head.Version, State: state})
}
