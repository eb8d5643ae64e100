package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"

	"goodplan/api"
	"goodplan/eventstore"
	"goodplan/projections"
	"goodplan/workers"
)

// pipeTracker timestamps each event when the relay's PubAcks arrive and
// when the projection has committed it. An event's latency is measured from
// its RecordedAt, which the store sets just before the append statement
// runs (so it includes the append's own round trip and commit).
type pipeTracker struct {
	mu               sync.Mutex
	winStart, winEnd time.Time // events recorded in this window are measured
	publish, project latencies
	projectedInWin   int // events whose projection committed inside the window
	published        map[uuid.UUID]struct{}
	projected        map[uuid.UUID]struct{}
}

func newPipeTracker() *pipeTracker {
	return &pipeTracker{published: map[uuid.UUID]struct{}{}, projected: map[uuid.UUID]struct{}{}}
}

func (t *pipeTracker) inWindow(at time.Time) bool {
	return !at.Before(t.winStart) && at.Before(t.winEnd)
}

func (t *pipeTracker) onPublished(recs []eventstore.Record) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, rec := range recs {
		if _, seen := t.published[rec.EventID]; seen {
			continue
		}
		t.published[rec.EventID] = struct{}{}
		if t.inWindow(rec.RecordedAt) {
			t.publish = append(t.publish, now.Sub(rec.RecordedAt))
		}
	}
}

func (t *pipeTracker) onProjected(recs ...eventstore.Record) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, rec := range recs {
		if _, seen := t.projected[rec.EventID]; seen {
			continue
		}
		t.projected[rec.EventID] = struct{}{}
		if t.inWindow(rec.RecordedAt) {
			t.project = append(t.project, now.Sub(rec.RecordedAt))
		}
		if t.inWindow(now) {
			t.projectedInWin++
		}
	}
}

// begin starts measuring a new phase.
func (t *pipeTracker) begin(start, end time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.winStart, t.winEnd = start, end
	t.publish, t.project, t.projectedInWin = nil, nil, 0
}

func (t *pipeTracker) counts() (published, projected int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.published), len(t.projected)
}

// pipeline is step 4, in-process: the API, the relay and the projection
// consumer wired as serve wires them, on a fresh database and an embedded
// NATS.
func (r *runner) pipeline(ctx context.Context) error {
	dbURL, err := r.dbs.create(ctx, true)
	if err != nil {
		return err
	}
	pool, err := openPool(ctx, dbURL, 24) // serve's default pool size
	if err != nil {
		return err
	}
	defer pool.Close()
	store := eventstore.New(pool)
	acct, err := store.CreateAccount(ctx, eventstore.NewAccount{Name: "Bench Merchant"})
	if err != nil {
		return err
	}
	key, err := store.CreateAPIKey(ctx, acct.ID)
	if err != nil {
		return err
	}
	bus, err := workers.OpenBus(ctx, workers.BusConfig{DataDir: filepath.Join(r.tmp, "pipeline-nats")})
	if err != nil {
		return err
	}
	defer bus.Close()

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tr := newPipeTracker()
	plans := projections.NewPlans(store)
	relay := &workers.Relay{Store: store, Bus: bus, Log: quiet, Published: tr.onPublished}
	consumer := &workers.Consumer{Bus: bus, Durable: "projection-plans", Concurrency: 4, Log: quiet,
		Handle: func(ctx context.Context, rec eventstore.Record) error {
			if err := plans.Apply(ctx, rec); err != nil {
				return err
			}
			tr.onProjected(rec)
			return nil
		},
		BatchHandle: func(ctx context.Context, recs []eventstore.Record) error {
			if err := plans.ApplyBatch(ctx, recs); err != nil {
				return err
			}
			tr.onProjected(recs...)
			return nil
		}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api.New(api.Config{Store: store, PublicURL: "http://localhost:8080", Version: "bench", Logger: quiet}),
		ReadHeaderTimeout: 10 * time.Second}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = store.RunNotifier(wctx) })
	wg.Go(func() { _ = relay.Run(wctx) })
	wg.Go(func() { _ = consumer.Run(wctx) })
	wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			progress("pipeline: http server: %v", err)
		}
	})
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = srv.Shutdown(sctx)
		cancel()
		stop()
		wg.Wait()
	}()

	client := newAPIClient("http://"+ln.Addr().String(), key, 16)
	appended := 0
	phase := func(name string, rate float64) (loadResult, bool) {
		start := time.Now().Add(r.s.warmup)
		tr.begin(start, start.Add(r.s.duration))
		sctx, stopSampling := context.WithCancel(ctx)
		oldest := make(chan time.Duration, 1)
		go func() { oldest <- oldestForeignXact(sctx, store) }()
		res := runLoad(ctx, loadSpec{Clients: 16, Warmup: r.s.warmup, Duration: r.s.duration, Rate: rate}, client.create)
		stopSampling()
		if d := <-oldest; d > 50*time.Millisecond {
			r.note("pipeline %s: a transaction of another database on the same PostgreSQL held an xid for up to %s during the load; "+
				"the relay reads below the cluster-wide xmin horizon, so such transactions delay publication", name, d.Round(time.Millisecond))
		}
		appended += res.TotalOK
		drainStart := time.Now()
		deadline := drainStart.Add(r.s.drainTimeout)
		for ctx.Err() == nil {
			pub, proj := tr.counts()
			if pub >= appended && proj >= appended {
				progress("pipeline: %s: drained %s after the load", name, time.Since(drainStart).Round(time.Millisecond))
				return res, true
			}
			if time.Now().After(deadline) {
				progress("pipeline: %s: NOT drained after %s (%d appended, %d published, %d projected)",
					name, r.s.drainTimeout, appended, pub, proj)
				return res, false
			}
			time.Sleep(20 * time.Millisecond)
		}
		return res, false
	}

	progress("pipeline: CreatePlan unthrottled, 16 clients, %s after %s warm-up", r.s.duration, r.s.warmup)
	full, drained := phase("unthrottled", 0)
	if full.OK == 0 {
		return fmt.Errorf("pipeline: no plan created: %v", full.ErrSamples)
	}
	r.pipelineRows("sustained max", full, tr, drained, false)
	half := full.Rate() / 2
	progress("pipeline: CreatePlan paced at %.0f/s (half the sustained maximum), %s after %s warm-up", half, r.s.duration, r.s.warmup)
	paced, drained := phase("half rate", half)
	r.pipelineRows(fmt.Sprintf("half max, %.0f/s", half), paced, tr, drained, true)
	return ctx.Err()
}

