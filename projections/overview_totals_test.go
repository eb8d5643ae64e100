package projections_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
)

// totalsMismatch is a query listing every total of the Overview (its
// stripes summed, as the page reads them) that differs from the sums of the
// per-plan rows it is kept from (no rows: they agree).
const totalsMismatch = `
	WITH w AS (SELECT account_id, week, currency, sum(due) AS due, sum(paid) AS paid FROM plan_week_amounts GROUP BY 1, 2, 3),
		s AS (SELECT account_id, status, currency, count(*) AS plans, sum(amount_outstanding) AS outstanding
			FROM plan_views GROUP BY 1, 2, 3),
		d AS (SELECT account_id, (completed_at AT TIME ZONE 'UTC')::date - (created_at AT TIME ZONE 'UTC')::date AS days,
			count(*) AS plans FROM plan_views WHERE status = 'completed' GROUP BY 1, 2),
		tw AS (SELECT account_id, week, currency, sum(due) AS due, sum(paid) AS paid FROM account_week_totals GROUP BY 1, 2, 3),
		ts AS (SELECT account_id, status, currency, sum(plans) AS plans, sum(outstanding) AS outstanding
			FROM account_status_totals GROUP BY 1, 2, 3),
		td AS (SELECT account_id, days, sum(plans) AS plans FROM account_completion_totals GROUP BY 1, 2)
	SELECT 'week ' || coalesce(w.week, t.week)::text FROM w FULL JOIN tw t USING (account_id, week, currency)
		WHERE coalesce(w.due, 0) <> coalesce(t.due, 0) OR coalesce(w.paid, 0) <> coalesce(t.paid, 0)
	UNION ALL
	SELECT 'status ' || coalesce(s.status, t.status) FROM s FULL JOIN ts t USING (account_id, status, currency)
		WHERE coalesce(s.plans, 0) <> coalesce(t.plans, 0) OR coalesce(s.outstanding, 0) <> coalesce(t.outstanding, 0)
	UNION ALL
	SELECT 'days ' || coalesce(d.days, t.days)::text FROM d FULL JOIN td t USING (account_id, days)
		WHERE coalesce(d.plans, 0) <> coalesce(t.plans, 0)`

func requireTotals(t *testing.T, store *eventstore.Store, when string) {
	t.Helper()
	rows, err := store.Pool().Query(context.Background(), totalsMismatch)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		bad = append(bad, s)
	}
	if rows.Close(); rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if len(bad) > 0 {
		t.Fatalf("%s: the overview totals differ from the plans' rows at %v", when, bad)
	}
}

// TestOverviewTotalsUnderConcurrentWriters drives plans through schedules,
// payments, completion, cancellation and reactivation, delivers every
// record to four concurrent projection writers (each in its own shuffled
// order, so writers of one plan race each other), and checks that the
// account's Overview totals equal the sums of the plans' own rows; then
// that the Overview reads them, and that replay's swap recomputes totals
// that were tampered with.
func TestOverviewTotalsUnderConcurrentWriters(t *testing.T) {
	t.Parallel()
	l := newLifecycleStore(t)
	store := l.store
	plans := projections.NewPlans(store)
	ctx := context.Background()
	now := time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC)
	consent := domain.Consent{At: now.Add(time.Hour), IP: "203.0.113.9", UserAgent: "phone"}
	var ids []int64
	for i := range 8 {
		recs := createPlan(t, store, 1, "90"+string(rune('0'+i))+".00", now, false)
		l.recs = append(l.recs, recs...)
		ids = append(ids, mustPlanID(t, recs[0].StreamID))
	}
	// project delivers the records appended since the last call to four
	// concurrent writers, each in its own shuffled order.
	applied, round := 0, uint64(0)
	project := func() {
		t.Helper()
		recs := l.recs[applied:]
		applied, round = len(l.recs), round+1
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := range 4 {
			order := append([]eventstore.Record(nil), recs...)
			rng := rand.New(rand.NewPCG(uint64(w), round))
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			wg.Go(func() {
				for _, r := range order {
					if err := plans.Apply(ctx, r); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	project()
	pick := func(p *domain.Plan) ([]domain.Event, error) {
		return p.SelectOption(domain.SelectOption{OptionID: p.Options()[0].ID, Consent: consent})
	}
	record := func(amount func(*domain.Plan) string, on string) func(*domain.Plan) ([]domain.Event, error) {
		return func(p *domain.Plan) ([]domain.Event, error) {
			return p.RecordPayment(domain.PaymentInput{PaymentID: l.nextID(), Amount: amount(p), PaidOn: on, Method: "cash", Now: now})
		}
	}
	all := func(p *domain.Plan) string { return p.Ledger().Outstanding.String() }
	for _, id := range ids[:6] {
		l.do(id, "customer", pick)
	}
	project()
	requireTotals(t, store, "after the schedules were chosen")
	for i, id := range ids[:6] {
		switch i {
		case 0, 1: // paid off, on different days
			l.do(id, "merchant", record(func(*domain.Plan) string { return "100.00" }, "2025-11-20"))
			l.do(id, "merchant", record(all, "2025-11-2"+string(rune('1'+i))))
		case 2: // extended, then paid in part
			l.do(id, "merchant", func(p *domain.Plan) ([]domain.Event, error) { return p.ExtendInstallment(1, "2026-01-20", true, now) })
			l.do(id, "merchant", record(func(*domain.Plan) string { return "50.00" }, "2025-11-25"))
		case 3: // cancelled and reactivated
			l.do(id, "merchant", func(p *domain.Plan) ([]domain.Event, error) { return p.Cancel("duplicate", now) })
			project()
			l.do(id, "merchant", func(p *domain.Plan) ([]domain.Event, error) { return p.Reactivate(now) })
		case 4:
			l.do(id, "merchant", func(p *domain.Plan) ([]domain.Event, error) { return p.WriteOff("gone", now) })
		}
	}
	project()
	requireTotals(t, store, "after concurrent projection")

	f, err := plans.OverviewFacts(ctx, 1, time.Date(2025, 12, 3, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	byStatus := map[domain.Status]int{}
	for _, s := range f.Statuses {
		byStatus[s.Status] += s.Plans
	}
	if byStatus[domain.StatusCompleted] != 2 || byStatus[domain.StatusActive] != 3 || byStatus[domain.StatusWrittenOff] != 1 ||
		byStatus[domain.StatusPending] != 2 || len(f.CompletionDays) == 0 {
		t.Fatalf("overview facts: statuses %v, completion %v", byStatus, f.CompletionDays)
	}
	collected := 0
	for _, c := range f.Cash {
		collected += c.Collected.Sign()
	}
	if len(f.Cash) == 0 || collected == 0 {
		t.Fatalf("overview cash: %+v", f.Cash)
	}

	// Tampered totals are recomputed by replay's swap.
	if _, err := store.Pool().Exec(ctx, `UPDATE account_status_totals SET plans = plans + 5;
		UPDATE account_week_totals SET paid = paid + 1`); err != nil {
		t.Fatal(err)
	}
	if res, err := projections.Replay(ctx, store, projections.ReplayOptions{Swap: true, CatchUpWait: time.Second}); err != nil || !res.Swapped {
		t.Fatalf("replay: %+v, %v", res, err)
	}
	requireTotals(t, store, "after replay --swap")
}

// TestApplyBatchOneAccountConcurrent is the regression test of the
// projection's lock waits on the Overview's totals: four loops apply
// batches of 64 plans of one account at once, as the projection-plans
// consumer does while an account creates plans. Each batch adds to its
// own stripe of the totals, so no batch fails with a deadlock (40P01; when
// stripes followed the plan id, every batch locked nearly all of them in
// an order of its own), and the totals stay exact: after the plans are
// created, and after their schedules are chosen and some are paid or
// cancelled.
func TestApplyBatchOneAccountConcurrent(t *testing.T) {
	t.Parallel()
	l := newLifecycleStore(t)
	store := l.store
	plans := projections.NewPlans(store)
	ctx := context.Background()
	now := time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC)
	consent := domain.Consent{At: now.Add(time.Hour), IP: "203.0.113.9", UserAgent: "phone"}
	var ids []int64
	for i := range 512 {
		recs := createPlan(t, store, 1, strconv.Itoa(100+i)+".00", now, i%3 == 0)
		l.recs = append(l.recs, recs...)
		ids = append(ids, mustPlanID(t, recs[0].StreamID))
	}
	// project hands the records appended since the last call, in batches
	// of 64 in order, to four concurrent loops, each taking the next batch.
	applied := 0
	project := func(when string) {
		t.Helper()
		recs := l.recs[applied:]
		applied = len(l.recs)
		batches := make(chan []eventstore.Record, len(recs)/64+1)
		for len(recs) > 0 {
			n := min(64, len(recs))
			batches <- recs[:n]
			recs = recs[n:]
		}
		close(batches)
		var wg sync.WaitGroup
		errs := make(chan error, cap(batches))
		for range 4 {
			wg.Go(func() {
				for b := range batches {
					if err := plans.ApplyBatch(ctx, b); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("%s: batch: %v", when, err)
		}
		if t.Failed() {
			t.FailNow()
		}
		requireTotals(t, store, when)
	}
	project("after the plans were created")
	for i, id := range ids[:256] {
		l.do(id, "customer", func(p *domain.Plan) ([]domain.Event, error) {
			return p.SelectOption(domain.SelectOption{OptionID: p.Options()[i%3].ID, Consent: consent})
		})
		switch i % 8 {
		case 0: // paid off
			l.do(id, "merchant", func(p *domain.Plan) ([]domain.Event, error) {
				return p.RecordPayment(domain.PaymentInput{PaymentID: l.nextID(), Amount: p.Ledger().Outstanding.String(),
					PaidOn: "2025-11-2" + strconv.Itoa(i%10), Method: "cash", Now: now})
			})
		case 1: // paid in part
			l.do(id, "merchant", func(p *domain.Plan) ([]domain.Event, error) {
				return p.RecordPayment(domain.PaymentInput{PaymentID: l.nextID(), Amount: "10.00", PaidOn: "2025-11-25", Method: "cash", Now: now})
			})
		case 2:
			l.do(id, "merchant", func(p *domain.Plan) ([]domain.Event, error) { return p.Cancel("duplicate", now) })
		}
	}
	project("after the schedules were chosen")
	f, err := plans.OverviewFacts(ctx, 1, time.Date(2025, 12, 3, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	byStatus := map[domain.Status]int{}
	for _, s := range f.Statuses {
		byStatus[s.Status] += s.Plans
	}
	if byStatus[domain.StatusCompleted] != 32 || byStatus[domain.StatusCancelled] != 32 || byStatus[domain.StatusActive] != 192 ||
		byStatus[domain.StatusPending] != 256 {
		t.Fatalf("overview statuses %v", byStatus)
	}
}
