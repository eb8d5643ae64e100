package domain

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// The dashboard's Overview: what was collected each week against what fell
// due, what is outstanding by plan status, the cure rate and the median
// days to completion, with the geometry of its charts. BuildOverview
// computes it from plain facts, with exact decimals; the read model
// (projections.Plans.OverviewFacts) supplies the facts.

// OverviewCashFact is one week's money in one currency: Due fell due (the
// chosen schedules' installments due that week), Collected was paid that
// week (confirmed payments, by payment date, the amount confirmed).
type OverviewCashFact struct {
	Currency       string
	Week           Date // the week's Monday
	Due, Collected Decimal
}

// OverviewStatusFact is the account's plans of one status in one currency
// and what they still owe (the ledgers' outstanding amounts).
type OverviewStatusFact struct {
	Status      Status
	Currency    string
	Plans       int
	Outstanding Decimal
}

// OverviewDaysFact says Plans completed plans took Days (UTC calendar days
// from creation to completion, as in the group report).
type OverviewDaysFact struct {
	Days, Plans int
}

// OverviewFacts is what the Overview is computed from. Weeks are the
// Mondays of the weeks shown, oldest first; cash facts of other weeks are
// ignored.
type OverviewFacts struct {
	Weeks          []Date
	Cash           []OverviewCashFact
	Statuses       []OverviewStatusFact
	CompletionDays []OverviewDaysFact
}

// Overview is the dashboard's Overview. Amounts are rounded to the
// currency's minor units; percentages (CollectedPercent, CurePercent) half
// up to one decimal place; chart heights and widths are percentages of the
// chart's largest value, half up to one decimal place.
//
// CurePercent is Completed / Closed (the group report's cure rate: the
// closed plans, completed, cancelled, written off or abandoned, that were
// paid off), nil when no plan is closed; MedianDaysToCompletion is the
// median of the completed plans' days to completion, nil when none.
type Overview struct {
	Cash                   []OverviewCurrencyCash
	Outstanding            []OverviewCurrencyStatuses
	Plans                  int
	Completed, Closed      int
	CurePercent            *Decimal
	MedianDaysToCompletion *Decimal
}

// OverviewCurrencyCash is one currency's weeks (every week of the facts,
// oldest first), their totals and the share of what fell due that was
// collected (nil when nothing fell due).
type OverviewCurrencyCash struct {
	Currency         string
	Weeks            []OverviewWeek
	Due, Collected   Decimal
	CollectedPercent *Decimal
	Max              Decimal // the chart's top: the largest weekly amount
}

// OverviewWeek is one bar pair of the weekly chart.
type OverviewWeek struct {
	Week                       Date
	Due, Collected             Decimal
	DueHeight, CollectedHeight Decimal // 0 to 100
}

// OverviewCurrencyStatuses is one currency's plans by status, in lifecycle
// order (statuses with no plan left out).
type OverviewCurrencyStatuses struct {
	Currency    string
	Rows        []OverviewStatusRow
	Outstanding Decimal // the sum over its statuses
}

// OverviewStatusRow is one bar of the outstanding chart.
type OverviewStatusRow struct {
	Status      Status
	Plans       int
	Outstanding Decimal
	Width       Decimal // 0 to 100 of the currency's largest row
}

// BuildOverview computes the Overview of facts (see the types for each
// figure). Currencies are listed by code.
func BuildOverview(f OverviewFacts) (Overview, error) {
	var o Overview
	var err error
	if o.Cash, err = overviewCash(f.Weeks, f.Cash); err != nil {
		return Overview{}, err
	}
	if o.Outstanding, err = overviewStatuses(f.Statuses); err != nil {
		return Overview{}, err
	}
	for _, s := range f.Statuses {
		o.Plans += s.Plans
		if slices.Contains(closedStatuses, s.Status) {
			o.Closed += s.Plans
		}
		if s.Status == StatusCompleted {
			o.Completed += s.Plans
		}
	}
	if o.Closed > 0 {
		p, err := percent(apd.New(int64(o.Completed), 0), apd.New(int64(o.Closed), 0))
		if err != nil {
			return Overview{}, err
		}
		o.CurePercent = &p
	}
	days := slices.Clone(f.CompletionDays)
	sort.Slice(days, func(i, j int) bool { return days[i].Days < days[j].Days })
	n := 0
	for _, d := range days {
		n += d.Plans
	}
	if n > 0 {
		m := median(n, func(i int) int {
			for _, d := range days {
				if i < d.Plans {
					return d.Days
				}
				i -= d.Plans
			}
			return days[len(days)-1].Days
		})
		o.MedianDaysToCompletion = &m
	}
	return o, nil
}

// overviewContext adds and divides exactly enough: sums of at most a few
// million amounts of 13 integer digits, quotients truncated then rounded
// once (see reportContext).
var overviewContext = reportContext

// percent is 100 x num / den rounded half up to one decimal place.
func percent(num, den *apd.Decimal) (Decimal, error) {
	var q apd.Decimal
	if _, err := overviewContext.Quo(&q, num, den); err != nil {
		return Decimal{}, fmt.Errorf("overview: %w", err)
	}
	if _, err := overviewContext.Mul(&q, &q, apd.New(100, 0)); err != nil {
		return Decimal{}, fmt.Errorf("overview: %w", err)
	}
	return roundTo(&q, 1)
}

