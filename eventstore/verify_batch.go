package eventstore

import (
	"encoding/binary"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// verifyColumns are the columns Verify reads, in verifyBatch.add's order.
const verifyColumns = `global_position, stream_id, version, event_id, type, data, metadata, recorded_at, hash`

// pgEpochMicros is 2000-01-01 UTC, PostgreSQL's timestamp epoch, in Unix
// microseconds.
const pgEpochMicros = 946_684_800_000_000

// span is a value's place in a verifyBatch's buffer.
type span struct{ off, n int }

// verifyRow is one event as Verify checks it; its text and byte columns
// are spans of the batch's buffer.
type verifyRow struct {
	position, version, micros     int64 // micros: recorded_at in Unix microseconds
	eventID                       [16]byte
	stream, typ, data, meta, hash span
}

// verifyBatch is events for one chain worker, their bytes in one buffer.
type verifyBatch struct {
	buf  []byte
	rows []verifyRow
}

func (b *verifyBatch) bytes(s span) []byte { return b.buf[s.off : s.off+s.n] }

func (b *verifyBatch) keep(v []byte) span {
	s := span{len(b.buf), len(v)}
	b.buf = append(b.buf, v...)
	return s
}

// add appends the event of one row of verifyColumns in PostgreSQL's binary
// format (values as pgx.Rows.RawValues gives them, valid until the next
// row: they are copied).
func (b *verifyBatch) add(fields []pgconn.FieldDescription, v [][]byte) error {
	if len(v) != 9 {
		return fmt.Errorf("read %d columns, want 9", len(v))
	}
	for i, f := range fields {
		// A text column's bytes are the same in either format.
		if v[i] == nil || (f.Format != pgx.BinaryFormatCode && i != 1 && i != 4) {
			return fmt.Errorf("column %s: not a binary value", f.Name)
		}
	}
	if len(v[0]) != 8 || len(v[2]) != 8 || len(v[3]) != 16 || len(v[7]) != 8 {
		return fmt.Errorf("event at position %x: malformed binary value", v[0])
	}
	r := verifyRow{
		position: int64(binary.BigEndian.Uint64(v[0])),
		version:  int64(binary.BigEndian.Uint64(v[2])),
		micros:   int64(binary.BigEndian.Uint64(v[7])) + pgEpochMicros,
		stream:   b.keep(v[1]), typ: b.keep(v[4]), data: b.keep(v[5]), meta: b.keep(v[6]), hash: b.keep(v[8]),
	}
	copy(r.eventID[:], v[3])
	b.rows = append(b.rows, r)
	return nil
}
