package domain

import (
	"fmt"
	"sort"

	"github.com/cockroachdb/apd/v3"
)

// The catalog plans' part of the plan group report (see ReportGroup).

// CatalogPlansReport covers the group's catalog plans: how many, how many
// have custom pricing (no list price), each plan's monthly list price and
// the count and monthly total of each (interval, currency).
type CatalogPlansReport struct {
	Count                 int                      `json:"count"`
	Custom                int                      `json:"custom"`
	ByIntervalAndCurrency []IntervalCurrencyReport `json:"by_interval_and_currency"`
	Plans                 []CatalogPlanMonthly     `json:"plans"`
}

// IntervalCurrencyReport is the catalog plans billed every Interval in
// Currency: Count of them, Custom of those without a list price, and
// MonthlyListPrice the sum of the others' monthly list prices.
type IntervalCurrencyReport struct {
	Interval         BillingInterval `json:"interval"`
	Currency         string          `json:"currency"`
	Count            int             `json:"count"`
	Custom           int             `json:"custom"`
	MonthlyListPrice Decimal         `json:"monthly_list_price"`
}

// CatalogPlanMonthly is one catalog plan's list price: ListPrice the price
// of quantity 1 for one billing period (exact, see PriceQuantity: per_unit
// its amount, volume and tiered the first tier's unit cost), and
// MonthlyListPrice that price per month (see MonthlyPrice); both null for
// custom pricing.
type CatalogPlanMonthly struct {
	ID               string          `json:"id"`
	Currency         string          `json:"currency"`
	PricingMode      PricingMode     `json:"pricing_mode"`
	Interval         BillingInterval `json:"interval"`
	IntervalCount    int             `json:"interval_count"`
	ListPrice        *Decimal        `json:"list_price"`
	MonthlyListPrice *Decimal        `json:"monthly_list_price"`
}

// monthlyFactor turns a price per interval into a price per month, as
// num / den: a daily price x 365/12, weekly x 52/12, monthly x 1, yearly
// x 1/12.
var monthlyFactor = map[BillingInterval][2]int64{Day: {365, 12}, Week: {52, 12}, Month: {1, 1}, Year: {1, 12}}

// MonthlyPrice is price, charged every intervalCount intervals, per month:
// price x num / (den x intervalCount) with the interval's factor (day
// 365/12, week 52/12, month 1, year 1/12), rounded once, half up, to
// currency's minor units.
func MonthlyPrice(price Decimal, interval BillingInterval, intervalCount int, currency string) (Decimal, error) {
	f, ok := monthlyFactor[interval]
	c, known := LookupCurrency(currency)
	if !ok || !known || intervalCount < 1 {
		return Decimal{}, fmt.Errorf("monthly price: interval %q x %d in %q", interval, intervalCount, currency)
	}
	var num, q apd.Decimal
	if _, err := reportContext.Mul(&num, price.apd(), apd.New(f[0], 0)); err != nil {
		return Decimal{}, err
	}
	if _, err := reportContext.Quo(&q, &num, apd.New(f[1]*int64(intervalCount), 0)); err != nil {
		return Decimal{}, err
	}
	return roundTo(&q, c.MinorUnits)
}

// intervalOrder sorts interval cells.
var intervalOrder = map[BillingInterval]int{Day: 0, Week: 1, Month: 2, Year: 3}

func reportCatalog(plans []ReportCatalogPlan) (CatalogPlansReport, error) {
	out := CatalogPlansReport{Count: len(plans), ByIntervalAndCurrency: []IntervalCurrencyReport{},
		Plans: make([]CatalogPlanMonthly, 0, len(plans))}
	type cellKey struct {
		interval BillingInterval
		currency string
	}
	cells := map[cellKey]*IntervalCurrencyReport{}
	sums := map[cellKey]*apd.Decimal{}
	for _, p := range plans {
		k := cellKey{p.Interval, p.Currency}
		cell := cells[k]
		if cell == nil {
			cell = &IntervalCurrencyReport{Interval: p.Interval, Currency: p.Currency}
			cells[k], sums[k] = cell, new(apd.Decimal)
		}
		cell.Count++
		line := CatalogPlanMonthly{ID: p.ID, Currency: p.Currency, PricingMode: p.PricingMode, Interval: p.Interval,
			IntervalCount: p.IntervalCount}
		if p.PricingMode == Custom {
			cell.Custom++
			out.Custom++
			out.Plans = append(out.Plans, line)
			continue
		}
		q, err := PriceQuantity(p.Currency, p.PricingMode, p.Amount, p.Tiers, NewDecimal(1, 0))
		if err != nil {
			return out, fmt.Errorf("report catalog plan %q: %w", p.ID, err)
		}
		monthly, err := MonthlyPrice(q.Subtotal, p.Interval, p.IntervalCount, p.Currency)
		if err != nil {
			return out, fmt.Errorf("report catalog plan %q: %w", p.ID, err)
		}
		line.ListPrice, line.MonthlyListPrice = &q.Subtotal, &monthly
		out.Plans = append(out.Plans, line)
		if _, err := reportContext.Add(sums[k], sums[k], monthly.apd()); err != nil {
			return out, err
		}
	}
	for k, cell := range cells {
		c, _ := LookupCurrency(k.currency)
		total, err := roundTo(sums[k], c.MinorUnits)
		if err != nil {
			return out, err
		}
		cell.MonthlyListPrice = total
		out.ByIntervalAndCurrency = append(out.ByIntervalAndCurrency, *cell)
	}
	sort.Slice(out.ByIntervalAndCurrency, func(i, j int) bool {
		a, b := out.ByIntervalAndCurrency[i], out.ByIntervalAndCurrency[j]
		if a.Interval != b.Interval {
			return intervalOrder[a.Interval] < intervalOrder[b.Interval]
		}
		return a.Currency < b.Currency
	})
	return out, nil
}
