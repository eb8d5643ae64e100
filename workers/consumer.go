package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	"goodplan/eventstore"
)

// Handler acts on one event. It must be idempotent by event id and correct
// when events of a stream arrive twice or out of order. Its error decides
// the message's fate: nil acks it; Permanent(err) sets it aside at once (a
// dead letter, see Consumer); RetryAfter(err, d) redelivers it after d (the
// handler runs its own retry policy and must give up itself); any other
// error redelivers it with backoff, and after Consumer.DeadLetterAfter
// deliveries sets it aside.
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

// safely runs fn, turning a panic into a Permanent error: a handler that
// panics on one event sets that event aside instead of taking the process
// (and every account's pipeline) down with it.
func safely(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = Permanent(fmt.Errorf("panic: %v", v))
		}
	}()
	return fn()
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
	// Batch is how many messages one loop takes at a time; default 16. A
	// loop takes what is waiting (never waiting to fill a batch) and keeps
	// every message it holds alive with InProgress until it is handled.
	Batch int
	// AckWait is how long a delivered message may go unacknowledged before
	// JetStream redelivers it; default 10s. A running handler is kept alive
	// with InProgress heartbeats, so AckWait only bounds how soon messages
	// held by a crashed process are delivered again.
	AckWait time.Duration

	// Store, if set, keeps the dead letters (table dead_letters, consumer
	// name Durable) and serves the real event of a relay stand-in. Without
	// it a message that cannot be handled is terminated and only logged.
	Store *eventstore.Store
	// DeadLetterAfter is how many deliveries an event that keeps failing
	// gets before it is set aside; default DefaultDeadLetterAfter.
	DeadLetterAfter int
	// RetryDelay is the delay before delivery attempt n+1 after a plain
	// failure of attempt n; default Backoff.
	RetryDelay func(n int) time.Duration

	// Metrics, if set, counts what the consumer handles; Tracer, if set,
	// traces each event's handling as a child of the request behind it.
	Metrics *Metrics
	Tracer  trace.Tracer

	cfg jetstream.ConsumerConfig
	m   *consumerMetrics
	Log *slog.Logger
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
	c.cfg = cfg
	c.m = c.Metrics.consumer(c.Durable)
	cons, err := c.ensure(ctx, log)
	if err != nil {
		return nil // ctx done
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
	size := c.Batch
	if size <= 0 {
		size = 16
	}
	for ctx.Err() == nil {
		msgs, err := fetch(cons, size)
		if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted) {
			// The server lost the stream or the durable (an external NATS
			// restarted without its state): make them again.
			log.Warn("consumer is gone; recreating it", "err", err)
			if cons, err = c.ensure(ctx, log); err != nil {
				return
			}
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("fetch", "err", err)
				sleep(ctx, 250*time.Millisecond)
			}
			continue
		}
		if len(msgs) == 0 {
			continue
		}
		var done atomic.Int64 // messages of msgs handled so far, in order
		stop := heartbeat(msgs, &done, c.AckWait/3)
		if c.handleBatch(ctx, msgs, log) {
			done.Store(int64(len(msgs)))
		} else {
			for _, msg := range msgs {
				c.handle(ctx, msg, log)
				done.Add(1)
			}
		}
		stop()
	}
}

