package api

import (
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"strconv"
	"testing"

	"goodplan/eventstore"
	"goodplan/projections"
)

// BenchmarkListPlansKeyset measures GET /api/v1/plans?limit=20&starting_after=
// through the real router over 100 projected plans, from concurrent
// clients: the cost of a page in the API process and its queries.
func BenchmarkListPlansKeyset(b *testing.B) {
	env := newEnv(b)
	var ids []int64
	for i := range 100 {
		body := fmt.Appendf(nil, `{"customer":{"name":"Customer %d","email":"c%d@example.com"},"invoice":{"amount":"%d.00","invoice_number":"INV-%d"}}`,
			i, i, 100+i, i)
		res := env.do(b, "POST", "/api/v1/plans", env.key, body)
		if res.status != 201 {
			b.Fatalf("create: %d %s", res.status, res.body)
		}
		id, _ := res.json(b)["plan_id"].(float64)
		ids = append(ids, int64(id))
	}
	plans := projections.NewPlans(env.store)
	for _, id := range ids {
		recs, _, err := env.store.Load(b.Context(), eventstore.PlanStream(id))
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if err := plans.Apply(b.Context(), r); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("GET", "/api/v1/plans?limit=20&starting_after="+strconv.FormatInt(ids[20+rand.IntN(80)], 10), nil)
			req.Header.Set("Authorization", "Bearer "+env.key)
			rec := httptest.NewRecorder()
			env.srv.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}
