package workers

import (
	"context"
	"math/rand/v2"
	"net/http"
	"time"

	"goodplan/eventstore"
)

// DefaultWebhookSchedule is the delay before each delivery attempt: 10
// attempts over about 3 days (the first immediately).
var DefaultWebhookSchedule = []time.Duration{
	0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
}

// maxRecordBatch bounds the outcomes written in one statement.
const maxRecordBatch = 256

// record writes outcomes in batches until the channel is closed: whatever
// has queued up while the previous batch was being written.
func (r *deliveryRun) record(ctx context.Context, outcomes <-chan eventstore.AttemptOutcome) {
	batch := make([]eventstore.AttemptOutcome, 0, maxRecordBatch)
	for o := range outcomes {
		batch = append(batch[:0], o)
	more:
		for len(batch) < maxRecordBatch {
			select {
			case o, ok := <-outcomes:
				if !ok {
					break more
				}
				batch = append(batch, o)
			default:
				break more
			}
		}
		r.writeBatch(ctx, batch)
	}
}

// Retries of a batch of outcomes: each write has recordTry (unless
// WebhookDeliverer.RecordTimeout says otherwise), and the batch is retried
// for recordFor (backoff up to 2 s) before it is given up.
const (
	recordTry = 10 * time.Second
	recordFor = 2 * time.Minute
)

// writeBatch records batch, retrying a failed write (PostgreSQL
// restarting, a dropped connection, a write past its deadline) rather than
// dropping it: a dropped outcome leaves its delivery to be claimed again
// when the lease runs out, and a delivery that succeeded would be sent
// again. A retry after a write that did commit logs nothing twice
// (RecordAttempts skips attempts already logged); its deliveries come back
// as stale, since their lease was used.
func (r *deliveryRun) writeBatch(ctx context.Context, batch []eventstore.AttemptOutcome) {
	give := time.Now().Add(recordFor)
	delay, try := 100*time.Millisecond, r.recordTimeout
	if try <= 0 {
		try = recordTry
	}
	for attempt := 1; ; attempt++ {
		wctx, cancel := context.WithTimeout(ctx, try)
		stale, err := r.store.RecordAttempts(wctx, batch)
		cancel()
		if err == nil {
			r.logStale(stale)
			return
		}
		if time.Now().Add(delay).After(give) {
			// Their leases run out and the deliveries are attempted again.
			r.log.Error("record webhook attempts; giving up", "count", len(batch), "attempt", attempt, "err", err)
			return
		}
		r.log.Warn("record webhook attempts failed; retrying", "count", len(batch), "attempt", attempt, "delay", delay, "err", err)
		sleep(ctx, delay)
		delay = min(2*delay, 2*time.Second)
	}
}

// logStale reports outcomes RecordAttempts fenced out: recorded after their
// lease ran out and another claimer took the delivery (it may have been
// sent twice), or after the delivery was stopped. Their attempts are
// logged; the other claimer's outcome stands.
func (r *deliveryRun) logStale(stale []eventstore.AttemptOutcome) {
	for _, o := range stale {
		r.log.Warn("webhook attempt recorded after its claim was lost; delivery left as it is",
			"delivery_id", o.DeliveryID, "attempt", o.Number, "outcome", o.State, "lease_until", o.LeaseUntil)
	}
}

// attempt sends c once and returns the outcome to record: 2xx succeeded;
// 410 disables the endpoint and fails the delivery; anything else schedules
// the next attempt, or fails the delivery after the last. ok is false when
// there is nothing left to record: the deliverer is stopping and the
// attempt was abandoned (the delivery is made due again instead), or the
// outcome was recorded already (410).
func (r *deliveryRun) attempt(ctx context.Context, c eventstore.DueDelivery) (out eventstore.AttemptOutcome, ok bool) {
	number := c.Attempts + 1
	at := r.now()
	res := r.send(ctx, c, at)
	// What follows must survive the cancel that may have just arrived.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if res.cancelled {
		if err := r.store.ReleaseClaims(bg, []eventstore.DueDelivery{c}, r.now()); err != nil {
			r.log.Warn("release webhook delivery", "delivery_id", c.ID, "err", err)
		}
		return out, false
	}
	out.Attempt = eventstore.Attempt{
		DeliveryID: c.ID, Number: number, StatusCode: res.status, Latency: res.latency,
		ResponseExcerpt: res.excerpt, Error: res.err, AttemptedAt: at,
	}
	out.LeaseUntil = c.LeaseUntil // fences the outcome to this claim
	switch {
	case res.status >= 200 && res.status < 300:
		out.State = eventstore.DeliverySucceeded
		r.metrics.webhookAttempt("succeeded")
		r.log.Info("webhook delivered", append([]any{"delivery_id", c.ID, "endpoint_id", c.EndpointID,
			"event_id", c.EventID, "type", c.EventType, "attempt", number, "status", res.status,
			"latency", res.latency}, dueOrigin(c).LogAttrs()...)...)
	case res.status == http.StatusGone:
		r.metrics.webhookAttempt("gone")
		out.State = eventstore.DeliveryFailed
		// Recorded now, before disabling: that fails the endpoint's pending
		// deliveries, this one included, which would fence the outcome out
		// (logged, but the delivery's attempt count left behind).
		stale, err := r.store.RecordAttempts(bg, []eventstore.AttemptOutcome{out})
		if err != nil {
			r.log.Error("record webhook attempt", "delivery_id", c.ID, "err", err)
		}
		r.logStale(stale)
		reason := "answered 410 Gone at " + at.UTC().Format(time.RFC3339)
		log := r.log.With("endpoint_id", c.EndpointID, "delivery_id", c.ID)
		if err := r.store.DisableEndpoint(bg, c.EndpointID, reason); err != nil {
			log.Error("disable webhook endpoint", "err", err)
		} else {
			log.Warn("webhook endpoint disabled", "reason", reason)
		}
		return out, false
	case number < len(r.schedule):
		out.State = eventstore.DeliveryPending
		out.NextAttemptAt = r.now().Add(r.spread(r.schedule[number]))
		r.metrics.webhookAttempt("retrying")
		r.log.Debug("webhook attempt failed; will retry", append([]any{"delivery_id", c.ID, "attempt", number,
			"status", res.status, "err", res.raw, "next_attempt_at", out.NextAttemptAt}, dueOrigin(c).LogAttrs()...)...)
	default:
		out.State = eventstore.DeliveryFailed
		r.metrics.webhookAttempt("failed")
		r.log.Warn("webhook delivery failed after its last attempt", append([]any{"delivery_id", c.ID, "endpoint_id", c.EndpointID,
			"event_id", c.EventID, "attempt", number, "status", res.status, "err", res.raw}, dueOrigin(c).LogAttrs()...)...)
	}
	return out, true
}

// releaseIfStopping makes c due again when the deliverer is stopping (ctx
// done) before its attempt started, as for the deliveries still queued.
func (r *deliveryRun) releaseIfStopping(ctx context.Context, c eventstore.DueDelivery) {
	if ctx.Err() == nil {
		return
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.store.ReleaseClaims(bg, []eventstore.DueDelivery{c}, r.now()); err != nil {
		r.log.Warn("release webhook delivery", "delivery_id", c.ID, "err", err)
	}
}

// spread applies the jitter to d.
func (r *deliveryRun) spread(d time.Duration) time.Duration {
	if d <= 0 || r.jitter <= 0 {
		return max(d, 0)
	}
	f := 1 + r.jitter*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}
