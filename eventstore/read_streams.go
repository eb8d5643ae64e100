package eventstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// StreamEvent is one event as ReadStreams hands it out: what a fold needs.
type StreamEvent struct {
	StreamID   string
	Type       string
	Data       []byte
	Metadata   []byte
	RecordedAt time.Time
}

// ReadStreams reads every event of the streams whose id starts with prefix
// (PlanStreamPrefix, say), all in one REPEATABLE READ snapshot, in
// (stream_id, version) order, and calls emit once with each stream's
// events. When emit returns false the read stops and ReadStreams returns
// ctx.Err(). Only the stream being read is held in memory.
func (s *Events) ReadStreams(ctx context.Context, prefix string, emit func([]StreamEvent) bool) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("read streams %s: %w", prefix, err)
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `SELECT stream_id, type, data, metadata, recorded_at FROM events
		WHERE stream_id LIKE $1 ORDER BY stream_id, version`, likePrefix(prefix))
	if err != nil {
		return fmt.Errorf("read streams %s: %w", prefix, err)
	}
	defer rows.Close()
	var evs []StreamEvent
	for rows.Next() {
		var e StreamEvent
		if err := rows.Scan(&e.StreamID, &e.Type, &e.Data, &e.Metadata, &e.RecordedAt); err != nil {
			return fmt.Errorf("read streams %s: %w", prefix, err)
		}
		if len(evs) > 0 && e.StreamID != evs[0].StreamID {
			if !emit(evs) {
				return ctx.Err()
			}
			evs = nil
		}
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read streams %s: %w", prefix, err)
	}
	if len(evs) > 0 && !emit(evs) {
		return ctx.Err()
	}
	return nil
}

// likePrefix is a LIKE pattern matching the strings that start with prefix
// (its %, _ and \ taken literally).
func likePrefix(prefix string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix) + "%"
}
