package workers

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"goodplan/eventstore"
)

// DefaultWebhookSchedule is the delay before each delivery attempt: 10
// attempts over about 3 days (the first immediately).
var DefaultWebhookSchedule = []time.Duration{
	0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
}

// Webhook delivery limits.
const (
	// WebhookTimeout bounds one attempt: connect, TLS, request and response.
	WebhookTimeout = 15 * time.Second
	// WebhookMaxRead is the most of a response body ever read.
	WebhookMaxRead = 64 << 10
	// WebhookExcerptBytes is how much of the response body the log keeps.
	WebhookExcerptBytes = 1 << 10
	// WebhookUserAgent is sent with every delivery.
	WebhookUserAgent = "goodplan-webhooks/1"
)

// WebhookMessageID is the webhook-id of an event's deliveries: the same on
// every attempt and every endpoint, so receivers can deduplicate.
func WebhookMessageID(eventID uuid.UUID) string { return "msg_" + eventID.String() }

// SignWebhook returns the Standard Webhooks signature header value
// "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>", where key is the
// base64-decoded part of secret after "whsec_".
func SignWebhook(secret, msgID string, timestamp int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, eventstore.WebhookSecretPrefix))
	if err != nil {
		return "", fmt.Errorf("webhook secret is not base64: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID + "." + strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// webhookSignatures is the webhook-signature header value of one attempt
// at time at: the signature with the endpoint's secret and, while a
// rotation's overlap lasts, a second one with the previous secret, newest
// first and space-separated (Standard Webhooks lets a receiver accept any
// of several).
func webhookSignatures(c eventstore.DueDelivery, msgID string, ts int64, at time.Time) (string, error) {
	sig, err := SignWebhook(c.Secret, msgID, ts, c.Payload)
	if err != nil {
		return "", err
	}
	if c.PreviousSecret != "" && at.Before(c.PreviousSecretUntil) {
		prev, err := SignWebhook(c.PreviousSecret, msgID, ts, c.Payload)
		if err != nil {
			return "", err
		}
		sig += " " + prev
	}
	return sig, nil
}

// NewWebhookClient returns the HTTP client deliveries use: 15 s in total per
// attempt, no redirects followed (a 3xx is the answer, and a failure), no
// proxy, and, unless allowPrivate, connections to loopback, private,
// link-local and other special-use addresses refused at connect time (after
// DNS resolution; see CheckWebhookAddress).
func NewWebhookClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   WebhookDialControl(allowPrivate),
	}
	return &http.Client{
		Timeout: WebhookTimeout,
		Transport: &http.Transport{
			Proxy:                  nil, // never through a proxy: the address check must see the real target
			DialContext:            dialer.DialContext,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           1024,
			MaxIdleConnsPerHost:    256,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    10 * time.Second,
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// WebhookDeliverer sends pending deliveries, at least once each, signed per
// Standard Webhooks. Replicas may run it on the same database: a delivery is
// claimed with a lease (eventstore.ClaimDue), so two never send it at the
// same time, and an outcome recorded after its lease ran out (and another
// replica claimed the delivery) is logged without changing the delivery.
// The zero values of the fields are the defaults.
type WebhookDeliverer struct {
	Store *eventstore.Store
	// Client sends the requests; nil: NewWebhookClient(AllowPrivate).
	Client *http.Client
	// AllowPrivate allows loopback and private targets when Client is nil
	// (WEBHOOK_ALLOW_PRIVATE_NETWORKS).
	AllowPrivate bool
	// Schedule is the delay before attempt k (the first is 0); its length
	// is the number of attempts. Default DefaultWebhookSchedule.
	Schedule []time.Duration
	// Jitter spreads each delay by up to +-Jitter of it; default 0.1,
	// negative for none.
	Jitter float64
	// PerEndpoint caps one endpoint's deliveries in flight in this process
	// (default 4), so a slow or dead endpoint cannot take every worker.
	PerEndpoint int
	// Workers caps the deliveries in flight in this process (default 32).
	Workers int
	// Poll is how often to look for due deliveries when idle (default 200ms).
	Poll time.Duration
	// Lease is how long a claimed delivery is kept from other claimers, and
	// so how long the deliveries of a replica that crashed wait; default
	// twice the client's timeout plus 10 s (40 s). A claimed delivery is
	// sent only while more than the timeout (plus 5 s) of its lease is left,
	// so a Lease under the timeout plus 10 s is raised to that.
	Lease time.Duration
	// Now is the clock of schedules and claims; default time.Now.
	Now func() time.Time
	Log *slog.Logger

	wakeOnce sync.Once
	wake     chan struct{}
}

// Wake makes a running deliverer look for due deliveries now rather than at
// its next poll. It never blocks.
func (d *WebhookDeliverer) Wake() {
	select {
	case d.wakeCh() <- struct{}{}:
	default:
	}
}

func (d *WebhookDeliverer) wakeCh() chan struct{} {
	d.wakeOnce.Do(func() { d.wake = make(chan struct{}, 1) })
	return d.wake
}

// deliveryRun is a deliverer's settings with the defaults filled in.
type deliveryRun struct {
	store       *eventstore.Store
	client      *http.Client
	timeout     time.Duration // the longest one attempt takes
	reqTimeout  time.Duration // per-request bound when the client has none
	schedule    []time.Duration
	jitter      float64
	perEndpoint int
	// holdPerEndpoint bounds the deliveries of one endpoint claimed (queued
	// or in flight) at once.
	holdPerEndpoint int
	workers         int
	poll            time.Duration
	lease           time.Duration
	now             func() time.Time
	log             *slog.Logger
}

func (d *WebhookDeliverer) settings() *deliveryRun {
	r := &deliveryRun{store: d.Store, client: d.Client, schedule: d.Schedule, jitter: d.Jitter,
		perEndpoint: d.PerEndpoint, workers: d.Workers, poll: d.Poll, lease: d.Lease, now: d.Now, log: d.Log}
	if r.client == nil {
		r.client = NewWebhookClient(d.AllowPrivate)
	}
	r.timeout = r.client.Timeout
	if r.timeout == 0 {
		r.timeout, r.reqTimeout = WebhookTimeout, WebhookTimeout
	}
	if len(r.schedule) == 0 {
		r.schedule = DefaultWebhookSchedule
	}
	if r.jitter == 0 {
		r.jitter = 0.1
	}
	if r.perEndpoint <= 0 {
		r.perEndpoint = 4
	}
	if r.workers <= 0 {
		r.workers = 32
	}
	if r.poll <= 0 {
		r.poll = 200 * time.Millisecond
	}
	// Claimed ahead of need, so the senders never wait on the database:
	// one round of the cap in flight, three queued behind it (a single busy
	// receiver is the common case). The lease stays short, since it is also
	// how long a crashed replica's deliveries wait: queued deliveries of a
	// slow endpoint whose lease runs short are dropped, not sent late.
	r.holdPerEndpoint = 4 * r.perEndpoint
	if r.lease <= 0 {
		r.lease = 2*r.timeout + 10*time.Second
	}
	r.lease = max(r.lease, r.timeout+10*time.Second) // else nothing claimed could be sent
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	r.log = r.log.With("worker", "webhooks")
	return r
}

// Run delivers until ctx is done.
//
// One loop claims due deliveries ahead of need (about twice Workers that can
// start, at most four times PerEndpoint per endpoint), so senders never wait
// for a database round trip; Workers goroutines send them, at most
// PerEndpoint at once to one endpoint, and a delivery whose endpoint is at
// its cap waits while others go ahead. Due deliveries beyond those bounds
// stay in the table, so a dead endpoint holds at most 4*PerEndpoint of them
// and never the claiming budget of the others. Outcomes are recorded in
// batches by one writer: the database sees a few statements per batch of
// deliveries rather than a transaction per delivery.
//
// On cancel, attempts in flight are abandoned and the deliveries held are
// made due again; Run returns nil once every finished attempt is recorded.
func (d *WebhookDeliverer) Run(ctx context.Context) error {
	r := d.settings()
	wake := d.wakeCh()
	q := &deliveryQueue{perEndpoint: r.perEndpoint, queued: map[int64][]eventstore.DueDelivery{},
		inFlight: map[int64]int{}, freed: make(chan struct{}, 1), now: r.now, minLease: r.timeout + 5*time.Second}
	q.cond = sync.NewCond(&q.mu)

	outcomes := make(chan eventstore.AttemptOutcome, 4*r.workers)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		r.record(context.WithoutCancel(ctx), outcomes)
	}()
	var senders sync.WaitGroup
	for range r.workers {
		senders.Go(func() {
			for {
				c, ok := q.next()
				if !ok {
					return
				}
				out, ok := r.attempt(ctx, c)
				q.done(c.EndpointID)
				if ok {
					outcomes <- out // blocks when the writer lags: back-pressure
				}
			}
		})
	}
	defer func() {
		held := q.stop()
		senders.Wait()
		close(outcomes)
		<-recorded
		if len(held) > 0 {
			bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := r.store.ReleaseClaims(bg, held, r.now()); err != nil {
				r.log.Warn("release webhook deliveries", "count", len(held), "err", err)
			}
		}
	}()

	timer := time.NewTimer(r.poll)
	defer timer.Stop()
	for ctx.Err() == nil {
		active, busy := q.snapshot()
		more := false
		if active <= r.workers {
			want := 2*r.workers - active
			// Not cancelled mid-way: a claim committed but never read
			// would keep its deliveries idle for a whole lease.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			claimed, err := r.store.ClaimDue(cctx, want, r.now(), r.lease,
				eventstore.ClaimOptions{PerEndpoint: r.holdPerEndpoint, Busy: busy})
			cancel()
			if err != nil {
				r.log.Warn("claim due webhook deliveries", "err", err)
			}
			q.add(claimed)
			more = err == nil && len(claimed) == want
		}
		if more {
			continue // a full batch: more may be due already
		}
		timer.Reset(r.poll)
		select {
		case <-ctx.Done():
		case <-wake:
		case <-q.freed:
		case <-timer.C:
		}
	}
	return nil
}

// deliveryQueue holds the claimed deliveries of one Run: queued per
// endpoint, and how many of each endpoint are being sent.
type deliveryQueue struct {
	perEndpoint int
	freed       chan struct{} // a delivery finished: the claimer may want more
	now         func() time.Time
	// minLease is the lease a queued delivery must have left to be sent:
	// one whose lease may run out mid-attempt is dropped, since another
	// replica may claim it then.
	minLease time.Duration

	mu        sync.Mutex
	cond      *sync.Cond
	queued    map[int64][]eventstore.DueDelivery
	inFlight  map[int64]int
	nQueued   int
	nInFlight int
	stopped   bool
}

// snapshot returns how many deliveries are active (in flight, or queued
// for an endpoint under its cap) and how many are held per endpoint. A
// delivery queued behind an endpoint at its cap is not active: endpoints
// that hang must not use up the claiming budget of the others (their
// queues are bounded by the claim's per-endpoint limit instead).
func (q *deliveryQueue) snapshot() (int, map[int64]int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	busy := maps.Clone(q.inFlight)
	active := q.nInFlight
	for ep, ds := range q.queued {
		busy[ep] += len(ds)
		if q.inFlight[ep] < q.perEndpoint {
			active += len(ds)
		}
	}
	return active, busy
}

func (q *deliveryQueue) add(ds []eventstore.DueDelivery) {
	if len(ds) == 0 {
		return
	}
	q.mu.Lock()
	for _, d := range ds {
		q.queued[d.EndpointID] = append(q.queued[d.EndpointID], d)
	}
	q.nQueued += len(ds)
	q.mu.Unlock()
	q.cond.Broadcast()
}

// next blocks until a queued delivery's endpoint is under its cap, and
// returns it marked in flight; false once the queue is stopped.
func (q *deliveryQueue) next() (eventstore.DueDelivery, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for !q.stopped {
		for ep, ds := range q.queued { // map order: no endpoint is always first
			if q.inFlight[ep] >= q.perEndpoint {
				continue
			}
			d := ds[0]
			if len(ds) == 1 {
				delete(q.queued, ep)
			} else {
				q.queued[ep] = ds[1:]
			}
			q.nQueued--
			if d.LeaseUntil.Sub(q.now()) < q.minLease {
				continue // claimable again when its lease runs out
			}
			q.inFlight[ep]++
			q.nInFlight++
			return d, true
		}
		q.cond.Wait()
	}
	return eventstore.DueDelivery{}, false
}

// done marks one delivery of endpoint finished.
func (q *deliveryQueue) done(endpoint int64) {
	q.mu.Lock()
	if q.inFlight[endpoint]--; q.inFlight[endpoint] <= 0 {
		delete(q.inFlight, endpoint)
	}
	q.nInFlight--
	q.mu.Unlock()
	q.cond.Broadcast() // a sender may now take this endpoint's next delivery
	select {
	case q.freed <- struct{}{}:
	default:
	}
}

// stop wakes every sender to exit and returns the deliveries still queued
// (never started).
func (q *deliveryQueue) stop() []eventstore.DueDelivery {
	q.mu.Lock()
	q.stopped = true
	var held []eventstore.DueDelivery
	for _, ds := range q.queued {
		held = append(held, ds...)
	}
	clear(q.queued)
	q.nQueued = 0
	q.mu.Unlock()
	q.cond.Broadcast()
	return held
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
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		stale, err := r.store.RecordAttempts(wctx, batch)
		cancel()
		if err != nil {
			// Their leases run out and the deliveries are attempted again.
			r.log.Error("record webhook attempts", "count", len(batch), "err", err)
		}
		r.logStale(stale)
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

// attemptResult is what one HTTP attempt produced.
type attemptResult struct {
	status    int
	excerpt   string
	err       string // a category (webhookErrorCategory): shown to merchants
	raw       error  // the error itself: logged only
	latency   time.Duration
	cancelled bool // the deliverer is stopping: nothing to record
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
	case res.status == http.StatusGone:
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
		r.log.Debug("webhook attempt failed; will retry", "delivery_id", c.ID, "attempt", number,
			"status", res.status, "err", res.raw, "next_attempt_at", out.NextAttemptAt)
	default:
		out.State = eventstore.DeliveryFailed
		r.log.Warn("webhook delivery failed after its last attempt", "delivery_id", c.ID, "endpoint_id", c.EndpointID,
			"event_id", c.EventID, "attempt", number, "status", res.status, "err", res.raw)
	}
	return out, true
}

// spread applies the jitter to d.
func (r *deliveryRun) spread(d time.Duration) time.Duration {
	if d <= 0 || r.jitter <= 0 {
		return max(d, 0)
	}
	f := 1 + r.jitter*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}

// send makes one signed POST of c's payload.
func (r *deliveryRun) send(parent context.Context, c eventstore.DueDelivery, at time.Time) attemptResult {
	msgID := WebhookMessageID(c.EventID)
	ts := at.Unix()
	sig, err := webhookSignatures(c, msgID, ts, at)
	if err != nil {
		return attemptResult{err: WebhookErrOther, raw: err}
	}
	ctx := parent
	if r.reqTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.reqTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(c.Payload))
	if err != nil {
		return attemptResult{err: WebhookErrInvalidURL, raw: err}
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", WebhookUserAgent)
	// Standard Webhooks header names are lowercase; set directly so they
	// are sent as written.
	h["webhook-id"] = []string{msgID}
	h["webhook-timestamp"] = []string{strconv.FormatInt(ts, 10)}
	h["webhook-signature"] = []string{sig}

	start := time.Now()
	resp, err := r.client.Do(req)
	if err != nil {
		if parent.Err() != nil {
			return attemptResult{cancelled: true}
		}
		return attemptResult{err: webhookErrorCategory(err), raw: err, latency: time.Since(start)}
	}
	// Read a bounded amount: enough to reuse the connection for normal
	// answers, never a whole hostile stream.
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, WebhookMaxRead))
	_ = resp.Body.Close()
	res := attemptResult{status: resp.StatusCode, latency: time.Since(start)}
	res.excerpt = string(body[:min(len(body), WebhookExcerptBytes)])
	if readErr != nil {
		res.err, res.raw = "reading response: "+webhookErrorCategory(readErr), readErr
	}
	return res
}
