package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"goodplan/eventstore"
)

// Relay publishes every committed event to JetStream, in the store's global
// order, exactly once per event id (Nats-Msg-Id = event id, deduplicated by
// the stream). One relay is active per database: the one holding an advisory
// lock on its own session connection; the others wait as standbys. The
// checkpoint advances only after the PubAcks of everything before it.
type Relay struct {
	Store *eventstore.Store
	Bus   *Bus
	Name  string        // checkpoint name; default "relay"
	Batch int           // events per read; default 500
	Poll  time.Duration // fallback poll when no NOTIFY arrives; default 250ms
	Log   *slog.Logger
	// Published, if set, is called with each batch after its PubAcks (for
	// measuring commit-to-publish latency).
	Published func([]eventstore.Record)
	// Metrics, if set, counts the published events and their lag.
	Metrics *Metrics

	publishing bool // the durable publishing mark is set
}

func (r *Relay) defaults() {
	if r.Name == "" {
		r.Name = "relay"
	}
	if r.Batch == 0 {
		r.Batch = 500
	}
	if r.Poll == 0 {
		r.Poll = 250 * time.Millisecond
	}
	if r.Log == nil {
		r.Log = slog.Default()
	}
}

// Run relays until ctx is done, taking over as leader whenever it can.
func (r *Relay) Run(ctx context.Context) error {
	r.defaults()
	for ctx.Err() == nil {
		err := r.lead(ctx)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			r.Log.Warn("relay stopped; restarting", "err", err)
		}
		sleep(ctx, time.Second)
	}
	return nil
}

// lead becomes the leader if the lock is free and relays until an error.
func (r *Relay) lead(ctx context.Context) error {
	session, err := r.Store.OpenRelaySession(ctx, r.Name)
	if err != nil {
		return err
	}
	defer session.Close() // closing the session releases the lock
	leader, err := session.TryLead(ctx)
	if err != nil {
		return err
	}
	if !leader {
		sleep(ctx, time.Second) // standby
		return nil
	}
	if err := session.Listen(ctx); err != nil {
		return err
	}
	if err := r.Bus.EnsureStream(ctx); err != nil {
		return err
	}
	cursor, err := r.resumePoint(ctx, session)
	if err != nil {
		return err
	}
	r.Log.Info("relay is the leader", "from_tx", cursor.TxID, "from_position", cursor.Position)
	idle := 0
	for {
		recs, err := r.Store.ReadAll(ctx, cursor, r.Batch)
		if err != nil {
			return err
		}
		if len(recs) > 0 {
			if err := r.markPublishing(ctx, session); err != nil {
				return err
			}
			if err := r.publish(ctx, recs); err != nil {
				return err // the mark stays: the next leader resumes from the checkpoint
			}
			cursor = recs[len(recs)-1].Cursor()
			if err := r.saveCheckpoint(ctx, session, cursor); err != nil {
				return err
			}
			idle = 0
			if len(recs) == r.Batch {
				continue
			}
		}
		// Nothing (more) below the horizon. Right after a NOTIFY the event
		// may still be above it (another transaction is finishing): look
		// again a few times quickly before waiting.
		if idle > 0 && idle < 20 {
			idle++
			sleep(ctx, time.Millisecond)
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, r.Poll)
		err = session.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			idle = 1
		case errors.Is(err, context.DeadlineExceeded) || pgconnTimeout(err):
			idle = 0
		default:
			return fmt.Errorf("relay wait: %w", err) // session lost: so is the lock
		}
	}
}

func pgconnTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// publish sends recs asynchronously and waits for every PubAck. An event
// NATS refuses by itself (larger than max_payload, say: see refused) or
// whose metadata names no account is set aside: a dead letter of the relay
// and a small stand-in in its place (see StandIn), so the events after it
// still flow. Any other failure stops the batch, to be retried from the
// checkpoint.
func (r *Relay) publish(ctx context.Context, recs []eventstore.Record) error {
	futures := make([]jetstream.PubAckFuture, len(recs))
	subjects := make([]string, len(recs))
	for i, rec := range recs {
		var meta eventMeta
		if err := json.Unmarshal(rec.Metadata, &meta); err != nil {
			err = fmt.Errorf("event %s metadata: %w", rec.EventID, err)
			if err := r.publishStandIn(ctx, r.Bus.Subject(0, rec.Type), rec, err.Error()); err != nil {
				return err
			}
			continue
		}
		subjects[i] = r.Bus.Subject(meta.AccountID, rec.Type)
		body, err := EncodeRecord(rec)
		if err != nil {
			return err
		}
		f, err := r.Bus.JS.PublishMsgAsync(eventMsg(subjects[i], rec, body, Origin{RequestID: meta.CorrelationID, Traceparent: meta.Traceparent}))
		if refused(err) {
			if err := r.publishStandIn(ctx, subjects[i], rec, fmt.Sprintf("%v (%d bytes)", err, len(body))); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("publish %s: %w", rec.EventID, err)
		}
		futures[i] = f
	}
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case <-f.Ok():
		case err := <-f.Err():
			if !refused(err) {
				return fmt.Errorf("publish %s: %w", recs[i].EventID, err)
			}
			if err := r.publishStandIn(ctx, subjects[i], recs[i], err.Error()); err != nil {
				return err
			}
		case <-timeout.C:
			return fmt.Errorf("publish: no PubAck for %s in 30s", recs[i].EventID)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.Metrics.published(recs, time.Now())
	if r.Published != nil {
		r.Published(recs)
	}
	return nil
}

// resumePoint is the later of the saved checkpoint and the stream's last
// message (published, but the checkpoint not yet saved when we stopped). The
// last message counts only if it is an event of this database at that very
// place in the order, and only if no batch was cut short (the publishing
// mark): a batch whose earlier message was lost while a later one was stored
// would otherwise be skipped. Re-publishing is harmless (Nats-Msg-Id
// deduplication, idempotent consumers); skipping is not.
func (r *Relay) resumePoint(ctx context.Context, session *eventstore.RelaySession) (eventstore.Cursor, error) {
	c, publishing, err := session.Checkpoint(ctx)
	switch {
	case err == nil:
		r.publishing = publishing
	case !errors.Is(err, eventstore.ErrNotFound):
		return c, err
	}
	if r.publishing {
		r.Log.Warn("relay stopped with a batch in flight; resuming from the checkpoint")
		return c, nil
	}
	stream, err := r.Bus.JS.Stream(ctx, r.Bus.Stream)
	if err != nil {
		return c, fmt.Errorf("relay stream info: %w", err)
	}
	last, err := stream.GetLastMsgForSubject(ctx, r.Bus.Prefix+".events.>")
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("relay last message: %w", err)
	}
	tx, err1 := strconv.ParseUint(last.Header.Get(HeaderTxID), 10, 64)
	pos, err2 := strconv.ParseInt(last.Header.Get(HeaderPosition), 10, 64)
	if err1 != nil || err2 != nil || (tx < c.TxID || (tx == c.TxID && pos <= c.Position)) {
		return c, nil
	}
	ours, err := session.IsEventAt(ctx, last.Header.Get(jetstream.MsgIDHeader), eventstore.Cursor{TxID: tx, Position: pos})
	if err != nil {
		return c, err
	}
	if !ours {
		r.Log.Warn("the stream's last message is not an event of this database; resuming from the checkpoint",
			"stream", r.Bus.Stream, "tx", tx, "position", pos)
		return c, nil
	}
	return eventstore.Cursor{TxID: tx, Position: pos}, nil
}

// markPublishing durably sets the publishing mark before a batch goes out;
// saveCheckpoint clears it once the batch has its PubAcks, so it is set only
// while a batch is in flight. It writes nothing when the mark is set
// already: resumePoint found it left by a leader that stopped mid-batch.
func (r *Relay) markPublishing(ctx context.Context, session *eventstore.RelaySession) error {
	if r.publishing {
		return nil
	}
	if err := session.MarkPublishing(ctx); err != nil {
		return err
	}
	r.publishing = true
	return nil
}

// saveCheckpoint records that everything up to c has its PubAck and clears
// the publishing mark. It runs on the session holding the leader lock (a
// relay that lost it cannot write) and only ever moves the checkpoint
// forward.
func (r *Relay) saveCheckpoint(ctx context.Context, session *eventstore.RelaySession, c eventstore.Cursor) error {
	if err := session.SaveCheckpoint(ctx, c); err != nil {
		return err
	}
	r.publishing = false
	return nil
}
