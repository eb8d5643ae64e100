// Package dashdata builds the dashboard's benchmark fixture: n payment
// plans in one account with the events the domain's own commands make
// (a tenth each with a payment reported, a payment confirmed, paid off, a
// check-in left unanswered, a proposal pending, cancelled; the rest active
// with overdue installments, or pending), loaded straight into the events
// and streams tables with COPY and valid hash chains. Project them with
// replay's code path (projections.Replay or `goodplan replay --swap`).
// Both the Go benchmark (api's BenchmarkDashboardPages) and the
// harness's dashboard row (bench/dashboard.go) use it; it is the
// store's test support, like eventstore/pgtest, as nothing imports bench.
package dashdata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"goodplan/domain"
	"goodplan/eventstore"
)

// chunk is how many plans one COPY transaction loads.
const chunk = 2000

// firstID is where the fixture's ids (plans, customers, options,
// payments) start, far above what the service allocates in a test.
const firstID = 50_000_000

// PlanID is the id of plan i (0-based) of the fixture.
func PlanID(i int) int64 { return firstID + 20*int64(i) + 1 }

// CustomerName, CustomerEmail and InvoiceNumber are plan i's, for searches.
func CustomerName(i int) string  { return fmt.Sprintf("Customer %d", i) }
func CustomerEmail(i int) string { return fmt.Sprintf("c%d@example.com", i) }
func InvoiceNumber(i int) string { return fmt.Sprintf("INV-%d", i) }

// Seed appends n plans of account accountID, created over the 70 days
// before now, with their events (see the package comment), from two
// goroutines. It returns how many events it wrote.
func Seed(ctx context.Context, pool *pgxpool.Pool, accountID int64, n int, now time.Time) (int, error) {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		events int
		errOne error
	)
	next := make(chan int)
	for range 2 {
		wg.Go(func() {
			for first := range next {
				var evRows, stRows [][]any
				var err error
				for i := first; i < min(first+chunk, n) && err == nil; i++ {
					var ev [][]any
					var st []any
					if ev, st, err = planRows(i, accountID, now); err == nil {
						evRows, stRows = append(evRows, ev...), append(stRows, st)
					}
				}
				if err == nil {
					err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
						if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"stream_id", "version", "event_id",
							"type", "data", "metadata", "recorded_at", "hash"}, pgx.CopyFromRows(evRows)); err != nil {
							return err
						}
						_, err := tx.CopyFrom(ctx, pgx.Identifier{"streams"}, []string{"stream_id", "version", "last_hash"},
							pgx.CopyFromRows(stRows))
						return err
					})
				}
				mu.Lock()
				events += len(evRows)
				errOne = errors.Join(errOne, err)
				mu.Unlock()
			}
		})
	}
	for first := 0; first < n; first += chunk {
		mu.Lock()
		failed := errOne != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		next <- first
	}
	close(next)
	wg.Wait()
	if errOne == nil {
		errOne = ctx.Err()
	}
	return events, errOne
}

// planRows builds plan i's events (event rows and its stream row).
func planRows(i int, accountID int64, now time.Time) (evRows [][]any, stream []any, err error) {
	ids := PlanID(i) - 1
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
		CustomerName: CustomerName(i), CustomerEmail: CustomerEmail(i),
		Amount: fmt.Sprintf("%d.%02d", 300+i%900, i%100), InvoiceNumber: InvoiceNumber(i), Durations: []int{3}})); err != nil {
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
