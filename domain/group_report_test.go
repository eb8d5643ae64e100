package domain_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"goodplan/domain"
)

// pp is a payment plan fact: status, currency, total, paid, reported,
// outstanding, created and completed (RFC 3339 or "").
func pp(t *testing.T, status domain.Status, currency, total, paid, reported, outstanding, created, completed string, extended, proposed bool) domain.ReportPaymentPlan {
	t.Helper()
	at := func(s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return domain.ReportPaymentPlan{Status: status, Currency: currency, Total: dec(t, total), Paid: dec(t, paid),
		Reported: dec(t, reported), Outstanding: dec(t, outstanding), CreatedAt: at(created), CompletedAt: at(completed),
		Extended: extended, Proposed: proposed}
}

// cp is a catalog plan fact.
func cp(t *testing.T, id, currency string, mode domain.PricingMode, amount string, tiers []domain.Tier, interval domain.BillingInterval, count int) domain.ReportCatalogPlan {
	t.Helper()
	p := domain.ReportCatalogPlan{ID: id, Currency: currency, PricingMode: mode, Tiers: tiers, Interval: interval, IntervalCount: count}
	if amount != "" {
		a := dec(t, amount)
		p.Amount = &a
	}
	return p
}

// compactJSON is want without its layout.
func compactJSON(t *testing.T, want string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(want)); err != nil {
		t.Fatalf("want: %v", err)
	}
	return b.String()
}

func TestReportGroupPaymentPlans(t *testing.T) {
	t.Parallel()
	const (
		jan1  = "2026-01-01T10:00:00Z"
		feb1  = "2026-02-01T23:00:00Z"
		empty = ""
	)
	for _, c := range []struct {
		name  string
		plans []domain.ReportPaymentPlan
		want  string
	}{
		{"none", nil, `{"count":0,"by_currency":[]}`},
		{
			// USD: every open and closed status; the median of 10 and 3
			// days is 6.5 (calendar days: 23:00 to 01:00 two days later
			// counts 3); cure 2 of 4 closed; 3 of 6 extended or proposed
			// (one plan both).
			// EUR: median of 1, 5 and 30 is 5; 3 of 4 cured. JPY: 2 of 3
			// closed cured is 0.6667 (half up), no minor units; KWD: an
			// open plan alone, no closed plan: cure null, no median.
			"currencies",
			[]domain.ReportPaymentPlan{
				pp(t, domain.StatusCompleted, "USD", "1200.00", "1200.00", "0.00", "0.00", jan1, "2026-01-11T09:00:00Z", true, false),
				pp(t, domain.StatusCompleted, "USD", "300.00", "300.00", "0.00", "0.00", feb1, "2026-02-04T01:00:00Z", false, false),
				pp(t, domain.StatusActive, "USD", "500.00", "200.00", "50.00", "300.00", jan1, empty, false, true),
				pp(t, domain.StatusWrittenOff, "USD", "400.00", "100.00", "0.00", "300.00", jan1, empty, true, true),
				pp(t, domain.StatusCancelled, "USD", "100.00", "0.00", "0.00", "100.00", jan1, empty, false, false),
				pp(t, domain.StatusPending, "USD", "250.00", "0.00", "0.00", "250.00", jan1, empty, false, false),
				pp(t, domain.StatusAbandoned, "EUR", "99.99", "0.00", "0.00", "99.99", jan1, empty, false, false),
				pp(t, domain.StatusCompleted, "EUR", "10.01", "10.01", "0.00", "0.00", jan1, "2026-01-02T00:00:00Z", false, false),
				pp(t, domain.StatusCompleted, "EUR", "10.01", "10.01", "0.00", "0.00", jan1, "2026-01-31T23:59:59Z", false, false),
				pp(t, domain.StatusCompleted, "EUR", "10.01", "10.01", "0.00", "0.00", jan1, "2026-01-06T10:00:00Z", false, false),
				pp(t, domain.StatusCompleted, "JPY", "5000", "5000", "0", "0", jan1, "2026-01-03T00:00:00Z", false, false),
				pp(t, domain.StatusCompleted, "JPY", "7001", "7001", "0", "0", jan1, "2026-01-05T00:00:00Z", false, true),
				pp(t, domain.StatusCancelled, "JPY", "3000", "1000", "0", "2000", jan1, empty, false, false),
				pp(t, domain.StatusActive, "KWD", "10.500", "0.125", "0.250", "10.375", jan1, empty, false, false),
			},
			`{"count":14,"by_currency":[
			{"currency":"EUR","count":4,"by_status":{"abandoned":1,"active":0,"cancelled":0,"completed":3,"pending":0,"written_off":0},
			 "amount_owed":"130.02","confirmed":"30.03","reported":"0.00","outstanding":"0.00","written_off":"0.00",
			 "completed":3,"closed":4,"cure_rate":"0.7500","median_days_to_completion":"5",
			 "extended_or_proposed":0,"extended_or_proposed_share":"0.0000"},
			{"currency":"JPY","count":3,"by_status":{"abandoned":0,"active":0,"cancelled":1,"completed":2,"pending":0,"written_off":0},
			 "amount_owed":"15001","confirmed":"13001","reported":"0","outstanding":"0","written_off":"0",
			 "completed":2,"closed":3,"cure_rate":"0.6667","median_days_to_completion":"3",
			 "extended_or_proposed":1,"extended_or_proposed_share":"0.3333"},
			{"currency":"KWD","count":1,"by_status":{"abandoned":0,"active":1,"cancelled":0,"completed":0,"pending":0,"written_off":0},
			 "amount_owed":"10.500","confirmed":"0.125","reported":"0.250","outstanding":"10.375","written_off":"0.000",
			 "completed":0,"closed":0,"cure_rate":null,"median_days_to_completion":null,
			 "extended_or_proposed":0,"extended_or_proposed_share":"0.0000"},
			{"currency":"USD","count":6,"by_status":{"abandoned":0,"active":1,"cancelled":1,"completed":2,"pending":1,"written_off":1},
			 "amount_owed":"2750.00","confirmed":"1800.00","reported":"50.00","outstanding":"550.00","written_off":"300.00",
			 "completed":2,"closed":4,"cure_rate":"0.5000","median_days_to_completion":"6.5",
			 "extended_or_proposed":3,"extended_or_proposed_share":"0.5000"}]}`,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, err := domain.ReportGroup(c.plans, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(r.PaymentPlans)
			if string(got) != compactJSON(t, c.want) {
				t.Fatalf("got  %s\nwant %s", got, compactJSON(t, c.want))
			}
		})
	}
}

