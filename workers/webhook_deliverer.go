package workers

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"goodplan/eventstore"
)

// WebhookDeliverer sends pending deliveries, at least once each, signed per
// Standard Webhooks. Replicas may run it on the same database: a delivery is
// claimed with a lease (eventstore.ClaimDue), so two never send it at the
// same time, and an outcome recorded after its lease ran out (and another
// replica claimed the delivery) is logged without changing the delivery.
// Each Run is an owner with a PostgreSQL advisory lock held on the
// process's lock session: the claims of a deliverer that dies (its
// sessions end with its process) are taken over by the others about Grace
// after its death, long before their lease runs out; see deliveryOwner.
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
	// StallAfter is how long an attempt runs before it counts as hung
	// (default a fifth of the client's timeout, 3 s): it then leaves its
	// endpoint's PerEndpoint slots for one of PerEndpoint more kept for
	// hung attempts, and its sender is replaced, so an endpoint's other
	// deliveries (and other endpoints') do not wait out the timeout behind
	// it. Negative: never.
	StallAfter time.Duration
	// Workers caps the deliveries in flight in this process (default 32).
	Workers int
	// Poll is how often to look for due deliveries when idle (default 200ms).
	Poll time.Duration
	// Lease is how long a claimed delivery is kept from other claimers
	// when its owner's lock does not free it sooner (see Grace); default
	// twice the client's timeout plus 10 s (40 s). A claimed delivery is
	// sent only while more than the timeout (plus 5 s) of its lease is left,
	// so a Lease under the timeout plus 10 s is raised to that.
	Lease time.Duration
	// Grace is how long another deliverer's owner lock must be seen missing
	// before its claims are taken over (default DefaultWebhookGrace, 5 s):
	// a deliverer that dies has its in-flight deliveries sent again by the
	// others about Grace (plus a fifth of it) later. A live deliverer
	// checks its lock session every fifth of Grace, takes its lock again
	// within that after a PostgreSQL restart, and sends nothing it cannot
	// vouch for.
	Grace time.Duration
	// Owner names this deliverer in its claims; zero: a random id for each
	// Run.
	Owner uuid.UUID
	// RecordTimeout bounds one write of attempt outcomes (default 10 s); a
	// write that fails is retried for up to 2 minutes.
	RecordTimeout time.Duration
	// Now is the clock of schedules and claims; default time.Now.
	Now func() time.Time
	Log *slog.Logger
	// Metrics, if set, counts the attempts by outcome.
	Metrics *Metrics

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
	stallAfter  time.Duration
	// holdPerEndpoint bounds the deliveries of one endpoint claimed (queued
	// or in flight) at once.
	holdPerEndpoint int
	workers         int
	poll            time.Duration
	lease           time.Duration
	grace           time.Duration
	recordTimeout   time.Duration
	now             func() time.Time
	log             *slog.Logger
	metrics         *Metrics
}

