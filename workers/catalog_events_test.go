package workers_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/projections"
	"goodplan/workers"
)

// handledSet records the events a consumer's handlers returned nil for.
type handledSet struct {
	mu sync.Mutex
	ok map[uuid.UUID]bool
}

func (h *handledSet) wrap(f workers.Handler) workers.Handler {
	return func(ctx context.Context, rec eventstore.Record) error {
		err := f(ctx, rec)
		if err == nil {
			h.mu.Lock()
			h.ok[rec.EventID] = true
			h.mu.Unlock()
		}
		return err
	}
}

func (h *handledSet) wrapBatch(f func(context.Context, []eventstore.Record) error) func(context.Context, []eventstore.Record) error {
	return func(ctx context.Context, recs []eventstore.Record) error {
		err := f(ctx, recs)
		if err == nil {
			h.mu.Lock()
			for _, r := range recs {
				h.ok[r.EventID] = true
			}
			h.mu.Unlock()
		}
		return err
	}
}

func (h *handledSet) missing(recs []eventstore.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range recs {
		if !h.ok[r.EventID] {
			return fmt.Errorf("%s (%s) not handled yet", r.EventID, r.Type)
		}
	}
	return nil
}

// TestConsumersTakeCatalogEvents: catalog plan and plan group events,
// relayed to NATS, are handled without error by every consumer goodplan
// runs (the plan, catalog plan and plan group projections, the email
// worker, the webhook fan-out, even for an endpoint of the account that
// names no type), so none is dead-lettered, no plan row or webhook
// delivery comes of them, the catalog rows do, and the relay publishes
// them.
func TestConsumersTakeCatalogEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := eventstore.New(pool)
	acct, err := store.CreateAccount(ctx, eventstore.NewAccount{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateEndpoint(ctx, eventstore.NewWebhookEndpoint{AccountID: acct.ID, URL: "https://example.com/hook"}); err != nil {
		t.Fatal(err)
	}
	bus := relayBus(t, false)
	runRelay(t, &workers.Relay{Store: store, Bus: bus, Poll: 20 * time.Millisecond})

	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	meta := eventstore.Metadata{AccountID: acct.ID, Actor: "test"}
	planID, _ := store.NextID(ctx)
	cp, err := eventstore.CatalogPlanAggregate.Run(ctx, store, eventstore.Cmd[*domain.CatalogPlan]{ID: planID, Start: true, Meta: meta,
		Decide: func(p *domain.CatalogPlan) ([]domain.Event, error) {
			return p.Create(domain.CreateCatalogPlan{CatalogPlanID: planID, AccountID: acct.ID, ID: "starter", Amount: "49", Now: now})
		}})
	if err != nil {
		t.Fatal(err)
	}
	del, err := eventstore.CatalogPlanAggregate.Run(ctx, store, eventstore.Cmd[*domain.CatalogPlan]{ID: planID, Meta: meta,
		Decide: func(p *domain.CatalogPlan) ([]domain.Event, error) {
			return p.Delete(domain.DeleteCatalogPlan{Now: now})
		}})
	if err != nil {
		t.Fatal(err)
	}
	groupID, _ := store.NextID(ctx)
	g, err := eventstore.PlanGroupAggregate.Run(ctx, store, eventstore.Cmd[*domain.PlanGroup]{ID: groupID, Start: true, Meta: meta,
		Decide: func(g *domain.PlanGroup) ([]domain.Event, error) {
			return g.Create(domain.CreatePlanGroup{PlanGroupID: groupID, AccountID: acct.ID, ID: uuid.New(), Name: "G", Now: now})
		}})
	if err != nil {
		t.Fatal(err)
	}
	recs := append(append(cp.Records, del.Records...), g.Records...)

	plans := projections.NewPlans(store)
	email := &workers.EmailWorker{Store: store, PublicURL: "https://goodplan.example", Now: func() time.Time { return now }}
	fanout := &workers.WebhookFanout{Store: store, PublicURL: "https://goodplan.example"}
	sets := map[string]*handledSet{}
	catalog, groups := projections.NewCatalogPlans(store), projections.NewPlanGroups(store)
	for _, c := range []*workers.Consumer{
		{Durable: "projection-plans", Handle: plans.Apply, BatchHandle: plans.ApplyBatch, Batch: 64},
		{Durable: "projection-catalog-plans", Handle: catalog.Apply, Batch: 16},
		{Durable: "projection-plan-groups", Handle: groups.Apply, Batch: 16},
		{Durable: "email", Handle: email.Handle, Batch: 2},
		{Durable: "webhook-fanout", Handle: fanout.Handle, Batch: 16},
	} {
		h := &handledSet{ok: map[uuid.UUID]bool{}}
		sets[c.Durable] = h
		c.Handle = h.wrap(c.Handle)
		if c.BatchHandle != nil {
			c.BatchHandle = h.wrapBatch(c.BatchHandle)
		}
		c.Bus, c.Store, c.DeadLetterAfter = bus, store, 1
		c.RetryDelay = func(int) time.Duration { return 10 * time.Millisecond }
		runConsumer(t, c)
	}
	for name, h := range sets {
		pgtest.WaitForNil(t, 2*time.Minute, name+" handles every catalog event", func() error { return h.missing(recs) })
	}
	dls, err := store.DeadLetters.List(ctx, true)
	if err != nil || len(dls) != 0 {
		t.Fatalf("dead letters %+v, %v", dls, err)
	}
	for q, want := range map[string]int{`SELECT count(*) FROM plan_views`: 0, `SELECT count(*) FROM webhook_deliveries`: 0,
		`SELECT count(*) FROM catalog_plan_views WHERE deleted_at IS NOT NULL`: 1, `SELECT count(*) FROM plan_group_views`: 1} {
		var n int
		if err := pool.QueryRow(ctx, q).Scan(&n); err != nil || n != want {
			t.Fatalf("%s = %d (%v), want %d", q, n, err, want)
		}
	}
	if msgs := streamMessages(t, bus, len(recs)); len(msgs) != len(recs) {
		t.Fatalf("%d messages relayed, want %d", len(msgs), len(recs))
	}
}