// pipelineRows adds a phase's rows.
func (r *runner) pipelineRows(label string, res loadResult, tr *pipeTracker, drained bool, target bool) {
	tr.mu.Lock()
	publish, project, inWin := tr.publish, tr.project, tr.projectedInWin
	tr.mu.Unlock()
	p50, p99 := res.Lat.p50p99()
	note := describeErrors(res)
	if !drained {
		note = joinNotes(note, fmt.Sprintf("not every event was published and projected within %s after the load", r.s.drainTimeout))
	}
	r.add(Row{Group: "pipeline", Name: "CreatePlan in-process, 16 clients, " + label, Value: res.Rate(), Unit: "plans/s",
		P50Ms: p50, P99Ms: p99, Errors: res.Errors, Note: note})
	mean := func(l latencies) float64 {
		var sum time.Duration
		for _, d := range l {
			sum += d
		}
		return float64(sum) / float64(len(l)) / float64(time.Millisecond)
	}
	p50, p99 = publish.p50p99()
	r.add(Row{Group: "pipeline", Name: "commit -> NATS PubAck, " + label, Value: mean(publish), Unit: "ms mean", P50Ms: p50, P99Ms: p99,
		Note: fmt.Sprintf("%d events; from RecordedAt (set just before the append statement) to the relay's Published callback", len(publish))})
	p50, p99 = project.p50p99()
	row := Row{Group: "pipeline", Name: "commit -> projection, " + label, Value: mean(project), Unit: "ms mean", P50Ms: p50, P99Ms: p99,
		Note: fmt.Sprintf("%d events; from RecordedAt to the projection's commit (Apply/ApplyBatch returned)", len(project))}
	if target {
		row.Target = fmt.Sprintf("p99 <= %.0f ms at half max", targetLagP99Ms)
		row.Result = passMiss(p99 != nil && *p99 <= targetLagP99Ms && drained)
	}
	r.add(row)
	r.add(Row{Group: "pipeline", Name: "projection throughput, " + label, Value: float64(inWin) / r.s.duration.Seconds(), Unit: "events/s",
		Note: "events whose projection committed inside the measured window"})
}

// oldestForeignXact samples, every 50 ms until ctx is done, the age of the
// oldest transaction holding an xid in another database of the cluster,
// and returns the largest seen.
func oldestForeignXact(ctx context.Context, store *eventstore.Store) time.Duration {
	var worst time.Duration
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		var secs float64
		err := store.Pool().QueryRow(ctx, `SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0)::float8
			FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database()`).Scan(&secs)
		if err == nil {
			worst = max(worst, time.Duration(secs*float64(time.Second)))
		}
		select {
		case <-ctx.Done():
			return worst
		case <-t.C:
		}
	}
}
