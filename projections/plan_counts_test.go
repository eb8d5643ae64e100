package projections_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
)

// wantCounts fails unless plan_counts says what counting plan_views says,
// for every (account, status), and returns the counts as "acct/status=n"
// in order.
func wantCounts(t *testing.T, store *eventstore.Store) string {
	t.Helper()
	ctx := context.Background()
	var counted, rows string
	err := store.Pool().QueryRow(ctx, `SELECT
		coalesce((SELECT string_agg(account_id || '/' || status || '=' || n, ' ' ORDER BY account_id, status)
			FROM (SELECT account_id, status, sum(n) AS n FROM plan_counts GROUP BY 1, 2 HAVING sum(n) <> 0) c), ''),
		coalesce((SELECT string_agg(account_id || '/' || status || '=' || n, ' ' ORDER BY account_id, status)
			FROM (SELECT account_id, status, count(*) AS n FROM plan_views GROUP BY 1, 2) v), '')`).Scan(&counted, &rows)
	if err != nil {
		t.Fatal(err)
	}
	if counted != rows {
		t.Fatalf("plan_counts %q, plan_views %q", counted, rows)
	}
	return counted
}

// TestPlanCountsFollowTheRows: creates, redeliveries (one by one and in
// batches), status transitions, concurrent batches, compaction, an
// operator's tampering, replay and swap: the counts stay the rows' counts.
func TestPlanCountsFollowTheRows(t *testing.T) {
	t.Parallel()
	l := newLifecycleStore(t)
	store := l.store
	if _, err := store.CreateAccount(context.Background(), eventstore.NewAccount{Name: "Other"}); err != nil {
		t.Fatal(err)
	}
	plans := projections.NewPlans(store)
	ctx := context.Background()
	now := time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC)
	var recs []eventstore.Record
	var ids []int64
	for i := range 40 {
		rs := createPlan(t, store, int64(1+i%2), fmt.Sprintf("%d.00", 100+i), now.Add(time.Duration(i)*time.Minute), i%3 == 0)
		recs = append(recs, rs...)
		if i%2 == 0 {
			ids = append(ids, mustPlanID(t, rs[0].StreamID))
		}
	}
	// Four concurrent consumers, each applying shuffled batches of the
	// plans it has (a stream is one consumer's, as a JetStream consumer
	// keeps it), then every record delivered again, shuffled.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for c := range 4 {
		wg.Go(func() {
			var mine []eventstore.Record
			for _, r := range recs {
				if mustPlanID(t, r.StreamID)%4 == int64(c) {
					mine = append(mine, r)
				}
			}
			rand.Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
			for len(mine) > 0 {
				n := min(len(mine), 7)
				var err error
				if c == 0 {
					for _, r := range mine[:n] {
						if err = plans.Apply(ctx, r); err != nil {
							break
						}
					}
				} else {
					err = plans.ApplyBatch(ctx, mine[:n])
				}
				if err != nil {
					errs <- err
					return
				}
				mine = mine[n:]
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	again := append([]eventstore.Record(nil), recs...)
	rand.Shuffle(len(again), func(i, j int) { again[i], again[j] = again[j], again[i] })
	if err := plans.ApplyBatch(ctx, again); err != nil {
		t.Fatal(err)
	}
	if got := wantCounts(t, store); got != "1/pending=20 2/pending=20" {
		t.Fatalf("after creates: %s", got)
	}
	// Status transitions: one activated, one cancelled, each projected
	// twice.
	consent := domain.Consent{At: now, IP: "203.0.113.9", UserAgent: "phone"}
	l.do(ids[0], "customer", func(p *domain.Plan) ([]domain.Event, error) {
		return p.SelectOption(domain.SelectOption{OptionID: p.Options()[0].ID, Consent: consent})
	})
	l.do(ids[1], "merchant", func(p *domain.Plan) ([]domain.Event, error) { return p.Cancel("duplicate", now) })
	for range 2 {
		for _, r := range l.recs {
			if err := plans.Apply(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := wantCounts(t, store); got != "1/active=1 1/cancelled=1 1/pending=18 2/pending=20" {
		t.Fatalf("after transitions: %s", got)
	}
	for status, want := range map[string]int64{"": 20, "pending": 18, "active": 1, "completed": 0} {
		if n, err := plans.Count(ctx, 1, status); err != nil || n != want {
			t.Fatalf("Count(1, %q) = %d, %v; want %d", status, n, err, want)
		}
	}
	// Compaction folds the deltas into a row per status, sums unchanged.
	if err := plans.CompactCounts(ctx, 0); err != nil {
		t.Fatal(err)
	}
	var deltaRows int
	if err := store.Pool().QueryRow(ctx, `SELECT count(*) FROM plan_counts`).Scan(&deltaRows); err != nil || deltaRows != 4 {
		t.Fatalf("after compaction %d rows, %v; want 4", deltaRows, err)
	}
	wantCounts(t, store)

	// A count that drifted (here by hand) is a difference of replay, and
	// a swap sets it right; the swapped-in table still counts.
	if _, err := store.Pool().Exec(ctx, `INSERT INTO plan_counts VALUES (1, 'pending', 5)`); err != nil {
		t.Fatal(err)
	}
	res, err := projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: time.Second})
	if err != nil || len(res.Diffs) != 1 || !strings.Contains(res.Diffs[0].String(), "account 1 has 18 pending plans, plan_counts says 23") {
		t.Fatalf("replay of a drifted count: %v, %v", res.Diffs, err)
	}
	if res, err = projections.Replay(ctx, store, projections.ReplayOptions{Swap: true, CatchUpWait: time.Second}); err != nil || !res.Swapped {
		t.Fatalf("swap: %+v, %v", res, err)
	}
	if got := wantCounts(t, store); got != "1/active=1 1/cancelled=1 1/pending=18 2/pending=20" {
		t.Fatalf("after swap: %s", got)
	}
	rs := createPlan(t, store, 1, "9.00", now, false)
	if err := plans.Apply(ctx, rs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Pool().Exec(ctx, `DELETE FROM plan_views WHERE plan_id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	if got := wantCounts(t, store); got != "1/cancelled=1 1/pending=19 2/pending=20" {
		t.Fatalf("after swap, a create and a delete: %s", got)
	}
	if res, err = projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: time.Second}); err != nil || len(res.Diffs) != 1 {
		t.Fatalf("replay after a deleted row: %v, %v (want the missing row alone)", res.Diffs, err)
	}

	// The projection compacts an account's deltas every 256 rows it
	// writes for it, listed or not.
	if _, err := store.Pool().Exec(ctx, `INSERT INTO plan_counts SELECT 2, 'pending', 0 FROM generate_series(1, 300)`); err != nil {
		t.Fatal(err)
	}
	other := createPlan(t, store, 2, "8.00", now, false)
	for range 256 {
		if err := plans.Apply(ctx, other[0]); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Pool().QueryRow(ctx, `SELECT count(*) FROM plan_counts WHERE account_id = 2`).Scan(&deltaRows); err != nil || deltaRows != 1 {
		t.Fatalf("account 2 after 256 writes: %d delta rows, %v; want 1", deltaRows, err)
	}
	if got := wantCounts(t, store); got != "1/cancelled=1 1/pending=19 2/pending=21" {
		t.Fatalf("after the projection's compaction: %s", got)
	}
}
