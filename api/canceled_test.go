package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestClientCanceledRequestIsNotAnInternalError: a request whose client
// went away (its context canceled) while the handler waited on the
// database is logged at INFO as canceled, with status 499 in the request
// log and the metrics (nginx's "client closed request"), not as a 500 and
// an ERROR, on the API and on the portal alike.
func TestClientCanceledRequestIsNotAnInternalError(t *testing.T) {
	t.Parallel()
	env, logs, m := observedEnv(t, "")
	env.srv.log = newJSONLogger(logs)
	f := env.newPortalPlan(t, seedFull)
	for _, c := range []struct{ path, route, key string }{
		{"/api/v1/plans", "/api/v1/plans", env.key},
		{f.path, "/plan/{token}", ""},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // the client is gone before the handler reads anything
		req := httptest.NewRequestWithContext(ctx, "GET", c.path, nil)
		if c.key != "" {
			req.Header.Set("Authorization", "Bearer "+c.key)
		}
		rec := httptest.NewRecorder()
		env.srv.ServeHTTP(rec, req)
		if rec.Code != statusClientClosedRequest {
			t.Fatalf("GET %s with its client gone: %d %s, want 499", c.route, rec.Code, rec.Body)
		}
		if got := testutil.ToFloat64(m.requests.WithLabelValues(c.route, "GET", "499")); got != 1 {
			t.Fatalf("goodplan_http_requests_total{route=%s,GET,499} = %v, want 1", c.route, got)
		}
	}
	var canceled, requests int
	for _, l := range logLines(t, logs) {
		if l["level"] == "ERROR" || l["status"] == float64(http.StatusInternalServerError) {
			t.Errorf("logged as an error: %v", l)
		}
		switch l["msg"] {
		case "request canceled by the client", "portal: request canceled by the client":
			canceled++
			if l["level"] != "INFO" {
				t.Errorf("canceled logged at %v, want INFO: %v", l["level"], l)
			}
		case "request":
			if l["status"] == float64(statusClientClosedRequest) {
				requests++
			}
		}
	}
	if canceled != 2 || requests != 2 {
		t.Fatalf("%d canceled lines and %d request lines with 499, want 2 and 2:\n%s", canceled, requests, logs)
	}
}
