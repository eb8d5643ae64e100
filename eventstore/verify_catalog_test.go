package eventstore_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/domain"
	"goodplan/eventstore"
)

// TestVerifyCatalog: with catalog plans created and deleted through the
// command path, catalog_plan_ids agrees with the events; each way a
// reservation row can be corrupted (released while the plan lives, held
// after its deletion, missing, renamed, moved to another account, one
// without events) is reported as a problem naming the plan, and the hash
// chains stay intact all along.
func TestVerifyCatalog(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	cp := eventstore.CatalogPlanAggregate
	meta := eventstore.Metadata{AccountID: 1, Actor: "test"}
	create := func(publicID string) int64 {
		t.Helper()
		id, err := s.NextID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cp.Run(ctx, s, eventstore.Cmd[*domain.CatalogPlan]{ID: id, Start: true, Meta: meta,
			Options: []eventstore.AppendOption{eventstore.WithCatalogPlanID(1, publicID, id)},
			Decide: func(p *domain.CatalogPlan) ([]domain.Event, error) {
				return p.Create(domain.CreateCatalogPlan{CatalogPlanID: id, AccountID: 1, ID: publicID, Amount: "49", Now: now})
			}}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	live, gone := create("starter"), create("legacy")
	if _, err := cp.Run(ctx, s, eventstore.Cmd[*domain.CatalogPlan]{ID: gone, Meta: meta,
		Options: []eventstore.AppendOption{eventstore.WithCatalogPlanRelease(gone)},
		Decide: func(p *domain.CatalogPlan) ([]domain.Event, error) {
			return p.Delete(domain.DeleteCatalogPlan{Now: now})
		}}); err != nil {
		t.Fatal(err)
	}
	groupID, err := s.NextID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eventstore.PlanGroupAggregate.Run(ctx, s, eventstore.Cmd[*domain.PlanGroup]{ID: groupID, Start: true, Meta: meta,
		Decide: func(g *domain.PlanGroup) ([]domain.Event, error) {
			return g.Create(domain.CreatePlanGroup{PlanGroupID: groupID, AccountID: 1, ID: uuid.New(), Name: "G",
				Members: []domain.MemberInput{{Ref: "starter", ID: live}, {Ref: "legacy", ID: gone}}, Now: now})
		}}); err != nil {
		t.Fatal(err)
	}
	res, err := s.VerifyCatalog(ctx)
	if err != nil || len(res.Problems) != 0 || res.CatalogPlans != 2 || res.PlanGroups != 1 || res.Reservations != 2 {
		t.Fatalf("healthy catalog: %+v, %v", res, err)
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE ids_backup AS SELECT * FROM catalog_plan_ids`); err != nil {
		t.Fatal(err)
	}
	liveStream, goneStream := cp.Stream(live), cp.Stream(gone)
	ids := strconv.FormatInt(live, 10)
	for _, c := range []struct {
		name, corrupt, stream, reason string
	}{
		{"released while the plan lives", `UPDATE catalog_plan_ids SET released_at = now() WHERE catalog_plan_id = ` + ids,
			liveStream, `catalog plan "starter" is not deleted but catalog_plan_ids released its id at `},
		{"held after the deletion", `UPDATE catalog_plan_ids SET released_at = NULL WHERE public_id = 'legacy'`,
			goneStream, `catalog plan "legacy" was deleted but catalog_plan_ids still holds its id`},
		{"released at another time", `UPDATE catalog_plan_ids SET released_at = released_at + interval '1 second' WHERE public_id = 'legacy'`,
			goneStream, `catalog_plan_ids released "legacy" at `},
		{"missing", `DELETE FROM catalog_plan_ids WHERE catalog_plan_id = ` + ids,
			liveStream, `catalog plan "starter" of account 1 has no row in catalog_plan_ids`},
		{"renamed", `UPDATE catalog_plan_ids SET public_id = 'other' WHERE catalog_plan_id = ` + ids,
			liveStream, `catalog_plan_ids reserves "other" in account 1, the events say "starter" in account 1`},
		{"another account", `UPDATE catalog_plan_ids SET account_id = 2 WHERE catalog_plan_id = ` + ids,
			liveStream, `catalog_plan_ids reserves "starter" in account 2, the events say "starter" in account 1`},
		{"reserved at another time", `UPDATE catalog_plan_ids SET reserved_at = reserved_at - interval '1 day' WHERE catalog_plan_id = ` + ids,
			liveStream, `catalog_plan_ids reserved "starter" at `},
		{"without events", `INSERT INTO catalog_plan_ids VALUES (1, 'ghost', 424242, now(), NULL)`,
			"", `catalog_plan_ids reserves "ghost" in account 1 for catalog plan 424242, which has no events`},
	} {
		if _, err := pool.Exec(ctx, c.corrupt); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		res, err := s.VerifyCatalog(ctx)
		if err != nil || len(res.Problems) != 1 || res.Problems[0].StreamID != c.stream || !strings.HasPrefix(res.Problems[0].Reason, c.reason) {
			t.Errorf("%s: %+v, %v; want one problem of %q: %s", c.name, res.Problems, err, c.stream, c.reason)
		}
		if _, err := pool.Exec(ctx, `DELETE FROM catalog_plan_ids; INSERT INTO catalog_plan_ids SELECT * FROM ids_backup`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Verify(ctx); err != nil {
			t.Fatalf("%s: the hash chains: %v", c.name, err)
		}
	}
	if res, err := s.VerifyCatalog(ctx); err != nil || len(res.Problems) != 0 {
		t.Fatalf("restored: %+v, %v", res, err)
	}
	// A group of account 2 naming account 1's plan (only an append below
	// the API could write it) is reported too.
	other, err := s.NextID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eventstore.PlanGroupAggregate.Run(ctx, s, eventstore.Cmd[*domain.PlanGroup]{ID: other, Start: true,
		Meta: eventstore.Metadata{AccountID: 2, Actor: "test"},
		Decide: func(g *domain.PlanGroup) ([]domain.Event, error) {
			return g.Create(domain.CreatePlanGroup{PlanGroupID: other, AccountID: 2, ID: uuid.New(), Name: "G",
				Members: []domain.MemberInput{{Ref: "starter", ID: live}}, Now: now})
		}}); err != nil {
		t.Fatal(err)
	}
	res, err = s.VerifyCatalog(ctx)
	if err != nil || len(res.Problems) != 1 || res.Problems[0].StreamID != eventstore.PlanGroupAggregate.Stream(other) ||
		res.Problems[0].Reason != `member "starter" is catalog plan `+ids+`, which is no catalog plan of account 2` {
		t.Fatalf("group with another account's plan: %+v, %v", res.Problems, err)
	}
}
