package eventstore_test

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/eventstore"
)

func whAccount(t *testing.T, s *eventstore.Store, name string) int64 {
	t.Helper()
	a, err := s.CreateAccount(context.Background(), eventstore.NewAccount{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func whEndpoint(t *testing.T, s *eventstore.Store, account int64, events ...string) eventstore.WebhookEndpoint {
	t.Helper()
	e, err := s.CreateEndpoint(context.Background(), eventstore.NewWebhookEndpoint{AccountID: account, URL: "https://example.com/hook", Events: events})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func whEnqueue(t *testing.T, s *eventstore.Store, endpoints ...int64) []uuid.UUID {
	t.Helper()
	var ds []eventstore.NewDelivery
	var ids []uuid.UUID
	for _, ep := range endpoints {
		id := uuid.New()
		ids = append(ids, id)
		ds = append(ds, eventstore.NewDelivery{EndpointID: ep, EventID: id, EventType: "plan.created", Payload: []byte(`{"event":"plan.created"}`)})
	}
	if n, err := s.EnqueueDeliveries(context.Background(), ds); err != nil || n != len(ds) {
		t.Fatalf("enqueue: %d, %v", n, err)
	}
	return ids
}

func TestWebhookEndpointsCRUD(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	acct, other := whAccount(t, s, "A"), whAccount(t, s, "B")

	all := whEndpoint(t, s, acct)
	some := whEndpoint(t, s, acct, "plan.created", "installment.paid")
	if !strings.HasPrefix(all.Secret, "whsec_") {
		t.Fatalf("secret %q", all.Secret)
	}
	if key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(all.Secret, "whsec_")); err != nil || len(key) != 24 {
		t.Fatalf("secret key: %d bytes, %v", len(key), err)
	}
	if all.Secret == some.Secret || all.Events == nil || len(all.Events) != 0 {
		t.Fatalf("endpoints %+v %+v", all, some)
	}
	got, err := s.Endpoint(ctx, acct, some.ID)
	if err != nil || got.URL != some.URL || !slices.Equal(got.Events, some.Events) || got.Secret != some.Secret {
		t.Fatalf("get: %+v %v", got, err)
	}
	if _, err := s.Endpoint(ctx, other, some.ID); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("other account's endpoint: %v", err)
	}
	if err := s.DeleteEndpoint(ctx, other, some.ID); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("other account deletes: %v", err)
	}
	if _, err := s.CreateEndpoint(ctx, eventstore.NewWebhookEndpoint{AccountID: 999999, URL: "https://x.test"}); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("missing account: %v", err)
	}

	for _, c := range []struct {
		typ  string
		want []int64
	}{{"plan.created", []int64{all.ID, some.ID}}, {"plan.completed", []int64{all.ID}}} {
		eps, err := s.EndpointsFor(ctx, acct, c.typ)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, e := range eps {
			ids = append(ids, e.ID)
		}
		if !slices.Equal(ids, c.want) {
			t.Errorf("EndpointsFor %s: %v, want %v", c.typ, ids, c.want)
		}
	}
	if eps, _ := s.EndpointsFor(ctx, other, "plan.created"); len(eps) != 0 {
		t.Fatalf("other account: %d endpoints", len(eps))
	}

	if err := s.DisableEndpoint(ctx, all.ID, "410 Gone"); err != nil {
		t.Fatal(err)
	}
	if err := s.DisableEndpoint(ctx, all.ID, "again"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Endpoint(ctx, acct, all.ID); got.DisabledAt == nil || got.DisabledReason != "410 Gone" {
		t.Fatalf("disabled: %+v", got)
	}
	if err := s.DeleteEndpoint(ctx, acct, some.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteEndpoint(ctx, acct, some.ID); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if eps, _ := s.EndpointsFor(ctx, acct, "plan.created"); len(eps) != 0 {
		t.Fatalf("disabled and deleted endpoints still receive: %+v", eps)
	}
	if eps, _ := s.Endpoints(ctx, acct); len(eps) != 1 || eps[0].ID != all.ID {
		t.Fatalf("list after delete: %+v", eps)
	}
}

func TestWebhookEndpointLimitHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	acct := whAccount(t, s, "A")
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, limited := 0, 0
	for range eventstore.MaxWebhookEndpoints + 10 {
		wg.Go(func() {
			_, err := s.CreateEndpoint(context.Background(), eventstore.NewWebhookEndpoint{AccountID: acct, URL: "https://x.test"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case errors.Is(err, eventstore.ErrEndpointLimit):
				limited++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if created != eventstore.MaxWebhookEndpoints || limited != 10 {
		t.Fatalf("created %d, limited %d", created, limited)
	}
	// A deleted endpoint frees its place.
	eps, _ := s.Endpoints(context.Background(), acct)
	if err := s.DeleteEndpoint(context.Background(), acct, eps[0].ID); err != nil {
		t.Fatal(err)
	}
	whEndpoint(t, s, acct)
}

func TestWebhookDeliveriesClaimRecordList(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	acct := whAccount(t, s, "A")
	ep := whEndpoint(t, s, acct)
	ids := whEnqueue(t, s, ep.ID)

	// Enqueueing the same event again changes nothing.
	if n, err := s.EnqueueDeliveries(ctx, []eventstore.NewDelivery{{EndpointID: ep.ID, EventID: ids[0], EventType: "plan.created", Payload: []byte(`{}`)}}); err != nil || n != 0 {
		t.Fatalf("re-enqueue: %d %v", n, err)
	}

	now := time.Now()
	claimed, err := s.ClaimDue(ctx, 10, now.Add(time.Second), time.Minute, eventstore.ClaimOptions{})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %+v %v", claimed, err)
	}
	d := claimed[0]
	if d.EventID != ids[0] || d.URL != ep.URL || d.Secret != ep.Secret || d.Attempts != 0 || string(d.Payload) != `{"event":"plan.created"}` {
		t.Fatalf("claimed %+v", d)
	}
	// Leased: not claimable again until the lease runs out.
	if again, _ := s.ClaimDue(ctx, 10, now.Add(30*time.Second), time.Minute, eventstore.ClaimOptions{}); len(again) != 0 {
		t.Fatalf("claimed twice within the lease: %+v", again)
	}
	if again, _ := s.ClaimDue(ctx, 10, now.Add(2*time.Minute), time.Minute, eventstore.ClaimOptions{}); len(again) != 1 {
		t.Fatalf("not claimable after the lease: %+v", again)
	}

	t0 := time.Now().UTC().Truncate(time.Millisecond)
	bad := "\xff\x00<html>" + strings.Repeat("é", 600) // invalid UTF-8, NUL, over 1 KiB
	if err := s.RecordAttempt(ctx, eventstore.AttemptOutcome{
		Attempt: eventstore.Attempt{DeliveryID: d.ID, Number: 1, StatusCode: 500, Latency: 42 * time.Millisecond, ResponseExcerpt: bad, AttemptedAt: t0},
		State:   eventstore.DeliveryPending, NextAttemptAt: t0.Add(5 * time.Second),
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAttempt(ctx, eventstore.AttemptOutcome{
		Attempt: eventstore.Attempt{DeliveryID: d.ID, Number: 2, Latency: 15 * time.Second, Error: "dial tcp: connection refused", AttemptedAt: t0.Add(5 * time.Second)},
		State:   eventstore.DeliverySucceeded,
	}); err != nil {
		t.Fatal(err)
	}
	items, total, err := s.ListDeliveries(ctx, acct, ep.ID, 10, 0)
	if err != nil || total != 1 || len(items) != 1 {
		t.Fatalf("list: %d of %d, %v", len(items), total, err)
	}
	got := items[0]
	if got.State != eventstore.DeliverySucceeded || got.Attempts != 2 || got.NextAttemptAt != nil || len(got.Log) != 2 {
		t.Fatalf("delivery %+v", got)
	}
	a1, a2 := got.Log[0], got.Log[1]
	if a1.Number != 1 || a1.StatusCode != 500 || a1.Latency != 42*time.Millisecond || !a1.AttemptedAt.Equal(t0) ||
		len(a1.ResponseExcerpt) > 1024 || !strings.HasPrefix(a1.ResponseExcerpt, "\uFFFD<html>") {
		t.Fatalf("attempt 1: %+v", a1)
	}
	if a2.Number != 2 || a2.StatusCode != 0 || a2.Error != "dial tcp: connection refused" || a2.Latency != 15*time.Second {
		t.Fatalf("attempt 2: %+v", a2)
	}

	// Resend: pending, due now, the count continues.
	if _, err := s.Resend(ctx, whAccount(t, s, "B"), ep.ID, d.ID); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("other account resends: %v", err)
	}
	r, err := s.Resend(ctx, acct, ep.ID, d.ID)
	if err != nil || r.State != eventstore.DeliveryPending || r.Attempts != 2 || r.NextAttemptAt == nil {
		t.Fatalf("resend: %+v %v", r, err)
	}
	if _, err := s.Resend(ctx, acct, ep.ID, d.ID); !errors.Is(err, eventstore.ErrDeliveryPending) {
		t.Fatalf("resend of a pending delivery: %v", err)
	}
	if _, err := s.Resend(ctx, acct, ep.ID, d.ID+1000); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("resend of a missing delivery: %v", err)
	}
	if again, _ := s.ClaimDue(ctx, 10, time.Now().Add(time.Second), time.Minute, eventstore.ClaimOptions{}); len(again) != 1 || again[0].Attempts != 2 {
		t.Fatalf("resent delivery not due: %+v", again)
	}

	// Paging, newest first.
	whEnqueue(t, s, ep.ID, ep.ID)
	page, total, err := s.ListDeliveries(ctx, acct, ep.ID, 2, 1)
	if err != nil || total != 3 || len(page) != 2 || page[0].ID <= page[1].ID || page[1].ID != d.ID {
		t.Fatalf("page: %+v of %d, %v", page, total, err)
	}
	if _, _, err := s.ListDeliveries(ctx, acct, ep.ID+1000, 10, 0); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("missing endpoint: %v", err)
	}
}

func TestWebhookClaimCapsPerEndpointAndStopsDeadEndpoints(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	acct := whAccount(t, s, "A")
	busy, calm, gone := whEndpoint(t, s, acct), whEndpoint(t, s, acct), whEndpoint(t, s, acct)
	for range 20 {
		whEnqueue(t, s, busy.ID)
	}
	whEnqueue(t, s, calm.ID, calm.ID, gone.ID)
	if err := s.DeleteEndpoint(ctx, acct, gone.ID); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Second)

	// busy already has 3 of 4 in flight: one more of it, and calm's two.
	claimed, err := s.ClaimDue(ctx, 10, later, time.Minute, eventstore.ClaimOptions{PerEndpoint: 4, Busy: map[int64]int{busy.ID: 3}})
	if err != nil {
		t.Fatal(err)
	}
	per := map[int64]int{}
	for _, d := range claimed {
		per[d.EndpointID]++
	}
	if per[busy.ID] != 1 || per[calm.ID] != 2 || per[gone.ID] != 0 {
		t.Fatalf("claimed per endpoint %v", per)
	}
	// A saturated endpoint's backlog does not hide others' deliveries.
	whEnqueue(t, s, calm.ID)
	claimed, _ = s.ClaimDue(ctx, 1, later, time.Minute, eventstore.ClaimOptions{PerEndpoint: 4, Busy: map[int64]int{busy.ID: 4}})
	if len(claimed) != 1 || claimed[0].EndpointID != calm.ID {
		t.Fatalf("saturated endpoint starved another: %+v", claimed)
	}
	// Without a cap, the rest of busy's backlog.
	claimed, _ = s.ClaimDue(ctx, 100, later, time.Minute, eventstore.ClaimOptions{})
	if len(claimed) != 19 {
		t.Fatalf("uncapped claim took %d, want 19", len(claimed))
	}
	// The deleted endpoint's delivery was failed, not left pending.
	var pending int
	_ = s.Pool().QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 AND state = 'pending'`, gone.ID).Scan(&pending)
	if pending != 0 {
		t.Fatalf("deleted endpoint has %d pending deliveries", pending)
	}
}

func TestWebhookConcurrentClaimersNeverShare(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	acct := whAccount(t, s, "A")
	var eps []int64
	for range 5 {
		eps = append(eps, whEndpoint(t, s, acct).ID)
	}
	const perEndpoint = 60
	for range perEndpoint {
		whEnqueue(t, s, eps...)
	}
	seen := map[int64]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for {
				claimed, err := s.ClaimDue(context.Background(), 7, time.Now().Add(time.Second), time.Hour, eventstore.ClaimOptions{})
				if err != nil {
					t.Error(err)
					return
				}
				if len(claimed) == 0 {
					return
				}
				mu.Lock()
				for _, d := range claimed {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != perEndpoint*len(eps) {
		t.Fatalf("claimed %d distinct deliveries, want %d", len(seen), perEndpoint*len(eps))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("delivery %d claimed %d times", id, n)
		}
	}
}

func TestWebhookReleaseClaims(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	ep := whEndpoint(t, s, whAccount(t, s, "A"))
	whEnqueue(t, s, ep.ID)
	now := time.Now().Add(time.Second)
	claimed, _ := s.ClaimDue(ctx, 1, now, time.Hour, eventstore.ClaimOptions{})
	if len(claimed) != 1 {
		t.Fatal("nothing claimed")
	}
	if err := s.ReleaseClaims(ctx, claimed, now); err != nil {
		t.Fatal(err)
	}
	again, _ := s.ClaimDue(ctx, 1, now.Add(time.Second), time.Hour, eventstore.ClaimOptions{})
	if len(again) != 1 {
		t.Fatal("released delivery not claimable")
	}
	// The first claim is stale now: releasing it again must not cut the
	// new claimer's lease short.
	if err := s.ReleaseClaims(ctx, claimed, now); err != nil {
		t.Fatal(err)
	}
	if got := whState(t, s, again[0].ID); got.next == nil || !got.next.Equal(again[0].LeaseUntil) {
		t.Fatalf("stale release moved the new lease: %+v, want next attempt at %v", got, again[0].LeaseUntil)
	}
}

// whDeliveryState is a delivery row and how many attempts its log has.
type whDeliveryState struct {
	state    string
	attempts int
	next     *time.Time
	logged   int
}

func whState(t *testing.T, s *eventstore.Store, id int64) whDeliveryState {
	t.Helper()
	var d whDeliveryState
	err := s.Pool().QueryRow(context.Background(), `SELECT state, attempts, next_attempt_at,
		(SELECT count(*) FROM webhook_attempts WHERE delivery_id = $1) FROM webhook_deliveries WHERE id = $1`, id).
		Scan(&d.state, &d.attempts, &d.next, &d.logged)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// whOutcome is attempt 1 of claim c deciding state, fenced with c's lease.
func whOutcome(c eventstore.DueDelivery, state string, at time.Time) eventstore.AttemptOutcome {
	o := eventstore.AttemptOutcome{
		Attempt:    eventstore.Attempt{DeliveryID: c.ID, Number: c.Attempts + 1, AttemptedAt: at},
		State:      state,
		LeaseUntil: c.LeaseUntil,
	}
	switch state {
	case eventstore.DeliverySucceeded:
		o.StatusCode = 204
	case eventstore.DeliveryPending:
		o.StatusCode, o.NextAttemptAt = 500, at // due at once: would cut a live lease short
	default:
		o.Error = "connection refused"
	}
	return o
}

// TestWebhookStaleOutcomeIsFencedOut: a claimer that records after its lease
// ran out and another claimer took the delivery over must not undo the other
// one's outcome or shorten its lease; its attempt is still logged.
func TestWebhookStaleOutcomeIsFencedOut(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	ep := whEndpoint(t, s, whAccount(t, s, "A"))

	// claimTwice returns a delivery's claim by a replica that then lags
	// past its lease, and the claim of the replica that takes it over.
	claimTwice := func(t *testing.T) (stale, fresh eventstore.DueDelivery) {
		t.Helper()
		whEnqueue(t, s, ep.ID)
		now := time.Now().Add(time.Second)
		a, err := s.ClaimDue(ctx, 1, now, time.Minute, eventstore.ClaimOptions{})
		if err != nil || len(a) != 1 {
			t.Fatalf("first claim: %+v %v", a, err)
		}
		b, err := s.ClaimDue(ctx, 1, now.Add(2*time.Minute), time.Minute, eventstore.ClaimOptions{})
		if err != nil || len(b) != 1 || b[0].ID != a[0].ID || b[0].LeaseUntil.Equal(a[0].LeaseUntil) {
			t.Fatalf("claim after the lease: %+v %v", b, err)
		}
		return a[0], b[0]
	}
	record := func(t *testing.T, o eventstore.AttemptOutcome, wantStale bool) {
		t.Helper()
		stale, err := s.RecordAttempts(ctx, []eventstore.AttemptOutcome{o})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(stale) == 1; got != wantStale || len(stale) > 1 {
			t.Fatalf("record %s under lease %v: fenced out %+v, want fenced out: %v", o.State, o.LeaseUntil, stale, wantStale)
		}
	}

	for _, c := range []struct {
		fresh, stale, want string
	}{
		// A late failure must neither re-open a success (a second send)
		// nor hide it.
		{eventstore.DeliverySucceeded, eventstore.DeliveryPending, eventstore.DeliverySucceeded},
		{eventstore.DeliverySucceeded, eventstore.DeliveryFailed, eventstore.DeliverySucceeded},
		// A late success after the other replica gave up (its last
		// attempt failed) leaves the delivery failed.
		{eventstore.DeliveryFailed, eventstore.DeliverySucceeded, eventstore.DeliveryFailed},
		// A late outcome after the other replica scheduled a retry does
		// not replace that schedule.
		{eventstore.DeliveryPending, eventstore.DeliverySucceeded, eventstore.DeliveryPending},
	} {
		t.Run(c.fresh+" then stale "+c.stale, func(t *testing.T) {
			a, b := claimTwice(t)
			at := time.Now().UTC().Truncate(time.Millisecond)
			fresh := whOutcome(b, c.fresh, at)
			if c.fresh == eventstore.DeliveryPending {
				fresh.NextAttemptAt = at.Add(time.Hour)
			}
			record(t, fresh, false)
			record(t, whOutcome(a, c.stale, at.Add(time.Second)), true)
			got := whState(t, s, a.ID)
			if got.state != c.want || got.attempts != 1 || got.logged != 2 {
				t.Fatalf("delivery %+v, want %s with 1 attempt and 2 logged", got, c.want)
			}
			if c.want == eventstore.DeliveryPending && (got.next == nil || !got.next.Equal(fresh.NextAttemptAt)) {
				t.Fatalf("next attempt %v, want %v", got.next, fresh.NextAttemptAt)
			}
		})
	}

	t.Run("stale outcome while the new claim is in flight", func(t *testing.T) {
		a, b := claimTwice(t)
		at := time.Now().UTC()
		// In one batch with an unrelated delivery's live outcome: only
		// the stale one is fenced out.
		whEnqueue(t, s, ep.ID)
		other, err := s.ClaimDue(ctx, 1, time.Now().Add(time.Second), time.Minute, eventstore.ClaimOptions{})
		if err != nil || len(other) != 1 {
			t.Fatalf("claim: %+v %v", other, err)
		}
		staleOut := whOutcome(a, eventstore.DeliveryPending, at)
		stale, err := s.RecordAttempts(ctx, []eventstore.AttemptOutcome{whOutcome(other[0], eventstore.DeliverySucceeded, at), staleOut})
		if err != nil || len(stale) != 1 || stale[0].DeliveryID != a.ID || !stale[0].LeaseUntil.Equal(a.LeaseUntil) {
			t.Fatalf("fenced out %+v, %v; want the stale outcome", stale, err)
		}
		if got := whState(t, s, other[0].ID); got.state != eventstore.DeliverySucceeded {
			t.Fatalf("live outcome in the same batch not applied: %+v", got)
		}
		// b's lease is intact: nobody else can claim the delivery.
		got := whState(t, s, a.ID)
		if got.state != eventstore.DeliveryPending || got.attempts != 0 || got.logged != 1 || got.next == nil || !got.next.Equal(b.LeaseUntil) {
			t.Fatalf("delivery %+v, want pending under lease %v", got, b.LeaseUntil)
		}
		if again, _ := s.ClaimDue(ctx, 10, b.LeaseUntil.Add(-time.Second), time.Minute, eventstore.ClaimOptions{}); len(again) != 0 {
			t.Fatalf("claimable within the new lease: %+v", again)
		}
		// The new claimer's outcome still applies.
		record(t, whOutcome(b, eventstore.DeliverySucceeded, at.Add(time.Millisecond)), false)
		if got := whState(t, s, a.ID); got.state != eventstore.DeliverySucceeded || got.logged != 2 {
			t.Fatalf("delivery %+v, want succeeded with 2 logged", got)
		}
	})

	t.Run("stale outcome after a resend", func(t *testing.T) {
		a, b := claimTwice(t)
		at := time.Now().UTC()
		record(t, whOutcome(b, eventstore.DeliveryFailed, at), false)
		if _, err := s.Resend(ctx, ep.AccountID, ep.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		// A moment later: an attempt already logged (same delivery,
		// number and time) is a retried write, not logged again.
		record(t, whOutcome(a, eventstore.DeliveryFailed, at.Add(time.Millisecond)), true)
		if got := whState(t, s, a.ID); got.state != eventstore.DeliveryPending || got.next == nil || got.logged != 2 {
			t.Fatalf("delivery %+v, want pending as resent", got)
		}
	})
}

// TestWebhookRecordAttemptsRetryLogsOnce: writing the same outcome twice
// (a retry after a write that committed but whose answer was lost) logs
// the attempt once; the second write is fenced out (its lease was used).
func TestWebhookRecordAttemptsRetryLogsOnce(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	ep := whEndpoint(t, s, whAccount(t, s, "A"))
	whEnqueue(t, s, ep.ID)
	claimed, err := s.ClaimDue(ctx, 1, time.Now().Add(time.Second), time.Minute, eventstore.ClaimOptions{})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %+v %v", claimed, err)
	}
	o := whOutcome(claimed[0], eventstore.DeliverySucceeded, time.Now().UTC())
	for i, wantStale := range []int{0, 1} {
		stale, err := s.RecordAttempts(ctx, []eventstore.AttemptOutcome{o})
		if err != nil || len(stale) != wantStale {
			t.Fatalf("write %d: stale %+v, err %v; want %d stale", i+1, stale, err, wantStale)
		}
	}
	if got := whState(t, s, claimed[0].ID); got.state != eventstore.DeliverySucceeded || got.attempts != 1 || got.logged != 1 {
		t.Fatalf("delivery %+v, want succeeded with 1 attempt and 1 logged", got)
	}
}
