package projections

import (
	"strconv"
)

// The Overview's per-account totals (migration 020): what the page reads
// instead of every plan's rows. The plan projection keeps them in the
// statement that writes the plan's row (upsertSQL on the live table), as
// the deltas of the plan's own rows: its weekly amounts (plan_week_amounts,
// whose due_change/paid_change are what the write added to the row it
// replaced) and its status row (plan_status_amounts, whose prev_* are the
// values it replaced). Deltas come from ON CONFLICT ... DO UPDATE and
// DELETE ... RETURNING, which act on the latest committed row, never on
// the statement's snapshot: two writers of one plan cannot double or lose
// a delta. Each total is split into totalShards stripes by plan id, which
// readers sum: a write adds to the stripes of its plan's id only, so
// projection writers of one account seldom wait on one another's rows.
// `goodplan replay --swap` recomputes them all (refillTotalsSQL).

// totalShards is how many stripes each total has (a power of two: see
// fmtShard).
const totalShards = 32

// doneDaysSQL is the days from creation to completion of a completed
// plan row v (NULL otherwise), by UTC dates.
const doneDaysSQL = `CASE WHEN v.status = 'completed' AND v.completed_at IS NOT NULL
	THEN (v.completed_at AT TIME ZONE 'UTC')::date - (v.created_at AT TIME ZONE 'UTC')::date END`

// totalsUpsertSQL is weeksUpsertSQL for the live tables: upsert (the plan
// row's INSERT ... ON CONFLICT, aliased v, its plan id $1) and, in the
// same statement, the plan's weekly amounts and status row, and the
// account's totals by their deltas.
func totalsUpsertSQL(upsert string) string {
	return `WITH old AS (SELECT currency, due_on, due_amount, paid_on, paid_amount FROM plan_views WHERE plan_id = $1),
		written AS (` + upsert + `
			RETURNING v.account_id, v.plan_id, v.currency, v.due_on, v.due_amount, v.paid_on, v.paid_amount,
				v.status, v.amount_outstanding, ` + doneDaysSQL + ` AS done_days),
		changed AS (SELECT * FROM written n WHERE NOT EXISTS (SELECT 1 FROM old o WHERE o.currency = n.currency
			AND o.due_on = n.due_on AND o.due_amount = n.due_amount AND o.paid_on = n.paid_on AND o.paid_amount = n.paid_amount)),
		fresh AS (` + weekRowsOf(`changed v`, `true`) + `),
		gone AS (DELETE FROM ` + weeksTable + ` w USING changed c WHERE w.plan_id = c.plan_id
			AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.week = w.week AND f.currency = w.currency)
			RETURNING w.account_id, w.plan_id, w.week, w.currency, -w.due AS due, -w.paid AS paid),
		put AS (INSERT INTO ` + weeksTable + ` AS w (account_id, plan_id, currency, week, due, paid, due_change, paid_change)
			SELECT account_id, plan_id, currency, week, due, paid, due, paid FROM fresh
			ON CONFLICT (plan_id, week, currency) DO UPDATE SET account_id = EXCLUDED.account_id,
				due = EXCLUDED.due, paid = EXCLUDED.paid, due_change = EXCLUDED.due - w.due, paid_change = EXCLUDED.paid - w.paid
			WHERE (w.due, w.paid) IS DISTINCT FROM (EXCLUDED.due, EXCLUDED.paid)
			RETURNING w.account_id, w.plan_id, w.week, w.currency, w.due_change AS due, w.paid_change AS paid),
		week_totals AS (INSERT INTO account_week_totals AS t (account_id, week, currency, shard, due, paid)
			SELECT d.account_id, d.week, d.currency, ` + fmtShard("d") + `, sum(d.due), sum(d.paid)
			FROM (SELECT * FROM gone UNION ALL SELECT * FROM put) d GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
			ON CONFLICT (account_id, week, currency, shard) DO UPDATE SET due = t.due + EXCLUDED.due, paid = t.paid + EXCLUDED.paid),
		status AS (INSERT INTO plan_status_amounts AS s (plan_id, account_id, status, currency, outstanding, done_days)
			SELECT plan_id, account_id, status, currency, amount_outstanding, done_days FROM written
			ON CONFLICT (plan_id) DO UPDATE SET account_id = EXCLUDED.account_id, status = EXCLUDED.status,
				currency = EXCLUDED.currency, outstanding = EXCLUDED.outstanding, done_days = EXCLUDED.done_days,
				prev_status = s.status, prev_currency = s.currency, prev_outstanding = s.outstanding, prev_done_days = s.done_days
			WHERE (s.status, s.currency, s.outstanding, s.done_days) IS DISTINCT FROM
				(EXCLUDED.status, EXCLUDED.currency, EXCLUDED.outstanding, EXCLUDED.done_days)
			RETURNING s.*),
		status_totals AS (INSERT INTO account_status_totals AS t (account_id, status, currency, shard, plans, outstanding)
			SELECT d.account_id, d.status, d.currency, ` + fmtShard("d") + `, sum(d.n), sum(d.o) FROM (
				SELECT account_id, plan_id, status, currency, 1 AS n, outstanding AS o FROM status
				UNION ALL SELECT account_id, plan_id, prev_status, prev_currency, -1, -prev_outstanding FROM status
					WHERE prev_status IS NOT NULL) d
			GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
			ON CONFLICT (account_id, status, currency, shard) DO UPDATE SET plans = t.plans + EXCLUDED.plans,
				outstanding = t.outstanding + EXCLUDED.outstanding)
		INSERT INTO account_completion_totals AS t (account_id, days, shard, plans)
		SELECT d.account_id, d.days, ` + fmtShard("d") + `, sum(d.n) FROM (
			SELECT account_id, plan_id, done_days AS days, 1 AS n FROM status WHERE done_days IS NOT NULL
			UNION ALL SELECT account_id, plan_id, prev_done_days, -1 FROM status WHERE prev_done_days IS NOT NULL) d
		GROUP BY 1, 2, 3 HAVING sum(d.n) <> 0 ORDER BY 1, 2, 3
		ON CONFLICT (account_id, days, shard) DO UPDATE SET plans = t.plans + EXCLUDED.plans`
}

