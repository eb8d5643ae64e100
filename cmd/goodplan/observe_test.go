package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// scrape reads url's Prometheus exposition into series -> value (the
// series as written: name{labels}).
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res, err := apiClient.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %d", url, res.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// hookHeaders is a webhook receiver that answers 204 and keeps the
// X-Request-Id and traceparent of each delivery.
type hookHeaders struct {
	mu   sync.Mutex
	seen []http.Header
}

func (h *hookHeaders) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.seen = append(h.seen, r.Header.Clone())
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookHeaders) all() []http.Header {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]http.Header(nil), h.seen...)
}

// TestRequestFollowedEndToEnd: a request id and traceparent sent with a
// create come back on the response and are found in the event's metadata,
// on the NATS message, on the webhook request and in the webhook worker's
// log line; and the key series on METRICS_ADDR move with the plan and its
// delivered webhook.
func TestRequestFollowedEndToEnd(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	key := createKey(t, db, createAccount(t, db, "--name", "Observed", "--rate-limit", "0"))
	sink := startMailSink(t)
	hooks := &hookHeaders{}
	hookSrv := httptest.NewServer(hooks)
	t.Cleanup(hookSrv.Close)
	natsSrv := startNATS(t, 0, t.TempDir())
	metricsAddr := freeAddr(t)
	srv := startServer(t, db, "SMTP_URL=smtp://"+sink.addr+"?tls=none", "WEBHOOK_ALLOW_PRIVATE_NETWORKS=true",
		"NATS_URL=nats://"+natsSrv.addr(), "METRICS_ADDR="+metricsAddr)
	metricsURL := "http://" + metricsAddr + "/metrics"

	nc, err := nats.Connect("nats://" + natsSrv.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	msgs := make(chan *nats.Msg, 64)
	if _, err := nc.ChanSubscribe("goodplan.events.>", msgs); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	if status, b := call(t, "POST", srv.URL+"/api/v1/webhook-endpoints", key,
		`{"url":"`+hookSrv.URL+`/hooks","events":["plan.created"]}`); status != http.StatusCreated {
		t.Fatalf("create webhook endpoint: %d %s", status, b)
	}
	before := scrape(t, metricsURL)
	const (
		requestID = "e2e-req.7:x_y"
		traceID   = "0af7651916cd43dd8448eb211c80319c"
	)
	req, err := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/api/v1/plans", strings.NewReader(minimalRequest))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", requestID)
	req.Header.Set("traceparent", "00-"+traceID+"-b7ad6b7169203331-01")
	res, err := apiClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	if got := res.Header.Get("X-Request-Id"); got != requestID {
		t.Errorf("response X-Request-Id %q, want %q", got, requestID)
	}
	tp := res.Header.Get("Traceparent")
	if !strings.HasPrefix(tp, "00-"+traceID+"-") {
		t.Errorf("response traceparent %q, want trace %s", tp, traceID)
	}
	var plan struct {
		PlanID int64 `json:"plan_id"`
	}
	if err := json.Unmarshal(body, &plan); err != nil || plan.PlanID == 0 {
		t.Fatalf("create body %s", body)
	}

	// The event's metadata.
	conn, err := pgx.Connect(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var metaJSON []byte
	if err := conn.QueryRow(t.Context(), `SELECT metadata FROM events WHERE stream_id = $1 AND version = 1`,
		eventstore.PlanStream(plan.PlanID)).Scan(&metaJSON); err != nil {
		t.Fatal(err)
	}
	var meta eventstore.Metadata
	if err := json.Unmarshal(metaJSON, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.CorrelationID != requestID || meta.Traceparent != tp {
		t.Errorf("metadata %s: want correlation_id %q and traceparent %q", metaJSON, requestID, tp)
	}

	// The NATS message.
	deadline := time.After(time.Minute)
	for found := false; !found; {
		select {
		case m := <-msgs:
			if m.Header.Get("Goodplan-Stream-Id") != eventstore.PlanStream(plan.PlanID) || m.Header.Get("Goodplan-Version") != "1" {
				continue
			}
			found = true
			if m.Header["X-Request-Id"] == nil || m.Header["X-Request-Id"][0] != requestID ||
				m.Header["traceparent"] == nil || m.Header["traceparent"][0] != tp {
				t.Errorf("NATS message headers %v: want X-Request-Id %q and traceparent %q", m.Header, requestID, tp)
			}
		case <-deadline:
			t.Fatal("no NATS message for the plan's first event within a minute")
		}
	}

	// The webhook request and the webhook worker's log line.
	delivered := regexp.MustCompile(`level=INFO msg="webhook delivered" .*event_id=\S+ type=plan.created .*request_id=` +
		regexp.QuoteMeta(requestID) + ` trace_id=` + traceID)
	pgtest.WaitFor(t, 2*time.Minute, "the webhook worker to log the delivery with the request id", func() bool {
		return delivered.MatchString(srv.logs.String())
	})
	hs := hooks.all()
	if len(hs) != 1 || hs[0].Get("X-Request-Id") != requestID || hs[0].Get("Traceparent") != tp {
		t.Errorf("webhook requests' headers %v: want one with X-Request-Id %q and traceparent %q", hs, requestID, tp)
	}
	if !regexp.MustCompile(`msg=request method=POST route=/api/v1/plans status=201 duration_ms=\S+ request_id=` +
		regexp.QuoteMeta(requestID) + ` trace_id=` + traceID + ` account_id=\d+`).MatchString(srv.logs.String()) {
		t.Error("no request log line for the create")
	}

	// The series moved.
	var after map[string]float64
	moved := func(series string, by float64) bool { return after[series]-before[series] >= by }
	want := map[string]float64{
		`goodplan_http_requests_total{code="201",method="POST",route="/api/v1/plans"}`:      1,
		`goodplan_http_request_duration_seconds_count{method="POST",route="/api/v1/plans"}`: 1,
		`goodplan_appends_total`:                                         1,
		`goodplan_events_appended_total`:                                 1,
		`goodplan_relay_published_events_total`:                          1,
		`goodplan_relay_lag_seconds_count`:                               1,
		`goodplan_consumer_handled_total{consumer="webhook-fanout"}`:     1,
		`goodplan_consumer_handled_total{consumer="projection-plans"}`:   1,
		`goodplan_consumer_lag_seconds_count{consumer="webhook-fanout"}`: 1,
		`goodplan_webhook_attempts_total{outcome="succeeded"}`:           1,
		`goodplan_emails_total{outcome="sent"}`:                          1,
		`goodplan_db_pool_acquires_total`:                                1,
	}
	pgtest.WaitFor(t, time.Minute, "the series to move", func() bool {
		after = scrape(t, metricsURL)
		for s, by := range want {
			if !moved(s, by) {
				return false
			}
		}
		return true
	})
	for _, s := range []string{`goodplan_build_info{goversion="` + goVersion() + `",version="` + version + `"}`,
		`goodplan_relay_backlog_events`, `goodplan_consumer_pending_messages{consumer="webhook-fanout"}`,
		`goodplan_db_pool_max_connections`, `goodplan_append_version_conflicts_total`,
		`goodplan_consumer_failed_total{consumer="webhook-fanout"}`, `goodplan_consumer_dead_lettered_total{consumer="webhook-fanout"}`,
		`goodplan_rate_limit_refusals_total{limit="api_key"}`} {
		if _, ok := after[s]; !ok {
			t.Errorf("no series %s on METRICS_ADDR", s)
		}
	}
	// With METRICS_ADDR set, the main listener has no /metrics.
	if status, _ := call(t, "GET", srv.URL+"/metrics", "", ""); status != http.StatusNotFound {
		t.Errorf("GET /metrics on HTTP_ADDR: %d, want 404 when METRICS_ADDR is set", status)
	}
	// Go's profiler is on METRICS_ADDR, never on the main listener.
	pprofBase := strings.TrimSuffix(metricsURL, "/metrics") + "/debug/pprof/"
	if status, body := call(t, "GET", pprofBase+"heap?debug=1", "", ""); status != http.StatusOK || !strings.Contains(string(body), "heap profile") {
		t.Errorf("GET /debug/pprof/heap on METRICS_ADDR: %d %.200s", status, body)
	}
	if status, body := call(t, "GET", pprofBase+"profile?seconds=1", "", ""); status != http.StatusOK || len(body) == 0 {
		t.Errorf("GET /debug/pprof/profile on METRICS_ADDR: %d, %d bytes", status, len(body))
	}
	if status, _ := call(t, "GET", srv.URL+"/debug/pprof/", "", ""); status == http.StatusOK {
		t.Errorf("GET /debug/pprof/ on HTTP_ADDR: %d, want no profiler there", status)
	}
}

// TestMetricsAddrBindFailureStopsStart: serve refuses to start when
// METRICS_ADDR cannot be bound, naming the address.
func TestMetricsAddrBindFailureStopsStart(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goodplanBin, "serve")
	cmd.Env = cliEnv("DATABASE_URL="+db, "HTTP_ADDR=127.0.0.1:0", "PUBLIC_URL=http://portal.test",
		"DATA_DIR="+t.TempDir(), "METRICS_ADDR="+taken.Addr().String())
	out, err := cmd.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("serve with METRICS_ADDR taken: %v, want a failed start\n%s", err, out)
	}
	if !strings.Contains(string(out), "METRICS_ADDR "+taken.Addr().String()) {
		t.Errorf("the error does not name METRICS_ADDR %s:\n%s", taken.Addr(), out)
	}
}

