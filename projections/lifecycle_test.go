package projections_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/projections"
)

// lifecycleStore runs commands on plans through the store, as the API,
// portal and scheduler do, and collects every record appended.
type lifecycleStore struct {
	t     *testing.T
	store *eventstore.Store
	recs  []eventstore.Record
}

// newLifecycleStore is a lifecycleStore on a fresh database with one
// account, Acme (id 1).
func newLifecycleStore(t *testing.T) *lifecycleStore {
	t.Helper()
	store := eventstore.New(pgtest.NewPool(t))
	if _, err := store.CreateAccount(context.Background(), eventstore.NewAccount{Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	return &lifecycleStore{t: t, store: store}
}

func (l *lifecycleStore) do(id int64, actor string, decide func(*domain.Plan) ([]domain.Event, error)) {
	l.t.Helper()
	out, err := eventstore.PlanAggregate.Run(context.Background(), l.store, eventstore.Cmd[*domain.Plan]{ID: id, Meta: eventstore.Metadata{AccountID: 1, Actor: actor}, Decide: decide})
	if err != nil {
		l.t.Fatalf("plan %d (%s): %v", id, actor, err)
	}
	l.recs = append(l.recs, out.Records...)
}

func (l *lifecycleStore) nextID() int64 {
	id, err := l.store.NextID(context.Background())
	if err != nil {
		l.t.Fatal(err)
	}
	return id
}

// TestLifecycleProjectionAndReplay drives plans through every kind of
// lifecycle event, projects the records in a shuffled order, and checks the
// read model against folding the store, then replay and swap.
func TestLifecycleProjectionAndReplay(t *testing.T) {
	t.Parallel()
	l := newLifecycleStore(t)
	store, pool := l.store, l.store.Pool()
	plans := projections.NewPlans(store)
	ctx := context.Background()
	now := time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC)
	consent := domain.Consent{At: now.Add(time.Hour), IP: "203.0.113.9", UserAgent: "phone"}
	var ids []int64
	for i := range 5 {
		recs := createPlan(t, store, 1, "90"+string(rune('0'+i))+".00", now, false)
		l.recs = append(l.recs, recs...)
		ids = append(ids, mustPlanID(t, recs[0].StreamID))
	}
	var opt int64
	pick := func(p *domain.Plan) ([]domain.Event, error) {
		opt = p.Options()[0].ID
		return p.SelectOption(domain.SelectOption{OptionID: opt, Consent: consent})
	}
	// Plan 0: activated, reported, confirmed, extended, deferred, a notice,
	// then completed by a merchant payment.
	l.do(ids[0], "customer", pick)
	pay := l.nextID()
	l.do(ids[0], "customer", func(p *domain.Plan) ([]domain.Event, error) {
		return p.ReportPayment(domain.PaymentInput{PaymentID: pay, Amount: "100.00", Method: "cash", Now: now})
	})
	l.do(ids[0], "merchant", func(p *domain.Plan) ([]domain.Event, error) { return p.ConfirmPayment(pay, "", now) })
	l.do(ids[0], "merchant", func(p *domain.Plan) ([]domain.Event, error) {
		return p.ExtendInstallment(2, "2026-01-20", true, now)
	})
	l.do(ids[0], "merchant", func(p *domain.Plan) ([]domain.Event, error) { return p.DeferInstallment(2, now) })
	l.do(ids[0], "scheduler", func(p *domain.Plan) ([]domain.Event, error) {
		return p.Tick(time.Date(2025, 12, 4, 8, 0, 0, 0, time.UTC), 3), nil
	})
	l.do(ids[0], "merchant", func(p *domain.Plan) ([]domain.Event, error) {
		return p.RecordPayment(domain.PaymentInput{PaymentID: l.nextID(), Amount: p.Ledger().Outstanding.String(), Method: "check", Now: now})
	})
	// Plan 1: a proposal countered and accepted, then cancelled and reactivated.
	pr := l.nextID()
	l.do(ids[1], "customer", func(p *domain.Plan) ([]domain.Event, error) {
		return p.ProposeSchedule(pr, domain.TermsInput{Installments: "5", Interval: "weekly", FirstPaymentDate: "2025-12-01"}, consent)
	})
	l.do(ids[1], "merchant", func(p *domain.Plan) ([]domain.Event, error) {
		return p.CounterProposal(pr, domain.TermsInput{Installments: "3", Interval: "biweekly", FirstPaymentDate: "2025-12-05"}, "Three?", now)
	})
	l.do(ids[1], "customer", func(p *domain.Plan) ([]domain.Event, error) { return p.AcceptCounter(pr, consent) })
	l.do(ids[1], "merchant", func(p *domain.Plan) ([]domain.Event, error) { return p.Cancel("duplicate", now) })
	l.do(ids[1], "merchant", func(p *domain.Plan) ([]domain.Event, error) { return p.Reactivate(now) })
	// Plan 2: abandoned; plan 3: written off with a new portal link; plan 4
	// keeps a declined proposal and a pending one.
	l.do(ids[2], "scheduler", func(p *domain.Plan) ([]domain.Event, error) { return p.Tick(now.Add(domain.AbandonAfter), 3), nil })
	l.do(ids[3], "customer", pick)
	l.do(ids[3], "merchant", func(p *domain.Plan) ([]domain.Event, error) { return p.RegeneratePortalLink("tok-new-3", now) })
	l.do(ids[3], "merchant", func(p *domain.Plan) ([]domain.Event, error) { return p.WriteOff("gone", now) })
	declined := l.nextID()
	l.do(ids[4], "customer", func(p *domain.Plan) ([]domain.Event, error) {
		return p.ProposeSchedule(declined, domain.TermsInput{Installments: "2", Interval: "monthly", FirstPaymentDate: "2025-12-10"}, consent)
	})
	l.do(ids[4], "merchant", func(p *domain.Plan) ([]domain.Event, error) { return p.DeclineProposal(declined, "no", now) })
	pending := l.nextID()
	l.do(ids[4], "customer", func(p *domain.Plan) ([]domain.Event, error) {
		return p.ProposeSchedule(pending, domain.TermsInput{Installments: "3", Interval: "monthly", FirstPaymentDate: "2025-12-10"}, consent)
	})

	// Deliver every record, shuffled: later versions catch up from the
	// store, earlier ones that arrive late change nothing.
	rng := rand.New(rand.NewPCG(4, 2))
	shuffled := append([]eventstore.Record(nil), l.recs...)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, r := range shuffled {
		if err := plans.Apply(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	want := map[int64]domain.Status{ids[0]: domain.StatusCompleted, ids[1]: domain.StatusActive, ids[2]: domain.StatusAbandoned,
		ids[3]: domain.StatusWrittenOff, ids[4]: domain.StatusPending}
	for _, id := range ids {
		got := wantFolded(t, plans, id)
		if got.Status != want[id] {
			t.Fatalf("plan %d: %s", id, got.Status)
		}
	}
	wantListItems(t, plans)
	got, _ := plans.Get(ctx, 1, ids[0], publicURL)
	if got.Ledger.Outstanding.String() != "0.00" || got.CompletedAt == nil || got.Consent == nil || got.Consent.IP != "203.0.113.9" {
		t.Fatalf("plan 0 lifecycle: %+v", got.Lifecycle)
	}

	// The portal token lookup follows a regenerated link.
	if id, err := plans.PlanIDByToken(ctx, "tok-new-3"); err != nil || id != ids[3] {
		t.Fatalf("new token: %d, %v", id, err)
	}
	if _, err := plans.PlanIDByToken(ctx, "tok-903.00"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("old token: %v", err)
	}

	// Replay rebuilds the same rows, finds a corrupted lifecycle, and the
	// swap repairs it.
	res, err := projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: time.Second})
	// Payments, proposals, notices and consent: every row's digest matched
	// (no plan compared in SQL).
	if err != nil || len(res.Diffs) != 0 || res.Plans != 5 || res.Events != int64(len(l.recs)) || res.Rechecked != 0 {
		t.Fatalf("clean replay: %+v, %v (events %d)", res, err, len(l.recs))
	}
	if _, err := pool.Exec(ctx, `UPDATE plan_views SET lifecycle = jsonb_set(lifecycle, '{ledger,paid}', '"1.00"') WHERE plan_id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	res, err = projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: 300 * time.Millisecond})
	if err != nil || len(res.Diffs) != 1 || !strings.Contains(res.Diffs[0].String(), "lifecycle") || res.Rechecked != 1 {
		t.Fatalf("corrupted lifecycle, by digest: %+v, %v", res, err)
	}
	res, err = projections.Replay(ctx, store, projections.ReplayOptions{Swap: true, CatchUpWait: 300 * time.Millisecond})
	if err != nil || len(res.Diffs) != 1 || !strings.Contains(res.Diffs[0].String(), "lifecycle") || !res.Swapped {
		t.Fatalf("corrupted lifecycle: %+v, %v", res, err)
	}
	if res, err = projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: time.Second}); err != nil || len(res.Diffs) != 0 {
		t.Fatalf("after swap: %v, %v", res.Diffs, err)
	}
	wantListItems(t, plans)
}

// TestDuePlansForTheScheduler checks the scheduler's query against the wake
// columns: a plan is due when its wake time has come or a due date is within
// its account's reminder lead.
func TestDuePlansForTheScheduler(t *testing.T) {
	t.Parallel()
	store := eventstore.New(pgtest.NewPool(t))
	plans := projections.NewPlans(store)
	ctx := context.Background()
	days := 5
	acct, err := store.CreateAccount(ctx, eventstore.NewAccount{Name: "Acme", ReminderDays: &days})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC)
	l := &lifecycleStore{t: t, store: store}
	pendingRecs := createPlan(t, store, acct.ID, "300.00", now, false)
	activeRecs := createPlan(t, store, acct.ID, "600.00", now, false)
	l.recs = append(append(l.recs, pendingRecs...), activeRecs...)
	pendingID, activeID := mustPlanID(t, pendingRecs[0].StreamID), mustPlanID(t, activeRecs[0].StreamID)
	l.do(activeID, "customer", func(p *domain.Plan) ([]domain.Event, error) {
		return p.SelectOption(domain.SelectOption{OptionID: p.Options()[0].ID, Consent: domain.Consent{At: now}})
	})
	for _, r := range l.recs {
		if err := plans.Apply(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	due := func(at time.Time) []int64 {
		ds, err := plans.Due(ctx, at, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, d := range ds {
			if d.ReminderDays != days {
				t.Fatalf("reminder days %d", d.ReminderDays)
			}
			out = append(out, d.PlanID)
		}
		return out
	}
	// The first due date is 2025-12-04: five days before is 2025-11-29.
	if got := due(time.Date(2025, 11, 28, 23, 0, 0, 0, time.UTC)); len(got) != 0 {
		t.Fatalf("due too early: %v", got)
	}
	if got := due(time.Date(2025, 11, 29, 0, 0, 0, 0, time.UTC)); len(got) != 1 || got[0] != activeID {
		t.Fatalf("due in the reminder lead: %v", got)
	}
	if got := due(now.Add(domain.AbandonAfter)); len(got) != 2 || got[0] != pendingID {
		t.Fatalf("due at abandonment: %v", got)
	}
	if got, _ := plans.Due(ctx, now.Add(domain.AbandonAfter), pendingID, 100); len(got) != 1 || got[0].PlanID != activeID {
		t.Fatalf("paging after %d: %v", pendingID, got)
	}
}
