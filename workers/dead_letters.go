package workers

import (
	"context"
	"errors"
	"fmt"

	"goodplan/eventstore"
)

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
		err = handle(WithDeliveryAttempt(ctx, d.Attempts+1), rec)
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
	if _, err := r.Bus.JS.PublishMsg(ctx, eventMsg(r.Bus.Subject(account, rec.Type), rec, body)); err != nil {
		return fmt.Errorf("publish %s: %w", rec.EventID, err)
	}
	return nil
}
