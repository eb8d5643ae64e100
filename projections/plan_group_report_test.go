package projections_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/projections"
)

// TestReportColumns checks plan_views' report columns (migration 012):
// the projection fills them as folding the store does, the migration's
// backfill of existing rows computes the same, and replay compares them
// (a corrupted one is a diff that --swap repairs).
func TestReportColumns(t *testing.T) {
	t.Parallel()
	l := newLifecycleStore(t)
	store, pool := l.store, l.store.Pool()
	plans, groups := projections.NewPlans(store), projections.NewPlanGroups(store)
	ctx := context.Background()
	now := time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC)
	var ids []int64
	for _, amount := range []string{"300.00", "450.00", "600.00", "750.00"} {
		recs := createPlan(t, store, 1, amount, now, false)
		l.recs = append(l.recs, recs...)
		ids = append(ids, mustPlanID(t, recs[0].StreamID))
	}
	consent := domain.Consent{At: now, IP: "203.0.113.9"}
	choose := func(p *domain.Plan) ([]domain.Event, error) {
		return p.SelectOption(domain.SelectOption{OptionID: p.Options()[0].ID, Consent: consent})
	}
	// 0: deferred, then paid off 12 days later; 1: a proposal; 2: part
	// paid, part reported, then written off; 3: untouched.
	l.do(ids[0], "customer", choose)
	l.do(ids[0], "merchant", func(p *domain.Plan) ([]domain.Event, error) { return p.DeferInstallment(1, now) })
	l.do(ids[0], "merchant", func(p *domain.Plan) ([]domain.Event, error) {
		return p.RecordPayment(domain.PaymentInput{PaymentID: l.nextID(), Amount: "300.00", Method: "cash", Now: now.AddDate(0, 0, 12)})
	})
	l.do(ids[1], "customer", func(p *domain.Plan) ([]domain.Event, error) {
		return p.ProposeSchedule(l.nextID(), domain.TermsInput{Installments: "2", Interval: "monthly", FirstPaymentDate: "2025-12-10"}, consent)
	})
	l.do(ids[2], "customer", choose)
	l.do(ids[2], "merchant", func(p *domain.Plan) ([]domain.Event, error) {
		return p.RecordPayment(domain.PaymentInput{PaymentID: l.nextID(), Amount: "100.00", Method: "cash", Now: now})
	})
	l.do(ids[2], "customer", func(p *domain.Plan) ([]domain.Event, error) {
		return p.ReportPayment(domain.PaymentInput{PaymentID: l.nextID(), Amount: "50.00", Method: "cash", Now: now})
	})
	l.do(ids[2], "merchant", func(p *domain.Plan) ([]domain.Event, error) { return p.WriteOff("gone", now) })
	for _, r := range l.recs {
		if err := plans.Apply(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	// The read model's facts are those of the folded plans.
	check := func(when string) {
		t.Helper()
		got, err := groups.PaymentPlans(ctx, 1, append(ids, 999999))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ids) {
			t.Fatalf("%s: %d plans, want %d", when, len(got), len(ids))
		}
		for _, id := range ids {
			p, _, _, err := store.LoadPlan(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want, err := projections.GroupPaymentPlanOf(p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got[id], want) {
				t.Fatalf("%s: plan %d\n got %+v\nwant %+v", when, id, got[id], want)
			}
		}
	}
	check("projected")
	want := map[int64]string{
		ids[0]: "completed 300.00 300.00 0.00 0.00 extended=true proposed=false completed 2025-12-09",
		ids[1]: "pending 450.00 0.00 0.00 450.00 extended=false proposed=true",
		ids[2]: "written_off 600.00 100.00 50.00 500.00 extended=false proposed=false",
		ids[3]: "pending 750.00 0.00 0.00 750.00 extended=false proposed=false",
	}
	got, _ := groups.PaymentPlans(ctx, 1, ids)
	for _, id := range ids {
		p := got[id]
		s := strings.Join([]string{string(p.Status), p.Total.String(), p.Paid.String(), p.Reported.String(), p.Outstanding.String(),
			"extended=" + boolText(p.Extended), "proposed=" + boolText(p.Proposed)}, " ")
		if !p.CompletedAt.IsZero() {
			s += " completed " + p.CompletedAt.Format(time.DateOnly)
		}
		if s != want[id] || p.Currency != "USD" || p.CustomerName != "Ann" {
			t.Errorf("plan %d: %s (%s, %q), want %s", id, s, p.Currency, p.CustomerName, want[id])
		}
	}
	// Another account reads none of them.
	if other, err := groups.PaymentPlans(ctx, 2, ids); err != nil || len(other) != 0 {
		t.Fatalf("another account: %v, %v", other, err)
	}

	// Replay rebuilds the same columns; a corrupted one is a diff, and the
	// swap repairs it.
	res, err := projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: time.Second})
	if err != nil || len(res.Diffs) != 0 || res.Plans != int64(len(ids)) {
		t.Fatalf("clean replay: %+v, %v", res, err)
	}
	if _, err := pool.Exec(ctx, `UPDATE plan_views SET amount_paid = 1 WHERE plan_id = $1`, ids[2]); err != nil {
		t.Fatal(err)
	}
	res, err = projections.Replay(ctx, store, projections.ReplayOptions{Swap: true, CatchUpWait: 300 * time.Millisecond})
	if err != nil || len(res.Diffs) != 1 || !strings.Contains(res.Diffs[0].String(), "amount_paid") || !res.Swapped {
		t.Fatalf("corrupted amount_paid: %+v, %v", res, err)
	}
	check("swapped")
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
