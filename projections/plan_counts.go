package projections

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"goodplan/eventstore"
)

// The number of plans per account and status (table plan_counts, migration
// 021), so that GET /api/v1/plans answers total_items without a count(*)
// over the account. Triggers on plan_views insert a signed delta row for
// every row inserted, deleted or moved to another status, in the
// transaction that writes the plan row: the counts are exactly the rows'
// whatever writes them (the projection, a redelivery, which changes no row,
// a replay swap, an operator's UPDATE). Rows are only inserted, never
// updated in place, so projection transactions never queue on a counter row
// nor deadlock on one; compaction folds an account's deltas into one row
// per status.

const countsTable = "plan_counts"

// compactAbove is how many delta rows of an account a count read accepts
// before it compacts them.
const compactAbove = 64

// countsLockClass is the first key of the advisory locks that let one
// compaction of an account run at a time (the second key is 1 + the
// account id modulo 2^31-2; 0 stands for every account).
const countsLockClass = 21_021

// Count returns how many plans account has, in status when status is not
// "". It reads the account's delta rows and, when there are more than
// compactAbove of them, compacts them (see CompactCounts).
func (p *Plans) Count(ctx context.Context, accountID int64, status string) (int64, error) {
	sql := `SELECT coalesce(sum(n), 0), count(*) FROM ` + countsTable + ` WHERE account_id = $1`
	args := []any{accountID}
	if status != "" {
		sql += ` AND status = $2`
		args = append(args, status)
	}
	var total, rows int64
	if err := p.Store.Pool().QueryRow(ctx, sql, args...).Scan(&total, &rows); err != nil {
		return 0, fmt.Errorf("count plans: %w", err)
	}
	if rows > compactAbove {
		if err := p.CompactCounts(ctx, accountID); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// CompactCounts folds the delta rows of account (every account when
// accountID is 0) into one row per status, in one statement: the rows it
// deletes are exactly those whose sums it inserts, so deltas committed
// meanwhile are kept as they are. A compaction of the same account already
// running makes it return at once (nothing to do twice).
func (p *Plans) CompactCounts(ctx context.Context, accountID int64) error {
	return pgx.BeginFunc(ctx, p.Store.Pool(), func(tx pgx.Tx) error {
		// One account's compaction holds the class's shared lock and the
		// account's own; compacting every account holds the class's lock
		// exclusively: two compactions never delete the same rows.
		lock, largs := `SELECT pg_try_advisory_xact_lock_shared($1, 0) AND pg_try_advisory_xact_lock($1, ($2 % 2147483646 + 1)::int)`,
			[]any{countsLockClass, accountID}
		if accountID == 0 {
			lock, largs = `SELECT pg_try_advisory_xact_lock($1, 0)`, []any{countsLockClass}
		}
		var locked bool
		if err := tx.QueryRow(ctx, lock, largs...).Scan(&locked); err != nil {
			return fmt.Errorf("compact plan counts: %w", err)
		}
		if !locked {
			return nil
		}
		where := ` WHERE account_id = $1`
		args := []any{accountID}
		if accountID == 0 {
			where, args = ``, nil
		}
		_, err := tx.Exec(ctx, `WITH gone AS (DELETE FROM `+countsTable+where+` RETURNING account_id, status, n)
			INSERT INTO `+countsTable+` (account_id, status, n)
			SELECT account_id, status, sum(n) FROM gone GROUP BY account_id, status HAVING sum(n) <> 0`, args...)
		if err != nil {
			return fmt.Errorf("compact plan counts: %w", err)
		}
		return nil
	})
}

// compactEvery is after how many plan rows written for an account the
// projection compacts its counts.
const compactEvery = 256

// countsCompactor counts the plan rows a projection writes per account
// and compacts an account's counts every compactEvery of them, so the
// delta rows stay few even when no one lists.
type countsCompactor struct {
	mu      sync.Mutex
	written map[int64]int
}

// wrote records that p wrote a plan row of account and, every compactEvery
// rows, compacts the account's counts. The row is committed by then: a
// failed compaction changes no count (it is one statement), so it is left
// for the next one rather than failing the event.
func (c *countsCompactor) wrote(ctx context.Context, p *Plans, account int64) {
	if p.table != "plan_views" {
		return
	}
	c.mu.Lock()
	if c.written == nil {
		c.written = map[int64]int{}
	}
	c.written[account]++
	due := c.written[account] >= compactEvery
	if due {
		delete(c.written, account)
	}
	c.mu.Unlock()
	if due {
		_ = p.CompactCounts(ctx, account)
	}
}

// rebuildCounts sets the counts to those of table's rows, in tx (a replay
// swap, which holds plan_views' lock, so no trigger writes meanwhile; the
// counts table is locked against a concurrent compaction).
func rebuildCounts(ctx context.Context, tx pgx.Tx, table string) error {
	_, err := tx.Exec(ctx, `LOCK TABLE `+countsTable+` IN EXCLUSIVE MODE;
		DELETE FROM `+countsTable+`;
		INSERT INTO `+countsTable+` (account_id, status, n) SELECT account_id, status, count(*) FROM `+table+` GROUP BY 1, 2`)
	if err != nil {
		return fmt.Errorf("rebuild plan counts: %w", err)
	}
	return nil
}

// compareCounts lists the (account, status) pairs whose count differs from
// the number of live plan rows, in one snapshot (the counts move in the
// transactions that move the rows, so there is no lag to wait out). A
// difference is a Diff of Kind "plan count" with the account as PlanID and
// the status as PublicID.
func compareCounts(ctx context.Context, store *eventstore.Store) ([]Diff, error) {
	rows, err := store.Pool().Query(ctx, `WITH c AS (SELECT account_id, status, sum(n) AS n FROM `+countsTable+`
			GROUP BY 1, 2 HAVING sum(n) <> 0),
		v AS (SELECT account_id, status, count(*) AS n FROM plan_views GROUP BY 1, 2)
		SELECT coalesce(c.account_id, v.account_id), coalesce(c.status, v.status), coalesce(c.n, 0), coalesce(v.n, 0)
		FROM c FULL JOIN v ON v.account_id = c.account_id AND v.status = c.status
		WHERE c.n IS DISTINCT FROM v.n ORDER BY 1, 2 LIMIT 1000`)
	if err != nil {
		return nil, fmt.Errorf("compare plan counts: %w", err)
	}
	defer rows.Close()
	var diffs []Diff
	for rows.Next() {
		var acct, counted, live int64
		var status string
		if err := rows.Scan(&acct, &status, &counted, &live); err != nil {
			return nil, fmt.Errorf("compare plan counts: %w", err)
		}
		diffs = append(diffs, countDiff(acct, status, counted, live))
	}
	return diffs, rows.Err()
}

// countDiff is the difference of an account's count of plans of a status.
func countDiff(acct int64, status string, counted, live int64) Diff {
	return Diff{Kind: "plan count", PlanID: acct, PublicID: status,
		Reason: "account " + strconv.FormatInt(acct, 10) + " has " + strconv.FormatInt(live, 10) + " " + status +
			" plans, plan_counts says " + strconv.FormatInt(counted, 10)}
}

// triggerDefs are the statements that give table rebuilt the triggers of
// table live (plan_views' count triggers), so they stay when a swap makes
// rebuilt the live table. Trigger names are per table: they keep theirs.
func triggerDefs(ctx context.Context, tx pgx.Tx, live, rebuilt string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t
		WHERE t.tgrelid = $1::regclass AND NOT t.tgisinternal ORDER BY t.tgname`, live)
	if err != nil {
		return nil, fmt.Errorf("swap %s triggers: %w", live, err)
	}
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("swap %s triggers: %w", live, err)
	}
	for i, def := range defs {
		if strings.Contains(def, "."+live+" ") { // qualified: the usual form
			defs[i] = strings.Replace(def, "."+live+" ", "."+rebuilt+" ", 1)
		} else {
			defs[i] = strings.Replace(def, " ON "+live+" ", " ON "+rebuilt+" ", 1)
		}
	}
	return defs, nil
}
