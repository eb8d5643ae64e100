package projections_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/projections"
)

// TestAttentionColumnsProjectedAndReplayed drives plans into each Needs
// attention state, checks the lists and the overview's facts, and that
// replay rebuilds the columns (and repairs one corrupted).
func TestAttentionColumnsProjectedAndReplayed(t *testing.T) {
	t.Parallel()
	l := newLifecycleStore(t)
	store := l.store
	plans := projections.NewPlans(store)
	ctx := context.Background()
	now := time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC)
	consent := domain.Consent{At: now, IP: "203.0.113.9", UserAgent: "phone"}
	var ids []int64
	for i := range 4 {
		recs := createPlan(t, store, 1, "90"+string(rune('0'+i))+".00", now, false)
		l.recs = append(l.recs, recs...)
		ids = append(ids, mustPlanID(t, recs[0].StreamID))
	}
	pick := func(p *domain.Plan) ([]domain.Event, error) {
		return p.SelectOption(domain.SelectOption{OptionID: p.Options()[0].ID, Consent: consent})
	}
	// 0: a reported payment; 1: a pending proposal; 2: a check-in sent and
	// left unanswered (its reminder requested); 3: a confirmed payment.
	l.do(ids[0], "customer", pick)
	l.do(ids[0], "customer", func(p *domain.Plan) ([]domain.Event, error) {
		return p.ReportPayment(domain.PaymentInput{PaymentID: l.nextID(), Amount: "10.00", Method: "cash", Now: now})
	})
	l.do(ids[1], "customer", func(p *domain.Plan) ([]domain.Event, error) {
		return p.ProposeSchedule(l.nextID(), domain.TermsInput{Installments: "3", Interval: "monthly", FirstPaymentDate: "2025-12-10"}, consent)
	})
	l.do(ids[2], "customer", pick)
	var due domain.Date
	l.do(ids[2], "scheduler", func(p *domain.Plan) ([]domain.Event, error) {
		due = p.Installments()[0].DueDate
		return p.Tick(due.Time().Add(8*time.Hour), 3), nil
	})
	l.do(ids[2], "email-worker", func(p *domain.Plan) ([]domain.Event, error) {
		return p.RecordNotificationSent(domain.NoticeKey{Kind: domain.NoticeCheckin, Installment: 1, DueDate: due}, "<m>", "ann@example.com", due.Time())
	})
	l.do(ids[2], "scheduler", func(p *domain.Plan) ([]domain.Event, error) {
		return p.Tick(due.Time().Add(3*24*time.Hour+8*time.Hour), 3), nil
	})
	l.do(ids[3], "customer", pick)
	l.do(ids[3], "merchant", func(p *domain.Plan) ([]domain.Event, error) {
		return p.RecordPayment(domain.PaymentInput{PaymentID: l.nextID(), Amount: "100.00", PaidOn: "2025-11-26", Method: "cash", Now: now})
	})
	for _, r := range l.recs {
		if err := plans.Apply(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	today := due.Time().Add(5 * 24 * time.Hour)
	lists, err := plans.Attention(ctx, 1, today, 50)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]int64{}
	for _, list := range lists {
		for _, it := range list.Items {
			got[list.Kind] = append(got[list.Kind], it.PlanID)
		}
		if list.Total != int64(len(list.Items)) {
			t.Errorf("%s: total %d for %d items", list.Kind, list.Total, len(list.Items))
		}
	}
	want := map[string][]int64{projections.AttentionPaymentReported: {ids[0]}, projections.AttentionProposalPending: {ids[1]},
		projections.AttentionInstallmentOverdue: {ids[2], ids[3]}, projections.AttentionCheckinUnanswered: {ids[2]}}
	for kind, w := range want {
		slices.Sort(got[kind])
		if !slices.Equal(got[kind], w) {
			t.Errorf("%s: %v, want %v", kind, got[kind], w)
		}
	}
	if it := lists[0].Items[0]; it.Amount != "10.00" || it.Currency != "usd" && it.Currency != "USD" || it.CustomerName != "Ann" || !it.Since.Equal(now) {
		t.Errorf("reported item: %+v", it)
	}
	// Another account has none of them.
	if other, err := plans.Attention(ctx, 2, today, 50); err != nil || slices.ContainsFunc(other, func(l projections.AttentionList) bool { return l.Total > 0 }) {
		t.Fatalf("account 2: %+v, %v", other, err)
	}

	// The overview's facts: plan 3's 100.00 paid on 2025-11-26 (the week of
	// 2025-11-24) and the schedules' due dates.
	facts, err := plans.OverviewFacts(ctx, 1, time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var collected []string
	for _, c := range facts.Cash {
		if c.Collected.Sign() != 0 {
			collected = append(collected, c.Week.String()+" "+c.Collected.String())
		}
	}
	if !slices.Equal(collected, []string{"2025-11-24 100.00"}) || len(facts.Weeks) != 12 || facts.Weeks[11].String() != "2025-12-01" {
		t.Fatalf("overview facts: %v, weeks %v", collected, facts.Weeks)
	}

	// Replay rebuilds the same columns; a corrupted one is found and repaired.
	res, err := projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: time.Second})
	if err != nil || len(res.Diffs) != 0 || res.Rechecked != 0 {
		t.Fatalf("clean replay: %+v, %v (%d rechecked)", res.Diffs, err, res.Rechecked)
	}
	if _, err := store.Pool().Exec(ctx, `UPDATE plan_views SET reported_since = NULL, paid_amount = '{1}' WHERE plan_id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	res, err = projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: 300 * time.Millisecond})
	if err != nil || len(res.Diffs) != 1 || !strings.Contains(res.Diffs[0].String(), "reported_since") || res.Rechecked != 1 {
		t.Fatalf("corrupted columns, by digest: %+v, %v", res, err)
	}
	res, err = projections.Replay(ctx, store, projections.ReplayOptions{Swap: true, CatchUpWait: 300 * time.Millisecond})
	if err != nil || len(res.Diffs) != 1 || !strings.Contains(res.Diffs[0].String(), "reported_since") || !res.Swapped {
		t.Fatalf("corrupted columns: %+v, %v", res, err)
	}
	if lists, err = plans.Attention(ctx, 1, today, 50); err != nil || len(lists[0].Items) != 1 {
		t.Fatalf("after swap: %+v, %v", lists, err)
	}

	// The weekly amounts too: a corrupted row of plan_week_amounts is
	// reported, and the swap repairs it.
	if _, err := store.Pool().Exec(ctx, `UPDATE plan_week_amounts SET paid = 1 WHERE plan_id = $1 AND week = '2025-11-24'`, ids[3]); err != nil {
		t.Fatal(err)
	}
	res, err = projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: 300 * time.Millisecond})
	if err != nil || len(res.Diffs) != 1 || res.Diffs[0].PlanID != ids[3] || !strings.Contains(res.Diffs[0].String(), "plan_week_amounts") || res.Rechecked != 1 {
		t.Fatalf("corrupted weekly amounts, by digest: %+v, %v", res, err)
	}
	res, err = projections.Replay(ctx, store, projections.ReplayOptions{Swap: true, CatchUpWait: 300 * time.Millisecond})
	if err != nil || len(res.Diffs) != 1 || res.Diffs[0].PlanID != ids[3] || !strings.Contains(res.Diffs[0].String(), "plan_week_amounts") || !res.Swapped {
		t.Fatalf("corrupted weekly amounts: %+v, %v", res, err)
	}
	after, err := plans.OverviewFacts(ctx, 1, time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC))
	sortCash := func(c []domain.OverviewCashFact) string {
		slices.SortFunc(c, func(a, b domain.OverviewCashFact) int { return strings.Compare(a.Week.String(), b.Week.String()) })
		return fmt.Sprint(c)
	}
	if err != nil || sortCash(after.Cash) != sortCash(facts.Cash) {
		t.Fatalf("overview facts after the swap: %v, want %v, %v", after.Cash, facts.Cash, err)
	}
	res, err = projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: time.Second})
	if err != nil || len(res.Diffs) != 0 {
		t.Fatalf("replay after the repair: %+v, %v", res.Diffs, err)
	}
}
