package projections

import (
	"math/rand/v2"
	"strconv"
	"sync"
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
// a delta. Each total is split into totalShards stripes, which readers
// sum, so a delta may go to any stripe: each write (one plan's, or a whole
// batch's) adds to the stripe it leased (see stripes), which no other
// writer of this process holds meanwhile. A batch of 64 plans of one
// account therefore locks only its own stripe's rows, and the concurrent
// batches of that account neither wait on one another's total rows nor
// deadlock on them (when stripes followed the plan id, every batch locked
// nearly all 32, in an order of their own). `goodplan replay --swap`
// recomputes them all (refillTotalsSQL).

// totalShards is how many stripes each total has.
const totalShards = 32

// stripeArg is upsertSQL's argument that names the leased stripe: the one
// after the row's columns.
var stripeArg = `$` + strconv.Itoa(len(columnList)+1) + `::smallint`

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
			SELECT d.account_id, d.week, d.currency, ` + stripeArg + `, sum(d.due), sum(d.paid)
			FROM (SELECT * FROM gone UNION ALL SELECT * FROM put) d GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
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
			SELECT d.account_id, d.status, d.currency, ` + stripeArg + `, sum(d.n), sum(d.o) FROM (
				SELECT account_id, plan_id, status, currency, 1 AS n, outstanding AS o FROM status
				UNION ALL SELECT account_id, plan_id, prev_status, prev_currency, -1, -prev_outstanding FROM status
					WHERE prev_status IS NOT NULL) d
			GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
			ON CONFLICT (account_id, status, currency, shard) DO UPDATE SET plans = t.plans + EXCLUDED.plans,
				outstanding = t.outstanding + EXCLUDED.outstanding)
		INSERT INTO account_completion_totals AS t (account_id, days, shard, plans)
		SELECT d.account_id, d.days, ` + stripeArg + `, sum(d.n) FROM (
			SELECT account_id, plan_id, done_days AS days, 1 AS n FROM status WHERE done_days IS NOT NULL
			UNION ALL SELECT account_id, plan_id, prev_done_days, -1 FROM status WHERE prev_done_days IS NOT NULL) d
		GROUP BY 1, 2 HAVING sum(d.n) <> 0 ORDER BY 1, 2
		ON CONFLICT (account_id, days, shard) DO UPDATE SET plans = t.plans + EXCLUDED.plans`
}

// refillTotalsSQL recomputes the status rows and every total from the
// live plan_views and plan_week_amounts (replay's swap, inside its lock;
// migration 022 ran the same sums, striped by a hash of the plan id).
// Readers sum the stripes, so the refill puts each total in stripe 0 alone:
// the page has one row per total to read, and live writes add theirs.
var refillTotalsSQL = []string{
	`TRUNCATE plan_status_amounts, account_week_totals, account_status_totals, account_completion_totals`,
	`INSERT INTO plan_status_amounts (plan_id, account_id, status, currency, outstanding, done_days)
	SELECT v.plan_id, v.account_id, v.status, v.currency, v.amount_outstanding, ` + doneDaysSQL + ` FROM plan_views v`,
	`INSERT INTO account_week_totals (account_id, week, currency, shard, due, paid)
	SELECT w.account_id, w.week, w.currency, 0, sum(w.due), sum(w.paid) FROM ` + weeksTable + ` w GROUP BY 1, 2, 3`,
	`INSERT INTO account_status_totals (account_id, status, currency, shard, plans, outstanding)
	SELECT s.account_id, s.status, s.currency, 0, count(*), sum(s.outstanding) FROM plan_status_amounts s GROUP BY 1, 2, 3`,
	`INSERT INTO account_completion_totals (account_id, days, shard, plans)
	SELECT s.account_id, s.done_days, 0, count(*) FROM plan_status_amounts s WHERE s.done_days IS NOT NULL GROUP BY 1, 2`,
}

// stripes hands out the totals' stripes to this process's writers of the
// live plan table: a write leases the least-held stripe, counting from a
// random first one (so replicas, each with its own, seldom lease the same
// stripe at once), and passes it to upsertSQL. While fewer than
// totalShards writers run, no two hold one stripe, so none waits on
// another's total rows; beyond that, stripes are shared as evenly as can
// be. Writers of two replicas that happen to hold one stripe may wait on
// each other (or, rarely, deadlock: PostgreSQL ends one, which the
// consumer retries), as every writer did before.
type stripes struct {
	mu    sync.Mutex
	first int
	held  [totalShards]int
}

// liveStripes is the process's lease of the live totals' stripes.
var liveStripes = &stripes{first: rand.IntN(totalShards)}

// lease returns the stripe to write to; release it once the write is
// committed or failed.
func (s *stripes) lease() int16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	best := s.first
	for i := range totalShards {
		n := (s.first + i) % totalShards
		if s.held[n] < s.held[best] {
			best = n
		}
	}
	s.held[best]++
	return int16(best)
}

func (s *stripes) release(n int16) {
	s.mu.Lock()
	s.held[n]--
	s.mu.Unlock()
}

// stripeArgs are the arguments upsertSQL(p.table) takes after a row's: on
// the live table, the stripe a write (one statement or one batch) leased,
// and done ends the lease; replay's rebuild table has no totals.
func (p *Plans) stripeArgs() (args []any, done func()) {
	if p.table != "plan_views" {
		return nil, func() {}
	}
	n := liveStripes.lease()
	return []any{n}, func() { liveStripes.release(n) }
}
