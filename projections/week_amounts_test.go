package projections_test

import (
	"context"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/projections"
)

// TestWeekAmountsWrittenOnlyWhenCashChanges checks that the plan
// projection rewrites a plan's plan_week_amounts rows when its schedule or
// confirmed payments change, and leaves them alone (same row versions)
// when an event changes neither.
func TestWeekAmountsWrittenOnlyWhenCashChanges(t *testing.T) {
	t.Parallel()
	l := newLifecycleStore(t)
	plans := projections.NewPlans(l.store)
	ctx := context.Background()
	now := time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC)
	l.recs = createPlan(t, l.store, 1, "900.00", now, false)
	id := mustPlanID(t, l.recs[0].StreamID)
	applied := 0
	apply := func() {
		t.Helper()
		for _, r := range l.recs[applied:] {
			if err := plans.Apply(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		applied = len(l.recs)
	}
	rows := func() (n int, versions, paid string) {
		t.Helper()
		err := l.store.Pool().QueryRow(ctx, `SELECT count(*), coalesce(string_agg(xmin::text, ',' ORDER BY week), ''),
			coalesce(sum(paid), 0)::text FROM plan_week_amounts WHERE plan_id = $1`, id).Scan(&n, &versions, &paid)
		if err != nil {
			t.Fatal(err)
		}
		return n, versions, paid
	}
	apply()
	l.do(id, "customer", func(p *domain.Plan) ([]domain.Event, error) {
		return p.SelectOption(domain.SelectOption{OptionID: p.Options()[0].ID,
			Consent: domain.Consent{At: now, IP: "203.0.113.9", UserAgent: "phone"}})
	})
	apply()
	n, before, _ := rows()
	if n == 0 {
		t.Fatal("no weekly amounts for the chosen schedule")
	}
	// A reported payment (not confirmed) changes the plan row, not its cash.
	l.do(id, "customer", func(p *domain.Plan) ([]domain.Event, error) {
		return p.ReportPayment(domain.PaymentInput{PaymentID: l.nextID(), Amount: "10.00", Method: "cash", Now: now})
	})
	apply()
	if n2, after, _ := rows(); n2 != n || after != before {
		t.Fatalf("a reported payment rewrote the weekly amounts: %d rows %s, were %d rows %s", n2, after, n, before)
	}
	// A confirmed payment does.
	l.do(id, "merchant", func(p *domain.Plan) ([]domain.Event, error) {
		return p.RecordPayment(domain.PaymentInput{PaymentID: l.nextID(), Amount: "100.00", PaidOn: "2025-11-26", Method: "cash", Now: now})
	})
	apply()
	if _, after, paid := rows(); after == before || paid != "100.00" {
		t.Fatalf("a confirmed payment: rows %s (were %s), paid %s", after, before, paid)
	}
}
