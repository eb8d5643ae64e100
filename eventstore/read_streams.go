package eventstore

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// StreamEvent is one event as ReadStreams hands it out: what a fold needs.
type StreamEvent struct {
	StreamID   string
	Version    int64 // set by ScanStreams
	Type       string
	Data       []byte
	Metadata   []byte
	RecordedAt time.Time
}

// ReadStreams reads every event of the streams whose id starts with prefix
// (PlanStreamPrefix, say) and that have a head in streams (verify checks
// that every stream has), all in one REPEATABLE READ snapshot, in
// (stream_id, version) order, and calls emit once with each stream's
// events. When emit returns false the read stops and ReadStreams returns
// ctx.Err(). Only the stream being read is held in memory.
func (s *Events) ReadStreams(ctx context.Context, prefix string, emit func([]StreamEvent) bool) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("read streams %s: %w", prefix, err)
	}
	defer tx.Rollback(ctx)
	// The streams are found in streams (a LIKE cannot use the events'
	// index, and scanning every event for a prefix few streams have
	// was most of the read), their events through that index.
	rows, err := tx.Query(ctx, `SELECT stream_id, type, data, metadata, recorded_at FROM events
		WHERE stream_id IN (SELECT stream_id FROM streams WHERE stream_id LIKE $1) ORDER BY stream_id, version`, likePrefix(prefix))
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

// maxPendingBytes bounds what ScanStreams holds of streams it has not
// seen whole (a variable for its test).
var maxPendingBytes int64 = 256 << 20

// ScanStreams is ReadStreams without the order of the streams: it reads
// the events in the table's physical order (a sequential scan, where
// ReadStreams' (stream_id, version) order visits the heap through the
// index, out of order: three times the cost), gathers each stream's
// events in memory and emits the stream, in version order, once it has
// as many events as its head's version says. The events of streams not
// yet whole are bounded by maxPendingBytes: past it, streams are set
// aside (their events dropped and skipped) and read at the end by
// stream id, as ReadStreams reads them, in the same snapshot. Every
// stream is emitted once, with all its events.
func (s *Events) ScanStreams(ctx context.Context, prefix string, emit func([]StreamEvent) bool) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("scan streams %s: %w", prefix, err)
	}
	defer tx.Rollback(ctx)
	// Compiling the scan (JIT) costs more than it saves here.
	if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
		return fmt.Errorf("scan streams %s: %w", prefix, err)
	}
	heads := map[string]int64{}
	hrows, err := tx.Query(ctx, `SELECT stream_id, version FROM streams WHERE stream_id LIKE $1`, likePrefix(prefix))
	if err != nil {
		return fmt.Errorf("scan streams %s: %w", prefix, err)
	}
	for hrows.Next() {
		var id string
		var v int64
		if err := hrows.Scan(&id, &v); err != nil {
			hrows.Close()
			return fmt.Errorf("scan streams %s: %w", prefix, err)
		}
		heads[id] = v
	}
	hrows.Close()
	if err := hrows.Err(); err != nil {
		return fmt.Errorf("scan streams %s: %w", prefix, err)
	}

	pending := map[string][]StreamEvent{}
	var pendingBytes int64
	setAside := map[string]bool{}
	size := func(e StreamEvent) int64 {
		return int64(len(e.StreamID) + len(e.Type) + len(e.Data) + len(e.Metadata) + 64)
	}
	out := func(evs []StreamEvent) bool {
		slices.SortFunc(evs, func(a, b StreamEvent) int { return cmp.Compare(a.Version, b.Version) })
		return emit(evs)
	}
	rows, err := tx.Query(ctx, `SELECT stream_id, version, type, data, metadata, recorded_at FROM events WHERE stream_id LIKE $1`,
		likePrefix(prefix))
	if err != nil {
		return fmt.Errorf("scan streams %s: %w", prefix, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e StreamEvent
		if err := rows.Scan(&e.StreamID, &e.Version, &e.Type, &e.Data, &e.Metadata, &e.RecordedAt); err != nil {
			return fmt.Errorf("scan streams %s: %w", prefix, err)
		}
		if setAside[e.StreamID] {
			continue
		}
		evs := append(pending[e.StreamID], e)
		if int64(len(evs)) == heads[e.StreamID] {
			for _, p := range evs[:len(evs)-1] {
				pendingBytes -= size(p)
			}
			delete(pending, e.StreamID)
			if !out(evs) {
				return ctx.Err()
			}
			continue
		}
		pending[e.StreamID] = evs
		if pendingBytes += size(e); pendingBytes > maxPendingBytes {
			for id, evs := range pending {
				for _, p := range evs {
					pendingBytes -= size(p)
				}
				delete(pending, id)
				setAside[id] = true
				if pendingBytes <= maxPendingBytes/2 {
					break
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan streams %s: %w", prefix, err)
	}
	rows.Close()
	// Streams whose head says more events than the snapshot has (none,
	// when the store is sound) go out as they are, as ReadStreams would.
	for _, id := range slices.Sorted(maps.Keys(pending)) {
		if !out(pending[id]) {
			return ctx.Err()
		}
	}
	aside := slices.Sorted(maps.Keys(setAside))
	for len(aside) > 0 {
		chunk := aside[:min(len(aside), 1000)]
		aside = aside[len(chunk):]
		if err := readStreamsIn(ctx, tx, chunk, emit); err != nil {
			return fmt.Errorf("scan streams %s: %w", prefix, err)
		}
	}
	return nil
}

// readStreamsIn emits the streams ids in tx, as ReadStreams does.
func readStreamsIn(ctx context.Context, tx pgx.Tx, ids []string, emit func([]StreamEvent) bool) error {
	rows, err := tx.Query(ctx, `SELECT stream_id, version, type, data, metadata, recorded_at FROM events
		WHERE stream_id = ANY($1) ORDER BY stream_id, version`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	var evs []StreamEvent
	for rows.Next() {
		var e StreamEvent
		if err := rows.Scan(&e.StreamID, &e.Version, &e.Type, &e.Data, &e.Metadata, &e.RecordedAt); err != nil {
			return err
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
		return err
	}
	if len(evs) > 0 && !emit(evs) {
		return ctx.Err()
	}
	return nil
}
