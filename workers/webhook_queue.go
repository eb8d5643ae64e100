package workers

import (
	"maps"
	"sync"
	"time"

	"goodplan/eventstore"
)

// deliveryQueue holds the claimed deliveries of one Run: queued per
// endpoint, and how many of each endpoint are being sent.
//
// An attempt still running stallAfter after it started is stalled (the
// endpoint hangs on it): it leaves its endpoint's slot for one of the
// endpoint's perEndpoint stalled slots, so the endpoint's other deliveries
// go ahead rather than wait out the client timeout behind it, and onStall
// is called so the sender it holds is replaced. An endpoint that hangs on
// everything so holds at most 2*perEndpoint attempts, and the stalled
// attempts of all endpoints are bounded by maxStalled.
type deliveryQueue struct {
	perEndpoint int
	freed       chan struct{} // a delivery finished: the claimer may want more
	now         func() time.Time
	// minLease is the lease a queued delivery must have left to be sent:
	// one whose lease may run out mid-attempt is dropped, since another
	// replica may claim it then.
	minLease   time.Duration
	stallAfter time.Duration
	maxStalled int
	onStall    func()

	mu        sync.Mutex
	cond      *sync.Cond
	queued    map[int64][]claim
	inFlight  map[int64]int // attempts holding their endpoint's slots
	stalled   map[int64]int // attempts holding a stalled slot
	overdue   map[int64][]*inFlightAttempt
	nStalled  int
	nQueued   int
	nInFlight int // every attempt running, stalled ones included
	stopped   bool
}

// inFlightAttempt is one attempt being sent; guarded by deliveryQueue.mu.
type inFlightAttempt struct {
	endpoint int64
	timer    *time.Timer
	stalled  bool // holds a stalled slot, not the endpoint's
	overdue  bool // past stallAfter, waiting for a stalled slot
	finished bool
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
	for ep, n := range q.stalled {
		busy[ep] += n
	}
	active := q.nInFlight
	for ep, ds := range q.queued {
		busy[ep] += len(ds)
		if q.inFlight[ep] < q.perEndpoint {
			active += len(ds)
		}
	}
	return active, busy
}

func (q *deliveryQueue) add(ds []claim) {
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
// returns it marked in flight, with the attempt to pass to done; false once
// the queue is stopped.
func (q *deliveryQueue) next() (claim, *inFlightAttempt, bool) {
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
			a := &inFlightAttempt{endpoint: ep}
			if q.stallAfter > 0 {
				a.timer = time.AfterFunc(q.stallAfter, func() { q.stall(a) })
			}
			return d, a, true
		}
		q.cond.Wait()
	}
	return claim{}, nil, false
}

// stall moves a running attempt to a stalled slot, or marks it overdue
// until one is free.
func (q *deliveryQueue) stall(a *inFlightAttempt) {
	q.mu.Lock()
	if a.finished || a.stalled || a.overdue {
		q.mu.Unlock()
		return
	}
	if !q.moveToStalledLocked(a) {
		a.overdue = true
		q.overdue[a.endpoint] = append(q.overdue[a.endpoint], a)
		q.mu.Unlock()
		return
	}
	q.replaceSenderLocked()
	q.mu.Unlock()
	q.afterStall()
}

// replaceSenderLocked starts a sender for the one a stalled attempt holds;
// under mu, while that attempt is not finished, so its sender still counts
// in the Run's WaitGroup.
func (q *deliveryQueue) replaceSenderLocked() {
	if q.onStall != nil {
		q.onStall()
	}
}

// moveToStalledLocked frees a's endpoint slot if a stalled slot is free.
func (q *deliveryQueue) moveToStalledLocked(a *inFlightAttempt) bool {
	if q.stalled[a.endpoint] >= q.perEndpoint || q.nStalled >= q.maxStalled {
		return false
	}
	a.stalled, a.overdue = true, false
	q.inFlight[a.endpoint]--
	if q.inFlight[a.endpoint] <= 0 {
		delete(q.inFlight, a.endpoint)
	}
	q.stalled[a.endpoint]++
	q.nStalled++
	return true
}

// afterStall wakes the senders and the claimer for the freed slot.
func (q *deliveryQueue) afterStall() {
	q.cond.Broadcast()
	select {
	case q.freed <- struct{}{}:
	default:
	}
}

// done marks attempt a finished. When it had stalled, the sender that ran
// it was replaced already and should exit (the return is true).
func (q *deliveryQueue) done(a *inFlightAttempt) (wasStalled bool) {
	q.mu.Lock()
	a.finished = true
	if a.timer != nil {
		a.timer.Stop()
	}
	var promoted *inFlightAttempt
	switch {
	case a.stalled:
		if q.stalled[a.endpoint]--; q.stalled[a.endpoint] <= 0 {
			delete(q.stalled, a.endpoint)
		}
		q.nStalled--
		if promoted = q.promoteLocked(a.endpoint); promoted != nil {
			q.replaceSenderLocked()
		}
	default:
		if a.overdue {
			q.dropOverdueLocked(a)
		}
		if q.inFlight[a.endpoint]--; q.inFlight[a.endpoint] <= 0 {
			delete(q.inFlight, a.endpoint)
		}
	}
	q.nInFlight--
	q.mu.Unlock()
	q.cond.Broadcast() // a sender may now take this endpoint's next delivery
	if promoted != nil {
		q.afterStall()
	}
	select {
	case q.freed <- struct{}{}:
	default:
	}
	return a.stalled
}

// promoteLocked moves an overdue attempt of endpoint (waiting since the
// longest) into the stalled slot just freed.
func (q *deliveryQueue) promoteLocked(endpoint int64) *inFlightAttempt {
	waiting := q.overdue[endpoint]
	if len(waiting) == 0 {
		return nil
	}
	a := waiting[0]
	if len(waiting) == 1 {
		delete(q.overdue, endpoint)
	} else {
		q.overdue[endpoint] = waiting[1:]
	}
	if !q.moveToStalledLocked(a) {
		q.overdue[endpoint] = append([]*inFlightAttempt{a}, q.overdue[endpoint]...)
		a.overdue = true
		return nil
	}
	return a
}

func (q *deliveryQueue) dropOverdueLocked(a *inFlightAttempt) {
	waiting := q.overdue[a.endpoint]
	for i, w := range waiting {
		if w == a {
			waiting = append(waiting[:i:i], waiting[i+1:]...)
			break
		}
	}
	if len(waiting) == 0 {
		delete(q.overdue, a.endpoint)
	} else {
		q.overdue[a.endpoint] = waiting
	}
}

// stop wakes every sender to exit and returns the deliveries still queued
// (never started).
func (q *deliveryQueue) stop() []eventstore.DueDelivery {
	q.mu.Lock()
	q.stopped = true
	var held []eventstore.DueDelivery
	for _, ds := range q.queued {
		for _, d := range ds {
			held = append(held, d.DueDelivery)
		}
	}
	clear(q.queued)
	q.nQueued = 0
	q.mu.Unlock()
	q.cond.Broadcast()
	return held
}
