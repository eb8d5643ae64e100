package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// The dashboard's plan list at scale: 100,000 plans in one account (and
// 20,000 in another), each query of the list, its status filter and its
// searches timed (p50, p99 per query) and its plan checked to use the
// index migration 016 made for it.
//
//	go test -run '^$' -bench PlanList -benchtime 200x ./projections/

const (
	benchPlans      = 100_000
	benchOtherPlans = 20_000
)

var (
	benchFirst = []string{"Ana", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas",
		"Kwame", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Yuki"}
	benchLast = []string{"Smith", "García", "Okafor", "Müller", "Nguyen", "Kowalski", "Rossi", "Tanaka", "Silva",
		"Johansson", "Dubois", "Haddad", "Kim", "Novak", "Papadopoulos", "Ivanova", "Cohen", "Murphy", "Singh",
		"Larsen", "Costa", "Fischer", "Horvat", "Jensen", "Khan", "Lopez", "Moreau", "Nakamura", "Olsen", "Petrov",
		"Quispe", "Reyes", "Sato", "Torres", "Ueda", "Vega", "Weber", "Xu", "Yilmaz", "Zhang", "Abbott", "Baker",
		"Carter", "Diaz", "Evans", "Flores", "Gray", "Hughes", "Ito", "Ortega"}
	// Of every 50 plans: 22 active, 18 completed, 6 pending, 2 cancelled,
	// 1 written off, 1 abandoned.
	benchStatuses = func() []domain.Status {
		var out []domain.Status
		for st, n := range map[domain.Status]int{domain.StatusActive: 22, domain.StatusCompleted: 18, domain.StatusPending: 6,
			domain.StatusCancelled: 2, domain.StatusWrittenOff: 1, domain.StatusAbandoned: 1} {
			for range n {
				out = append(out, st)
			}
		}
		slices.Sort(out) // map order is random; the seed is not
		return out
	}()
)

// benchPlanRow is a realistic plan row (options with their schedules, a
// lifecycle, a history), built by the projection's own rowOf.
func benchPlanRow(b *testing.B) planRow {
	b.Helper()
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	var p domain.Plan
	evs, err := p.CreatePlan(domain.CreatePlan{PlanID: 1, AccountID: 1, CustomerID: 2, InvoiceID: 3,
		OptionIDs: []int64{4, 5, 6}, PortalToken: "tok", Now: now, CustomerName: "Ann", CustomerEmail: "ann@example.com",
		Amount: "1200.00", InvoiceNumber: "INV-1", Description: "Past due consulting services", SendIntroductionEmail: true})
	if err != nil {
		b.Fatal(err)
	}
	p.Apply(evs[0])
	row, err := rowOf(&p, nil)
	if err != nil {
		b.Fatal(err)
	}
	return row
}

// seedPlanList copies n plans into plan_views, ids from firstID, created
// a minute apart, the g-th of account accountOf(g).
// Names repeat (20 first names x 50 last names), every 25,000th is rare
// ("Ximena Quetzalcoatl"); emails and invoice numbers are unique.
func seedPlanList(b *testing.B, store *eventstore.Store, base planRow, firstID int64, n int, accountOf func(g int) int64) {
	b.Helper()
	var inv domain.Invoice
	if err := json.Unmarshal(base.Invoice, &inv); err != nil {
		b.Fatal(err)
	}
	g, perAccount := 0, map[int64]int{}
	_, err := store.Pool().CopyFrom(context.Background(), pgx.Identifier{"plan_views"}, columnList,
		pgx.CopyFromFunc(func() ([]any, error) {
			if g == n {
				return nil, nil
			}
			r := base
			r.PlanID, r.AccountID = firstID+int64(g), accountOf(g)
			i := perAccount[r.AccountID]
			perAccount[r.AccountID]++
			first, last := benchFirst[i%len(benchFirst)], benchLast[(i/len(benchFirst))%len(benchLast)]
			if i%25_000 == 4242 {
				first, last = "Ximena", "Quetzalcoatl"
			}
			r.Customer, _ = json.Marshal(domain.Customer{ID: r.PlanID, Name: first + " " + last,
				Email: fmt.Sprintf("%s.%s%d@example.com", strings.ToLower(first), strings.ToLower(last), i)})
			inv.ID, inv.InvoiceNumber = r.PlanID, fmt.Sprintf("INV-%d-%06d", r.AccountID, i)
			r.Invoice, _ = json.Marshal(inv)
			r.Status = string(benchStatuses[i%len(benchStatuses)])
			r.PortalToken = fmt.Sprintf("%d.tok", r.PlanID)
			r.CreatedAt = base.CreatedAt.Add(time.Duration(g) * time.Minute)
			r.UpdatedAt = r.CreatedAt
			g++
			return r.args(), nil
		}))
	if err != nil {
		b.Fatal(err)
	}
}

func BenchmarkPlanList(b *testing.B) {
	store := eventstore.New(pgtest.NewPool(b))
	plans := NewPlans(store)
	ctx := context.Background()
	base := benchPlanRow(b)
	start := time.Now()
	// Account 3: 500 plans, older than all the others. Accounts 1 and 2:
	// every sixth plan is account 2's (two accounts' plans interleave, as
	// they are created over the same days).
	seedPlanList(b, store, base, 500_000, 500, func(int) int64 { return 3 })
	seedPlanList(b, store, base, 1_000_000, benchPlans+benchOtherPlans, func(g int) int64 { return 1 + int64(g%6/5) })
	if _, err := store.Pool().Exec(ctx, `ANALYZE plan_views`); err != nil {
		b.Fatal(err)
	}
	var inAccount int
	if err := store.Pool().QueryRow(ctx, `SELECT count(*) FROM plan_views WHERE account_id = 1`).Scan(&inAccount); err != nil || inAccount != benchPlans {
		b.Fatalf("account 1 has %d plans (%v), want %d", inAccount, err, benchPlans)
	}
	b.Logf("seeded %d + %d plans in %s", benchPlans, benchOtherPlans, time.Since(start).Round(time.Millisecond))

	const mid = 1_000_000 + (benchPlans+benchOtherPlans)/2
	for _, c := range []struct {
		name string
		q    PlanListQuery
		// index is the index the plan must use; with pkey, walking the
		// primary key backwards does too, which the planner chooses when
		// it expects the page's rows soon (a big account, a common status
		// or name).
		index string
		pkey  bool
		min   int // rows the page must have at least
	}{
		{"list", PlanListQuery{}, "plan_views_account_id_idx", true, 25},
		{"list-deep", PlanListQuery{After: mid}, "plan_views_account_id_idx", true, 25},
		{"list-back", PlanListQuery{Before: mid}, "plan_views_account_id_idx", true, 25},
		{"list-other-account", PlanListQuery{AccountID: 2}, "plan_views_account_id_idx", true, 25},
		{"list-small-account", PlanListQuery{AccountID: 3}, "plan_views_account_id_idx", false, 25},
		{"status", PlanListQuery{Status: "pending"}, "plan_views_account_status_id_idx", true, 25},
		{"status-deep", PlanListQuery{Status: "cancelled", After: mid - 20_000}, "plan_views_account_status_id_idx", false, 25},
		{"status-rare", PlanListQuery{Status: "written_off"}, "plan_views_account_status_id_idx", false, 25},
		{"search-email", PlanListQuery{Search: "Ximena.Quetzalcoatl54242@Example.com"}, "plan_views_email_idx", false, 1},
		{"search-invoice", PlanListQuery{Search: "inv-1-054242"}, "plan_views_invoice_number_idx", false, 1},
		{"search-name", PlanListQuery{Search: "okafor"}, "plan_views_name_trgm_idx", true, 25},
		{"search-name-rare", PlanListQuery{Search: "quetzal"}, "plan_views_name_trgm_idx", false, 4},
		{"search-miss", PlanListQuery{Search: "zzqqxx"}, "plan_views_name_trgm_idx", false, 0},
		{"search-status", PlanListQuery{Search: "Okafor", Status: "pending"}, "plan_views_name_trgm_idx", true, 25},
	} {
		if c.q.AccountID == 0 {
			c.q.AccountID = 1
		}
		c.q.Limit = 25
		sql, args := plans.listPageSQL(c.q)
		var plan strings.Builder
		rows, err := store.Pool().Query(ctx, "EXPLAIN "+sql, args...)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				b.Fatal(err)
			}
			plan.WriteString(line + "\n")
		}
		rows.Close()
		b.Logf("%s:\n%s", c.name, plan.String())
		pkeyOK := c.pkey && strings.Contains(plan.String(), "plan_views_pkey")
		if !(strings.Contains(plan.String(), c.index) || pkeyOK) || strings.Contains(plan.String(), "Seq Scan") {
			b.Fatalf("%s: the plan does not use %s:\n%s", c.name, c.index, plan.String())
		}
		b.Run(c.name, func(b *testing.B) {
			took := make([]time.Duration, 0, b.N)
			for range b.N {
				t0 := time.Now()
				page, err := plans.ListPage(ctx, c.q)
				took = append(took, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				if len(page.Rows) < c.min {
					b.Fatalf("%s: %d rows, want at least %d", c.name, len(page.Rows), c.min)
				}
				for _, r := range page.Rows {
					if c.q.Status != "" && r.Status != c.q.Status {
						b.Fatalf("%s: a %s plan", c.name, r.Status)
					}
				}
			}
			slices.Sort(took)
			ms := func(q float64) float64 {
				return float64(took[min(len(took)-1, int(q*float64(len(took))))].Microseconds()) / 1000
			}
			b.ReportMetric(ms(0.50), "p50-ms")
			b.ReportMetric(ms(0.99), "p99-ms")
		})
	}
	// An export reads the whole account (100,000 rows) in keyset batches:
	// timed once (it takes about a second).
	t0 := time.Now()
	n := 0
	if err := plans.EachListed(ctx, PlanListQuery{AccountID: 1}, func(PlanListRow) error { n++; return nil }); err != nil {
		b.Fatal(err)
	}
	if n != benchPlans {
		b.Fatalf("exported %d plans, want %d", n, benchPlans)
	}
	took := time.Since(t0)
	b.Logf("export of %d plans: %s, %.0f rows/s", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
}
