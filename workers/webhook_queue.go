package workers

import (
	"maps"
	"sync"
	"time"

	"goodplan/eventstore"
)

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
