package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"goodplan/eventstore"
)

// HeaderDeadLetter marks a stand-in: a small message the relay publishes in
// place of an event NATS refused (too large for max_payload, say). Its value
// is the reason. A Consumer that receives a stand-in loads the real event
// from the store by id and handles it as usual.
const HeaderDeadLetter = "Goodplan-Dead-Letter"

// RelayConsumer is the consumer name of the relay's dead letters.
const RelayConsumer = "relay"

// StandIn is the body of a stand-in message: the event's head, no data, its
// metadata when it is valid JSON, and why the event itself was not
// published.
type StandIn struct {
	EnvelopeHead
	DeadLetter struct {
		Reason string `json:"reason"`
	} `json:"dead_letter"`
	Data     json.RawMessage `json:"data"`
	Metadata json.RawMessage `json:"metadata"`
}

// IsStandIn reports whether a message with header h is a relay stand-in.
func IsStandIn(h nats.Header) bool { return h.Get(HeaderDeadLetter) != "" }

// refused reports whether err is NATS refusing one message (it is too
// large for the connection's max_payload or for the stream), as opposed to
// a connection or server problem that a retry can get past.
func refused(err error) bool {
	if errors.Is(err, nats.ErrMaxPayload) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum
}

// eventMsg is the message that publishes rec to subject, with the relay's
// headers.
func eventMsg(subject string, rec eventstore.Record, body []byte, o Origin) *nats.Msg {
	msg := &nats.Msg{Subject: subject, Data: body, Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, rec.EventID.String())
	msg.Header.Set(HeaderStreamID, rec.StreamID)
	msg.Header.Set(HeaderVersion, strconv.FormatInt(rec.Version, 10))
	msg.Header.Set(HeaderPosition, strconv.FormatInt(rec.Position, 10))
	msg.Header.Set(HeaderTxID, strconv.FormatUint(rec.TxID, 10))
	msg.Header.Set(HeaderType, rec.Type)
	setOriginHeaders(msg, o)
	return msg
}

// standInMsg is the stand-in for rec: the same subject, Nats-Msg-Id and
// headers, plus HeaderDeadLetter, and a body naming the event and reason.
func standInMsg(subject string, rec eventstore.Record, reason string) (*nats.Msg, error) {
	body := StandIn{EnvelopeHead: EnvelopeHead{rec.EventID, rec.StreamID, rec.Version, rec.Position, rec.TxID, rec.Type, rec.RecordedAt, rec.Hash}}
	body.DeadLetter.Reason = truncate(reason, 500)
	body.Data = json.RawMessage("null")
	body.Metadata = json.RawMessage("null")
	if len(rec.Metadata) <= 4096 && json.Valid(rec.Metadata) {
		body.Metadata = rec.Metadata
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("stand-in for %s: %w", rec.EventID, err)
	}
	msg := eventMsg(subject, rec, b, OriginOf(rec))
	msg.Header.Set(HeaderDeadLetter, headerSafe(truncate(reason, 200)))
	return msg, nil
}

// headerSafe keeps a header value on one line.
func headerSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = ' '
		}
	}
	if len(b) == 0 {
		return "refused"
	}
	return string(b)
}

// headerRecord is what the relay's headers say about a message's event
// (no data or metadata): enough to name it in a dead letter or load it.
func headerRecord(h nats.Header) eventstore.Record {
	rec := eventstore.Record{StreamID: h.Get(HeaderStreamID), Type: h.Get(HeaderType)}
	rec.EventID, _ = uuid.Parse(h.Get(jetstream.MsgIDHeader))
	rec.Version, _ = strconv.ParseInt(h.Get(HeaderVersion), 10, 64)
	rec.Position, _ = strconv.ParseInt(h.Get(HeaderPosition), 10, 64)
	rec.TxID, _ = strconv.ParseUint(h.Get(HeaderTxID), 10, 64)
	return rec
}

// publishStandIn sets rec aside for the relay (a dead letter, recorded
// first, so a crash before the stand-in's PubAck records it again
// idempotently) and publishes its stand-in, waiting for the PubAck.
func (r *Relay) publishStandIn(ctx context.Context, subject string, rec eventstore.Record, reason string) error {
	if _, err := r.Store.RecordDeadLetter(ctx, eventstore.NewDeadLetter{EventID: rec.EventID, StreamID: rec.StreamID,
		EventType: rec.Type, Consumer: RelayConsumer, Attempts: 1, Err: reason}); err != nil {
		return err
	}
	msg, err := standInMsg(subject, rec, reason)
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := r.Bus.JS.PublishMsg(pctx, msg); err != nil {
		return fmt.Errorf("publish stand-in for %s: %w", rec.EventID, err)
	}
	r.Log.Error("event refused by NATS; published a stand-in and recorded a dead letter",
		"event_id", rec.EventID, "stream", rec.StreamID, "type", rec.Type, "reason", reason)
	return nil
}