func (d *WebhookDeliverer) settings() *deliveryRun {
	r := &deliveryRun{store: d.Store, client: d.Client, schedule: d.Schedule, jitter: d.Jitter,
		perEndpoint: d.PerEndpoint, stallAfter: d.StallAfter, workers: d.Workers, poll: d.Poll, lease: d.Lease, grace: d.Grace, recordTimeout: d.RecordTimeout, now: d.Now, log: d.Log, metrics: d.Metrics}
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
	if r.stallAfter == 0 {
		r.stallAfter = max(r.timeout/5, 100*time.Millisecond)
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
	if r.grace <= 0 {
		r.grace = DefaultWebhookGrace
	}
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
// PerEndpoint at once to one endpoint (plus up to PerEndpoint attempts
// past StallAfter, which give their slot back), and a delivery whose
// endpoint is at its cap waits while others go ahead. Due deliveries beyond those bounds
// stay in the table, so a dead endpoint holds at most 4*PerEndpoint of them
// and never the claiming budget of the others. Outcomes are recorded in
// batches by one writer: the database sees a few statements per batch of
// deliveries rather than a transaction per delivery.
//
// Claims are made only while this deliverer holds its owner lock, and each
// is confirmed right before its attempt (deliveryOwner.confirm). Every
// fifth of Grace the loop also takes over the claims of deliverers whose
// lock has been missing for Grace.
//
// On cancel, attempts in flight are abandoned and the deliveries held are
// made due again; Run returns nil once every finished attempt is recorded
// (and its owner lock released). It fails at once only if Owner's lock is
// already held in this process.
func (d *WebhookDeliverer) Run(ctx context.Context) error {
	r := d.settings()
	wake := d.wakeCh()
	owner, err := r.holdOwner(d.Owner)
	if err != nil {
		return err
	}
	defer owner.lock.Release() // deferred first, so after the claims are released
	q := &deliveryQueue{perEndpoint: r.perEndpoint, queued: map[int64][]claim{},
		inFlight: map[int64]int{}, stalled: map[int64]int{}, overdue: map[int64][]*inFlightAttempt{},
		freed: make(chan struct{}, 1), now: r.now, minLease: r.timeout + 5*time.Second,
		stallAfter: r.stallAfter, maxStalled: r.workers}
	q.cond = sync.NewCond(&q.mu)

	outcomes := make(chan eventstore.AttemptOutcome, 4*r.workers)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		r.record(context.WithoutCancel(ctx), outcomes)
	}()
	var senders sync.WaitGroup
	// A sender whose attempt stalls is replaced (so Workers senders are
	// free to start attempts) and exits once that attempt is done.
	var send func()
	send = func() {
		for {
			c, a, ok := q.next()
			if !ok {
				return
			}
			var out eventstore.AttemptOutcome
			if owner.confirm(ctx, &c) {
				out, ok = r.attempt(ctx, c.DueDelivery)
			} else {
				ok = false
				r.releaseIfStopping(ctx, c.DueDelivery)
			}
			stalled := q.done(a)
			if ok {
				outcomes <- out // blocks when the writer lags: back-pressure
			}
			if stalled {
				return
			}
		}
	}
	q.onStall = func() { senders.Go(send) } // the stalled sender still counts: never a Go after Wait returned
	for range r.workers {
		senders.Go(send)
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
	var swept time.Time
	for ctx.Err() == nil {
		more := false
		if time.Since(swept) >= owner.every {
			swept = time.Now()
			more = owner.sweep(ctx) > 0 // claim them now
		}
		active, busy := q.snapshot()
		// Claims are made only under a lock session known alive, and
		// tagged with it (see deliveryOwner).
		gen, fresh := owner.current()
		if active <= r.workers && fresh {
			want := 2*r.workers - active
			// Not cancelled mid-way: a claim committed but never read
			// would keep its deliveries idle for a whole lease.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			claimed, err := r.store.ClaimDue(cctx, want, r.now(), r.lease,
				eventstore.ClaimOptions{PerEndpoint: r.holdPerEndpoint, Busy: busy, Owner: owner.id})
			cancel()
			if err != nil {
				r.log.Warn("claim due webhook deliveries", "err", err)
			}
			cs := make([]claim, len(claimed))
			for i, c := range claimed {
				cs[i] = claim{DueDelivery: c, gen: gen}
			}
			q.add(cs)
			more = err == nil && len(claimed) == want
		}
		if more {
			continue // a full batch: more may be due already
		}
		var held <-chan struct{} // nil: never ready
		if !fresh {
			held = owner.lock.Changed() // claim once the lock is held again
		}
		timer.Reset(r.poll)
		select {
		case <-ctx.Done():
		case <-wake:
		case <-q.freed:
		case <-held:
		case <-timer.C:
		}
	}
	return nil
}

// dueOrigin is the request behind a claimed delivery's event.
func dueOrigin(d eventstore.DueDelivery) Origin {
	return Origin{RequestID: d.RequestID, Traceparent: d.Traceparent}
}
