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

// TestReplayPlanGroups: replay rebuilds plan_group_views equal to the
// projection's rows, also for a group whose catalog plan was deleted (the
// row keeps the member, as the projection does; showing the group leaves
// it out); a corrupted, a missing and an extra live row are each reported
// with the group's id, and --swap repairs all three.
func TestReplayPlanGroups(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := eventstore.New(pool)
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	meta := eventstore.Metadata{AccountID: 1, Actor: "test"}
	recs := appendCatalog(t, store, now) // plan "starter" and a group holding it
	pro, err := store.NextID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	run := func(out eventstore.Outcome[*domain.CatalogPlan], err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, out.Records...)
	}
	run(eventstore.CatalogPlanAggregate.Run(ctx, store, eventstore.Cmd[*domain.CatalogPlan]{ID: pro, Start: true, Meta: meta,
		Decide: func(p *domain.CatalogPlan) ([]domain.Event, error) {
			return p.Create(domain.CreateCatalogPlan{CatalogPlanID: pro, AccountID: 1, ID: "pro", Amount: "99", Now: now})
		}}))
	starter, _ := eventstore.CatalogPlanAggregate.IDOf(recs[0].StreamID)
	groupIDs := [2]uuid.UUID{uuid.New(), uuid.New()}
	var groups [2]int64
	for i := range groups {
		groups[i], err = store.NextID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out, err := eventstore.PlanGroupAggregate.Run(ctx, store, eventstore.Cmd[*domain.PlanGroup]{ID: groups[i], Start: true, Meta: meta,
			Decide: func(g *domain.PlanGroup) ([]domain.Event, error) {
				return g.Create(domain.CreatePlanGroup{PlanGroupID: groups[i], AccountID: 1, ID: groupIDs[i], Name: "Tiers",
					Members: []domain.MemberInput{{Ref: "starter", ID: starter}, {Ref: "pro", ID: pro},
						{Kind: "payment_plan", Ref: "7", ID: 7}}, Now: now})
			}})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, out.Records...)
	}
	run(eventstore.CatalogPlanAggregate.Run(ctx, store, eventstore.Cmd[*domain.CatalogPlan]{ID: pro, Meta: meta,
		Decide: func(p *domain.CatalogPlan) ([]domain.Event, error) {
			return p.Delete(domain.DeleteCatalogPlan{Now: now.Add(time.Hour)})
		}}))
	_, pg := projectCatalog(t, store, recs)

	res, err := projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: time.Second})
	if err != nil || len(res.Diffs) != 0 || len(res.Failed) != 0 || res.Groups != 3 || res.GroupEvents != 3 || res.CatalogPlans != 2 {
		t.Fatalf("healthy replay: %+v, %v", res, err)
	}
	g, err := pg.Get(ctx, 1, groupIDs[0])
	if err != nil || len(g.Members) != 3 {
		t.Fatalf("group row: %+v, %v", g, err)
	}
	shown, err := pg.Render(ctx, 1, []projections.PlanGroup{g})
	if err != nil || len(shown[0].Plans) != 1 || shown[0].Plans[0].ID != "starter" || len(shown[0].PaymentPlans) != 1 {
		t.Fatalf("shown: %+v, %v", shown, err)
	}

	// Corrupt one row, delete another, add one the events never made.
	if _, err := pool.Exec(ctx, `UPDATE plan_group_views SET name = 'Tampered' WHERE public_id = $1`, groupIDs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM plan_group_views WHERE public_id = $1`, groupIDs[1]); err != nil {
		t.Fatal(err)
	}
	extra := uuid.New()
	if _, err := pool.Exec(ctx, `INSERT INTO plan_group_views SELECT 999999, account_id, $1, name, members, version,
		created_at, updated_at, deleted_at FROM plan_group_views WHERE public_id = $2`, extra, groupIDs[0]); err != nil {
		t.Fatal(err)
	}
	res, err = projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: 300 * time.Millisecond})
	if err != nil || len(res.Diffs) != 3 {
		t.Fatalf("corrupted replay: %+v, %v", res, err)
	}
	want := map[string]string{
		"plan group " + groupIDs[0].String() + " (":  "live row differs from the rebuilt one",
		"plan group " + groupIDs[1].String() + " (":  "missing from the live read model",
		"plan group " + extra.String() + " (999999)": "in the live read model but not in the event store",
	}
	for _, d := range res.Diffs {
		found := false
		for prefix, reason := range want {
			if strings.HasPrefix(d.String(), prefix) && d.Reason == reason {
				found = true
				delete(want, prefix)
			}
		}
		if !found || d.Kind != "plan group" {
			t.Errorf("unexpected diff: %s", d)
		}
		if d.Reason == "live row differs from the rebuilt one" &&
			(len(d.Fields) != 1 || d.Fields[0].Column != "name" || d.Fields[0].Rebuilt != `"Tiers"` || d.Fields[0].Live != `"Tampered"`) {
			t.Errorf("fields of %s", d)
		}
	}
	if len(want) != 0 {
		t.Fatalf("diffs not reported: %v", want)
	}

	res, err = projections.Replay(ctx, store, projections.ReplayOptions{Swap: true, CatchUpWait: 300 * time.Millisecond})
	if err != nil || !res.Swapped {
		t.Fatalf("swap: %+v, %v", res, err)
	}
	for _, id := range groupIDs {
		if g, err := pg.Get(ctx, 1, id); err != nil || g.Name != "Tiers" || len(g.Members) != 3 {
			t.Fatalf("group %s after swap: %+v, %v", id, g, err)
		}
	}
	if g, err := pg.Get(ctx, 1, extra); err == nil {
		t.Fatalf("the extra row survived the swap: %+v", g)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = 'plan_group_views'
		AND indexname IN ('plan_group_views_pkey', 'plan_group_views_list_idx', 'plan_group_views_public_key')`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("indexes after swap: %d, %v", n, err)
	}
	if res, err = projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: time.Second}); err != nil || len(res.Diffs) != 0 {
		t.Fatalf("after swap: %+v, %v", res, err)
	}
	// The projection goes on writing to the swapped table.
	out, err := eventstore.PlanGroupAggregate.Run(ctx, store, eventstore.Cmd[*domain.PlanGroup]{ID: groups[0], Meta: meta,
		Decide: func(g *domain.PlanGroup) ([]domain.Event, error) {
			return g.Update(domain.UpdatePlanGroup{Name: "Renamed", Now: now.Add(2 * time.Hour)})
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.Apply(ctx, out.Records[0]); err != nil {
		t.Fatal(err)
	}
	if g, err := pg.Get(ctx, 1, groupIDs[0]); err != nil || g.Name != "Renamed" || len(g.Members) != 0 {
		t.Fatalf("after an update: %+v, %v", g, err)
	}
}
