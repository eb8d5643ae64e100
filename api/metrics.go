package api

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the HTTP surface's Prometheus series. A nil *Metrics counts
// nothing.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	refusals *prometheus.CounterVec
}

// NewMetrics creates the HTTP series and registers them on reg:
// goodplan_http_requests_total{route,method,code},
// goodplan_http_request_duration_seconds{route,method} and
// goodplan_rate_limit_refusals_total{limit}. route is the chi route pattern
// ("/api/v1/plans/{id}"), "unmatched" for a path no route takes.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "goodplan_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code."}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "goodplan_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route", "method"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "goodplan_rate_limit_refusals_total",
			Help: "Requests answered 429 by limit: api_key (the key's rate limit), client_ip (portal and health), " +
				"auth_failures (too many failed authentications), dashboard_login, dashboard_reset."}, []string{"limit"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.refusals} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, l := range []string{"api_key", "client_ip", "auth_failures", "dashboard_login", "dashboard_reset"} {
		m.refusals.WithLabelValues(l)
	}
	return m, nil
}

// request counts one finished request; limit names the limit that refused
// it with a 429 ("" if none did).
func (m *Metrics) request(route, method string, status int, d time.Duration, limit string) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
	if status == http.StatusTooManyRequests {
		if limit == "" {
			limit = "other"
		}
		m.refusals.WithLabelValues(limit).Inc()
	}
}

// MetricsEndpoint serves h (the Prometheus exposition) behind token: when
// token is set, a request must carry "Authorization: Bearer <token>" or it
// gets a JSON 401. goodplan serve mounts it at /metrics, on METRICS_ADDR or
// on the main listener.
func MetricsEndpoint(h http.Handler, token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" {
			got, ok := bearerToken(r.Header.Get("Authorization"))
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				writeJSON(w, http.StatusUnauthorized, &apiError{Title: "Unauthorized",
					Message: "The metrics need the bearer token set in METRICS_TOKEN."})
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// bearerToken is the credentials of a Bearer Authorization header.
func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
