package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
)

// BenchmarkDashboardSummaryPages measures GET /dashboard (Needs attention)
// and GET /dashboard/overview through the real router, session and
// templates, with DASHBOARD_BENCH_PLANS plans (default 100,000) in the
// signed-in account, and reports the exact p50 and p99 of the iterations
// (ms). The plans are events built by the domain's own commands, loaded
// with COPY, and projected by `goodplan replay --swap`'s code path
// (projections.Replay), so plan_views is what the projection writes. A
// tenth of the plans each: a payment reported, a payment confirmed, paid
// off, a check-in left unanswered, a proposal pending, cancelled; the rest
// active (their first installments overdue) or pending.
func BenchmarkDashboardSummaryPages(b *testing.B) {
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
	seedDashboardPlans(b, e.store, e.acct.ID, n, e.clock.now())
	res, err := projections.Replay(ctx, e.store, projections.ReplayOptions{Swap: true, CatchUpWait: time.Second})
	if err != nil || !res.Swapped || res.Plans != int64(n) || len(res.Failed) != 0 {
		b.Fatalf("replay: %+v, %v", res, err)
	}
	if _, err := e.store.Pool().Exec(ctx, `VACUUM (ANALYZE) plan_views, plan_week_amounts`); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d plans (%d events) seeded and projected in %s", n, res.Events, time.Since(start).Round(time.Second))
	e.dashUser(b, e.acct, "owner@example.com", eventstore.RoleOwner)
	res2 := e.login(b, "owner@example.com", dashPassword)
	cookie := sessionCookieOf(res2)
	if cookie == nil {
		b.Fatalf("sign-in: %d", res2.status)
	}
	for _, path := range []string{"/dashboard", "/dashboard/overview"} {
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

// seedDashboardPlans appends n plans of account, created over the 70 days
// before now, with their events (see BenchmarkDashboardSummaryPages),
// straight into the events and streams tables with valid hash chains.
func seedDashboardPlans(b testing.TB, store *eventstore.Store, accountID int64, n int, now time.Time) {
	const chunk = 2000
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	next := make(chan int)
	for range 2 {
		wg.Go(func() {
			for first := range next {
				var evRows, stRows [][]any
				for i := first; i < min(first+chunk, n); i++ {
					ev, st, err := benchPlanRows(i, accountID, now)
					if err != nil {
						errs <- err
						return
					}
					evRows, stRows = append(evRows, ev...), append(stRows, st)
				}
				err := pgx.BeginFunc(context.Background(), store.Pool(), func(tx pgx.Tx) error {
					if _, err := tx.CopyFrom(context.Background(), pgx.Identifier{"events"},
						[]string{"stream_id", "version", "event_id", "type", "data", "metadata", "recorded_at", "hash"}, pgx.CopyFromRows(evRows)); err != nil {
						return err
					}
					_, err := tx.CopyFrom(context.Background(), pgx.Identifier{"streams"}, []string{"stream_id", "version", "last_hash"}, pgx.CopyFromRows(stRows))
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for first := 0; first < n; first += chunk {
		select {
		case next <- first:
		case err := <-errs:
			b.Fatal(err)
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

// benchPlanRows builds plan i's events (event rows and its stream row).
func benchPlanRows(i int, accountID int64, now time.Time) (evRows [][]any, stream []any, err error) {
	ids := int64(50_000_000 + 20*i)
	id := func() int64 { ids++; return ids }
	at := now.Add(-70*24*time.Hour + time.Duration(i)*time.Millisecond*50)
	var p domain.Plan
	var all []domain.Event
	var times []time.Time
	run := func(t time.Time) func([]domain.Event, error) error {
		return func(evs []domain.Event, err error) error {
			if err != nil {
				return fmt.Errorf("plan %d: %w", i, err)
			}
			for _, e := range evs {
				p.ApplyAt(e, t)
				all, times = append(all, e), append(times, t)
			}
			return nil
		}
	}
	if err := run(at)(p.CreatePlan(domain.CreatePlan{PlanID: id(), AccountID: accountID, CustomerID: id(), InvoiceID: id(),
		OptionIDs: []int64{id(), id(), id()}, PortalToken: fmt.Sprintf("bench-%d", i), Now: at,
		CustomerName: fmt.Sprintf("Customer %d", i), CustomerEmail: fmt.Sprintf("c%d@example.com", i),
		Amount: fmt.Sprintf("%d.%02d", 300+i%900, i%100), InvoiceNumber: fmt.Sprintf("INV-%d", i), Durations: []int{3}})); err != nil {
		return nil, nil, err
	}
	later := at.Add(time.Hour)
	kind := i % 10
	if kind <= 5 {
		if err := run(later)(p.SelectOption(domain.SelectOption{OptionID: p.Options()[0].ID,
			Consent: domain.Consent{At: later, IP: "203.0.113.7", UserAgent: "bench"}})); err != nil {
			return nil, nil, err
		}
	}
	pay := func(record bool, amount string, t time.Time) error {
		in := domain.PaymentInput{PaymentID: id(), Amount: amount, Method: "cash", Now: t}
		if record {
			return run(t)(p.RecordPayment(in))
		}
		return run(t)(p.ReportPayment(in))
	}
	first := p.Installments()
	switch kind {
	case 0:
		err = pay(false, first[0].Amount.String(), later)
	case 1:
		err = pay(true, first[0].Amount.String(), first[0].DueDate.Time().Add(2*time.Hour))
	case 2:
		err = pay(true, p.Ledger().Outstanding.String(), later.Add(24*time.Hour*time.Duration(1+i%40)))
	case 3:
		due := first[0].DueDate
		err = run(due.Time().Add(8*time.Hour))(p.Tick(due.Time().Add(8*time.Hour), 3), nil)
		if err == nil {
			k := domain.NoticeKey{Kind: domain.NoticeCheckin, Installment: 1, DueDate: due}
			sent := due.Time().Add(9 * time.Hour)
			err = run(sent)(p.RecordNotificationSent(k, "<m>", "c@example.com", sent))
		}
		if err == nil {
			t := due.Time().Add(3*24*time.Hour + 8*time.Hour)
			err = run(t)(p.Tick(t, 3), nil)
		}
	case 6:
		err = run(later)(p.ProposeSchedule(id(), domain.TermsInput{Installments: "4", Interval: "monthly",
			FirstPaymentDate: domain.DateOf(now).AddDays(10).String()}, domain.Consent{At: later, IP: "203.0.113.7", UserAgent: "bench"}))
	case 7:
		err = run(later)(p.Cancel("bench", later))
	}
	if err != nil {
		return nil, nil, err
	}
	streamID := eventstore.PlanStream(p.ID())
	meta, _ := json.Marshal(eventstore.Metadata{AccountID: accountID, Actor: "merchant"})
	var hash []byte
	for v, e := range all {
		typ, data, err := domain.MarshalEvent(e)
		if err != nil {
			return nil, nil, err
		}
		eid := uuid.Must(uuid.NewV7())
		hash = eventstore.ChainHash(hash, streamID, int64(v+1), eid, typ, data, meta, times[v])
		evRows = append(evRows, []any{streamID, int64(v + 1), eid, typ, data, meta, times[v], hash})
	}
	return evRows, []any{streamID, int64(len(all)), hash}, nil
}
