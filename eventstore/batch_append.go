package eventstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// batchAppendSQL stores a batch of appends to distinct streams in one
// statement (one implicit transaction). Each append's version check is its
// own: an existing stream moves only from its expected version and hash, a
// new one is inserted only if absent, and only the appends that passed
// (ok) record their command and their events. The others write nothing and
// return nothing, which the caller reads as a version conflict. A command
// id already recorded aborts the whole statement (commands_pkey); the
// caller then runs the appends one by one.
//
// Appends: $1 stream, $2 expected version, $3 new version, $4 new hash,
// $5 expected hash, $6 command id (NULL: not recorded), $7 request hash,
// $8 recorded at, $9 metadata. Events, in version order per append: $10
// index of their append (1-based), $11 version, $12 event id, $13 type,
// $14 data, $15 hash.
const batchAppendSQL = `WITH a AS (
	SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bytea[], $5::bytea[],
		$6::text[], $7::bytea[], $8::timestamptz[], $9::bytea[])
		WITH ORDINALITY AS a(stream_id, expected, last_version, last_hash, prev_hash,
			command_id, request_hash, recorded_at, metadata, i)
), moved AS (
	UPDATE streams s SET version = a.last_version, last_hash = a.last_hash
	FROM a WHERE a.expected > 0 AND s.stream_id = a.stream_id AND s.version = a.expected AND s.last_hash = a.prev_hash
	RETURNING a.i
), created AS (
	INSERT INTO streams (stream_id, version, last_hash)
	SELECT stream_id, last_version, last_hash FROM a WHERE expected = 0 ORDER BY stream_id
	ON CONFLICT (stream_id) DO NOTHING
	RETURNING stream_id
), ok AS (
	SELECT i FROM moved
	UNION ALL SELECT a.i FROM created JOIN a USING (stream_id)
), cmd AS (
	INSERT INTO commands (command_id, stream_id, first_version, last_version, request_hash, recorded_at)
	SELECT a.command_id, a.stream_id, a.expected + 1, a.last_version, a.request_hash, a.recorded_at
	FROM a JOIN ok USING (i) WHERE a.command_id IS NOT NULL
	RETURNING 1
)
INSERT INTO events (stream_id, version, event_id, type, data, metadata, recorded_at, hash)
SELECT a.stream_id, e.version, e.event_id, e.type, e.data, a.metadata, a.recorded_at, e.hash
FROM unnest($10::bigint[], $11::bigint[], $12::uuid[], $13::text[], $14::bytea[], $15::bytea[])
	WITH ORDINALITY AS e(i, version, event_id, type, data, hash, ord)
	JOIN ok USING (i) JOIN a USING (i)
ORDER BY e.ord
RETURNING global_position, tx_id, stream_id, version`

// runBatch stores batch (appends to distinct streams) with batchAppendSQL
// and sets each append's outcome: its records with their positions, or
// ErrVersionConflict. An error is the statement's: nothing was stored and
// no outcome set.
func runBatch(ctx context.Context, q querier, batch []*queuedAppend) error {
	// The statement visits the streams in this order: two batches that
	// share streams (two processes) lock them in the same order.
	slices.SortFunc(batch, streamOrder)
	n, events := len(batch), 0
	for _, b := range batch {
		events += len(b.p.recs)
	}
	var (
		streams      = make([]string, n)
		expected     = make([]int64, n)
		lastVersions = make([]int64, n)
		lastHashes   = make([][]byte, n)
		prevHashes   = make([][]byte, n)
		commandIDs   = make([]*string, n)
		requestHash  = make([][]byte, n)
		recordedAt   = make([]time.Time, n)
		metadata     = make([][]byte, n)
		index        = make([]int64, 0, events)
		versions     = make([]int64, 0, events)
		ids          = make([]uuid.UUID, 0, events)
		types        = make([]string, 0, events)
		datas        = make([][]byte, 0, events)
		hashes       = make([][]byte, 0, events)
		byStream     = make(map[string]*queuedAppend, n)
	)
	for i, b := range batch {
		p := b.p
		last := p.last()
		streams[i], expected[i], lastVersions[i], lastHashes[i] = p.stream, p.expected.Version, last.Version, last.Hash
		if p.expected.Version > 0 {
			prevHashes[i] = p.expected.Hash
		}
		if p.recordCommand {
			commandIDs[i] = &p.commandID
		}
		requestHash[i], recordedAt[i], metadata[i] = p.requestHash, p.recordedAt, p.metaJSON
		for _, r := range p.recs {
			index, versions = append(index, int64(i+1)), append(versions, r.Version)
			ids, types, datas, hashes = append(ids, r.EventID), append(types, r.Type), append(datas, r.Data), append(hashes, r.Hash)
		}
		byStream[p.stream] = b
	}
	rows, err := q.Query(ctx, batchAppendSQL, streams, expected, lastVersions, lastHashes, prevHashes,
		commandIDs, requestHash, recordedAt, metadata, index, versions, ids, types, datas, hashes)
	if err != nil {
		return fmt.Errorf("append batch of %d: %w", n, err)
	}
	type stored struct {
		position int64
		txID     uint64
		stream   string
		version  int64
	}
	var out []stored
	for rows.Next() {
		var r stored
		if err := rows.Scan(&r.position, &r.txID, &r.stream, &r.version); err != nil {
			rows.Close()
			return fmt.Errorf("append batch of %d: %w", n, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("append batch of %d: %w", n, err)
	}
	// Committed: from here on every append has its outcome.
	got := make(map[*queuedAppend]int, n)
	for _, r := range out {
		b := byStream[r.stream]
		if b == nil || r.version != b.p.expected.Version+int64(got[b])+1 || got[b] >= len(b.p.recs) {
			for _, b := range batch {
				b.recs, b.err = nil, fmt.Errorf("append batch of %d: unexpected row %s version %d", n, r.stream, r.version)
			}
			return nil
		}
		b.p.recs[got[b]].Position, b.p.recs[got[b]].TxID = r.position, r.txID
		got[b]++
	}
	for _, b := range batch {
		switch got[b] {
		case 0:
			b.err = fmt.Errorf("append %s at version %d: %w", b.p.stream, b.p.expected.Version, ErrVersionConflict)
		case len(b.p.recs):
			b.recs = b.p.recs
		default:
			b.err = fmt.Errorf("append %s: stored %d of %d events", b.p.stream, got[b], len(b.p.recs))
		}
	}
	return nil
}
