package projections

import (
	"context"
	"time"

	"goodplan/eventstore"
)

// The Overview's weekly amounts (table plan_week_amounts, migration 019):
// one row per plan, week (its Monday, UTC) and currency with what fell due
// and what was paid that week, computed by PostgreSQL from the plan row's
// due_on/due_amount/paid_on/paid_amount arrays. The plan projection keeps
// it in the same statement as the plan row (upsertSQL), replay rebuilds,
// compares and swaps it with plan_views.

const (
	weeksTable        = "plan_week_amounts"
	weeksRebuildTable = "plan_week_amounts_rebuild"
)

// weeksTableOf is the weekly amounts table that goes with the plan table.
func weeksTableOf(planTable string) string {
	if planTable == rebuildTable {
		return weeksRebuildTable
	}
	return weeksTable
}

// weekRowsOf selects the weekly amounts rows (account_id, plan_id,
// currency, week, due, paid) of the plan rows that from (a FROM item
// aliased v, with account_id, plan_id, currency and the arrays) yields
// where the condition where holds.
func weekRowsOf(from, where string) string {
	return `SELECT v.account_id, v.plan_id, v.currency, date_trunc('week', c.d)::date AS week,
			sum(c.due) AS due, sum(c.paid) AS paid
		FROM ` + from + ` CROSS JOIN LATERAL (
			SELECT d, a AS due, 0::numeric AS paid FROM unnest(v.due_on, v.due_amount) AS u(d, a)
			UNION ALL SELECT d, 0::numeric, a FROM unnest(v.paid_on, v.paid_amount) AS u(d, a)) c
		WHERE ` + where + ` GROUP BY 1, 2, 3, 4`
}

// fillWeeksSQL inserts the weekly amounts of planTable's rows that match
// where (a condition on v, the plan row) into its weeks table.
func fillWeeksSQL(planTable, where string) string {
	return `INSERT INTO ` + weeksTableOf(planTable) + ` (account_id, plan_id, currency, week, due, paid) ` +
		weekRowsOf(planTable+` v`, where)
}

// weeksUpsertSQL wraps upsert (an INSERT ... ON CONFLICT of one plan row
// into table, its plan id $1) so the same statement brings the plan's
// weekly amounts up to date: only when the write changed the row's
// currency or due/paid arrays (old is the row the statement started
// with), the plan's weeks that are gone are deleted and the others
// upserted. On the live table it also keeps the Overview's totals
// (totalsUpsertSQL); replay's rebuild table has none (its swap refills
// them).
func weeksUpsertSQL(table, upsert string) string {
	if table == "plan_views" {
		return totalsUpsertSQL(upsert) // the live tables keep the Overview's totals too
	}
	weeks := weeksTableOf(table)
	return `WITH old AS (SELECT currency, due_on, due_amount, paid_on, paid_amount FROM ` + table + ` WHERE plan_id = $1),
		written AS (` + upsert + `
			RETURNING v.account_id, v.plan_id, v.currency, v.due_on, v.due_amount, v.paid_on, v.paid_amount),
		changed AS (SELECT * FROM written n WHERE NOT EXISTS (SELECT 1 FROM old o WHERE o.currency = n.currency
			AND o.due_on = n.due_on AND o.due_amount = n.due_amount AND o.paid_on = n.paid_on AND o.paid_amount = n.paid_amount)),
		fresh AS (` + weekRowsOf(`changed v`, `true`) + `),
		gone AS (DELETE FROM ` + weeks + ` w USING changed c WHERE w.plan_id = c.plan_id
			AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.week = w.week AND f.currency = w.currency))
		INSERT INTO ` + weeks + ` AS w (account_id, plan_id, currency, week, due, paid) SELECT * FROM fresh
		ON CONFLICT (plan_id, week, currency) DO UPDATE SET account_id = EXCLUDED.account_id,
			due = EXCLUDED.due, paid = EXCLUDED.paid`
}

// compareWeeks lists the plans whose live weekly amounts differ from the
// rebuilt ones (as compare does for their rows: refolded first, lag
// waited out). A difference names the column plan_week_amounts, with each
// side's rows of the plan (week, currency, due, paid) as JSON.
func compareWeeks(ctx context.Context, store *eventstore.Store, rebuilt *Plans, wait time.Duration, failed map[int64]bool) ([]Diff, error) {
	return compareWeeksAgainst(ctx, store, rebuilt, weeksTable, wait, failed)
}

// compareWeeksAgainst is compareWeeks with the live rows taken from live
// (plan_week_amounts, or a subquery of it in parentheses).
func compareWeeksAgainst(ctx context.Context, store *eventstore.Store, rebuilt *Plans, live string, wait time.Duration, failed map[int64]bool) ([]Diff, error) {
	weeksOf := func(table string) string {
		return `jsonb_build_object('` + weeksTable + `', (SELECT jsonb_agg(jsonb_build_array(w.week, w.currency, w.due, w.paid)
			ORDER BY w.week, w.currency) FROM ` + table + ` w WHERE w.plan_id = d.plan_id))`
	}
	return compareRows(ctx, store, wait, `WITH d AS (
			SELECT DISTINCT coalesce(r.plan_id, l.plan_id) AS plan_id
			FROM `+weeksRebuildTable+` r FULL JOIN `+live+` l
				ON l.plan_id = r.plan_id AND l.week = r.week AND l.currency = r.currency
			WHERE (r.account_id, r.currency, r.week, r.due, r.paid) IS DISTINCT FROM (l.account_id, l.currency, l.week, l.due, l.paid)
			ORDER BY 1 LIMIT 1000)
		SELECT d.plan_id, NULL::text, rv.version, lv.version, `+weeksOf(weeksRebuildTable)+`, `+weeksOf(live)+`
		FROM d LEFT JOIN `+rebuildTable+` rv ON rv.plan_id = d.plan_id LEFT JOIN plan_views lv ON lv.plan_id = d.plan_id
		ORDER BY 1`, failed, rebuilt.refold)
}
