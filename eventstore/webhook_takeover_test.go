package eventstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// heldBy returns the number of sessions holding the advisory lock name.
func heldBy(t *testing.T, s *eventstore.Store, name string) int {
	t.Helper()
	var n int
	if err := s.Pool().QueryRow(context.Background(), `SELECT count(*) FROM pg_locks l
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
		  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($1, 0)`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitHeld waits until h's lock is held on a session other than gen's,
// and returns that session's generation.
func waitHeld(t *testing.T, h *eventstore.HeldLock, not uint64) uint64 {
	t.Helper()
	var gen uint64
	pgtest.WaitFor(t, time.Minute, "the lock held on a new session", func() bool {
		gen, _ = h.State()
		return gen != 0 && gen != not
	})
	return gen
}

// TestLocksHoldRetakesAfterItsSessionEnds: a held lock is visible to other
// processes, refused to them and to TryLock in this process, taken again
// on a new session after its session is terminated (as a PostgreSQL
// restart ends it), and free once released.
func TestLocksHoldRetakesAfterItsSessionEnds(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	a, b := smallStore(t, url, 2), smallStore(t, url, 2)
	ctx := context.Background()
	h, err := a.Hold("owner:1", 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	first := waitHeld(t, h, 0)
	if n := heldBy(t, b, "owner:1"); n != 1 {
		t.Fatalf("%d sessions hold the lock, want 1", n)
	}
	if _, ok, err := b.TryLock(ctx, "owner:1"); ok || err != nil {
		t.Fatalf("another process took a held lock: ok=%v err=%v", ok, err)
	}
	if _, ok, err := a.TryLock(ctx, "owner:1"); ok || err != nil {
		t.Fatalf("TryLock in the holding process took a held lock: ok=%v err=%v", ok, err)
	}
	if _, err := a.Hold("owner:1", time.Second); err == nil {
		t.Fatal("held twice in one process")
	}
	// An email lock on the same session, to check it does not stop the
	// held lock from being taken again.
	release, ok, err := a.TryLock(ctx, "email:1")
	if err != nil || !ok {
		t.Fatalf("TryLock: ok=%v err=%v", ok, err)
	}
	defer release()
	_, checked := h.State()
	pgtest.WaitFor(t, time.Minute, "a later check", func() bool {
		_, c := h.State()
		return c.After(checked)
	})

	if _, err := b.Pool().Exec(ctx, `SELECT pg_terminate_backend(l.pid) FROM pg_locks l
		WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	waitHeld(t, h, first)
	if n := heldBy(t, b, "owner:1"); n != 1 {
		t.Fatalf("%d sessions hold the lock after its session ended, want 1", n)
	}
	if _, ok, err := b.TryLock(ctx, "owner:1"); ok || err != nil {
		t.Fatalf("another process took the lock taken again: ok=%v err=%v", ok, err)
	}

	h.Release()
	h.Release() // twice is harmless
	if gen, _ := h.State(); gen != 0 {
		t.Fatalf("released, still generation %d", gen)
	}
	if n := heldBy(t, b, "owner:1"); n != 0 {
		t.Fatalf("%d sessions hold the released lock", n)
	}
	r, ok, err := b.TryLock(ctx, "owner:1")
	if err != nil || !ok {
		t.Fatalf("the released lock: ok=%v err=%v", ok, err)
	}
	r()

	// A session found holding a held lock's name is taken for one of the
	// process's own that the network cut off (here another store's
	// session stands in for it): it is ended, and the lock taken.
	zombie, ok, err := b.TryLock(ctx, "owner:2")
	if err != nil || !ok {
		t.Fatalf("TryLock: ok=%v err=%v", ok, err)
	}
	h2, err := a.Hold("owner:2", 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Release()
	waitHeld(t, h2, 0)
	if n := heldBy(t, a, "owner:2"); n != 1 {
		t.Fatalf("%d sessions hold the lock, want 1", n)
	}
	zombie() // its session is gone: nothing to unlock
}

// TestWebhookTakeOverDeliveries: the claims of an owner whose lock no
// session holds are made due once it has been seen missing for the grace;
// those of an owner holding its lock, those of an owner not yet missing
// for the grace, claims made (or reconfirmed) after the owner was seen
// missing, and unowned claims are left to their lease.
func TestWebhookTakeOverDeliveries(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	s, live := smallStore(t, url, 4), smallStore(t, url, 2)
	ctx := context.Background()
	ep := whEndpoint(t, s, whAccount(t, s, "A"))
	whEnqueue(t, s, ep.ID, ep.ID, ep.ID, ep.ID, ep.ID)
	alive, dead, late := uuid.New(), uuid.New(), uuid.New()
	h, err := live.Hold(eventstore.OwnerLockName(alive), 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	waitHeld(t, h, 0)

	now := time.Now()
	claim := func(owner uuid.UUID) eventstore.DueDelivery {
		t.Helper()
		c, err := s.ClaimDue(ctx, 1, now, time.Hour, eventstore.ClaimOptions{Owner: owner})
		if err != nil || len(c) != 1 {
			t.Fatalf("claim: %+v %v", c, err)
		}
		return c[0]
	}
	ofAlive, ofDead, ofLate, unowned := claim(alive), claim(dead), claim(late), claim(uuid.Nil)
	takeOver := func(grace time.Duration) []int64 {
		t.Helper()
		taken, err := s.TakeOverDeliveries(ctx, now, grace)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, x := range taken {
			if x.Owner != dead {
				t.Errorf("took over %d of owner %s", x.DeliveryID, x.Owner)
			}
			ids = append(ids, x.DeliveryID)
		}
		return ids
	}
	absent := func() []uuid.UUID {
		t.Helper()
		rows, _ := s.Pool().Query(ctx, `SELECT owner FROM webhook_owner_absences ORDER BY owner`)
		var out []uuid.UUID
		for rows.Next() {
			var u uuid.UUID
			if err := rows.Scan(&u); err != nil {
				t.Fatal(err)
			}
			out = append(out, u)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}

	// First seen missing now: nothing is taken yet.
	if ids := takeOver(time.Hour); len(ids) != 0 {
		t.Fatalf("taken over at once: %v", ids)
	}
	want := []uuid.UUID{dead, late}
	slices.SortFunc(want, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	if got := absent(); !slices.Equal(got, want) {
		t.Fatalf("absent owners %v, want %v (the dead and the late one)", got, want)
	}
	// The late owner takes its claim again (under a lock of its own, as
	// after a new session): a claim made since it was seen missing stands.
	if ok, err := s.ReconfirmClaim(ctx, ofLate.ID, late, ofLate.LeaseUntil); err != nil || !ok {
		t.Fatalf("reconfirm: %v %v", ok, err)
	}
	if ok, err := s.ReconfirmClaim(ctx, ofAlive.ID, dead, ofAlive.LeaseUntil); err != nil || ok {
		t.Fatalf("reconfirmed another owner's claim: %v %v", ok, err)
	}
	// Still within an hour's grace.
	if ids := takeOver(time.Hour); len(ids) != 0 {
		t.Fatalf("taken over within the grace: %v", ids)
	}
	// Past a grace of zero: only the dead owner's claim.
	if ids := takeOver(0); !slices.Equal(ids, []int64{ofDead.ID}) {
		t.Fatalf("taken over %v, want [%d]", ids, ofDead.ID)
	}
	if ok, err := s.ReconfirmClaim(ctx, ofDead.ID, dead, ofDead.LeaseUntil); err != nil || ok {
		t.Fatalf("a claim taken over was reconfirmed: %v %v", ok, err)
	}
	// Due now, for anyone; the others are still leased.
	again, err := s.ClaimDue(ctx, 10, now, time.Hour, eventstore.ClaimOptions{})
	if err != nil || len(again) != 2 || !slices.ContainsFunc(again, func(d eventstore.DueDelivery) bool { return d.ID == ofDead.ID }) {
		t.Fatalf("claimable after the takeover: %+v %v (want the taken one and the one never claimed)", again, err)
	}
	for _, d := range []eventstore.DueDelivery{ofAlive, ofLate, unowned} {
		if n := count(t, s.Pool(), `SELECT count(*) FROM webhook_deliveries WHERE id = $1 AND next_attempt_at > $2`, d.ID, now); n != 1 {
			t.Fatalf("delivery %d is no longer leased", d.ID)
		}
	}
	// The dead owner holds no claim now, and is forgotten; so is an owner
	// whose lock is seen again.
	lateLock, err := live.Hold(eventstore.OwnerLockName(late), 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer lateLock.Release()
	waitHeld(t, lateLock, 0)
	if ids := takeOver(0); len(ids) != 0 {
		t.Fatalf("taken over: %v", ids)
	}
	if got := absent(); len(got) != 0 {
		t.Fatalf("absent owners %v, want none", got)
	}
	// An outcome clears the claim's owner: its retry is not a claim.
	if err := s.RecordAttempt(ctx, eventstore.AttemptOutcome{
		Attempt: eventstore.Attempt{DeliveryID: ofAlive.ID, Number: 1, StatusCode: 500, AttemptedAt: now},
		State:   eventstore.DeliveryPending, NextAttemptAt: now.Add(time.Hour), LeaseUntil: ofAlive.LeaseUntil,
	}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s.Pool(), `SELECT count(*) FROM webhook_deliveries WHERE claimed_by IS NOT NULL`); n != 1 {
		t.Fatalf("%d deliveries with an owner, want 1 (the late owner's)", n)
	}
}
