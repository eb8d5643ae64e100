package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

const recordColumns = `global_position, tx_id, stream_id, version, event_id, type, data, metadata, recorded_at, hash`

func scanRecord(row pgx.Row, r *Record) error {
	return row.Scan(&r.Position, &r.TxID, &r.StreamID, &r.Version, &r.EventID, &r.Type, &r.Data, &r.Metadata, &r.RecordedAt, &r.Hash)
}

func collectRecords(rows pgx.Rows) ([]Record, error) {
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		if err := scanRecord(rows, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Load returns every event of stream in version order and the stream's head.
// A stream that does not exist has no records and the zero Head.
func (s *Events) Load(ctx context.Context, stream string) ([]Record, Head, error) {
	return s.LoadAfter(ctx, stream, 0)
}

// LoadAfter returns the events of stream with a version above after, in
// version order, and the head after the last one (the zero Head if none).
func (s *Events) LoadAfter(ctx context.Context, stream string, after int64) ([]Record, Head, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+recordColumns+` FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version`, stream, after)
	if err != nil {
		return nil, Head{}, fmt.Errorf("load %s: %w", stream, err)
	}
	recs, err := collectRecords(rows)
	if err != nil {
		return nil, Head{}, fmt.Errorf("load %s: %w", stream, err)
	}
	if len(recs) == 0 {
		return nil, Head{}, nil
	}
	return recs, recs[len(recs)-1].Head(), nil
}

// LoadEvent returns the stored event with id, or ErrNotFound.
func (s *Events) LoadEvent(ctx context.Context, id uuid.UUID) (Record, error) {
	var r Record
	err := scanRecord(s.pool.QueryRow(ctx, `SELECT `+recordColumns+` FROM events WHERE event_id = $1`, id), &r)
	if err != nil {
		return r, fmt.Errorf("load event %s: %w", id, interpretError(err))
	}
	return r, nil
}

// ReadAll returns up to limit events after cursor in the global order
// (tx_id, global_position), reading only transactions below the xmin horizon
// of the current snapshot: every transaction that could still commit an event
// before them has finished, so a reader that checkpoints on the last record's
// Cursor never skips an event that committed out of order.
//
// The horizon is the whole PostgreSQL server's: a long-running transaction
// holding an xid in any database of the server (not only goodplan's) holds
// it back; readers then wait, they never skip. Give goodplan a server of its
// own, or keep other transactions short.
func (s *Events) ReadAll(ctx context.Context, after Cursor, limit int) ([]Record, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+recordColumns+` FROM events
		WHERE (tx_id, global_position) > ($1::xid8, $2::bigint)
		  AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
		ORDER BY tx_id, global_position
		LIMIT $3`, after.TxID, after.Position, limit)
	if err != nil {
		return nil, fmt.Errorf("read all after %d/%d: %w", after.TxID, after.Position, err)
	}
	recs, err := collectRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("read all after %d/%d: %w", after.TxID, after.Position, err)
	}
	return recs, nil
}

// LoadPage returns at most limit events of stream with a version below
// before (0: from the newest), newest first: a page of a long history
// read through the (stream_id, version) key.
func (s *Events) LoadPage(ctx context.Context, stream string, before int64, limit int) ([]Record, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.pool.Query(ctx, `SELECT `+recordColumns+` FROM events
		WHERE stream_id = $1 AND version < $2 ORDER BY version DESC LIMIT $3`, stream, before, limit)
	if err != nil {
		return nil, fmt.Errorf("load page of %s: %w", stream, err)
	}
	recs, err := collectRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("load page of %s: %w", stream, err)
	}
	return recs, nil
}

// StreamVersion returns the version of stream's last event, 0 for a stream
// without events: one probe of its key.
func (s *Events) StreamVersion(ctx context.Context, stream string) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT version FROM streams WHERE stream_id = $1`, stream).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("version of %s: %w", stream, err)
	}
	return v, nil
}
