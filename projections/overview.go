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
// domain.BuildOverview) for the weeks ending with today's, from the
// account's totals (migration 020, overview_totals.go), whose stripes it
// sums: what fell due and what was collected per week and currency
// (account_week_totals), the plans and what they owe by status and
// currency (account_status_totals), and the completed plans by days to
// completion (account_completion_totals). One round trip, a few hundred
// rows at most, whatever the number of plans. Sums are exact (numeric).
func (p *Plans) OverviewFacts(ctx context.Context, accountID int64, today time.Time) (domain.OverviewFacts, error) {
	weeks := OverviewWeeksEnding(today)
	f := domain.OverviewFacts{Weeks: weeks, Cash: []domain.OverviewCashFact{}, Statuses: []domain.OverviewStatusFact{},
		CompletionDays: []domain.OverviewDaysFact{}}
	from, to := weeks[0].Time(), weeks[len(weeks)-1].AddDays(7).Time()
	err := p.overviewRows(ctx, &f, `SELECT 0, currency, week, 0::bigint, sum(due)::text, sum(paid)::text
		FROM account_week_totals WHERE account_id = $1 AND week >= $2::date AND week < $3::date
		GROUP BY currency, week HAVING sum(due) <> 0 OR sum(paid) <> 0
		UNION ALL
		SELECT 1, currency, NULL, sum(plans)::bigint, status, sum(outstanding)::text FROM account_status_totals
		WHERE account_id = $1 GROUP BY status, currency HAVING sum(plans) > 0
		UNION ALL
		SELECT 2, '', NULL, sum(plans)::bigint, days::text, '' FROM account_completion_totals
		WHERE account_id = $1 GROUP BY days HAVING sum(plans) > 0`, accountID, from, to)
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
