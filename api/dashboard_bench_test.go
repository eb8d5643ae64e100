package api

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"goodplan/eventstore"
	"goodplan/eventstore/dashdata"
	"goodplan/projections"
)

// BenchmarkDashboardPages measures the dashboard's pages (Needs
// attention, Overview, the plan list with its filters and searches, a
// plan's page, the catalog, plan groups, developers) through the real
// router, session and templates, with DASHBOARD_BENCH_PLANS plans (default
// 100,000) in the signed-in account, and reports the exact p50 and p99 of
// the iterations (ms). The plans are eventstore/dashdata's fixture (events
// built by the domain's own commands, loaded with COPY), projected by
// `goodplan replay --swap`'s code path (projections.Replay), so the read
// models are what the projection writes.
func BenchmarkDashboardPages(b *testing.B) {
	n := 100_000
	if s := os.Getenv("DASHBOARD_BENCH_PLANS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	e := newEnv(b)
	ctx := context.Background()
	start := time.Now()
	if _, err := dashdata.Seed(ctx, e.store.Pool(), e.acct.ID, n, e.clock.now()); err != nil {
		b.Fatal(err)
	}
	res, err := projections.Replay(ctx, e.store, projections.ReplayOptions{Swap: true, CatchUpWait: time.Second})
	if err != nil || !res.Swapped || res.Plans != int64(n) || len(res.Failed) != 0 {
		b.Fatalf("replay: %+v, %v", res, err)
	}
	if _, err := e.store.Pool().Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d plans (%d events) seeded and projected in %s", n, res.Events, time.Since(start).Round(time.Second))
	e.dashUser(b, e.acct, "owner@example.com", eventstore.RoleOwner)
	res2 := e.login(b, "owner@example.com", dashPassword)
	cookie := sessionCookieOf(res2)
	if cookie == nil {
		b.Fatalf("sign-in: %d", res2.status)
	}
	mid := n / 2
	for _, path := range []string{"/dashboard", "/dashboard/overview", "/dashboard/plans", "/dashboard/plans?status=active",
		"/dashboard/plans?after=" + strconv.FormatInt(dashdata.PlanID(mid), 10),
		"/dashboard/plans?q=" + url.QueryEscape(dashdata.CustomerName(mid/10)), "/dashboard/plans?q=" + dashdata.CustomerEmail(mid),
		"/dashboard/plans?q=" + dashdata.InvoiceNumber(mid), "/dashboard/plans?q=customer",
		"/dashboard/plans/" + strconv.FormatInt(dashdata.PlanID(mid+3), 10), "/dashboard/catalog", "/dashboard/plan-groups",
		"/dashboard/developers"} {
		b.Run(path, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				t0 := time.Now()
				page := e.dashGet(b, path, cookie.Value)
				lat = append(lat, time.Since(t0))
				if page.status != http.StatusOK {
					b.Fatalf("GET %s: %d", path, page.status)
				}
			}
			slices.Sort(lat)
			rank := func(p float64) float64 { // nearest rank
				i := int(p*float64(len(lat))+0.999999) - 1
				return float64(lat[max(i, 0)].Microseconds()) / 1000
			}
			b.ReportMetric(rank(0.50), "p50-ms")
			b.ReportMetric(rank(0.99), "p99-ms")
		})
	}
}
