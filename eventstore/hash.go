package eventstore

import (
	"crypto/sha256"
	"encoding/binary"
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
	h := sha256.New()
	var zero [HashSize]byte
	if len(prev) == 0 {
		prev = zero[:]
	}
	h.Write(prev)
	var n [8]byte
	writeBytes := func(b []byte) {
		binary.BigEndian.PutUint32(n[:4], uint32(len(b)))
		h.Write(n[:4])
		h.Write(b)
	}
	writeBytes([]byte(streamID))
	binary.BigEndian.PutUint64(n[:], uint64(version))
	h.Write(n[:])
	h.Write(eventID[:])
	writeBytes([]byte(typ))
	writeBytes(data)
	writeBytes(metadata)
	binary.BigEndian.PutUint64(n[:], uint64(recordedAt.UnixMicro()))
	h.Write(n[:])
	return h.Sum(nil)
}

// recordHash recomputes the hash of r from prev.
func recordHash(prev []byte, r *Record) []byte {
	return ChainHash(prev, r.StreamID, r.Version, r.EventID, r.Type, r.Data, r.Metadata, r.RecordedAt)
}
