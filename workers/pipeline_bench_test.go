package workers_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
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

// BenchmarkPipelineLatency appends real plan.created events from 16
// concurrent writers while the relay publishes them to (embedded) JetStream
// and the projection consumer writes the plan read model. It reports the
// commit-to-publish latency (append returned -> PubAck) and the projection
// lag (append returned -> read-model row written), median and p99.
func BenchmarkPipelineLatency(b *testing.B) {
	store := eventstore.New(pgtest.NewPool(b))
	bus := relayBusB(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var mu sync.Mutex
	committed := map[uuid.UUID]time.Time{}
	var publish, project []time.Duration
	var nPublished, nProjected int // every event, measured or not
	plans := projections.NewPlans(store)
	projected := func(recs ...eventstore.Record) {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		nProjected += len(recs)
		for _, rec := range recs {
			if t0, ok := committed[rec.EventID]; ok {
				project = append(project, now.Sub(t0))
			}
		}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	relay := &workers.Relay{Store: store, Bus: bus, Log: quiet, Published: func(recs []eventstore.Record) {
		now := time.Now()
		mu.Lock()
		nPublished += len(recs)
		for _, r := range recs {
			if t0, ok := committed[r.EventID]; ok {
				publish = append(publish, now.Sub(t0))
			}
		}
		mu.Unlock()
	}}
	consumer := &workers.Consumer{Bus: bus, Durable: "bench-projection", Concurrency: 4, Log: quiet,
		Handle: func(ctx context.Context, rec eventstore.Record) error {
			if err := plans.Apply(ctx, rec); err != nil {
				return err
			}
			projected(rec)
			return nil
		},
		BatchHandle: func(ctx context.Context, recs []eventstore.Record) error {
			if err := plans.ApplyBatch(ctx, recs); err != nil {
				return err
			}
			projected(recs...)
			return nil
		}}
	go store.RunNotifier(ctx)
	go relay.Run(ctx)
	go consumer.Run(ctx)

	now := time.Now()
	b.SetParallelism(8) // 16 writers on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			next := func() int64 { id, _ := store.NextID(ctx); return id }
			var p domain.Plan
			evs, err := p.CreatePlan(domain.CreatePlan{PlanID: next(), AccountID: 1, CustomerID: next(), InvoiceID: next(),
				OptionIDs: []int64{next(), next(), next()}, PortalToken: uuid.NewString(), Now: now, CustomerName: "Bench", CustomerEmail: "b@example.com",
				Amount: "1200.00", SendIntroductionEmail: true})
			if err != nil {
				b.Error(err)
				return
			}
			newEvs, _ := eventstore.Encode(evs)
			created := evs[0].(domain.PlanCreated)
			if _, err := store.Append(ctx, eventstore.PlanStream(created.PlanID), eventstore.Head{}, newEvs, eventstore.Metadata{AccountID: 1}); err != nil {
				b.Error(err)
				return
			}
			// An event the relay publishes before this line runs is simply
			// not measured (its commit time is not known yet).
			mu.Lock()
			committed[newEvs[0].ID] = time.Now()
			mu.Unlock()
		}
	})
	b.StopTimer()
	pgtest.WaitFor(b, time.Minute, "every event published and projected", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return nProjected >= b.N && nPublished >= b.N
	})
	mu.Lock()
	defer mu.Unlock()
	report := func(name string, d []time.Duration) {
		if len(d) == 0 {
			b.Fatalf("no %s measurements", name)
		}
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, name+"-p50-ms")
		b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, name+"-p99-ms")
	}
	report("publish", publish)
	report("projection", project)
}

func relayBusB(b *testing.B) *workers.Bus {
	b.Helper()
	bus, err := workers.OpenBus(context.Background(), workers.BusConfig{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(bus.Close)
	return bus
}
