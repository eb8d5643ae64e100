package eventstore

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"time"

	"github.com/google/uuid"
)

// HashSize is the length of an event hash (SHA-256).
const HashSize = sha256.Size

// ChainHash computes an event's hash from the previous hash of its stream
// (nil or empty for version 1, which is then taken as 32 zero bytes).
//
// The encoding is fixed; changing it invalidates every stored chain:
//
//	SHA-256( prev_hash             32 bytes
//	      || u32be(len(stream_id)) || stream_id (UTF-8)
//	      || u64be(version)
//	      || event_id              16 bytes (RFC 4122 byte order)
//	      || u32be(len(type))      || type
//	      || u32be(len(data))      || data      (the exact stored bytes)
//	      || u32be(len(metadata))  || metadata  (the exact stored bytes)
//	      || i64be(recorded_at as Unix microseconds, UTC) )
//
// Length prefixes make the encoding unambiguous; recorded_at is hashed at
// the microsecond precision PostgreSQL stores.
func ChainHash(prev []byte, streamID string, version int64, eventID uuid.UUID, typ string, data, metadata []byte, recordedAt time.Time) []byte {
	var c chainHasher
	return c.sum(nil, prev, streamID, version, eventID, typ, data, metadata, recordedAt)
}

// chainHasher computes ChainHash with one reusable SHA-256 state, for
// callers that hash many events (verify).
type chainHasher struct {
	h   hash.Hash
	buf [8]byte
}

func (c *chainHasher) sum(dst, prev []byte, streamID string, version int64, eventID uuid.UUID, typ string, data, metadata []byte, recordedAt time.Time) []byte {
	return chainSum(c, dst, prev, streamID, version, eventID, typ, data, metadata, recordedAt.UnixMicro())
}

// chainSum is ChainHash into dst with c's state, for the text columns as
// strings or as the bytes read from the database (verify), and recorded_at
// as Unix microseconds.
func chainSum[T string | []byte](c *chainHasher, dst, prev []byte, streamID T, version int64, eventID [16]byte, typ T, data, metadata []byte, micros int64) []byte {
	if c.h == nil {
		c.h = sha256.New()
	}
	h := c.h
	h.Reset()
	var zero [HashSize]byte
	if len(prev) == 0 {
		prev = zero[:]
	}
	h.Write(prev)
	writeLen := func(n int) {
		binary.BigEndian.PutUint32(c.buf[:4], uint32(n))
		h.Write(c.buf[:4])
	}
	writeLen(len(streamID))
	writeText(h, streamID)
	binary.BigEndian.PutUint64(c.buf[:], uint64(version))
	h.Write(c.buf[:])
	h.Write(eventID[:])
	writeLen(len(typ))
	writeText(h, typ)
	writeLen(len(data))
	h.Write(data)
	writeLen(len(metadata))
	h.Write(metadata)
	binary.BigEndian.PutUint64(c.buf[:], uint64(micros))
	h.Write(c.buf[:])
	return h.Sum(dst)
}

// writeText writes s; the conversion copies nothing for bytes.
func writeText[T string | []byte](h hash.Hash, s T) { h.Write([]byte(s)) }

// recordHash recomputes the hash of r from prev.
func recordHash(prev []byte, r *Record) []byte {
	return ChainHash(prev, r.StreamID, r.Version, r.EventID, r.Type, r.Data, r.Metadata, r.RecordedAt)
}
