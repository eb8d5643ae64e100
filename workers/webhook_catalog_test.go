package workers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/projections"
	"goodplan/workers"
)

// TestWebhookFanoutCatalogEvents: an endpoint subscribed with "*" gets
// every catalog plan and plan group event (and Good Plan's), signed per
// Standard Webhooks, its data the catalog plan or group as the native API
// shows it as of the event; an endpoint that names no type gets Good
// Plan's types alone; one naming plan_group.created gets exactly that.
func TestWebhookFanoutCatalogEvents(t *testing.T) {
	t.Parallel()
	env := newWhEnv(t, nil)
	ctx := context.Background()
	star := env.endpoint(t, "/star", "*")
	none := env.endpoint(t, "/none")
	group := env.endpoint(t, "/group", "plan_group.created")
	d := env.deliverer()
	fan := &workers.WebhookFanout{Store: env.store, PublicURL: "https://goodplan.test/", Notify: d.Wake}
	whRun(t, d)

	// Each record is fanned out as soon as it is appended, as the consumer
	// would.
	var recs []eventstore.Record
	handle := func(out []eventstore.Record, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out {
			if err := fan.Handle(ctx, r); err != nil {
				t.Fatalf("fan out %s: %v", r.Type, err)
			}
		}
		recs = append(recs, out...)
	}
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	meta := eventstore.Metadata{AccountID: env.acct, Actor: "test"}
	planID, _ := env.store.NextID(ctx)
	cp := func(decide func(*domain.CatalogPlan) ([]domain.Event, error), start bool) {
		out, err := eventstore.CatalogPlanAggregate.Run(ctx, env.store, eventstore.Cmd[*domain.CatalogPlan]{ID: planID, Start: start, Meta: meta, Decide: decide})
		handle(out.Records, err)
	}
	groupID, _ := env.store.NextID(ctx)
	gid := uuid.New()
	pg := func(decide func(*domain.PlanGroup) ([]domain.Event, error), start bool) {
		out, err := eventstore.PlanGroupAggregate.Run(ctx, env.store, eventstore.Cmd[*domain.PlanGroup]{ID: groupID, Start: start, Meta: meta, Decide: decide})
		handle(out.Records, err)
	}
	cp(func(p *domain.CatalogPlan) ([]domain.Event, error) {
		return p.Create(domain.CreateCatalogPlan{CatalogPlanID: planID, AccountID: env.acct, ID: "starter", Name: "Starter",
			Amount: "49.50", Now: now})
	}, true)
	name := "Starter plus"
	cp(func(p *domain.CatalogPlan) ([]domain.Event, error) {
		return p.Update(domain.UpdateCatalogPlan{Name: &name, Now: now.Add(time.Minute)})
	}, false)
	pg(func(g *domain.PlanGroup) ([]domain.Event, error) {
		return g.Create(domain.CreatePlanGroup{PlanGroupID: groupID, AccountID: env.acct, ID: gid, Name: "Tiers",
			Members: []domain.MemberInput{{Ref: "starter", ID: planID}, {Kind: "payment_plan", Ref: "7", ID: 7}}, Now: now})
	}, true)
	pg(func(g *domain.PlanGroup) ([]domain.Event, error) {
		return g.Update(domain.UpdatePlanGroup{Name: "Tiers 2", Now: now.Add(time.Minute)})
	}, false)
	pg(func(g *domain.PlanGroup) ([]domain.Event, error) {
		return g.Delete(domain.DeletePlanGroup{Now: now.Add(time.Hour)})
	}, false)
	cp(func(p *domain.CatalogPlan) ([]domain.Event, error) {
		return p.Delete(domain.DeleteCatalogPlan{Now: now.Add(time.Hour)})
	}, false)
	handle([]eventstore.Record{whPlan(t, env.store, env.acct)}, nil)

	types := func(path string) []string {
		var out []string
		for _, h := range env.recv.got(path) {
			var b struct{ Event string }
			_ = json.Unmarshal(h.body, &b)
			out = append(out, b.Event)
		}
		slices.Sort(out)
		return out
	}
	// Every delivery is enqueued by now (Handle returned): wait for them.
	enqueued := whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_deliveries`)
	pgtest.WaitForNil(t, 10*time.Second, "every delivery", func() error {
		if n := len(env.recv.got("")); n < enqueued {
			return fmt.Errorf("%d of %d deliveries so far", n, enqueued)
		}
		return nil
	})
	if enqueued != 9 {
		t.Fatalf("%d deliveries enqueued, want 9 (7 to *, 1 to none, 1 to plan_group.created)", enqueued)
	}
	if got, want := types("/star"), []string{"catalog_plan.created", "catalog_plan.deleted", "catalog_plan.updated",
		"plan.created", "plan_group.created", "plan_group.deleted", "plan_group.updated"}; !slices.Equal(got, want) {
		t.Fatalf("* endpoint got %v, want %v", got, want)
	}
	if got := types("/none"); !slices.Equal(got, []string{"plan.created"}) {
		t.Fatalf("endpoint naming no type got %v, want plan.created alone", got)
	}
	if got := types("/group"); !slices.Equal(got, []string{"plan_group.created"}) {
		t.Fatalf("plan_group.created endpoint got %v", got)
	}
	for _, ep := range []eventstore.WebhookEndpoint{star, none, group} {
		pgtest.WaitForNil(t, 5*time.Second, "deliveries recorded", func() error {
			for _, dl := range env.deliveries(t, ep.ID) {
				if dl.State != eventstore.DeliverySucceeded {
					return fmt.Errorf("delivery %d to endpoint %d is %s", dl.ID, ep.ID, dl.State)
				}
			}
			return nil
		})
	}

	// The catalog_plan.created delivery: the plan as of its creation, as
	// the native API shows it; the receiver verified its signature.
	hit := func(path string, rec eventstore.Record) whHit {
		t.Helper()
		for _, h := range env.recv.got(path) {
			if h.id == workers.WebhookMessageID(rec.EventID) {
				return h
			}
		}
		t.Fatalf("no delivery of %s to %s", rec.Type, path)
		return whHit{}
	}
	created, err := eventstore.CatalogPlanAggregate.Fold(eventstore.CatalogPlanAggregate.New(), recs[:1])
	if err != nil {
		t.Fatal(err)
	}
	wantPlan, _ := json.Marshal(projections.CatalogPlanOf(created))
	checkBody(t, hit("/star", recs[0]), recs[0], wantPlan)
	var planData map[string]any
	_ = json.Unmarshal(wantPlan, &planData)
	if planData["id"] != "starter" || planData["name"] != "Starter" || planData["amount"] != "49.50" || planData["deleted_at"] != nil {
		t.Fatalf("catalog_plan.created data %s", wantPlan)
	}
	deleted := recs[5]
	if deleted.Type != domain.EventCatalogPlanDeleted {
		t.Fatalf("record 5 is %s", deleted.Type)
	}
	var del struct{ Data projections.CatalogPlan }
	if err := json.Unmarshal(hit("/star", deleted).body, &del); err != nil || del.Data.DeletedAt == nil || del.Data.Name != name {
		t.Fatalf("catalog_plan.deleted data %+v, %v", del.Data, err)
	}

	// The plan_group.created delivery: the group as the native API shows
	// it, its catalog plan resolved.
	gh := hit("/group", recs[2])
	wantGroup, _ := json.Marshal(projections.PlanGroupView{ID: gid.String(), Name: "Tiers",
		Plans:        []projections.GroupPlanView{{ID: "starter", Name: name, Currency: "USD", Interval: "month", IntervalCount: 1}},
		PaymentPlans: []int64{7}, CreatedAt: now, UpdatedAt: recs[2].RecordedAt.UTC()})
	checkBody(t, gh, recs[2], wantGroup)
	if !bytes.Equal(gh.body, hit("/star", recs[2]).body) {
		t.Fatal("the two endpoints got different plan_group.created bodies")
	}
}

// checkBody fails unless h is the delivery of rec with data want, in the
// envelope of every delivery (event, timestamp in UTC, data), its
// signature verified; it returns the data.
func checkBody(t *testing.T, h whHit, rec eventstore.Record, want []byte) json.RawMessage {
	t.Helper()
	if h.err != nil {
		t.Errorf("%s: the signature did not verify: %v", rec.Type, h.err)
	}
	var body struct {
		Event     string          `json:"event"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(h.body, &body); err != nil || json.Unmarshal(h.body, &keys) != nil || len(keys) != 3 {
		t.Fatalf("body %s: %v", h.body, err)
	}
	ts, err := time.Parse(time.RFC3339Nano, body.Timestamp)
	if body.Event != rec.Type || err != nil || !ts.Equal(rec.RecordedAt) || !strings.HasSuffix(body.Timestamp, "Z") {
		t.Errorf("event %q timestamp %q, want %s at %v", body.Event, body.Timestamp, rec.Type, rec.RecordedAt)
	}
	if !bytes.Equal(body.Data, want) {
		t.Errorf("%s data\n got %s\nwant %s", rec.Type, body.Data, want)
	}
	return body.Data
}