// TestMetricsTokenOnMainListener: without METRICS_ADDR, /metrics is on the
// main listener and needs METRICS_TOKEN's bearer token.
func TestMetricsTokenOnMainListener(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	srv := startServer(t, db, "METRICS_TOKEN=tok-123")
	if status, _ := call(t, "GET", srv.URL+"/metrics", "", ""); status != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d, want 401", status)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer tok-123")
	res, err := apiClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "goodplan_build_info{") {
		t.Errorf("/metrics with the token: %d\n%.300s", res.StatusCode, b)
	}
	if strings.Contains(srv.logs.String(), "tok-123") {
		t.Error("the log shows METRICS_TOKEN")
	}
}

// TestSpansExportedOverOTLP: with OTEL_EXPORTER_OTLP_ENDPOINT set, the
// request's server span reaches an OTLP/HTTP receiver, in the caller's
// trace.
func TestSpansExportedOverOTLP(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	key := createKey(t, db, createAccount(t, db, "--name", "Traced", "--rate-limit", "0"))
	var mu sync.Mutex
	var spans []string // "traceid name"
	otlp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
			http.NotFound(w, r)
			return
		}
		var rd io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			gz, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			rd = gz
		}
		b, _ := io.ReadAll(rd)
		var req coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					spans = append(spans, hex.EncodeToString(s.TraceId)+" "+s.Name)
				}
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(otlp.Close)
	srv := startServer(t, db, "OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.URL)
	const traceID = "5b8efff798038103d269b633813fc60c"
	req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/api/v1/plans", strings.NewReader(minimalRequest))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+traceID+"-eee19b7ec3c1b174-01")
	res, err := apiClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", res.StatusCode)
	}
	has := func(want string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range spans {
			if s == want {
				return true
			}
		}
		return false
	}
	pgtest.WaitFor(t, time.Minute, "the create's server span and its consumers' spans at the OTLP receiver", func() bool {
		return has(traceID+" POST /api/v1/plans") && has(traceID+" webhook-fanout plan.created")
	})
}

func goVersion() string { return runtime.Version() }