// scaled is 100 x d / top (0 when top is 0), half up to one place.
func scaled(d, top *apd.Decimal) (Decimal, error) {
	if top.IsZero() {
		return Decimal{}, nil
	}
	return percent(d, top)
}

// places is the minor units of currency code (2 if unknown).
func places(code string) int32 {
	if c, ok := LookupCurrency(strings.ToUpper(code)); ok {
		return c.MinorUnits
	}
	return 2
}

// cashSums is one currency's weekly sums, by week index.
type cashSums struct {
	due, collected []apd.Decimal
}

func overviewCash(weeks []Date, facts []OverviewCashFact) ([]OverviewCurrencyCash, error) {
	index := map[Date]int{}
	for i, w := range weeks {
		index[w] = i
	}
	sums := map[string]*cashSums{}
	for _, f := range facts {
		i, ok := index[f.Week]
		if !ok {
			continue
		}
		s := sums[f.Currency]
		if s == nil {
			s = &cashSums{due: make([]apd.Decimal, len(weeks)), collected: make([]apd.Decimal, len(weeks))}
			sums[f.Currency] = s
		}
		for _, a := range []struct {
			sum *apd.Decimal
			d   Decimal
		}{{&s.due[i], f.Due}, {&s.collected[i], f.Collected}} {
			if _, err := overviewContext.Add(a.sum, a.sum, a.d.apd()); err != nil {
				return nil, fmt.Errorf("overview %s: %w", f.Currency, err)
			}
		}
	}
	out := []OverviewCurrencyCash{}
	for _, code := range sortedKeys(sums) {
		c, err := sums[code].finish(code, weeks)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// finish rounds one currency's weekly sums and draws its chart.
func (s *cashSums) finish(code string, weeks []Date) (OverviewCurrencyCash, error) {
	c := OverviewCurrencyCash{Currency: code, Weeks: make([]OverviewWeek, len(weeks))}
	var due, collected, top apd.Decimal
	for i := range weeks {
		for _, a := range []struct{ total, d *apd.Decimal }{{&due, &s.due[i]}, {&collected, &s.collected[i]}} {
			if _, err := overviewContext.Add(a.total, a.total, a.d); err != nil {
				return c, fmt.Errorf("overview %s: %w", code, err)
			}
			if a.d.Cmp(&top) > 0 {
				top.Set(a.d)
			}
		}
	}
	var err error
	for i, w := range weeks {
		wk := OverviewWeek{Week: w}
		for _, f := range []struct {
			dst, height *Decimal
			d           *apd.Decimal
		}{{&wk.Due, &wk.DueHeight, &s.due[i]}, {&wk.Collected, &wk.CollectedHeight, &s.collected[i]}} {
			if *f.dst, err = roundTo(f.d, places(code)); err != nil {
				return c, err
			}
			if *f.height, err = scaled(f.d, &top); err != nil {
				return c, err
			}
		}
		c.Weeks[i] = wk
	}
	for _, f := range []struct {
		dst *Decimal
		d   *apd.Decimal
	}{{&c.Due, &due}, {&c.Collected, &collected}, {&c.Max, &top}} {
		if *f.dst, err = roundTo(f.d, places(code)); err != nil {
			return c, err
		}
	}
	if !due.IsZero() {
		p, err := percent(&collected, &due)
		if err != nil {
			return c, err
		}
		c.CollectedPercent = &p
	}
	return c, nil
}

func overviewStatuses(facts []OverviewStatusFact) ([]OverviewCurrencyStatuses, error) {
	type tally struct {
		plans       map[Status]int
		outstanding map[Status]*apd.Decimal
	}
	tallies := map[string]*tally{}
	for _, f := range facts {
		t := tallies[f.Currency]
		if t == nil {
			t = &tally{plans: map[Status]int{}, outstanding: map[Status]*apd.Decimal{}}
			tallies[f.Currency] = t
		}
		sum := t.outstanding[f.Status]
		if sum == nil {
			sum = new(apd.Decimal)
			t.outstanding[f.Status] = sum
		}
		t.plans[f.Status] += f.Plans
		if _, err := overviewContext.Add(sum, sum, f.Outstanding.apd()); err != nil {
			return nil, fmt.Errorf("overview %s: %w", f.Currency, err)
		}
	}
	out := []OverviewCurrencyStatuses{}
	for _, code := range sortedKeys(tallies) {
		t := tallies[code]
		c := OverviewCurrencyStatuses{Currency: code, Rows: []OverviewStatusRow{}}
		var total, top apd.Decimal
		for _, s := range statuses {
			if d := t.outstanding[s]; d != nil && d.Cmp(&top) > 0 {
				top.Set(d)
			}
		}
		for _, s := range statuses {
			d := t.outstanding[s]
			if d == nil {
				continue
			}
			row := OverviewStatusRow{Status: s, Plans: t.plans[s]}
			var err error
			if row.Outstanding, err = roundTo(d, places(code)); err != nil {
				return nil, err
			}
			if row.Width, err = scaled(d, &top); err != nil {
				return nil, err
			}
			if _, err := overviewContext.Add(&total, &total, d); err != nil {
				return nil, fmt.Errorf("overview %s: %w", code, err)
			}
			c.Rows = append(c.Rows, row)
		}
		var err error
		if c.Outstanding, err = roundTo(&total, places(code)); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