// ensure creates or updates the stream and the durable, retrying until it
// works or ctx is done.
func (c *Consumer) ensure(ctx context.Context, log *slog.Logger) (jetstream.Consumer, error) {
	for {
		err := c.Bus.EnsureStream(ctx)
		if err == nil {
			var cons jetstream.Consumer
			if cons, err = c.Bus.JS.CreateOrUpdateConsumer(ctx, c.Bus.Stream, c.cfg); err == nil {
				return cons, nil
			}
		}
		log.Warn("create consumer; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// fetch waits (up to a second) for one message, then takes up to size-1
// more of those already waiting, without waiting for them.
func fetch(cons jetstream.Consumer, size int) ([]jetstream.Msg, error) {
	first, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
	if err != nil {
		return nil, err
	}
	var msgs []jetstream.Msg
	for m := range first.Messages() {
		msgs = append(msgs, m)
	}
	if err := first.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, nats.ErrTimeout) {
		return msgs, err
	}
	if len(msgs) == 0 || size == 1 {
		return msgs, nil
	}
	more, err := cons.FetchNoWait(size - 1)
	if err != nil {
		return msgs, nil // the first one is ours; the rest can wait for the next round
	}
	for m := range more.Messages() {
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// handleBatch gives msgs to BatchHandle and acks them all on success. It
// returns false when the messages still need handling one by one.
func (c *Consumer) handleBatch(ctx context.Context, msgs []jetstream.Msg, log *slog.Logger) bool {
	if c.BatchHandle == nil || len(msgs) < 2 || ctx.Err() != nil {
		return false
	}
	recs := make([]eventstore.Record, len(msgs))
	for i, m := range msgs {
		if IsStandIn(m.Headers()) {
			return false // its event is loaded from the store, one by one
		}
		rec, err := DecodeRecord(m.Data())
		if err != nil {
			return false
		}
		recs[i] = rec
	}
	err := safely(func() error { return c.BatchHandle(ctx, recs) })
	if err != nil {
		log.Warn("batch failed; handling its events one by one", "events", len(recs), "err", err)
		return false
	}
	for _, m := range msgs {
		_ = m.Ack()
	}
	var published time.Time
	if md, err := msgs[len(msgs)-1].Metadata(); err == nil {
		published = md.Timestamp
	}
	c.m.ok(len(msgs), published)
	return true
}

func (c *Consumer) handle(ctx context.Context, msg jetstream.Msg, log *slog.Logger) {
	if ctx.Err() != nil {
		_ = msg.Nak() // shutting down: let another replica (or the next start) have it
		return
	}
	attempt := 1
	var published time.Time
	if md, mdErr := msg.Metadata(); mdErr == nil {
		attempt, published = int(md.NumDelivered), md.Timestamp
	}
	ctx = WithOrigin(ctx, originOfMsg(msg.Headers()))
	rec, err := c.record(ctx, msg)
	if err == nil {
		sctx, end := startSpan(ctx, c.Tracer, c.Durable+" "+rec.Type, trace.SpanKindConsumer)
		err = safely(func() error { return c.Handle(WithDeliveryAttempt(sctx, attempt), rec) })
		end(err)
	}
	if err != nil {
		c.m.fail()
		log = logWith(ctx, log) // only now: most events log nothing
	}
	var re retryError
	switch {
	case err == nil:
		_ = msg.Ack()
		c.m.ok(1, published)
	case IsPermanent(err) || (attempt >= c.deadLetterAfter() && !errors.As(err, &re) && ctx.Err() == nil):
		c.setAside(ctx, msg, rec, attempt, err, log)
	case errors.As(err, &re):
		log.Warn("event will be retried", "event_id", rec.EventID, "type", rec.Type, "delay", re.delay, "err", err)
		_ = msg.NakWithDelay(re.delay)
	default:
		delay := c.retryDelay(attempt)
		if ctx.Err() == nil {
			log.Warn("event failed; will be retried", "event_id", rec.EventID, "type", rec.Type, "attempt", attempt, "delay", delay, "err", err)
		}
		_ = msg.NakWithDelay(delay)
	}
}

// heartbeat tells JetStream every interval that the messages of msgs from
// index done on are still being worked on, so neither a slow handler nor the
// messages queued behind it in this loop are redelivered to another worker
// while this one holds them.
func heartbeat(msgs []jetstream.Msg, done *atomic.Int64, interval time.Duration) (stop func()) {
	quit := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				for _, m := range msgs[done.Load():] {
					_ = m.InProgress()
				}
			}
		}
	}()
	return func() { close(quit); <-exited }
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
