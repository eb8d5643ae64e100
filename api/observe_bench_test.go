package api

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"goodplan/eventstore"
)

// BenchmarkObserve measures what the observe middleware adds to one
// request: a chi router serving a trivial route bare, then behind observe
// as goodplan serve runs it (metrics, the request log line, span contexts
// made but not recorded).
func BenchmarkObserve(b *testing.B) {
	ok := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }
	bare := chi.NewRouter()
	bare.Get("/api/v1/plans/{id}", ok)

	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	s := &Server{metrics: m, requestLog: slog.New(slog.NewTextHandler(io.Discard, nil)), tracer: untracedProvider().Tracer("bench")}
	observed := chi.NewRouter()
	observed.Use(s.observe)
	observed.Get("/api/v1/plans/{id}", ok)

	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"observed", observed}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("GET", "/api/v1/plans/42", nil)
					req.Header.Set("X-Request-Id", "bench-1")
					rec := httptest.NewRecorder()
					c.h.ServeHTTP(rec, req)
					if rec.Code != http.StatusNoContent {
						b.Fatalf("status %d", rec.Code)
					}
				}
			})
		})
	}
}

// BenchmarkCreatePlanObserved is BenchmarkCreatePlan with the server as
// goodplan serve configures it: metrics on, a request log line per request
// (to io.Discard), spans made but not exported.
func BenchmarkCreatePlanObserved(b *testing.B) {
	for _, parallelism := range []int{1, 8} {
		b.Run(fmt.Sprintf("parallelism=%d", parallelism), func(b *testing.B) {
			env := newEnv(b)
			m, err := NewMetrics(prometheus.NewRegistry())
			if err != nil {
				b.Fatal(err)
			}
			env.srv = New(Config{Store: env.store, PublicURL: "https://goodplan.test/", Version: "test", Now: env.clock.now,
				Metrics: m, RequestLog: slog.New(slog.NewTextHandler(io.Discard, nil))})
			_, key := env.account(b, eventstore.NewAccount{Name: "Bench"}) // no rate limit
			var n atomic.Int64
			b.SetParallelism(parallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					body := fmt.Appendf(nil, `{"customer":{"name":"Customer %d","email":"c%d@example.com"},"invoice":{"amount":%d.%02d,"invoice_number":"INV-%d"}}`,
						i, i, 100+i%5000, i%100, i)
					req := httptest.NewRequest("POST", "/api/v1/plans", bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+key)
					rec := httptest.NewRecorder()
					env.srv.ServeHTTP(rec, req)
					if rec.Code != 201 {
						b.Errorf("status %d: %s", rec.Code, rec.Body)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "plans/s")
		})
	}
}
