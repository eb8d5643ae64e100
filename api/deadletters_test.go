package api

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"goodplan/eventstore"
	"goodplan/projections"
)

// TestGetDeadLetteredPlanFolds: GET /api/v1/plans/{id} answers a plan whose
// read-model row is behind because the projection set an event aside (a
// dead letter) with the plan folded from the store.
func TestGetDeadLetteredPlanFolds(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	d := env.createPlan(t)
	recs, _, err := env.store.Load(ctx, eventstore.PlanStream(d.PlanID))
	if err != nil {
		t.Fatal(err)
	}
	plans := projections.NewPlans(env.store)
	for _, r := range recs {
		if err := plans.Apply(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	env.selectFirst(t, d) // never projected
	selected := func() bool {
		t.Helper()
		res := env.do(t, "GET", fmt.Sprintf("/api/v1/plans/%d", d.PlanID), env.key, nil)
		if res.status != http.StatusOK {
			t.Fatalf("GET: %d %s", res.status, res.body)
		}
		return decodePlan(t, res).SelectedOptionID != nil
	}
	if selected() {
		t.Fatal("the read model has the selection without projecting it")
	}
	recs, _, err = env.store.Load(ctx, eventstore.PlanStream(d.PlanID))
	if err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	if _, err := env.store.RecordDeadLetter(ctx, eventstore.NewDeadLetter{EventID: last.EventID, StreamID: last.StreamID,
		EventType: last.Type, Consumer: "projection-plans", Attempts: 5, Err: "boom"}); err != nil {
		t.Fatal(err)
	}
	if !selected() {
		t.Fatal("a dead-lettered plan is read from its stale row, not folded")
	}
}
