package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"goodplan/eventstore"
)

// syncBuffer is a bytes.Buffer safe for the logger and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// observedEnv is newEnv with a JSON request log in logs, metrics on their
// own registry and /metrics behind token on the main router.
func observedEnv(t *testing.T, token string) (*testEnv, *syncBuffer, *Metrics) {
	t.Helper()
	env := newEnv(t)
	logs := &syncBuffer{}
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	env.srv = New(Config{Store: env.store, PublicURL: "https://goodplan.test/", Version: "test", Now: env.clock.now,
		RequestLog: newJSONLogger(logs), Metrics: m,
		MetricsHandler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), MetricsToken: token})
	return env, logs, m
}

// logLines decodes every JSON log line.
func logLines(t *testing.T, logs *syncBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// TestRequestIDAndTraceparent: a valid X-Request-Id is kept, echoed and
// recorded; a caller's traceparent is continued (same trace, a new span);
// an invalid or missing id is replaced by a generated one; and each
// request gets one log line with its route pattern, status, ids and
// account.
func TestRequestIDAndTraceparent(t *testing.T) {
	t.Parallel()
	env, logs, m := observedEnv(t, "")
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	res := env.do(t, "POST", "/api/v1/plans", env.key, []byte(plan3),
		"X-Request-Id", "obs-1.a:b_c", "Traceparent", "00-"+trace+"-00f067aa0ba902b7-01")
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	if got := res.header.Get("X-Request-Id"); got != "obs-1.a:b_c" {
		t.Errorf("X-Request-Id echoed %q", got)
	}
	tp := res.header.Get("Traceparent")
	if !strings.HasPrefix(tp, "00-"+trace+"-") || strings.Contains(tp, "00f067aa0ba902b7") || !strings.HasSuffix(tp, "-01") {
		t.Errorf("traceparent %q: want the caller's trace, a new span, sampled", tp)
	}
	id := decodePlan(t, res).PlanID
	meta := env.storedMeta(t, id)
	if meta.CorrelationID != "obs-1.a:b_c" || meta.Traceparent != tp {
		t.Errorf("metadata correlation_id %q traceparent %q, want %q and %q", meta.CorrelationID, meta.Traceparent, "obs-1.a:b_c", tp)
	}
	lines := logLines(t, logs)
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1: %s", len(lines), logs)
	}
	l := lines[0]
	if l["msg"] != "request" || l["method"] != "POST" || l["route"] != "/api/v1/plans" || l["status"] != float64(201) ||
		l["request_id"] != "obs-1.a:b_c" || l["trace_id"] != trace || l["account_id"] != float64(env.acct.ID) {
		t.Errorf("log line %v", l)
	}
	if _, ok := l["duration_ms"].(float64); !ok {
		t.Errorf("log line without duration_ms: %v", l)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("/api/v1/plans", "POST", "201")); got != 1 {
		t.Errorf("goodplan_http_requests_total{route=/api/v1/plans,POST,201} = %v, want 1", got)
	}

	// Invalid ids and traceparents are replaced; a missing id is generated.
	for _, h := range [][]string{
		{"X-Request-Id", "has space", "Traceparent", "00-zz-11-01"},
		{"X-Request-Id", strings.Repeat("a", 129)},
		{"X-Request-Id", "slash/id"},
		nil,
	} {
		res := env.do(t, "GET", "/api/health", "", nil, h...)
		got := res.header.Get("X-Request-Id")
		if len(got) != 36 || (len(h) > 1 && got == h[1]) {
			t.Errorf("headers %q: X-Request-Id %q, want a generated UUID", h, got)
		}
		if tp := res.header.Get("Traceparent"); len(tp) != 55 || strings.Contains(tp, "-zz-") {
			t.Errorf("headers %q: traceparent %q, want a new one", h, tp)
		}
	}
}

// TestRequestLogHidesSecrets: the log names the route pattern, never the
// path, so a portal token stays out of it, and no API key, email address or
// other credential appears.
func TestRequestLogHidesSecrets(t *testing.T) {
	t.Parallel()
	env, logs, _ := observedEnv(t, "")
	f := env.newPortalPlan(t, seedFull)
	if res := env.do(t, "GET", f.path, "", nil); res.status != http.StatusOK {
		t.Fatalf("portal: %d", res.status)
	}
	env.do(t, "GET", "/api/v1/plans", "gp_"+strings.Repeat("0", 64), nil) // an unknown key: 401
	out := logs.String()
	for _, secret := range []string{f.token, env.key, "gp_" + strings.Repeat("0", 64), "john@example.com", "Bearer"} {
		if strings.Contains(out, secret) {
			t.Errorf("the request log holds %q:\n%s", secret, out)
		}
	}
	var routes []string
	for _, l := range logLines(t, logs) {
		routes = append(routes, l["route"].(string)+" "+jsonNumber(l["status"]))
	}
	want := []string{"/api/v1/plans 201", "/plan/{token} 200", "/api/v1/plans 401"}
	if strings.Join(routes, ",") != strings.Join(want, ",") {
		t.Errorf("logged %q, want %q", routes, want)
	}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestMetricsEndpointAndRefusals: /metrics on the main router needs the
// token when one is set, and a 429 of a key's rate limit is counted by
// limit.
func TestMetricsEndpointAndRefusals(t *testing.T) {
	t.Parallel()
	env, _, m := observedEnv(t, "s3cret-token")
	_, key := env.account(t, eventstore.NewAccount{Name: "Tight", RateLimitPerMinute: 1, RateLimitBurst: 1})
	refused := 0
	for range 3 {
		if res := env.do(t, "GET", "/api/v1/plans", key, nil); res.status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("no 429 after 3 requests at 1 a minute")
	}
	if got := testutil.ToFloat64(m.refusals.WithLabelValues("api_key")); got != float64(refused) {
		t.Errorf("goodplan_rate_limit_refusals_total{limit=api_key} = %v, want %d", got, refused)
	}
	// Refused before routing, yet counted under the route it asked for.
	if got := testutil.ToFloat64(m.requests.WithLabelValues("/api/v1/plans", "GET", "429")); got != float64(refused) {
		t.Errorf("goodplan_http_requests_total{route=/api/v1/plans,GET,429} = %v, want %d", got, refused)
	}
	for _, c := range []struct {
		auth   string
		status int
	}{{"", 401}, {"Bearer wrong", 401}, {"Bearer s3cret-token", 200}} {
		res := env.do(t, "GET", "/metrics", "", nil, "Authorization", c.auth)
		if res.status != c.status {
			t.Errorf("/metrics with %q: %d, want %d", c.auth, res.status, c.status)
		}
		if c.status == 200 && !bytes.Contains(res.body, []byte(`goodplan_rate_limit_refusals_total{limit="api_key"} `)) {
			t.Errorf("/metrics lacks the refusals:\n%s", res.body)
		}
		if c.status == 401 && res.json(t)["error"] == nil {
			t.Errorf("/metrics 401 body %s", res.body)
		}
	}
}

func newJSONLogger(w *syncBuffer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }
