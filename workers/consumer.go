package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"goodplan/eventstore"
)

// Handler acts on one event. It must be idempotent by event id and correct
// when events of a stream arrive twice or out of order. Its error decides
// the message's fate: nil acks it; Permanent(err) terminates it (never
// redelivered); RetryAfter(err, d) redelivers it after d; any other error
// redelivers it with exponential backoff.
type Handler func(ctx context.Context, rec eventstore.Record) error

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

type attemptKey struct{}

// DeliveryAttempt is the delivery count of the message being handled (1 on
// the first delivery), or 1 outside a Consumer.
func DeliveryAttempt(ctx context.Context) int {
	if n, ok := ctx.Value(attemptKey{}).(int); ok {
		return n
	}
	return 1
}

// WithDeliveryAttempt returns ctx carrying attempt n, for tests of handlers.
func WithDeliveryAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey{}, n)
}

// Permanent marks err as a failure that no retry can fix.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool { return errors.As(err, new(permanentError)) }

type retryError struct {
	err   error
	delay time.Duration
}

func (e retryError) Error() string { return e.err.Error() }
func (e retryError) Unwrap() error { return e.err }

// RetryAfter marks err as transient, to be retried after d.
func RetryAfter(err error, d time.Duration) error { return retryError{err, d} }

// Consumer feeds a Handler from a durable JetStream pull consumer with
// explicit acks. Several replicas may run the same Consumer: they share the
// durable and each message goes to one of them.
type Consumer struct {
	Bus     *Bus
	Durable string
	Filter  []string // subject filters; empty: every event
	Handle  Handler
	// BatchHandle, if set, gets each fetched batch first (in stream order)
	// so it can apply it in one transaction; nil acks the whole batch. On
	// an error every message of the batch goes through Handle instead, so a
	// poison message fails alone.
	BatchHandle func(ctx context.Context, recs []eventstore.Record) error
	Concurrency int // fetch loops; default 1 (in order per loop)
	// AckWait is how long a delivered message may go unacknowledged before
	// JetStream redelivers it; default 10s. A running handler is kept alive
	// with InProgress heartbeats, so AckWait only bounds how soon messages
	// held by a crashed process are delivered again.
	AckWait time.Duration
	Log     *slog.Logger
}

// Run consumes until ctx is done. It creates or updates the durable first.
func (c *Consumer) Run(ctx context.Context) error {
	log := c.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("consumer", c.Durable)
	ackWait := c.AckWait
	if ackWait == 0 {
		ackWait = 10 * time.Second
	}
	c.AckWait = ackWait
	cfg := jetstream.ConsumerConfig{
		Durable:       c.Durable,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxAckPending: 4096,
	}
	switch len(c.Filter) {
	case 0:
	case 1:
		cfg.FilterSubject = c.Filter[0]
	default:
		cfg.FilterSubjects = c.Filter
	}
	var cons jetstream.Consumer
	for {
		var err error
		cons, err = c.Bus.JS.CreateOrUpdateConsumer(ctx, c.Bus.Stream, cfg)
		if err == nil {
			break
		}
		log.Warn("create consumer; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	n := max(c.Concurrency, 1)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { c.fetchLoop(ctx, cons, log) })
	}
	wg.Wait()
	return nil
}

func (c *Consumer) fetchLoop(ctx context.Context, cons jetstream.Consumer, log *slog.Logger) {
	for ctx.Err() == nil {
		batch, err := cons.Fetch(64, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("fetch", "err", err)
				sleep(ctx, 250*time.Millisecond)
			}
			continue
		}
		var msgs []jetstream.Msg
		for msg := range batch.Messages() {
			msgs = append(msgs, msg)
		}
		if !c.handleBatch(ctx, msgs, log) {
			for _, msg := range msgs {
				c.handle(ctx, msg, log)
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && ctx.Err() == nil {
			log.Warn("fetch batch", "err", err)
			sleep(ctx, 250*time.Millisecond)
		}
	}
}

// handleBatch gives msgs to BatchHandle and acks them all on success. It
// returns false when the messages still need handling one by one.
func (c *Consumer) handleBatch(ctx context.Context, msgs []jetstream.Msg, log *slog.Logger) bool {
	if c.BatchHandle == nil || len(msgs) < 2 || ctx.Err() != nil {
		return false
	}
	recs := make([]eventstore.Record, len(msgs))
	for i, m := range msgs {
		rec, err := DecodeRecord(m.Data())
		if err != nil {
			return false
		}
		recs[i] = rec
	}
	stops := make([]func(), len(msgs))
	for i, m := range msgs {
		stops[i] = heartbeat(m, c.AckWait/3)
	}
	err := c.BatchHandle(ctx, recs)
	for _, stop := range stops {
		stop()
	}
	if err != nil {
		log.Warn("batch failed; handling its events one by one", "events", len(recs), "err", err)
		return false
	}
	for _, m := range msgs {
		_ = m.Ack()
	}
	return true
}

func (c *Consumer) handle(ctx context.Context, msg jetstream.Msg, log *slog.Logger) {
	if ctx.Err() != nil {
		_ = msg.Nak() // shutting down: let another replica (or the next start) have it
		return
	}
	rec, err := DecodeRecord(msg.Data())
	attempt := 1
	if md, mdErr := msg.Metadata(); mdErr == nil {
		attempt = int(md.NumDelivered)
	}
	if err == nil {
		stop := heartbeat(msg, c.AckWait/3)
		err = c.Handle(WithDeliveryAttempt(ctx, attempt), rec)
		stop()
	} else {
		err = Permanent(err)
	}
	var re retryError
	switch {
	case err == nil:
		_ = msg.Ack()
	case IsPermanent(err):
		log.Error("event failed permanently", "event_id", rec.EventID, "type", rec.Type, "err", err)
		_ = msg.TermWithReason(truncate(err.Error(), 200))
	case errors.As(err, &re):
		log.Warn("event will be retried", "event_id", rec.EventID, "type", rec.Type, "delay", re.delay, "err", err)
		_ = msg.NakWithDelay(re.delay)
	default:
		delay := Backoff(attempt)
		if ctx.Err() == nil {
			log.Warn("event failed; will be retried", "event_id", rec.EventID, "type", rec.Type, "delay", delay, "err", err)
		}
		_ = msg.NakWithDelay(delay)
	}
}

// heartbeat tells JetStream every interval that msg is still being worked
// on, so a slow handler (an SMTP server taking its time) is not redelivered
// to another worker while it runs.
func heartbeat(msg jetstream.Msg, interval time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	return func() { close(done) }
}

// Backoff is the delay before delivery attempt n+1: 1s doubling to 5 min.
func Backoff(n int) time.Duration {
	d := time.Second
	for i := 1; i < n && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// truncate shortens s to at most n bytes without splitting a UTF-8 character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// String describes the consumer for logs.
func (c *Consumer) String() string { return fmt.Sprintf("consumer %s on %s", c.Durable, c.Bus.Stream) }
