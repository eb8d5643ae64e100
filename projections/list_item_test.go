package projections_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"goodplan/projections"
)

// wantListItems fails unless every plan of account 1 has its list item
// stored (list_item) and each item of the API's list, under two public
// URLs (one with characters JSON escapes), is byte for byte the JSON of
// the plan rendered from its row's columns (Get), in list order.
func wantListItems(t *testing.T, plans *projections.Plans) {
	t.Helper()
	ctx := context.Background()
	var missing, n int
	if err := plans.Store.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE list_item IS NULL), count(*)
		FROM plan_views WHERE account_id = 1`).Scan(&missing, &n); err != nil {
		t.Fatal(err)
	}
	if missing != 0 || n == 0 {
		t.Fatalf("%d of %d rows have no list_item", missing, n)
	}
	for _, url := range []string{publicURL, "https://pay.example.com/a&b<c>\u2028"} {
		page, err := plans.PageJSON(ctx, projections.ListQuery{AccountID: 1, Limit: 100}, url)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != n {
			t.Fatalf("%d items, want %d", len(page.Items), n)
		}
		for _, item := range page.Items {
			var head struct {
				PlanID int64 `json:"plan_id"`
			}
			if err := json.Unmarshal(item, &head); err != nil {
				t.Fatalf("item %s: %v", item, err)
			}
			d, err := plans.Get(ctx, 1, head.PlanID, url)
			if err != nil {
				t.Fatal(err)
			}
			if want := mustJSON(t, d); string(item) != want {
				t.Fatalf("plan %d list item\n%s\nwant (from its columns)\n%s", head.PlanID, item, want)
			}
		}
	}
}

// TestListItemWithoutStoredJSON checks that a row written before
// migration 024 (no list_item) is listed as it was: rendered from its
// columns, in its place.
func TestListItemWithoutStoredJSON(t *testing.T) {
	t.Parallel()
	l := newLifecycleStore(t)
	plans := projections.NewPlans(l.store)
	ctx := context.Background()
	var ids []int64
	for _, amount := range []string{"100.00", "200.00", "300.00"} {
		for _, r := range createPlan(t, l.store, 1, amount, time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC), false) {
			if err := plans.Apply(ctx, r); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, mustPlanID(t, r.StreamID))
		}
	}
	before, err := plans.PageJSON(ctx, projections.ListQuery{AccountID: 1, Limit: 10}, publicURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.store.Pool().Exec(ctx, `UPDATE plan_views SET list_item = NULL WHERE plan_id = $1`, ids[1]); err != nil {
		t.Fatal(err)
	}
	after, err := plans.PageJSON(ctx, projections.ListQuery{AccountID: 1, Limit: 10}, publicURL)
	if err != nil {
		t.Fatal(err)
	}
	if mustJSON(t, after.Items) != mustJSON(t, before.Items) || len(after.Items) != 3 {
		t.Fatalf("without list_item\n%s\nwith it\n%s", mustJSON(t, after.Items), mustJSON(t, before.Items))
	}
}