func TestReportGroupCatalogPlans(t *testing.T) {
	t.Parallel()
	r, err := domain.ReportGroup(nil, []domain.ReportCatalogPlan{
		cp(t, "daily", "USD", domain.PerUnit, "1.00", nil, domain.Day, 1),         // 365/12 = 30.41666.. -> 30.42
		cp(t, "weekly", "USD", domain.PerUnit, "10", nil, domain.Week, 2),         // 10 x 52/24 = 21.666.. -> 21.67
		cp(t, "monthly", "USD", domain.PerUnit, "49.00", nil, domain.Month, 1),    // 49.00
		cp(t, "yearly", "USD", domain.PerUnit, "100", nil, domain.Year, 1),        // 8.333.. -> 8.33
		cp(t, "quarterly", "EUR", domain.PerUnit, "30", nil, domain.Month, 3),     // 10.00
		cp(t, "vol", "USD", domain.Volume, "", invoicedTiers(t), domain.Month, 1), // quantity 1: the first tier, 100
		cp(t, "tier", "EUR", domain.Tiered, "", invoicedTiers(t), domain.Year, 1), // 100 / 12 -> 8.33
		cp(t, "custom", "USD", domain.Custom, "", nil, domain.Month, 1),           // no list price: counted apart
		cp(t, "subcent", "USD", domain.PerUnit, "0.0015", nil, domain.Day, 1),     // 0.045625 -> 0.05
		cp(t, "kwd", "KWD", domain.PerUnit, "1.2345", nil, domain.Year, 1),        // 0.102875 -> 0.103
		cp(t, "half", "USD", domain.PerUnit, "0.06", nil, domain.Year, 1),         // 0.005 -> 0.01, half up
		cp(t, "jpy", "JPY", domain.PerUnit, "1000", nil, domain.Week, 1),          // 4333.33.. -> 4333
		cp(t, "zero", "USD", domain.PerUnit, "0", nil, domain.Month, 12),          // 0.00
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(r.CatalogPlans)
	want := compactJSON(t, `{"count":13,"custom":1,"by_interval_and_currency":[
		{"interval":"day","currency":"USD","count":2,"custom":0,"monthly_list_price":"30.47"},
		{"interval":"week","currency":"JPY","count":1,"custom":0,"monthly_list_price":"4333"},
		{"interval":"week","currency":"USD","count":1,"custom":0,"monthly_list_price":"21.67"},
		{"interval":"month","currency":"EUR","count":1,"custom":0,"monthly_list_price":"10.00"},
		{"interval":"month","currency":"USD","count":4,"custom":1,"monthly_list_price":"149.00"},
		{"interval":"year","currency":"EUR","count":1,"custom":0,"monthly_list_price":"8.33"},
		{"interval":"year","currency":"KWD","count":1,"custom":0,"monthly_list_price":"0.103"},
		{"interval":"year","currency":"USD","count":2,"custom":0,"monthly_list_price":"8.34"}],
	"plans":[
		{"id":"daily","currency":"USD","pricing_mode":"per_unit","interval":"day","interval_count":1,"list_price":"1.00","monthly_list_price":"30.42"},
		{"id":"weekly","currency":"USD","pricing_mode":"per_unit","interval":"week","interval_count":2,"list_price":"10","monthly_list_price":"21.67"},
		{"id":"monthly","currency":"USD","pricing_mode":"per_unit","interval":"month","interval_count":1,"list_price":"49.00","monthly_list_price":"49.00"},
		{"id":"yearly","currency":"USD","pricing_mode":"per_unit","interval":"year","interval_count":1,"list_price":"100","monthly_list_price":"8.33"},
		{"id":"quarterly","currency":"EUR","pricing_mode":"per_unit","interval":"month","interval_count":3,"list_price":"30","monthly_list_price":"10.00"},
		{"id":"vol","currency":"USD","pricing_mode":"volume","interval":"month","interval_count":1,"list_price":"100","monthly_list_price":"100.00"},
		{"id":"tier","currency":"EUR","pricing_mode":"tiered","interval":"year","interval_count":1,"list_price":"100","monthly_list_price":"8.33"},
		{"id":"custom","currency":"USD","pricing_mode":"custom","interval":"month","interval_count":1,"list_price":null,"monthly_list_price":null},
		{"id":"subcent","currency":"USD","pricing_mode":"per_unit","interval":"day","interval_count":1,"list_price":"0.0015","monthly_list_price":"0.05"},
		{"id":"kwd","currency":"KWD","pricing_mode":"per_unit","interval":"year","interval_count":1,"list_price":"1.2345","monthly_list_price":"0.103"},
		{"id":"half","currency":"USD","pricing_mode":"per_unit","interval":"year","interval_count":1,"list_price":"0.06","monthly_list_price":"0.01"},
		{"id":"jpy","currency":"JPY","pricing_mode":"per_unit","interval":"week","interval_count":1,"list_price":"1000","monthly_list_price":"4333"},
		{"id":"zero","currency":"USD","pricing_mode":"per_unit","interval":"month","interval_count":12,"list_price":"0","monthly_list_price":"0.00"}]}`)
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestMonthlyPriceRefusesUnknownIntervalOrCount(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		interval domain.BillingInterval
		count    int
		currency string
	}{{"fortnight", 1, "USD"}, {domain.Month, 0, "USD"}, {domain.Month, 1, "XXX"}} {
		if _, err := domain.MonthlyPrice(domain.NewDecimal(1, 0), c.interval, c.count, c.currency); err == nil {
			t.Errorf("MonthlyPrice(%s x %d %s): no error", c.interval, c.count, c.currency)
		}
	}
}
