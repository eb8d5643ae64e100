package projections_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/projections"
)

// TestCatalogPlanProjection: the row follows the plan's events whatever
// order they arrive in (redelivery and an older record leave it alone),
// Get and List read it, a deleted plan stays readable by Get and leaves
// lists, and records of other aggregates are ignored.
func TestCatalogPlanProjection(t *testing.T) {
	t.Parallel()
	store := eventstore.New(pgtest.NewPool(t))
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	recs := appendCatalog(t, store, now) // created, updated (name Starter), a plan group
	cp := projections.NewCatalogPlans(store)
	// The update arrives first: the row is folded from the store, whole.
	for _, i := range []int{1, 0, 1, 2} {
		if err := cp.Apply(ctx, recs[i]); err != nil {
			t.Fatalf("apply %s: %v", recs[i].Type, err)
		}
	}
	got, err := cp.Get(ctx, 1, "starter")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Starter" || got.Version != 2 || got.Amount == nil || got.Amount.String() != "49" ||
		got.Currency != "USD" || got.Interval != domain.Month || got.DeletedAt != nil || string(got.Tax) != "{}" {
		t.Fatalf("row: %+v", got)
	}
	if _, err := cp.Get(ctx, 2, "starter"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("another account's plan: %v", err)
	}
	yes, no := true, false
	for _, c := range []struct {
		q    projections.CatalogListQuery
		want int
	}{
		{projections.CatalogListQuery{AccountID: 1, Limit: 10}, 1},
		{projections.CatalogListQuery{AccountID: 1, Limit: 10, Currency: "USD", Interval: "month", Active: &yes}, 1},
		{projections.CatalogListQuery{AccountID: 1, Limit: 10, Currency: "EUR"}, 0},
		{projections.CatalogListQuery{AccountID: 1, Limit: 10, Active: &no}, 0},
		{projections.CatalogListQuery{AccountID: 1, Limit: 10, UpdatedAfter: got.UpdatedAt}, 0},
		{projections.CatalogListQuery{AccountID: 1, Limit: 10, UpdatedAfter: got.UpdatedAt.Add(-time.Microsecond)}, 1},
		{projections.CatalogListQuery{AccountID: 2, Limit: 10}, 0},
	} {
		items, more, err := cp.List(ctx, c.q)
		if err != nil || len(items) != c.want || more {
			t.Errorf("List(%+v) = %d items, more %v, %v; want %d", c.q, len(items), more, err, c.want)
		}
	}
	if _, _, err := cp.List(ctx, projections.CatalogListQuery{AccountID: 1, Limit: 10, StartingAfter: "nope"}); !errors.Is(err, projections.ErrUnknownCursor) {
		t.Fatalf("unknown cursor: %v", err)
	}
	id, _ := eventstore.CatalogPlanAggregate.IDOf(recs[0].StreamID)
	del, err := eventstore.CatalogPlanAggregate.Run(ctx, store, eventstore.Cmd[*domain.CatalogPlan]{ID: id,
		Meta: eventstore.Metadata{AccountID: 1, Actor: "test"},
		Decide: func(p *domain.CatalogPlan) ([]domain.Event, error) {
			return p.Delete(domain.DeleteCatalogPlan{Now: now.Add(time.Hour)})
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.Apply(ctx, del.Records[0]); err != nil {
		t.Fatal(err)
	}
	got, err = cp.Get(ctx, 1, "starter")
	if err != nil || got.DeletedAt == nil || got.Version != 3 {
		t.Fatalf("deleted plan: %+v, %v", got, err)
	}
	if items, _, err := cp.List(ctx, projections.CatalogListQuery{AccountID: 1, Limit: 10}); err != nil || len(items) != 0 {
		t.Fatalf("a deleted plan is listed: %d, %v", len(items), err)
	}
	// An older record redelivered never moves the row back.
	if err := cp.Apply(ctx, recs[1]); err != nil {
		t.Fatal(err)
	}
	if got, err = cp.GetByID(ctx, 1, id); err != nil || got.Version != 3 {
		t.Fatalf("after redelivery: %+v, %v", got, err)
	}
}
