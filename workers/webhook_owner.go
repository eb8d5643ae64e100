package workers

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"goodplan/eventstore"
)

// DefaultWebhookGrace is how long a deliverer's owner lock must be seen
// missing before another deliverer takes over its claims: long enough for
// a live deliverer to take its lock again after a PostgreSQL restart or a
// dropped connection (it checks its lock session every fifth of it).
const DefaultWebhookGrace = 5 * time.Second

// claim is a delivery this deliverer claimed, with the generation of the
// owner lock's session it was claimed under.
type claim struct {
	eventstore.DueDelivery
	gen uint64
}

// deliveryOwner is a deliverer's identity across replicas: its claims
// name it (claimed_by), and it holds the advisory lock
// eventstore.OwnerLockName(id) on the process's lock session for as long
// as it runs. PostgreSQL ends the session of a killed process at once,
// so its lock is gone, and the other deliverers take its claims over once
// they have seen the lock missing for grace (sweep), instead of waiting
// for the claims' lease.
//
// A claim stands as long as the owner's lock has been held without a
// break since the claim was made: a takeover needs the lock seen missing
// after the claim (eventstore.TakeOverDeliveries), then grace. So before
// each send the owner checks (confirm) that the claim was made under the
// lock session it holds now and that this session was found alive less
// than grace/2 ago: no other deliverer can have taken the claim over, and
// none can before the attempt starts. A claim made under an earlier
// session (the session broke and the lock was taken again) is confirmed
// with the database (eventstore.ReconfirmClaim), which also dates it to
// the new session; a claim the owner lost is never sent.
type deliveryOwner struct {
	id       uuid.UUID
	lock     *eventstore.HeldLock
	grace    time.Duration
	every    time.Duration // how often the lock session is checked and absences are swept
	minLease time.Duration // the lease a claim must have left to be sent
	store    *eventstore.Store
	now      func() time.Time // the clock of leases
	log      *slog.Logger
	metrics  *Metrics
}

// holdOwner takes the owner lock of a new deliverer identity (id, or a
// random one when id is zero).
func (r *deliveryRun) holdOwner(id uuid.UUID) (*deliveryOwner, error) {
	if id == uuid.Nil {
		id = uuid.New()
	}
	every := max(r.grace/5, 10*time.Millisecond)
	lock, err := r.store.Hold(eventstore.OwnerLockName(id), every)
	if err != nil {
		return nil, err
	}
	return &deliveryOwner{id: id, lock: lock, grace: r.grace, every: every, minLease: r.timeout + 5*time.Second,
		store: r.store, now: r.now, log: r.log.With("owner", id), metrics: r.metrics}, nil
}

// current returns the generation of the session holding the owner lock,
// and whether it was found alive recently enough (under grace/2 ago) to
// vouch for the claims made under it. Wall time, not the lease clock: it
// races the other deliverers' grace on the database's clock.
func (o *deliveryOwner) current() (gen uint64, fresh bool) {
	gen, checked := o.lock.State()
	return gen, gen != 0 && time.Since(checked) < o.grace/2
}

// confirm reports whether c may be sent now: its claim still stands (see
// deliveryOwner). It waits (while the lease leaves time to send) for the
// lock to be held again when it is not; false when the claim was lost,
// when the lease ran short first, or when ctx ended.
func (o *deliveryOwner) confirm(ctx context.Context, c *claim) bool {
	for {
		gen, fresh := o.current()
		if fresh && gen == c.gen {
			return true
		}
		changed := o.lock.Changed()
		if fresh {
			stands, err := o.store.ReconfirmClaim(ctx, c.ID, o.id, c.LeaseUntil)
			if err == nil && stands {
				c.gen = gen
				return true
			}
			if err == nil {
				o.log.Warn("webhook delivery taken over while this deliverer's lock was gone; not sending it",
					"delivery_id", c.ID, "lease_until", c.LeaseUntil)
				return false
			}
			o.log.Warn("reconfirm webhook claim", "delivery_id", c.ID, "err", err)
		}
		left := c.LeaseUntil.Sub(o.now()) - o.minLease
		if left <= 0 {
			// Claimable again when its lease runs out.
			o.log.Warn("webhook delivery not sent: its claim could not be confirmed while its lease lasted",
				"delivery_id", c.ID, "lease_until", c.LeaseUntil)
			return false
		}
		t := time.NewTimer(min(left, o.every))
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// sweep takes over the claims of deliverers whose lock has been missing
// for grace (eventstore.TakeOverDeliveries) and returns how many it made
// due.
func (o *deliveryOwner) sweep(ctx context.Context) int {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	taken, err := o.store.TakeOverDeliveries(sctx, o.now(), o.grace)
	if err != nil {
		o.log.Warn("take over webhook deliveries", "err", err)
		return 0
	}
	if len(taken) == 0 {
		return 0
	}
	byOwner := map[uuid.UUID][]int64{}
	since := map[uuid.UUID]time.Time{}
	for _, t := range taken {
		byOwner[t.Owner] = append(byOwner[t.Owner], t.DeliveryID)
		since[t.Owner] = t.MissingSince
	}
	for dead, ids := range byOwner {
		o.log.Warn("webhook deliveries taken over from a deliverer whose lock is gone (a replica died)",
			"dead_owner", dead, "lock_missing_since", since[dead], "count", len(ids), "delivery_ids", ids)
	}
	o.metrics.webhookTakeovers(len(taken))
	return len(taken)
}
