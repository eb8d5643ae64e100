package projections

import (
	"context"
	"fmt"
	"time"

	"goodplan/domain"
)

// OverviewWeeks is how many weeks the Overview's weekly chart shows.
const OverviewWeeks = 12

// OverviewWeeksEnding returns the Mondays (UTC) of the OverviewWeeks weeks
// that end with today's, oldest first.
func OverviewWeeksEnding(today time.Time) []domain.Date {
	d := domain.DateOf(today)
	monday := d.AddDays(-((int(d.Time().Weekday()) + 6) % 7))
	weeks := make([]domain.Date, OverviewWeeks)
	for i := range weeks {
		weeks[i] = monday.AddDays(-7 * (OverviewWeeks - 1 - i))
	}
	return weeks
}

// OverviewFacts reads what the Overview of account is computed from (see
// domain.BuildOverview) for the weeks ending with today's: the weekly sums
// of what fell due and what was collected, per currency, from the plans'
// weekly amounts (plan_week_amounts, its (account_id, week) index);
// the plans and what they owe by status and currency
// (plan_views_outstanding_idx, the index alone); and the completed plans'
// days to completion (plan_views_completed_idx). Sums are exact (numeric).
func (p *Plans) OverviewFacts(ctx context.Context, accountID int64, today time.Time) (domain.OverviewFacts, error) {
	weeks := OverviewWeeksEnding(today)
	f := domain.OverviewFacts{Weeks: weeks, Cash: []domain.OverviewCashFact{}, Statuses: []domain.OverviewStatusFact{},
		CompletionDays: []domain.OverviewDaysFact{}}
	from, to := weeks[0].Time(), weeks[len(weeks)-1].AddDays(7).Time()
	// The weekly sums (the larger part) run on a connection of their own,
	// beside the rest.
	cash := make(chan error, 1)
	cf := domain.OverviewFacts{Cash: []domain.OverviewCashFact{}}
	go func() {
		cash <- p.overviewRows(ctx, &cf, `SELECT 0, currency, week, 0, sum(due)::text, sum(paid)::text
		FROM `+weeksTableOf(p.table)+` WHERE account_id = $1 AND week >= $2::date AND week < $3::date
		GROUP BY currency, week`, accountID, from, to)
	}()
	err := p.overviewRows(ctx, &f, `SELECT 1, currency, NULL, count(*), status, sum(amount_outstanding)::text FROM `+p.table+`
		WHERE account_id = $1 GROUP BY status, currency
		UNION ALL
		SELECT 2, '', NULL, count(*), ((completed_at AT TIME ZONE 'UTC')::date - (created_at AT TIME ZONE 'UTC')::date)::text, ''
		FROM `+p.table+` WHERE account_id = $1 AND status = 'completed' GROUP BY 5`, accountID)
	if cerr := <-cash; err == nil {
		err = cerr
	}
	f.Cash = cf.Cash
	return f, err
}

// overviewRows reads the rows of query (part, currency, week, plans, a, b:
// see OverviewFacts) into f.
func (p *Plans) overviewRows(ctx context.Context, f *domain.OverviewFacts, query string, args ...any) error {
	rows, err := p.Store.Pool().Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("overview: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var part int
		var currency, a, b string
		var week *time.Time
		var n int
		if err := rows.Scan(&part, &currency, &week, &n, &a, &b); err != nil {
			return fmt.Errorf("overview: %w", err)
		}
		switch part {
		case 0:
			c := domain.OverviewCashFact{Currency: currency, Week: domain.DateOf(*week)}
			if err := sumOf(&c.Due, a); err != nil {
				return err
			}
			if err := sumOf(&c.Collected, b); err != nil {
				return err
			}
			f.Cash = append(f.Cash, c)
		case 1:
			s := domain.OverviewStatusFact{Status: domain.Status(a), Currency: currency, Plans: n}
			if err := sumOf(&s.Outstanding, b); err != nil {
				return err
			}
			f.Statuses = append(f.Statuses, s)
		case 2:
			var days int
			if _, err := fmt.Sscan(a, &days); err != nil {
				return fmt.Errorf("overview days %q: %w", a, err)
			}
			f.CompletionDays = append(f.CompletionDays, domain.OverviewDaysFact{Days: days, Plans: n})
		}
	}
	return rows.Err()
}

// sumOf reads a sum as PostgreSQL's numeric prints it into dst: exact,
// and possibly more than one amount may be.
func sumOf(dst *domain.Decimal, text string) error {
	if err := dst.UnmarshalJSON([]byte(text)); err != nil {
		return fmt.Errorf("overview sum: %w", err)
	}
	return nil
}
