package workers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/projections"
	"goodplan/workers"
)

// whHit is one request a test receiver got.
type whHit struct {
	path   string
	id, ts string
	header http.Header
	body   []byte
	err    error // signature verification
	at     time.Time
}

// whReceiver is a webhook receiver that verifies every request with the
// Standard Webhooks library and the secret of the endpoint at its path.
type whReceiver struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	secrets map[string]string
	hits    []whHit
	// respond answers the n-th request (1-based) to path; nil: 200 "ok".
	respond func(path string, n int, w http.ResponseWriter, r *http.Request)
}

func newWhReceiver(t *testing.T, respond func(path string, n int, w http.ResponseWriter, r *http.Request)) *whReceiver {
	t.Helper()
	rc := &whReceiver{t: t, secrets: map[string]string{}, respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *whReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	secret := rc.secrets[r.URL.Path]
	rc.mu.Unlock()
	var verr error
	if wh, err := standardwebhooks.NewWebhook(secret); err != nil {
		verr = err
	} else {
		verr = wh.Verify(body, r.Header)
	}
	rc.mu.Lock()
	rc.hits = append(rc.hits, whHit{path: r.URL.Path, id: r.Header.Get("webhook-id"), ts: r.Header.Get("webhook-timestamp"),
		header: r.Header.Clone(), body: body, err: verr, at: time.Now()})
	n := 0
	for _, h := range rc.hits {
		if h.path == r.URL.Path {
			n++
		}
	}
	rc.mu.Unlock()
	if rc.respond != nil {
		rc.respond(r.URL.Path, n, w, r)
		return
	}
	_, _ = io.WriteString(w, "ok")
}

// got returns the hits so far to path ("" for all), failing the test on any
// request that did not verify.
func (rc *whReceiver) got(path string) []whHit {
	rc.t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []whHit
	for _, h := range rc.hits {
		if h.err != nil {
			rc.t.Errorf("request to %s did not verify: %v", h.path, h.err)
		}
		if path == "" || h.path == path {
			out = append(out, h)
		}
	}
	return out
}

type whEnv struct {
	store *eventstore.Store
	acct  int64
	recv  *whReceiver
}

func newWhEnv(t *testing.T, respond func(path string, n int, w http.ResponseWriter, r *http.Request)) *whEnv {
	t.Helper()
	store := eventstore.New(pgtest.NewPool(t))
	a, err := store.CreateAccount(context.Background(), eventstore.NewAccount{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	return &whEnv{store: store, acct: a.ID, recv: newWhReceiver(t, respond)}
}

// endpoint creates an endpoint at the receiver's path.
func (e *whEnv) endpoint(t *testing.T, path string, events ...string) eventstore.WebhookEndpoint {
	t.Helper()
	ep, err := e.store.CreateEndpoint(context.Background(), eventstore.NewWebhookEndpoint{AccountID: e.acct, URL: e.recv.srv.URL + path, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	e.recv.mu.Lock()
	e.recv.secrets[path] = ep.Secret
	e.recv.mu.Unlock()
	return ep
}

// enqueue stores one delivery of a new event to each endpoint.
func (e *whEnv) enqueue(t *testing.T, endpoints ...int64) uuid.UUID {
	t.Helper()
	id := uuid.New()
	var ds []eventstore.NewDelivery
	for _, ep := range endpoints {
		ds = append(ds, eventstore.NewDelivery{EndpointID: ep, EventID: id, EventType: "plan.created",
			Payload: []byte(`{"event":"plan.created","timestamp":"2025-11-27T01:15:30Z","data":{}}`)})
	}
	if _, err := e.store.EnqueueDeliveries(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	return id
}

// deliveries returns the endpoint's delivery log, newest first.
func (e *whEnv) deliveries(t *testing.T, endpoint int64) []eventstore.DeliveryLog {
	t.Helper()
	items, _, err := e.store.ListDeliveries(context.Background(), e.acct, endpoint, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// deliverer is a deliverer for tests: private targets allowed, a short
// schedule without jitter, a fast poll.
func (e *whEnv) deliverer(schedule ...time.Duration) *workers.WebhookDeliverer {
	if len(schedule) == 0 {
		schedule = []time.Duration{0, time.Hour}
	}
	return &workers.WebhookDeliverer{Store: e.store, Client: workers.NewWebhookClient(true), Schedule: schedule,
		Jitter: -1, Poll: 20 * time.Millisecond}
}

// whRun runs d until the test ends (or stop is called) and checks that Run
// returns promptly.
func whRun(t *testing.T, d *workers.WebhookDeliverer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return within 10s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// whPlan creates a plan of account as the API does and returns its
// plan.created record.
func whPlan(t *testing.T, store *eventstore.Store, account int64) eventstore.Record {
	t.Helper()
	ctx := context.Background()
	next := func() int64 {
		id, err := store.NextID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	planID := next()
	var p domain.Plan
	events, err := p.CreatePlan(domain.CreatePlan{
		PlanID: planID, AccountID: account, CustomerID: next(), InvoiceID: next(), OptionIDs: []int64{next(), next(), next()},
		PortalToken: "tok-" + strconv.FormatInt(planID, 10), Now: time.Now().UTC(),
		CustomerName: "John Doe", CustomerEmail: "john@example.com", Amount: "1200.00",
		InvoiceNumber: "INV-2024-001", SendIntroductionEmail: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	newEvents, err := eventstore.Encode(events)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := store.Append(ctx, eventstore.PlanStream(planID), eventstore.Head{}, newEvents,
		eventstore.Metadata{AccountID: account, Actor: "merchant"})
	if err != nil {
		t.Fatal(err)
	}
	return recs[0]
}

func whCount(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestWebhookFanoutDeliversSignedPayload(t *testing.T) {
	t.Parallel()
	env := newWhEnv(t, nil)
	ctx := context.Background()
	all := env.endpoint(t, "/all")
	created := env.endpoint(t, "/created", "plan.created", "plan.completed")
	other := env.endpoint(t, "/other", "installment.paid")
	var woken atomic.Int32
	d := env.deliverer()
	fan := &workers.WebhookFanout{Store: env.store, PublicURL: "https://goodplan.test/", Notify: func() { woken.Add(1); d.Wake() }}

	rec := whPlan(t, env.store, env.acct)
	if err := fan.Handle(ctx, rec); err != nil {
		t.Fatal(err)
	}
	// A second Handle of the same record (redelivery) enqueues nothing new.
	if err := fan.Handle(ctx, rec); err != nil {
		t.Fatal(err)
	}
	// Events that are not webhook types are skipped.
	email := rec
	email.EventID, email.Type, email.Version = uuid.New(), domain.EventIntroductionEmailSent, 2
	if err := fan.Handle(ctx, email); err != nil {
		t.Fatal(err)
	}
	pool := env.store.Pool()
	if n := whCount(t, pool, `SELECT count(*) FROM webhook_deliveries`); n != 2 {
		t.Fatalf("%d deliveries enqueued, want 2", n)
	}
	if woken.Load() != 1 {
		t.Fatalf("Notify called %d times, want 1", woken.Load())
	}

	whRun(t, d)
	pgtest.WaitFor(t, 5*time.Second, "two deliveries", func() bool { return len(env.recv.got("")) == 2 })

	p, err := eventstore.Fold([]eventstore.Record{rec})
	if err != nil {
		t.Fatal(err)
	}
	wantData, _ := json.Marshal(projections.Summarize(p, "https://goodplan.test/"))
	hits := env.recv.got("")
	for _, h := range hits {
		if h.path != "/all" && h.path != "/created" {
			t.Errorf("delivery to %s", h.path)
		}
		if h.id != "msg_"+rec.EventID.String() || h.id != workers.WebhookMessageID(rec.EventID) {
			t.Errorf("webhook-id %q", h.id)
		}
		if ct, ua := h.header.Get("Content-Type"), h.header.Get("User-Agent"); ct != "application/json" || ua != "goodplan-webhooks/1" {
			t.Errorf("Content-Type %q, User-Agent %q", ct, ua)
		}
		if sig := h.header.Get("webhook-signature"); !strings.HasPrefix(sig, "v1,") {
			t.Errorf("signature %q", sig)
		}
		raw := checkBody(t, h, rec, wantData)
		var data map[string]any
		_ = json.Unmarshal(raw, &data)
		for _, k := range []string{"plan_id", "customer_portal_url", "plan_options", "customer", "invoice"} {
			if _, ok := data[k]; !ok {
				t.Errorf("data lacks %q (the create response's shape): %s", k, raw)
			}
		}
		if len(data) != 5 || !strings.HasPrefix(data["customer_portal_url"].(string), "https://goodplan.test/plan/") {
			t.Errorf("data: %s", raw)
		}
	}
	if hits[0].ts == "" || !bytes.Equal(hits[0].body, hits[1].body) {
		t.Error("the two endpoints got different bodies")
	}
	for _, ep := range []eventstore.WebhookEndpoint{all, created} {
		pgtest.WaitFor(t, 5*time.Second, "delivery recorded", func() bool {
			ds := env.deliveries(t, ep.ID)
			return len(ds) == 1 && ds[0].State == eventstore.DeliverySucceeded
		})
	}
	if ds := env.deliveries(t, other.ID); len(ds) != 0 {
		t.Fatalf("the installment.paid endpoint got %d deliveries", len(ds))
	}

	// A record of a version the stream does not have yet is retried, not skipped.
	ahead := rec
	ahead.EventID, ahead.Version = uuid.New(), 7
	if err := fan.Handle(ctx, ahead); err == nil || workers.IsPermanent(err) {
		t.Fatalf("event ahead of the store: %v", err)
	}
}

func TestWebhookRetryThenSuccessKeepsID(t *testing.T) {
	t.Parallel()
	env := newWhEnv(t, func(path string, n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.WriteHeader(500)
			_, _ = io.WriteString(w, "boom")
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	ep := env.endpoint(t, "/hook")
	env.enqueue(t, ep.ID)
	sched := []time.Duration{0, 100 * time.Millisecond, 100 * time.Millisecond, time.Hour}
	whRun(t, env.deliverer(sched...))

	var d eventstore.DeliveryLog
	pgtest.WaitFor(t, 5*time.Second, "success", func() bool {
		d = env.deliveries(t, ep.ID)[0]
		return d.State == eventstore.DeliverySucceeded
	})
	hits := env.recv.got("/hook")
	if len(hits) != 2 || hits[0].id != hits[1].id || hits[0].id == "" {
		t.Fatalf("%d requests, ids %q", len(hits), []string{hits[0].id, hits[len(hits)-1].id})
	}
	if gap := hits[1].at.Sub(hits[0].at); gap < 100*time.Millisecond {
		t.Errorf("retried after %v, the schedule says 100ms", gap)
	}
	if d.Attempts != 2 || len(d.Log) != 2 || d.NextAttemptAt != nil {
		t.Fatalf("delivery %+v", d)
	}
	a1, a2 := d.Log[0], d.Log[1]
	if a1.Number != 1 || a1.StatusCode != 500 || a1.ResponseExcerpt != "boom" || a1.Latency < 0 || a1.Error != "" {
		t.Errorf("attempt 1: %+v", a1)
	}
	if a2.Number != 2 || a2.StatusCode != 200 || a2.ResponseExcerpt != `{"ok":true}` || a2.Latency < 0 || !a2.AttemptedAt.After(a1.AttemptedAt) {
		t.Errorf("attempt 2: %+v", a2)
	}

	// Resend: once more, same webhook-id, attempt 3.
	if _, err := env.store.Resend(context.Background(), env.acct, ep.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	pgtest.WaitFor(t, 5*time.Second, "the resend", func() bool { return len(env.recv.got("/hook")) == 3 })
	if h := env.recv.got("/hook")[2]; h.id != hits[0].id {
		t.Errorf("resent with webhook-id %q, want %q", h.id, hits[0].id)
	}
	pgtest.WaitFor(t, 5*time.Second, "resend recorded", func() bool {
		d = env.deliveries(t, ep.ID)[0]
		return d.State == eventstore.DeliverySucceeded && d.Attempts == 3 && len(d.Log) == 3 && d.Log[2].Number == 3
	})
}

func TestWebhookFailsAfterLastAttempt(t *testing.T) {
	t.Parallel()
	env := newWhEnv(t, func(path string, n int, w http.ResponseWriter, r *http.Request) {
		if path == "/down" {
			w.WriteHeader(503)
		}
	})
	ep := env.endpoint(t, "/down")
	env.enqueue(t, ep.ID)
	sched := make([]time.Duration, 10)
	for i := 1; i < len(sched); i++ {
		sched[i] = 10 * time.Millisecond
	}
	stop := whRun(t, env.deliverer(sched...))
	var d eventstore.DeliveryLog
	pgtest.WaitFor(t, 10*time.Second, "failure", func() bool {
		d = env.deliveries(t, ep.ID)[0]
		return d.State == eventstore.DeliveryFailed
	})
	// An 11th attempt must not come. A marker delivery enqueued now is
	// claimed no earlier than a failed delivery that was still due; once it
	// is recorded, stopping the deliverer waits for every attempt in flight.
	marker := env.endpoint(t, "/marker")
	env.enqueue(t, marker.ID)
	pgtest.WaitFor(t, 10*time.Second, "the marker delivery", func() bool {
		return env.deliveries(t, marker.ID)[0].State == eventstore.DeliverySucceeded
	})
	stop()
	if n := len(env.recv.got("/down")); n != 10 {
		t.Fatalf("%d requests, want 10", n)
	}
	d = env.deliveries(t, ep.ID)[0]
	if d.Attempts != 10 || len(d.Log) != 10 || d.NextAttemptAt != nil || d.Log[9].Number != 10 || d.Log[9].StatusCode != 503 {
		t.Fatalf("delivery %+v", d)
	}
	// A failed endpoint is not disabled: only 410 does that.
	if got, _ := env.store.Endpoint(context.Background(), env.acct, ep.ID); got.DisabledAt != nil {
		t.Fatal("endpoint disabled after plain failures")
	}
}

func TestWebhookGoneDisablesEndpoint(t *testing.T) {
	t.Parallel()
	env := newWhEnv(t, func(path string, n int, w http.ResponseWriter, r *http.Request) {
		if path == "/gone" {
			w.WriteHeader(http.StatusGone)
		}
	})
	gone, live := env.endpoint(t, "/gone"), env.endpoint(t, "/live")
	env.enqueue(t, gone.ID, live.ID)
	stop := whRun(t, env.deliverer(0, 10*time.Millisecond, 10*time.Millisecond))
	pgtest.WaitFor(t, 5*time.Second, "endpoint disabled", func() bool {
		got, _ := env.store.Endpoint(context.Background(), env.acct, gone.ID)
		return got.DisabledAt != nil
	})
	got, _ := env.store.Endpoint(context.Background(), env.acct, gone.ID)
	if !strings.Contains(got.DisabledReason, "410") {
		t.Errorf("disabled reason %q", got.DisabledReason)
	}
	pgtest.WaitFor(t, 5*time.Second, "delivery failed", func() bool {
		ds := env.deliveries(t, gone.ID)
		return ds[0].State == eventstore.DeliveryFailed && ds[0].Attempts == 1
	})
	// No more deliveries to it: the fan-out skips it, and a delivery
	// enqueued anyway is never sent.
	fan := &workers.WebhookFanout{Store: env.store, PublicURL: "https://goodplan.test"}
	if err := fan.Handle(context.Background(), whPlan(t, env.store, env.acct)); err != nil {
		t.Fatal(err)
	}
	env.enqueue(t, gone.ID)
	pgtest.WaitFor(t, 5*time.Second, "live endpoint's deliveries", func() bool { return len(env.recv.got("/live")) == 2 })
	// A marker delivery to the live endpoint, enqueued after the one to the
	// disabled endpoint, is claimed no earlier; once it is recorded,
	// stopping the deliverer waits for every attempt in flight.
	env.enqueue(t, live.ID)
	pgtest.WaitFor(t, 5*time.Second, "the marker delivery", func() bool {
		ds := env.deliveries(t, live.ID)
		return len(ds) == 3 && ds[0].State == eventstore.DeliverySucceeded
	})
	stop()
	if n := len(env.recv.got("/gone")); n != 1 {
		t.Fatalf("the disabled endpoint got %d requests, want 1", n)
	}
	if _, err := env.store.Resend(context.Background(), env.acct, gone.ID, env.deliveries(t, gone.ID)[0].ID); err == nil {
		t.Fatal("resend to a disabled endpoint accepted")
	}
}

func TestWebhookRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	var targetHits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { targetHits.Add(1) }))
	t.Cleanup(target.Close)
	env := newWhEnv(t, func(path string, n int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/stolen", http.StatusFound)
	})
	ep := env.endpoint(t, "/moved")
	env.enqueue(t, ep.ID)
	whRun(t, env.deliverer())
	var d eventstore.DeliveryLog
	pgtest.WaitFor(t, 5*time.Second, "attempt", func() bool {
		d = env.deliveries(t, ep.ID)[0]
		return d.Attempts == 1 && len(d.Log) == 1
	})
	if d.State != eventstore.DeliveryPending || d.Log[0].StatusCode != http.StatusFound || d.NextAttemptAt == nil {
		t.Fatalf("a 302 counts as a failure to retry: %+v", d)
	}
	// The recorded attempt is the signal: a client that followed the
	// redirect would have reached the target (and counted) before the
	// attempt returned and was recorded.
	if n := targetHits.Load(); n != 0 {
		t.Fatalf("the redirect target received %d requests", n)
	}
}

func TestWebhookResponseReadCapped(t *testing.T) {
	t.Parallel()
	var written atomic.Int64
	env := newWhEnv(t, func(path string, n int, w http.ResponseWriter, r *http.Request) {
		// An endless body: reading it all would never finish.
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		for r.Context().Err() == nil {
			k, err := w.Write(chunk)
			written.Add(int64(k))
			if err != nil {
				return
			}
		}
	})
	ep := env.endpoint(t, "/firehose")
	env.enqueue(t, ep.ID)
	d := env.deliverer()
	d.Client.Timeout = 10 * time.Second
	whRun(t, d)
	var dl eventstore.DeliveryLog
	pgtest.WaitFor(t, 8*time.Second, "attempt", func() bool {
		dl = env.deliveries(t, ep.ID)[0]
		return len(dl.Log) == 1
	})
	a := dl.Log[0]
	if dl.State != eventstore.DeliverySucceeded || a.StatusCode != 200 || len(a.ResponseExcerpt) != 1024 || a.Latency > 5*time.Second {
		t.Fatalf("delivery %s, attempt status %d, excerpt %d bytes, latency %v", dl.State, a.StatusCode, len(a.ResponseExcerpt), a.Latency)
	}
}

func TestWebhookHangingEndpointDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	var hanging atomic.Int32
	var maxHanging atomic.Int32
	env := newWhEnv(t, func(path string, n int, w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(path, "/dead") {
			n := hanging.Add(1)
			for {
				m := maxHanging.Load()
				if n <= m || maxHanging.CompareAndSwap(m, n) {
					break
				}
			}
			<-r.Context().Done() // until the client gives up
			hanging.Add(-1)
		}
	})
	dead, dead2, fine := env.endpoint(t, "/dead"), env.endpoint(t, "/dead2"), env.endpoint(t, "/fine")
	for range 8 {
		env.enqueue(t, dead.ID, dead2.ID) // due first
	}
	for range 5 {
		env.enqueue(t, fine.ID)
	}
	d := env.deliverer()
	d.Client.Timeout = 3 * time.Second
	d.Workers, d.PerEndpoint = 6, 2
	stop := whRun(t, d)
	pgtest.WaitFor(t, 10*time.Second, "the healthy endpoint's deliveries", func() bool { return len(env.recv.got("/fine")) == 5 })
	// The dead endpoints' first attempts take 3 s to time out: none has
	// finished, yet every delivery to the healthy endpoint is done.
	if n := whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
		WHERE d.endpoint_id <> $1`, fine.ID); n != 0 {
		t.Fatalf("%d attempts to the dead endpoints finished before the healthy one was served", n)
	}
	if m := maxHanging.Load(); m > 8 {
		t.Fatalf("%d requests in flight to two endpoints, cap 2 each plus 2 hung each", m)
	}
	pgtest.WaitFor(t, 10*time.Second, "the dead endpoint's timeouts recorded", func() bool {
		n := 0
		for _, dl := range env.deliveries(t, dead.ID) {
			if len(dl.Log) == 1 && dl.Log[0].StatusCode == 0 && dl.Log[0].Error == workers.WebhookErrTimeout {
				n++
			}
		}
		return n >= 2
	})
	// Stopping abandons the attempts in flight and hands back what was
	// claimed but not attempted: nothing is left leased.
	stop()
	if n := whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_deliveries
		WHERE endpoint_id <> $1 AND attempts = 0 AND (state <> 'pending' OR next_attempt_at > now() + interval '5 seconds')`, fine.ID); n != 0 {
		t.Fatalf("%d unattempted deliveries still leased after stop", n)
	}
}

func TestWebhookDelivererRefusesPrivateTargets(t *testing.T) {
	t.Parallel()
	env := newWhEnv(t, nil)
	ep := env.endpoint(t, "/internal")
	env.enqueue(t, ep.ID)
	d := env.deliverer()
	d.Client, d.AllowPrivate = nil, false // the default client, as in production
	whRun(t, d)
	var dl eventstore.DeliveryLog
	pgtest.WaitFor(t, 5*time.Second, "attempt", func() bool {
		dl = env.deliveries(t, ep.ID)[0]
		return len(dl.Log) == 1
	})
	if a := dl.Log[0]; a.StatusCode != 0 || a.Error != workers.WebhookErrRefusedAddress || dl.State != eventstore.DeliveryPending {
		t.Fatalf("attempt %+v, state %s", a, dl.State)
	}
	if n := len(env.recv.got("")); n != 0 {
		t.Fatalf("the loopback receiver got %d requests", n)
	}
}

func TestWebhookTwoReplicasDeliverOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	var stores []*eventstore.Store
	for range 2 {
		pool, err := pgxpool.New(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		stores = append(stores, eventstore.New(pool))
	}
	a, err := stores[0].CreateAccount(context.Background(), eventstore.NewAccount{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	env := &whEnv{store: stores[0], acct: a.ID, recv: newWhReceiver(t, func(path string, n int, w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(n%3) * time.Millisecond)
	})}
	var eps []int64
	for i := range 4 {
		eps = append(eps, env.endpoint(t, fmt.Sprintf("/r%d", i)).ID)
	}
	const events = 50
	for range events {
		env.enqueue(t, eps...)
	}
	var stops []func()
	for _, s := range stores {
		d := env.deliverer()
		d.Store, d.Workers = s, 8
		stops = append(stops, whRun(t, d))
	}
	want := events * len(eps)
	pgtest.WaitFor(t, 15*time.Second, "every delivery", func() bool {
		return whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_deliveries WHERE state = 'succeeded'`) == want
	})
	// A duplicate would be an attempt still in flight: once both deliverers
	// have stopped (Run waits for its attempts), none is.
	for _, stop := range stops {
		stop()
	}
	seen := map[string]int{}
	for _, h := range env.recv.got("") {
		seen[h.path+" "+h.id]++
	}
	if len(seen) != want {
		t.Fatalf("%d distinct deliveries received, want %d", len(seen), want)
	}
	var dup []string
	for k, n := range seen {
		if n != 1 {
			dup = append(dup, fmt.Sprintf("%s x%d", k, n))
		}
	}
	slices.Sort(dup)
	if len(dup) > 0 {
		t.Fatalf("delivered more than once: %v", dup)
	}
	if n := whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_attempts`); n != want {
		t.Fatalf("%d attempts logged, want %d", n, want)
	}
}

func TestSignWebhookMatchesStandardWebhooks(t *testing.T) {
	t.Parallel()
	secret := eventstore.NewWebhookSecret()
	body := []byte(`{"event":"plan.created"}`)
	ts := time.Now().Unix()
	sig, err := workers.SignWebhook(secret, "msg_1", ts, body)
	if err != nil {
		t.Fatal(err)
	}
	wh, _ := standardwebhooks.NewWebhook(secret)
	want, _ := wh.Sign("msg_1", time.Unix(ts, 0), body)
	if sig != want {
		t.Fatalf("signature %q, library says %q", sig, want)
	}
	if _, err := workers.SignWebhook("whsec_not base64!", "msg_1", ts, body); err == nil {
		t.Fatal("bad secret accepted")
	}
}
