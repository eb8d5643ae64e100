package workers

import (
	"fmt"

	"github.com/nats-io/nats.go"

	"goodplan/eventstore"
)

// EnvelopeHeadroom is what the relay adds to an event's data and metadata
// to publish it: the envelope's other fields (EncodeRecord) and the message
// headers (EventMsg). The largest possible addition (the longest stream id
// and type the store holds, the largest numbers) is about 1 KiB;
// TestEnvelopeHeadroom measures it.
const EnvelopeHeadroom = 4 << 10

// MaxMessageBytes is the largest message the relay publishes: an event at
// eventstore.MaxEventBytes in its envelope. NATS counts a message's data
// and headers against its max_payload, which must be at least this.
const MaxMessageBytes = eventstore.MaxEventBytes + EnvelopeHeadroom

// EventMsg is the NATS message the relay publishes for rec on subject:
// the envelope as data, the event id as Nats-Msg-Id, the event's place and
// its request's id and traceparent in headers.
func EventMsg(subject string, rec eventstore.Record) (*nats.Msg, error) {
	body, err := EncodeRecord(rec)
	if err != nil {
		return nil, err
	}
	return eventMsg(subject, rec, body, OriginOf(rec)), nil
}

// CheckMaxPayload returns an error naming both numbers when the NATS server
// the bus is connected to (embedded or external) accepts smaller messages
// than MaxMessageBytes: the relay could then store an event it can never
// publish. serve refuses to start on it.
func (b *Bus) CheckMaxPayload() error {
	if mp := b.NC.MaxPayload(); mp < MaxMessageBytes {
		return fmt.Errorf("nats max_payload is %d bytes, below the %d bytes of the largest event message "+
			"(an event of up to %d bytes plus %d of envelope); raise max_payload on the NATS server",
			mp, MaxMessageBytes, eventstore.MaxEventBytes, EnvelopeHeadroom)
	}
	return nil
}
