package eventstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/domain"
	"goodplan/eventstore"
)

// TestCatalogStreamsAreNotPaymentPlans: the catalog's streams can never
// be read as payment plan streams, and each aggregate only knows its own.
func TestCatalogStreamsAreNotPaymentPlans(t *testing.T) {
	for _, s := range []string{eventstore.CatalogPlanAggregate.Stream(42), eventstore.PlanGroupAggregate.Stream(42),
		"catalogplan-1", "plangroup-1", "plan-group-1", "plan-catalog-1"} {
		if id, ok := eventstore.PlanIDOf(s); ok {
			t.Errorf("PlanIDOf(%q) = %d, true; want false", s, id)
		}
	}
	if s := eventstore.CatalogPlanAggregate.Stream(42); s != "catalogplan-42" {
		t.Fatalf("catalog plan stream %q", s)
	}
	if s := eventstore.PlanGroupAggregate.Stream(42); s != "plangroup-42" {
		t.Fatalf("plan group stream %q", s)
	}
	if _, ok := eventstore.CatalogPlanAggregate.IDOf(eventstore.PlanGroupAggregate.Stream(1)); ok {
		t.Fatal("a plan group stream reads as a catalog plan stream")
	}
	if _, ok := eventstore.PlanGroupAggregate.IDOf(eventstore.PlanStream(1)); ok {
		t.Fatal("a payment plan stream reads as a plan group stream")
	}
	if id, ok := eventstore.CatalogPlanAggregate.IDOf("catalogplan-7"); !ok || id != 7 {
		t.Fatalf("IDOf(catalogplan-7) = %d, %v", id, ok)
	}
}

func TestCatalogPlanAndGroupOnTheCommandPath(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	cp := eventstore.CatalogPlanAggregate
	planID, err := s.NextID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	meta := func(cmd string) eventstore.Metadata {
		return eventstore.Metadata{AccountID: 1, Actor: "test", CommandID: cmd}
	}
	create := func(id int64) eventstore.Cmd[*domain.CatalogPlan] {
		return eventstore.Cmd[*domain.CatalogPlan]{ID: id, Start: true, Meta: meta("create-starter"), RequestHash: []byte("h"),
			Decide: func(p *domain.CatalogPlan) ([]domain.Event, error) {
				return p.Create(domain.CreateCatalogPlan{CatalogPlanID: id, AccountID: 1, ID: "starter", Name: "Starter",
					CatalogItem: "software-subscription", Amount: "49", Interval: "month", PricingMode: "per_unit", Now: now})
			}}
	}
	first, err := cp.Run(ctx, s, create(planID))
	if err != nil {
		t.Fatal(err)
	}
	if first.Replayed || first.State.PublicID() != "starter" || first.Records[0].StreamID != cp.Stream(planID) {
		t.Fatalf("create: %+v", first)
	}
	// A retry of the create with a fresh id answers with the first plan.
	again, err := cp.Run(ctx, s, create(planID+1))
	if err != nil || !again.Replayed || again.State.ID() != planID || again.Records[0].EventID != first.Records[0].EventID {
		t.Fatalf("replayed create: %+v, %v", again, err)
	}

	name := "Starter plus"
	update := eventstore.Cmd[*domain.CatalogPlan]{ID: planID, Meta: meta("update-1"), RequestHash: []byte("u"),
		Decide: func(p *domain.CatalogPlan) ([]domain.Event, error) {
			return p.Update(domain.UpdateCatalogPlan{Name: &name, Now: now.Add(time.Minute)})
		}}
	for range 2 {
		out, err := cp.Run(ctx, s, update)
		if err != nil || out.State.Name() != name || out.State.Version() != 2 {
			t.Fatalf("update: %+v, %v", out, err)
		}
	}
	del := eventstore.Cmd[*domain.CatalogPlan]{ID: planID, Meta: meta("delete-1"),
		Decide: func(p *domain.CatalogPlan) ([]domain.Event, error) {
			return p.Delete(domain.DeleteCatalogPlan{Now: now.Add(2 * time.Minute)})
		}}
	out, err := cp.Run(ctx, s, del)
	if err != nil || !out.State.Deleted() || out.State.Version() != 3 {
		t.Fatalf("delete: %+v, %v", out, err)
	}
	del.Meta.CommandID = "delete-2"
	var nf *domain.NotFoundError
	if _, err := cp.Run(ctx, s, del); !errors.As(err, &nf) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := cp.Run(ctx, s, eventstore.Cmd[*domain.CatalogPlan]{ID: planID + 100, Decide: update.Decide}); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("update of no plan: %v", err)
	}
	loaded, _, _, err := cp.Load(ctx, s, planID)
	if err != nil || !loaded.Deleted() || loaded.Name() != name {
		t.Fatalf("load: %+v, %v", loaded, err)
	}

	pg := eventstore.PlanGroupAggregate
	groupID, err := s.NextID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gid := uuid.New()
	gcreate := eventstore.Cmd[*domain.PlanGroup]{ID: groupID, Start: true, Meta: meta("group-1"),
		Decide: func(g *domain.PlanGroup) ([]domain.Event, error) {
			return g.Create(domain.CreatePlanGroup{PlanGroupID: groupID, AccountID: 1, ID: gid, Name: "Premium",
				Members: []domain.MemberInput{{Ref: "starter", ID: planID}}, Now: now})
		}}
	gout, err := pg.Run(ctx, s, gcreate)
	if err != nil || gout.State.PublicID() != gid || len(gout.State.Members()) != 1 {
		t.Fatalf("group create: %+v, %v", gout, err)
	}
	gupdate := eventstore.Cmd[*domain.PlanGroup]{ID: groupID, Meta: meta("group-2"),
		Decide: func(g *domain.PlanGroup) ([]domain.Event, error) {
			return g.Update(domain.UpdatePlanGroup{Name: "Basic",
				Members: []domain.MemberInput{{Kind: "payment_plan", Ref: "42", ID: 42}}, Now: now.Add(time.Minute)})
		}}
	for range 2 {
		gout, err = pg.Run(ctx, s, gupdate)
		if err != nil || gout.State.Name() != "Basic" || gout.State.Version() != 2 {
			t.Fatalf("group update: %+v, %v", gout, err)
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM events`); n != 5 {
		t.Fatalf("%d events stored, want 5 (replays write nothing)", n)
	}
	res, err := s.Verify(ctx)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if res.Events != 5 || res.Streams != 2 {
		t.Fatalf("verify checked %+v, want 5 events in 2 streams", res)
	}
}