// fmtShard is the stripe of the row aliased alias: a hash of its plan_id
// (ids are allocated in strides, which plan_id % totalShards would follow
// into a few stripes). Readers sum every stripe, so the hash only spreads
// the writes; the sums never depend on it.
func fmtShard(alias string) string {
	return `(hashint8(` + alias + `.plan_id) & ` + strconv.Itoa(totalShards-1) + `)::smallint`
}

// refillTotalsSQL recomputes the status rows and every total from the
// live plan_views and plan_week_amounts (replay's swap, inside its lock;
// migration 020 runs the same statements).
var refillTotalsSQL = []string{
	`TRUNCATE plan_status_amounts, account_week_totals, account_status_totals, account_completion_totals`,
	`INSERT INTO plan_status_amounts (plan_id, account_id, status, currency, outstanding, done_days)
	SELECT v.plan_id, v.account_id, v.status, v.currency, v.amount_outstanding, ` + doneDaysSQL + ` FROM plan_views v`,
	`INSERT INTO account_week_totals (account_id, week, currency, shard, due, paid)
	SELECT w.account_id, w.week, w.currency, ` + fmtShard("w") + `, sum(w.due), sum(w.paid) FROM ` + weeksTable + ` w GROUP BY 1, 2, 3, 4`,
	`INSERT INTO account_status_totals (account_id, status, currency, shard, plans, outstanding)
	SELECT s.account_id, s.status, s.currency, ` + fmtShard("s") + `, count(*), sum(s.outstanding) FROM plan_status_amounts s GROUP BY 1, 2, 3, 4`,
	`INSERT INTO account_completion_totals (account_id, days, shard, plans)
	SELECT s.account_id, s.done_days, ` + fmtShard("s") + `, count(*) FROM plan_status_amounts s WHERE s.done_days IS NOT NULL GROUP BY 1, 2, 3`,
}
