package projections_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/projections"
)

// TestReplayCatalogPlans: replay rebuilds catalog_plan_views equal to the
// projection's rows, reports a corrupted live row with its public id and
// the column, and --swap repairs it.
func TestReplayCatalogPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := eventstore.New(pool)
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	cp, _ := projectCatalog(t, store, appendCatalog(t, store, now))
	res, err := projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: time.Second})
	if err != nil || len(res.Diffs) != 0 || len(res.Failed) != 0 || res.CatalogPlans != 1 || res.CatalogEvents != 2 ||
		res.Groups != 1 || res.GroupEvents != 1 {
		t.Fatalf("healthy replay: %+v, %v", res, err)
	}
	if _, err := pool.Exec(ctx, `UPDATE catalog_plan_views SET currency = 'EUR'`); err != nil {
		t.Fatal(err)
	}
	res, err = projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: 300 * time.Millisecond})
	if err != nil || len(res.Diffs) != 1 {
		t.Fatalf("corrupted replay: %+v, %v", res, err)
	}
	d := res.Diffs[0]
	if d.PublicID != "starter" || len(d.Fields) != 1 || d.Fields[0].Column != "currency" ||
		d.Fields[0].Rebuilt != `"USD"` || d.Fields[0].Live != `"EUR"` ||
		!strings.HasPrefix(d.String(), "catalog plan starter (") {
		t.Fatalf("diff: %s", d)
	}
	res, err = projections.Replay(ctx, store, projections.ReplayOptions{Swap: true, CatchUpWait: 300 * time.Millisecond})
	if err != nil || !res.Swapped {
		t.Fatalf("swap: %+v, %v", res, err)
	}
	got, err := cp.Get(ctx, 1, "starter")
	if err != nil || got.Currency != "USD" || got.Name != "Starter" {
		t.Fatalf("after swap: %+v, %v", got, err)
	}
	// The swapped table has the live indexes back under their names, and a
	// second replay finds nothing.
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = 'catalog_plan_views'
		AND indexname IN ('catalog_plan_views_pkey', 'catalog_plan_views_list_idx', 'catalog_plan_views_updated_idx', 'catalog_plan_views_public_idx')`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("indexes after swap: %d, %v", n, err)
	}
	if res, err = projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: time.Second}); err != nil || len(res.Diffs) != 0 {
		t.Fatalf("after swap: %+v, %v", res, err)
	}
}

// TestReplayCatalogUnfoldableStream: a catalog plan stream that cannot be
// folded is reported as catalogplan-N and the others are rebuilt; a swap
// keeps its live row.
func TestReplayCatalogUnfoldableStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := eventstore.New(pool)
	cp, _ := projectCatalog(t, store, appendCatalog(t, store, time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)))
	badID, err := store.NextID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bad := eventstore.CatalogPlanAggregate.Stream(badID)
	if _, err := store.Append(ctx, bad, eventstore.Head{},
		[]eventstore.NewEvent{{ID: uuid.New(), Type: domain.EventCatalogPlanCreated, Data: []byte(`not json`)}},
		eventstore.Metadata{AccountID: 1}); err != nil {
		t.Fatal(err)
	}
	res, err := projections.Replay(ctx, store, projections.ReplayOptions{Swap: true, CatchUpWait: 300 * time.Millisecond})
	if err != nil || len(res.Failed) != 1 || res.Failed[0].StreamID != bad || res.CatalogPlans != 1 || len(res.Diffs) != 0 || !res.Swapped {
		t.Fatalf("replay: %+v, %v", res, err)
	}
	if got, err := cp.Get(ctx, 1, "starter"); err != nil || got.Name != "Starter" {
		t.Fatalf("after swap: %+v, %v", got, err)
	}
}

// projectCatalog applies recs to the catalog plan and plan group read
// models, as their consumers do, and returns both.
func projectCatalog(t *testing.T, store *eventstore.Store, recs []eventstore.Record) (*projections.CatalogPlans, *projections.PlanGroups) {
	t.Helper()
	cp, pg := projections.NewCatalogPlans(store), projections.NewPlanGroups(store)
	for _, r := range recs {
		if err := cp.Apply(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		if err := pg.Apply(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return cp, pg
}
