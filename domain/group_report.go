package domain

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/cockroachdb/apd/v3"
)

// The plan group report (GET /api/v1/plan-groups/{id}/report): what a
// group's payment plans collected and how they ended, per currency, and
// what its catalog plans list per month. ReportGroup computes it from plain
// facts, with exact decimals; the read models supply the facts.

// ReportPaymentPlan is what the report reads of one payment plan. Total,
// Paid, Reported and Outstanding are its ledger (Outstanding = Total -
// Paid); CompletedAt is zero unless it was paid off; Extended says an
// installment's due date was ever moved (an extension granted or an
// installment deferred), Proposed that the customer ever proposed a
// schedule.
type ReportPaymentPlan struct {
	Status                             Status
	Currency                           string
	Total, Paid, Reported, Outstanding Decimal
	CreatedAt, CompletedAt             time.Time
	Extended, Proposed                 bool
}

// ReportCatalogPlan is what the report reads of one catalog plan.
type ReportCatalogPlan struct {
	ID            string
	Currency      string
	PricingMode   PricingMode
	Amount        *Decimal
	Tiers         []Tier
	Interval      BillingInterval
	IntervalCount int
}

// GroupReport is the report of one group's plans.
type GroupReport struct {
	PaymentPlans PaymentPlansReport `json:"payment_plans"`
	CatalogPlans CatalogPlansReport `json:"catalog_plans"`
}

// PaymentPlansReport covers the group's payment plans: how many, and the
// figures of each currency (by code).
type PaymentPlansReport struct {
	Count      int                     `json:"count"`
	ByCurrency []PaymentCurrencyReport `json:"by_currency"`
}

// PaymentCurrencyReport is the figures of the group's payment plans in one
// currency. Amounts are in the currency's minor units ("1200.00"):
//
//   - AmountOwed: the sum of the plans' invoice amounts, every status;
//   - Confirmed: payments confirmed and applied to the ledgers, every status;
//   - Reported: payments reported by customers, not confirmed yet;
//   - Outstanding: what pending and active plans still owe (Total - Paid);
//   - WrittenOff: what written-off plans owed when written off (a written-off
//     plan takes no payment, so its outstanding balance is that amount).
//     Cancelled and abandoned plans' balances are in neither.
//
// Closed counts the plans in a terminal status, completed or not:
// completed, cancelled, written_off and abandoned (pending and active are
// open). CureRate is Completed / Closed, rounded half up to 4 decimal
// places; null when no plan is closed. MedianDaysToCompletion is the median,
// over completed plans, of the UTC calendar days from the creation date to
// the completion date (the mean of the two middle values for an even
// count: "12.5"); null when none completed. ExtendedOrProposed counts the
// plans with an extension (or deferral) or a proposal, and
// ExtendedOrProposedShare is that count / Count, rounded half up to 4
// decimal places.
type PaymentCurrencyReport struct {
	Currency                string         `json:"currency"`
	Count                   int            `json:"count"`
	ByStatus                map[Status]int `json:"by_status"`
	AmountOwed              Decimal        `json:"amount_owed"`
	Confirmed               Decimal        `json:"confirmed"`
	Reported                Decimal        `json:"reported"`
	Outstanding             Decimal        `json:"outstanding"`
	WrittenOff              Decimal        `json:"written_off"`
	Completed               int            `json:"completed"`
	Closed                  int            `json:"closed"`
	CureRate                *Decimal       `json:"cure_rate"`
	MedianDaysToCompletion  *Decimal       `json:"median_days_to_completion"`
	ExtendedOrProposed      int            `json:"extended_or_proposed"`
	ExtendedOrProposedShare Decimal        `json:"extended_or_proposed_share"`
}

// closedStatuses are the terminal statuses (see PaymentCurrencyReport).
var closedStatuses = []Status{StatusCompleted, StatusCancelled, StatusWrittenOff, StatusAbandoned}

// ratePlaces is the decimal places of a rate or share.
const ratePlaces = 4

// reportContext sums exactly (amounts have at most 10 decimals and 13
// integer digits; a group at most MaxGroupMembers plans) and truncates a
// quotient, which roundTo then rounds once, half up: truncating first
// never changes a half-up rounding at fewer places.
var reportContext = func() *apd.Context {
	c := apd.BaseContext.WithPrecision(60)
	c.Rounding = apd.RoundDown
	return c
}()

// roundTo rounds d half up to places decimal places.
func roundTo(d *apd.Decimal, places int32) (Decimal, error) {
	c := *reportContext
	c.Rounding = apd.RoundHalfUp
	var r apd.Decimal
	if _, err := c.Quantize(&r, d, -places); err != nil {
		return Decimal{}, fmt.Errorf("report: round %s: %w", d, err)
	}
	return decimalOf(&r), nil
}

