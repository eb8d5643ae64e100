package eventstore

import (
	"cmp"
	"context"
	"fmt"
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
// and that have a head in streams (verify checks that every stream has),
// all in one REPEATABLE READ snapshot, in
// (stream_id, version) order, and calls emit once with each stream's
// events. When emit returns false the read stops and ReadStreams returns
// ctx.Err(). Only the stream being read is held in memory. It is meant
// for prefixes of few streams (the catalog's): each stream's events are
// found through the (stream_id, version) index, which for most of the
// store costs three times a sequential scan (ScanStreams).
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
	binary := pgx.QueryResultFormats{pgx.BinaryFormatCode}
	// Streams are keyed by their id's bytes as read (plan streams, nearly
	// all of them, by their number: no string per stream and nothing for
	// the garbage collector to scan).
	heads := newStreamMap[int64]()
	hrows, err := tx.Query(ctx, `SELECT stream_id, version FROM streams WHERE stream_id LIKE $1`, binary, likePrefix(prefix))
	if err != nil {
		return fmt.Errorf("scan streams %s: %w", prefix, err)
	}
	for hrows.Next() {
		v := hrows.RawValues()
		if len(v) != 2 || len(v[1]) != 8 {
			hrows.Close()
			return fmt.Errorf("scan streams %s: malformed head", prefix)
		}
		heads.set(v[0], int64(binary64(v[1])))
	}
	hrows.Close()
	if err := hrows.Err(); err != nil {
		return fmt.Errorf("scan streams %s: %w", prefix, err)
	}

	pending := newStreamMap[[]StreamEvent]()
	var pendingBytes int64
	setAside := newStreamMap[bool]()
	types := map[string]string{} // event types, interned
	size := func(e StreamEvent) int64 {
		return int64(len(e.StreamID) + len(e.Type) + len(e.Data) + len(e.Metadata) + 64)
	}
	out := func(evs []StreamEvent) bool {
		slices.SortFunc(evs, func(a, b StreamEvent) int { return cmp.Compare(a.Version, b.Version) })
		return emit(evs)
	}
	rows, err := tx.Query(ctx, `SELECT stream_id, version, type, data, metadata, recorded_at FROM events WHERE stream_id LIKE $1`,
		binary, likePrefix(prefix))
	if err != nil {
		return fmt.Errorf("scan streams %s: %w", prefix, err)
	}
	defer rows.Close()
	for rows.Next() {
		v := rows.RawValues()
		if len(v) != 6 || len(v[1]) != 8 || len(v[5]) != 8 || v[3] == nil || v[4] == nil {
			return fmt.Errorf("scan streams %s: malformed event", prefix)
		}
		id := v[0]
		if _, aside := setAside.get(id); aside {
			continue
		}
		evs, _ := pending.get(id)
		var e StreamEvent
		if len(evs) > 0 {
			e.StreamID = evs[0].StreamID // one string per stream
		} else {
			e.StreamID = string(id)
		}
		e.Version = int64(binary64(v[1]))
		typ, ok := types[string(v[2])]
		if !ok {
			typ = string(v[2])
			types[typ] = typ
		}
		e.Type = typ
		// Data and metadata share one allocation.
		buf := make([]byte, len(v[3])+len(v[4]))
		n := copy(buf, v[3])
		copy(buf[n:], v[4])
		e.Data, e.Metadata = buf[:n:n], buf[n:]
		us := int64(binary64(v[5]))
		e.RecordedAt = time.UnixMicro(us + pgEpochMicros)
		evs = append(evs, e)
		if head, _ := heads.get(id); int64(len(evs)) == head {
			for _, p := range evs[:len(evs)-1] {
				pendingBytes -= size(p)
			}
			pending.delete(id)
			if !out(evs) {
				return ctx.Err()
			}
			continue
		}
		pending.set(id, evs)
		if pendingBytes += size(e); pendingBytes > maxPendingBytes {
			pending.each(func(key []byte, evs []StreamEvent) bool {
				for _, p := range evs {
					pendingBytes -= size(p)
				}
				setAside.set(key, true)
				return pendingBytes > maxPendingBytes/2
			})
			setAside.each(func(key []byte, _ bool) bool {
				pending.delete(key)
				return true
			})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan streams %s: %w", prefix, err)
	}
	rows.Close()
	// Streams whose head says more events than the snapshot has (none,
	// when the store is sound) go out as they are, as ReadStreams would.
	var left [][]StreamEvent
	pending.each(func(_ []byte, evs []StreamEvent) bool {
		left = append(left, evs)
		return true
	})
	slices.SortFunc(left, func(a, b []StreamEvent) int { return strings.Compare(a[0].StreamID, b[0].StreamID) })
	for _, evs := range left {
		if !out(evs) {
			return ctx.Err()
		}
	}
	var aside []string
	setAside.each(func(key []byte, _ bool) bool {
		aside = append(aside, string(key))
		return true
	})
	slices.Sort(aside)
	for len(aside) > 0 {
		chunk := aside[:min(len(aside), 1000)]
		aside = aside[len(chunk):]
		if err := readStreamsIn(ctx, tx, chunk, emit); err != nil {
			return fmt.Errorf("scan streams %s: %w", prefix, err)
		}
	}
	return nil
}

func binary64(b []byte) uint64 {
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

// streamMap maps stream ids, given as bytes, to values: plan streams by
// their number, others by their id.
type streamMap[V any] struct {
	plans  map[int64]V
	others map[string]V
}

func newStreamMap[V any]() *streamMap[V] {
	return &streamMap[V]{plans: map[int64]V{}, others: map[string]V{}}
}

func (m *streamMap[V]) get(id []byte) (V, bool) {
	if n, ok := planNumber(id); ok {
		v, found := m.plans[n]
		return v, found
	}
	v, found := m.others[string(id)]
	return v, found
}

func (m *streamMap[V]) set(id []byte, v V) {
	if n, ok := planNumber(id); ok {
		m.plans[n] = v
		return
	}
	m.others[string(id)] = v
}

func (m *streamMap[V]) delete(id []byte) {
	if n, ok := planNumber(id); ok {
		delete(m.plans, n)
		return
	}
	delete(m.others, string(id))
}

// each calls f with every entry's id until f returns false.
func (m *streamMap[V]) each(f func(id []byte, v V) bool) {
	for n, v := range m.plans {
		if !f([]byte(PlanStream(n)), v) {
			return
		}
	}
	for id, v := range m.others {
		if !f([]byte(id), v) {
			return
		}
	}
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
