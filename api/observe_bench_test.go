package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
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
