package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"goodplan/eventstore"
)

// compare lists the plans whose live row differs from the rebuilt one. A
// difference is first re-checked against the store's current state: plans
// that changed after the replay's snapshot are refolded into the rebuild
// table, and live rows still behind the store get up to wait to catch up.
func compare(ctx context.Context, store *eventstore.Store, rebuilt *Plans, wait time.Duration, failed map[int64]bool) ([]Diff, error) {
	return compareAgainst(ctx, store, rebuilt, "plan_views", wait, failed)
}

// compareAgainst is compare with the live rows taken from live (plan_views,
// or a subquery of it aliased by the caller's parentheses).
func compareAgainst(ctx context.Context, store *eventstore.Store, rebuilt *Plans, live string, wait time.Duration, failed map[int64]bool) ([]Diff, error) {
	return compareRows(ctx, store, wait, `SELECT coalesce(r.plan_id, l.plan_id), NULL::text, r.version, l.version, to_jsonb(r), to_jsonb(l)
		FROM `+rebuildTable+` r FULL JOIN `+live+` l ON l.plan_id = r.plan_id
		WHERE r IS DISTINCT FROM l -- column by column; jsonb only for the rows that differ
		ORDER BY 1 LIMIT 1000`, failed, rebuilt.refold)
}

// refold writes plan id's row as the store has it now (see compareRows).
func (p *Plans) refold(ctx context.Context, id int64) (int64, error) {
	plan, _, _, err := p.Store.LoadPlan(ctx, id)
	if err != nil {
		return 0, err
	}
	return plan.Version(), p.write(ctx, plan, nil)
}

// compareRows runs query (rows of id, public id or NULL, rebuilt version,
// live version, rebuilt row and live row as jsonb: the rows that differ)
// until no difference is merely lag or wait is over. refold writes a
// model's row as the store has it now into the rebuild table and returns
// its version (an error wrapping eventstore.ErrNotFound when the stream has
// no events). The ids in failed (already reported) are left out.
func compareRows(ctx context.Context, store *eventstore.Store, wait time.Duration, query string, failed map[int64]bool,
	refold func(context.Context, int64) (int64, error)) ([]Diff, error) {
	deadline := time.Now().Add(wait)
	for {
		diffs, lagging, err := diffOnce(ctx, store, query, failed, refold)
		if err != nil {
			return nil, err
		}
		if !lagging || time.Now().After(deadline) {
			return diffs, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// diffOnce compares once (see compareRows).
func diffOnce(ctx context.Context, store *eventstore.Store, query string, failed map[int64]bool,
	refold func(context.Context, int64) (int64, error)) ([]Diff, bool, error) {
	tx, err := store.Pool().BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, false, fmt.Errorf("compare: %w", err)
	}
	defer tx.Rollback(ctx)
	// Both tables have their primary key: a merge join walks them in step.
	// A hash join of a million wide rows spills to disk in batches (it
	// took 2x as long), and compiling the row comparison (JIT) does not
	// pay for itself here.
	if _, err := tx.Exec(ctx, `SET LOCAL enable_hashjoin = off; SET LOCAL jit = off`); err != nil {
		return nil, false, fmt.Errorf("compare: %w", err)
	}
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return nil, false, fmt.Errorf("compare: %w", err)
	}
	type candidate struct {
		id                    int64
		publicID              *string
		rVersion, lVersion    *int64
		rebuiltJSON, liveJSON map[string]any
	}
	var cands []candidate
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.id, &c.publicID, &c.rVersion, &c.lVersion, &c.rebuiltJSON, &c.liveJSON); err != nil {
			rows.Close()
			return nil, false, fmt.Errorf("compare: %w", err)
		}
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("compare: %w", err)
	}
	tx.Rollback(ctx) // the refolds below write with connections of their own
	var diffs []Diff
	lagging := false
	for _, c := range cands {
		if failed[c.id] {
			continue
		}
		// Refold from the store as it is now: the events may have moved on
		// since the snapshot. (Writing first is harmless: the write keeps
		// a row that is already at the version.)
		version, err := refold(ctx, c.id)
		if err != nil && !isNotFound(err) {
			return nil, false, err
		}
		if err == nil && (c.rVersion == nil || *c.rVersion < version) {
			lagging = true // compare again with the refolded row
			continue
		}
		d := Diff{PlanID: c.id}
		if c.publicID != nil {
			d.PublicID = *c.publicID
		}
		switch {
		case c.liveJSON == nil:
			lagging = true
			d.Reason = "missing from the live read model"
		case c.rebuiltJSON == nil:
			d.Reason = "in the live read model but not in the event store"
		default:
			if c.lVersion != nil && c.rVersion != nil && *c.lVersion < *c.rVersion {
				lagging = true
			}
			d.Reason, d.Fields = "live row differs from the rebuilt one", fieldDiffs(c.rebuiltJSON, c.liveJSON)
		}
		diffs = append(diffs, d)
	}
	return diffs, lagging, nil
}

func isNotFound(err error) bool {
	return errors.Is(err, eventstore.ErrNotFound)
}

func isPgError(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr)
}

func fieldDiffs(rebuilt, live map[string]any) []FieldDiff {
	var out []FieldDiff
	for k, rv := range rebuilt {
		rb, _ := json.Marshal(rv)
		lb, _ := json.Marshal(live[k])
		if string(rb) != string(lb) {
			out = append(out, FieldDiff{Column: k, Rebuilt: string(rb), Live: string(lb)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Column < out[j].Column })
	return out
}
