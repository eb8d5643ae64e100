package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"goodplan/eventstore"
)

// record is the event of msg: decoded from the body, or for a relay
// stand-in loaded from the store. A body that cannot be decoded is a
// permanent failure (rec then carries what the headers say).
func (c *Consumer) record(ctx context.Context, msg jetstream.Msg) (eventstore.Record, error) {
	if IsStandIn(msg.Headers()) {
		rec := headerRecord(msg.Headers())
		if c.Store == nil {
			return rec, Permanent(fmt.Errorf("event %s was published as a stand-in (%s) and no store is configured to load it",
				rec.EventID, msg.Headers().Get(HeaderDeadLetter)))
		}
		full, err := c.Store.LoadEvent(ctx, rec.EventID)
		if errors.Is(err, eventstore.ErrNotFound) {
			return rec, Permanent(err)
		}
		if err != nil {
			return rec, err
		}
		return full, nil
	}
	rec, err := DecodeRecord(msg.Data())
	if err != nil {
		return headerRecord(msg.Headers()), Permanent(err)
	}
	return rec, nil
}

// setAside records msg's event as a dead letter of this consumer, then
// acks it: the record comes first, so a crash in between redelivers the
// message and records it again (one row per event and consumer). If the
// record cannot be written the message is retried later.
func (c *Consumer) setAside(ctx context.Context, msg jetstream.Msg, rec eventstore.Record, attempt int, cause error, log *slog.Logger) {
	if c.Store == nil {
		log.Error("event failed permanently", "event_id", rec.EventID, "type", rec.Type, "attempt", attempt, "err", cause)
		_ = msg.TermWithReason(truncate(cause.Error(), 200))
		return
	}
	id, err := c.Store.RecordDeadLetter(ctx, eventstore.NewDeadLetter{EventID: rec.EventID, StreamID: rec.StreamID,
		EventType: rec.Type, Consumer: c.Durable, Attempts: attempt, Err: cause.Error()})
	if err != nil {
		log.Error("cannot record a dead letter; will retry the event", "event_id", rec.EventID, "err", err)
		_ = msg.NakWithDelay(c.retryDelay(attempt))
		return
	}
	c.m.setAside()
	log.Error("event set aside as a dead letter", "dead_letter", id, "event_id", rec.EventID, "stream", rec.StreamID,
		"type", rec.Type, "attempt", attempt, "err", cause)
	_ = msg.Ack()
}

func (c *Consumer) deadLetterAfter() int {
	if c.DeadLetterAfter > 0 {
		return c.DeadLetterAfter
	}
	return DefaultDeadLetterAfter
}

func (c *Consumer) retryDelay(attempt int) time.Duration {
	if c.RetryDelay != nil {
		return c.RetryDelay(attempt)
	}
	return Backoff(attempt)
}

// DefaultDeadLetterAfter is how many deliveries a failing event gets before
// a Consumer sets it aside.
const DefaultDeadLetterAfter = 5

// ErrNoHandler: a dead letter names a consumer this process does not run.
var ErrNoHandler = errors.New("no handler for this consumer")

// RetryDeadLetter runs the handler of d's consumer once more on d's event,
// loaded from the store, and marks d resolved when it succeeds. A failure
// is recorded on d (one more attempt, the new last error) and returned.
// handlers maps consumer names to the same handlers the serve process
// runs; handlers are idempotent by event id, so retrying an event that was
// processed after all changes nothing.
func RetryDeadLetter(ctx context.Context, store *eventstore.Store, d eventstore.DeadLetter, handlers map[string]Handler) error {
	handle, ok := handlers[d.Consumer]
	if !ok {
		return fmt.Errorf("dead letter %d: consumer %q: %w", d.ID, d.Consumer, ErrNoHandler)
	}
	rec, err := store.LoadEvent(ctx, d.EventID)
	if err == nil {
		err = safely(func() error { return handle(WithDeliveryAttempt(ctx, d.Attempts+1), rec) })
	}
	if err != nil {
		if ferr := store.FailDeadLetterRetry(ctx, d.ID, err.Error()); ferr != nil {
			return errors.Join(err, ferr)
		}
		return fmt.Errorf("dead letter %d: %w", d.ID, err)
	}
	return store.ResolveDeadLetter(ctx, d.ID)
}

// Republish publishes rec itself again (not a stand-in), with its
// Nats-Msg-Id, waiting for the PubAck: the retry of a relay dead letter,
// for when NATS accepts the event now (its max_payload was raised). A
// consumer that gets the event a second time changes nothing.
func (r *Relay) Republish(ctx context.Context, rec eventstore.Record) error {
	account, err := AccountOf(rec)
	if err != nil {
		return err
	}
	body, err := EncodeRecord(rec)
	if err != nil {
		return err
	}
	ack, err := r.Bus.JS.PublishMsg(ctx, eventMsg(r.Bus.Subject(account, rec.Type), rec, body, OriginOf(rec)))
	if err != nil {
		return fmt.Errorf("publish %s: %w", rec.EventID, err)
	}
	if ack.Duplicate {
		// The stand-in holds this Nats-Msg-Id within the stream's duplicate
		// window: NATS dropped the event as a duplicate.
		return fmt.Errorf("publish %s: NATS still holds its stand-in under the same id (duplicate window %v); retry after it",
			rec.EventID, duplicateWindow)
	}
	return nil
}
