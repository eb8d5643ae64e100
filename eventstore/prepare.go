package eventstore

import (
	"time"

	"github.com/google/uuid"
)

// prepared is one append made ready to run: its records with their
// hashes, metadata and command id, everything but the positions the
// database assigns.
type prepared struct {
	stream   string
	expected Head
	recs     []Record
	metaJSON []byte
	// commandID is recorded in commands when recordCommand is set (the
	// caller chose it; a generated one only labels the metadata).
	commandID     string
	recordCommand bool
	requestHash   []byte
	recordedAt    time.Time
}

// prepare checks an append (ErrNoEvents, ErrEventTooLarge) and computes its
// records and hash chain from expected.
func prepare(stream string, expected Head, events []NewEvent, meta Metadata, requestHash []byte) (*prepared, error) {
	if len(events) == 0 {
		return nil, ErrNoEvents
	}
	// Only a command id the caller chose can be replayed, so only those
	// are recorded in commands; a generated one just labels the metadata.
	recordCommand := meta.CommandID != ""
	metaJSON, err := checkAppend(stream, events, meta)
	if err != nil {
		return nil, err
	}
	p := &prepared{stream: stream, expected: expected, metaJSON: metaJSON, commandID: meta.CommandID,
		recordCommand: recordCommand, requestHash: requestHash,
		recordedAt: time.Now().UTC().Truncate(time.Microsecond), recs: make([]Record, len(events))}
	if !recordCommand {
		// checkAppend generated one into the metadata; it is not recorded.
		p.commandID = ""
	}
	var c chainHasher
	prev := expected.Hash
	for i, e := range events {
		if e.ID == uuid.Nil {
			e.ID = uuid.Must(uuid.NewV7())
		}
		r := &p.recs[i]
		*r = Record{StreamID: stream, Version: expected.Version + int64(i) + 1, EventID: e.ID, Type: e.Type,
			Data: e.Data, Metadata: metaJSON, RecordedAt: p.recordedAt}
		r.Hash = c.sum(nil, prev, r.StreamID, r.Version, r.EventID, r.Type, r.Data, r.Metadata, r.RecordedAt)
		prev = r.Hash
	}
	return p, nil
}

// last is the record the stream's head moves to.
func (p *prepared) last() *Record { return &p.recs[len(p.recs)-1] }
