package projections_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/projections"
)

const publicURL = "https://pay.example.com"

// createPlan appends a plan.created event (and, with sent, an
// introduction_email.sent event) and returns the records.
func createPlan(t *testing.T, store *eventstore.Store, accountID int64, amount string, now time.Time, sent bool) []eventstore.Record {
	t.Helper()
	ctx := context.Background()
	next := func() int64 {
		id, err := store.NextID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	var p domain.Plan
	evs, err := p.CreatePlan(domain.CreatePlan{PlanID: next(), AccountID: accountID, CustomerID: next(), InvoiceID: next(),
		OptionIDs: []int64{next(), next(), next()}, PortalToken: "tok-" + amount, Now: now, CustomerName: "Ann", CustomerEmail: "ann@example.com",
		Amount: amount, SendIntroductionEmail: true})
	if err != nil {
		t.Fatal(err)
	}
	created := evs[0].(domain.PlanCreated)
	p.Apply(created)
	if sent {
		more, err := p.RecordIntroductionEmailSent("<m>", "ann@example.com", now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, more...)
	}
	newEvs, err := eventstore.Encode(evs)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := store.Append(ctx, eventstore.PlanStream(created.PlanID), eventstore.Head{}, newEvs, eventstore.Metadata{AccountID: accountID})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestApplyIsIdempotentAndOrderFree(t *testing.T) {
	t.Parallel()
	store := eventstore.New(pgtest.NewPool(t))
	plans := projections.NewPlans(store)
	ctx := context.Background()
	now := time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC)
	recs := createPlan(t, store, 1, "1200.00", now, true)
	planID := mustPlanID(t, recs[0].StreamID)

	// Version 2 arrives first (version 1's message is late): the row is
	// caught up from the store, gap included.
	if err := plans.Apply(ctx, recs[1]); err != nil {
		t.Fatal(err)
	}
	d, err := plans.Get(ctx, 1, planID, publicURL)
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != 2 || d.IntroductionEmail.Status != domain.EmailSent || d.Invoice.Amount.String() != "1200.00" {
		t.Fatalf("after v2 first: %+v", d)
	}
	// The late v1 and a duplicate v2 change nothing.
	for _, r := range []eventstore.Record{recs[0], recs[1], recs[0]} {
		if err := plans.Apply(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	again, err := plans.Get(ctx, 1, planID, publicURL)
	if err != nil {
		t.Fatal(err)
	}
	if again.Version != 2 || again.UpdatedAt != d.UpdatedAt {
		t.Fatalf("redelivery moved the row: %+v", again)
	}
	// The read model serves the same plan as folding the store does.
	p, _, _, err := store.LoadPlan(ctx, planID)
	if err != nil {
		t.Fatal(err)
	}
	want := projections.DetailOf(p, publicURL)
	if got := mustJSON(t, again); got != mustJSON(t, want) {
		t.Fatalf("read model\n%s\nfold\n%s", got, mustJSON(t, want))
	}
	// Other accounts do not see it; other streams are ignored.
	if _, err := plans.Get(ctx, 2, planID, publicURL); err == nil {
		t.Fatal("another account read the plan")
	}
	if err := plans.Apply(ctx, eventstore.Record{StreamID: "account-1", Version: 1}); err != nil {
		t.Fatal(err)
	}
}

func TestListFiltersAndPages(t *testing.T) {
	t.Parallel()
	store := eventstore.New(pgtest.NewPool(t))
	plans := projections.NewPlans(store)
	ctx := context.Background()
	base := time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC)
	var ids []int64
	for i := range 5 {
		recs := createPlan(t, store, 1, "10"+string(rune('0'+i))+".00", base.Add(time.Duration(i)*time.Hour), false)
		for _, r := range recs {
			if err := plans.Apply(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, mustPlanID(t, recs[0].StreamID))
	}
	createPlan(t, store, 2, "999.00", base, false) // another account, not projected: must not count anyway

	items, total, err := plans.List(ctx, projections.ListQuery{AccountID: 1, Limit: 2}, publicURL)
	if err != nil || total != 5 || len(items) != 2 || items[0].PlanID != ids[4] || items[1].PlanID != ids[3] {
		t.Fatalf("first page: total %d, %v, %v", total, planIDs(items), err)
	}
	items, _, _ = plans.List(ctx, projections.ListQuery{AccountID: 1, Limit: 2, Offset: 4}, publicURL)
	if len(items) != 1 || items[0].PlanID != ids[0] {
		t.Fatalf("last page: %v", planIDs(items))
	}
	// updated_at is when the plan's last event was recorded.
	third, err := plans.Get(ctx, 1, ids[2], publicURL)
	if err != nil {
		t.Fatal(err)
	}
	items, total, _ = plans.List(ctx, projections.ListQuery{AccountID: 1, Limit: 10, UpdatedAfter: third.UpdatedAt}, publicURL)
	if total != 2 || len(items) != 2 || items[0].PlanID != ids[4] || items[1].PlanID != ids[3] {
		t.Fatalf("updated_after: total %d, %v", total, planIDs(items))
	}
	items, total, _ = plans.List(ctx, projections.ListQuery{AccountID: 1, Limit: 10, Status: "active"}, publicURL)
	if total != 0 || len(items) != 0 {
		t.Fatalf("status active: %d", total)
	}
	_, total, _ = plans.List(ctx, projections.ListQuery{AccountID: 1, Limit: 10, Status: "pending"}, publicURL)
	if total != 5 {
		t.Fatalf("status pending: %d", total)
	}
}

func TestReplayFindsCorruptionAndSwapRepairsIt(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	store := eventstore.New(pool)
	plans := projections.NewPlans(store)
	ctx := context.Background()
	now := time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC)
	var planIDs []int64
	for i := range 4 {
		recs := createPlan(t, store, 1, "5"+string(rune('0'+i))+".00", now, i%2 == 0)
		for _, r := range recs {
			if err := plans.Apply(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		planIDs = append(planIDs, mustPlanID(t, recs[0].StreamID))
	}
	res, err := projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: time.Second})
	// Every row's digest matched: no plan needed comparing in SQL.
	if err != nil || len(res.Diffs) != 0 || res.Plans != 4 || res.Events != 6 || res.Rechecked != 0 {
		t.Fatalf("clean replay: %+v, %v", res, err)
	}

	// Corrupt one row, delete another, add one no stream has, and leave
	// one plan unprojected.
	if _, err := pool.Exec(ctx, `UPDATE plan_views SET invoice = jsonb_set(invoice, '{amount}', '"1.00"') WHERE plan_id = $1`, planIDs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM plan_views WHERE plan_id = $1`, planIDs[1]); err != nil {
		t.Fatal(err)
	}
	ghost := planIDs[3] + 1_000_000
	if _, err := pool.Exec(ctx, `INSERT INTO plan_views SELECT $2, account_id, version, status, portal_token || 'x', customer, invoice,
		plan_options, selected_option_id, send_introduction_email, introduction_email, created_at, updated_at, lifecycle
		FROM plan_views WHERE plan_id = $1`, planIDs[2], ghost); err != nil {
		t.Fatal(err)
	}
	// The digests find them (recheck), and so does the full rebuild when
	// more plans differ than a recheck takes.
	for _, limit := range []int{10_000, 1} {
		projections.SetMaxCandidates(t, limit)
		res, err = projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if wantRechecked := map[int]int64{10_000: 3, 1: 0}[limit]; len(res.Diffs) != 3 || res.Rechecked != wantRechecked {
			t.Fatalf("limit %d: want 3 differences, %d rechecked, got %v, %d", limit, wantRechecked, res.Diffs, res.Rechecked)
		}
		text := res.Diffs[0].String() + "\n" + res.Diffs[1].String() + "\n" + res.Diffs[2].String()
		for _, want := range []string{"invoice", `"1.00"`, `"50.00"`, "missing from the live read model",
			fmt.Sprintf("plan %d: in the live read model but not in the event store", ghost)} {
			if !strings.Contains(text, want) {
				t.Errorf("limit %d: diff does not mention %s:\n%s", limit, want, text)
			}
		}
	}
	if _, err := pool.Exec(ctx, `DELETE FROM plan_views WHERE plan_id = $1`, ghost); err != nil {
		t.Fatal(err)
	}

	res, err = projections.Replay(ctx, store, projections.ReplayOptions{Swap: true, CatchUpWait: 300 * time.Millisecond})
	if err != nil || !res.Swapped {
		t.Fatalf("swap: %+v, %v", res, err)
	}
	res, err = projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: time.Second})
	if err != nil || len(res.Diffs) != 0 {
		t.Fatalf("after swap: %v, %v", res.Diffs, err)
	}
	// Swaps can follow each other at once, and keep every live index under
	// its name.
	indexes := func() string {
		var names []string
		rows, err := pool.Query(ctx, `SELECT indexname FROM pg_indexes WHERE tablename = 'plan_views' ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			_ = rows.Scan(&n)
			names = append(names, n)
		}
		return fmt.Sprint(names)
	}
	before := indexes()
	for range 2 {
		if res, err = projections.Replay(ctx, store, projections.ReplayOptions{Swap: true, CatchUpWait: time.Second}); err != nil || !res.Swapped {
			t.Fatalf("repeated swap: %+v, %v", res, err)
		}
	}
	if after := indexes(); after != before || !strings.Contains(after, "plan_views_account_created_idx") {
		t.Fatalf("indexes after swaps: %s, before: %s", after, before)
	}
	// The swapped-in table is the live one: the projection keeps writing to it.
	recs := createPlan(t, store, 1, "77.00", now, false)
	if err := plans.Apply(ctx, recs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := plans.Get(ctx, 1, mustPlanID(t, recs[0].StreamID), publicURL); err != nil {
		t.Fatalf("after swap the projection cannot write: %v", err)
	}
}

func TestApplyBatchMatchesApply(t *testing.T) {
	t.Parallel()
	store := eventstore.New(pgtest.NewPool(t))
	plans := projections.NewPlans(store)
	ctx := context.Background()
	now := time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC)
	a := createPlan(t, store, 1, "10.00", now, true)  // v1, v2
	b := createPlan(t, store, 1, "20.00", now, false) // v1
	// Out of order and with a duplicate, as a redelivered batch can be.
	if err := plans.ApplyBatch(ctx, []eventstore.Record{a[1], b[0], a[0], b[0], {StreamID: "other-1", Version: 1}}); err != nil {
		t.Fatal(err)
	}
	for _, recs := range [][]eventstore.Record{a, b} {
		wantFolded(t, plans, mustPlanID(t, recs[0].StreamID))
	}
}