// ratio is num / den rounded half up to ratePlaces.
func ratio(num, den int) (Decimal, error) {
	var q apd.Decimal
	if _, err := reportContext.Quo(&q, apd.New(int64(num), 0), apd.New(int64(den), 0)); err != nil {
		return Decimal{}, err
	}
	return roundTo(&q, ratePlaces)
}

// ReportGroup computes the report of a group's payment plans and catalog
// plans (see the report types for each figure's definition). Currencies
// are listed by code; interval cells by interval (day, week, month, year)
// then currency; catalog plans in the order given.
func ReportGroup(payments []ReportPaymentPlan, catalog []ReportCatalogPlan) (GroupReport, error) {
	var r GroupReport
	var err error
	if r.PaymentPlans, err = reportPayments(payments); err != nil {
		return GroupReport{}, err
	}
	if r.CatalogPlans, err = reportCatalog(catalog); err != nil {
		return GroupReport{}, err
	}
	return r, nil
}

// currencyTally accumulates one currency's payment plans.
type currencyTally struct {
	rep                                                PaymentCurrencyReport
	owed, confirmed, reported, outstanding, writtenOff apd.Decimal
	days                                               []int
}

func reportPayments(plans []ReportPaymentPlan) (PaymentPlansReport, error) {
	out := PaymentPlansReport{Count: len(plans), ByCurrency: []PaymentCurrencyReport{}}
	tallies := map[string]*currencyTally{}
	add := func(sum *apd.Decimal, d Decimal) error {
		_, err := reportContext.Add(sum, sum, d.apd())
		return err
	}
	for _, p := range plans {
		t := tallies[p.Currency]
		if t == nil {
			t = &currencyTally{rep: PaymentCurrencyReport{Currency: p.Currency, ByStatus: map[Status]int{}}}
			for _, s := range statuses {
				t.rep.ByStatus[s] = 0
			}
			tallies[p.Currency] = t
		}
		t.rep.Count++
		t.rep.ByStatus[p.Status]++
		for _, f := range []struct {
			sum *apd.Decimal
			d   Decimal
			in  bool
		}{{&t.owed, p.Total, true}, {&t.confirmed, p.Paid, true}, {&t.reported, p.Reported, true},
			{&t.outstanding, p.Outstanding, p.Status == StatusPending || p.Status == StatusActive},
			{&t.writtenOff, p.Outstanding, p.Status == StatusWrittenOff}} {
			if f.in {
				if err := add(f.sum, f.d); err != nil {
					return out, fmt.Errorf("report %s: %w", p.Currency, err)
				}
			}
		}
		if slices.Contains(closedStatuses, p.Status) {
			t.rep.Closed++
		}
		if p.Status == StatusCompleted {
			t.rep.Completed++
			if !p.CompletedAt.IsZero() {
				t.days = append(t.days, int(DateOf(p.CompletedAt).Time().Sub(DateOf(p.CreatedAt).Time())/(24*time.Hour)))
			}
		}
		if p.Extended || p.Proposed {
			t.rep.ExtendedOrProposed++
		}
	}
	codes := make([]string, 0, len(tallies))
	for c := range tallies {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, code := range codes {
		t := tallies[code]
		rep, err := t.finish()
		if err != nil {
			return out, err
		}
		out.ByCurrency = append(out.ByCurrency, rep)
	}
	return out, nil
}

// finish rounds t's sums and computes its rates and median.
func (t *currencyTally) finish() (PaymentCurrencyReport, error) {
	rep := t.rep
	places := places(rep.Currency)
	var err error
	for _, f := range []struct {
		dst *Decimal
		sum *apd.Decimal
	}{{&rep.AmountOwed, &t.owed}, {&rep.Confirmed, &t.confirmed}, {&rep.Reported, &t.reported},
		{&rep.Outstanding, &t.outstanding}, {&rep.WrittenOff, &t.writtenOff}} {
		if *f.dst, err = roundTo(f.sum, places); err != nil {
			return rep, err
		}
	}
	if rep.Closed > 0 {
		cure, err := ratio(rep.Completed, rep.Closed)
		if err != nil {
			return rep, err
		}
		rep.CureRate = &cure
	}
	if rep.ExtendedOrProposedShare, err = ratio(rep.ExtendedOrProposed, rep.Count); err != nil {
		return rep, err
	}
	if n := len(t.days); n > 0 {
		slices.Sort(t.days)
		m := median(n, func(i int) int { return t.days[i] })
		rep.MedianDaysToCompletion = &m
	}
	return rep, nil
}

// median is the median of n > 0 whole numbers, the i-th smallest being
// at(i): the middle one, or the mean of the two middle ones ("12.5").
func median(n int, at func(i int) int) Decimal {
	if n%2 == 1 {
		return NewDecimal(int64(at(n/2)), 0)
	}
	s := int64(at(n/2-1) + at(n/2))
	if s%2 == 0 {
		return NewDecimal(s/2, 0)
	}
	return NewDecimal(s*5, -1)
}
