package api

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"goodplan/eventstore"
)

// BenchmarkCreatePlan measures POST /api/v1/plans through the real router,
// auth, validation and a durable append on PostgreSQL, with distinct plans
// from concurrent clients (parallelism x GOMAXPROCS goroutines).
func BenchmarkCreatePlan(b *testing.B) {
	for _, parallelism := range []int{1, 8} {
		b.Run(fmt.Sprintf("parallelism=%d", parallelism), func(b *testing.B) {
			env := newEnv(b)
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
