package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/projections"
)

// appendCatalog stores a catalog plan (created, then updated) and a plan
// group through the command path and returns their records.
func appendCatalog(t *testing.T, store *eventstore.Store, now time.Time) []eventstore.Record {
	t.Helper()
	ctx := context.Background()
	meta := eventstore.Metadata{AccountID: 1, Actor: "test"}
	planID, err := store.NextID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	created, err := eventstore.CatalogPlanAggregate.Run(ctx, store, eventstore.Cmd[*domain.CatalogPlan]{ID: planID, Start: true, Meta: meta,
		Decide: func(p *domain.CatalogPlan) ([]domain.Event, error) {
			return p.Create(domain.CreateCatalogPlan{CatalogPlanID: planID, AccountID: 1, ID: "starter", Amount: "49", Now: now})
		}})
	if err != nil {
		t.Fatal(err)
	}
	name := "Starter"
	updated, err := eventstore.CatalogPlanAggregate.Run(ctx, store, eventstore.Cmd[*domain.CatalogPlan]{ID: planID, Meta: meta,
		Decide: func(p *domain.CatalogPlan) ([]domain.Event, error) {
			return p.Update(domain.UpdateCatalogPlan{Name: &name, Now: now})
		}})
	if err != nil {
		t.Fatal(err)
	}
	groupID, err := store.NextID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	group, err := eventstore.PlanGroupAggregate.Run(ctx, store, eventstore.Cmd[*domain.PlanGroup]{ID: groupID, Start: true, Meta: meta,
		Decide: func(g *domain.PlanGroup) ([]domain.Event, error) {
			return g.Create(domain.CreatePlanGroup{PlanGroupID: groupID, AccountID: 1, ID: uuid.New(), Name: "G",
				Members: []domain.MemberInput{{Ref: "starter", ID: planID}}, Now: now})
		}})
	if err != nil {
		t.Fatal(err)
	}
	return append(append(created.Records, updated.Records...), group.Records...)
}

// TestPlanProjectionSkipsCatalogEvents: the payment plan read model's
// consumer path (Apply, ApplyBatch) and replay take catalog plan and plan
// group events without error and without a row, next to a payment plan.
func TestPlanProjectionSkipsCatalogEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := eventstore.New(pool)
	plans := projections.NewPlans(store)
	now := time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC)
	recs := append(createPlan(t, store, 1, "10.00", now, true), appendCatalog(t, store, now)...)
	if recs[len(recs)-3].Type != domain.EventCatalogPlanCreated {
		t.Fatalf("records %v", recs)
	}
	for _, r := range recs {
		if err := plans.Apply(ctx, r); err != nil {
			t.Fatalf("apply %s: %v", r.Type, err)
		}
	}
	if err := plans.ApplyBatch(ctx, recs); err != nil {
		t.Fatalf("apply batch: %v", err)
	}
	projectCatalog(t, store, recs)
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM plan_views`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("%d plan rows (%v), want 1", rows, err)
	}
	res, err := projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: time.Second})
	if err != nil || len(res.Failed) != 0 || len(res.Diffs) != 0 || res.Plans != 1 || res.CatalogPlans != 1 || res.Groups != 1 {
		t.Fatalf("replay: %+v, %v", res, err)
	}
	if _, err := store.Verify(ctx); err != nil {
		t.Fatalf("verify: %v", err)
	}
}
