package eventstore

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Snapshots (table snapshots, one row per stream) are the command path's
// cache of an aggregate's folded state: a command restores the aggregate
// from its stream's snapshot and folds only the events after it, so its
// cost does not grow with the stream's age. They are never the truth:
// replay and verify read only the events, and a snapshot that is missing,
// of another schema or unreadable means a fold of every event.

// Snapshot is an aggregate's state as of Version (the zero Snapshot: none).
type Snapshot struct {
	Version int64
	State   []byte
}

// loadSnapshotSQL reads a stream's snapshot of the schema ($2), if any,
// and the events after it, in one statement (so one read of the tables):
// the snapshot first (kind 0) with the stream's last hash (the head when no
// event follows the snapshot), then the events in version order (kind 1).
const loadSnapshotSQL = `WITH s AS (SELECT version, state FROM snapshots WHERE stream_id = $1 AND schema = $2)
SELECT 0 AS kind, s.version, s.state, (SELECT last_hash FROM streams WHERE stream_id = $1), NULL::bigint, NULL::xid8, NULL::uuid, NULL::text, NULL::bytea, NULL::timestamptz
FROM s
UNION ALL
(SELECT 1, e.version, e.data, e.hash, e.global_position, e.tx_id, e.event_id, e.type, e.metadata, e.recorded_at
FROM events e WHERE e.stream_id = $1 AND e.version > coalesce((SELECT version FROM s), 0) ORDER BY e.version)`

// LoadSnapshot returns stream's snapshot of schema (the zero Snapshot if
// there is none), the events after it in version order, and the stream's
// head (the snapshot's when no event follows it; the zero Head for a
// stream that does not exist).
func (s *Events) LoadSnapshot(ctx context.Context, stream string, schema int) (Snapshot, []Record, Head, error) {
	rows, err := s.pool.Query(ctx, loadSnapshotSQL, stream, schema)
	if err != nil {
		return Snapshot{}, nil, Head{}, fmt.Errorf("load %s: %w", stream, err)
	}
	defer rows.Close()
	var (
		snap     Snapshot
		lastHash []byte
		recs     []Record
	)
	for rows.Next() {
		var (
			kind       int
			r          Record
			position   *int64
			txID       *uint64
			eventID    *uuid.UUID
			typ        *string
			metadata   []byte
			recordedAt *time.Time
		)
		if err := rows.Scan(&kind, &r.Version, &r.Data, &r.Hash, &position, &txID, &eventID, &typ, &metadata, &recordedAt); err != nil {
			return Snapshot{}, nil, Head{}, fmt.Errorf("load %s: %w", stream, err)
		}
		if kind == 0 {
			snap, lastHash = Snapshot{Version: r.Version, State: r.Data}, r.Hash
			continue
		}
		r.StreamID, r.Position, r.TxID, r.EventID, r.Type, r.Metadata, r.RecordedAt =
			stream, *position, *txID, *eventID, *typ, metadata, *recordedAt
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return Snapshot{}, nil, Head{}, fmt.Errorf("load %s: %w", stream, err)
	}
	if len(recs) > 0 && recs[0].Version != snap.Version+1 {
		return Snapshot{}, nil, Head{}, fmt.Errorf("load %s: snapshot at %d, next event %d", stream, snap.Version, recs[0].Version)
	}
	switch {
	case len(recs) > 0:
		return snap, recs, recs[len(recs)-1].Head(), nil
	case snap.Version > 0:
		// No event after the snapshot: the stream is at its version
		// (versions only grow, and this one statement read both).
		return snap, nil, Head{Version: snap.Version, Hash: lastHash}, nil
	}
	return snap, nil, Head{}, nil
}

// SaveSnapshot records snap as stream's snapshot of schema, unless the
// stream has one of the same schema at snap.Version or later.
func (s *Events) SaveSnapshot(ctx context.Context, stream string, schema int, snap Snapshot) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO snapshots AS s (stream_id, version, schema, state) VALUES ($1, $2, $3, $4)
		ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version, schema = EXCLUDED.schema,
			state = EXCLUDED.state, taken_at = now()
		WHERE s.schema <> EXCLUDED.schema OR s.version < EXCLUDED.version`, stream, snap.Version, schema, snap.State)
	if err != nil {
		return fmt.Errorf("save snapshot of %s at %d: %w", stream, snap.Version, err)
	}
	return nil
}

// LoadRange returns the events of stream with versions from..to, in
// version order.
func (s *Events) LoadRange(ctx context.Context, stream string, from, to int64) ([]Record, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+recordColumns+` FROM events WHERE stream_id = $1 AND version BETWEEN $2 AND $3 ORDER BY version`, stream, from, to)
	if err != nil {
		return nil, fmt.Errorf("load %s %d..%d: %w", stream, from, to, err)
	}
	recs, err := collectRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("load %s %d..%d: %w", stream, from, to, err)
	}
	return recs, nil
}
