package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
)

// The read models of the catalog's aggregates (catalog_plan_views,
// plan_group_views) hold one row per aggregate, written by their
// projection's own write. Replay rebuilds each the same way, with one
// aggregateView describing it: the rebuilt rows equal projected ones by
// construction, so any difference is a live row that is corrupt, missing
// or extra.

// Tables of the catalog's read models and of their rebuilds.
const (
	catalogLive    = "catalog_plan_views"
	catalogRebuild = "catalog_plan_views_rebuild"
	groupLive      = "plan_group_views"
	groupRebuild   = "plan_group_views_rebuild"
)

// replayable is an aggregate whose read model replay rebuilds: ID is 0
// until its creation event is folded.
type replayable interface {
	ID() int64
	Version() int64
}

// aggregateView is one read model of one aggregate, as replay sees it.
type aggregateView[A replayable] struct {
	kind    string // "catalog plan": names the aggregate in diffs and errors
	agg     eventstore.Aggregate[A]
	live    string // the live table
	rebuild string // the table replay rebuilds into
	key     string // the primary key column: the aggregate's internal id
	// jsonColumn is a json (not jsonb) column of the row: it has no
	// equality, so it is compared as text (key order counts, as the API
	// returns it) next to the jsonb of the whole row.
	jsonColumn string
	// write upserts a's row into table with the projection's own write.
	write func(ctx context.Context, db execer, table string, a A) error
}

// catalogView is catalog_plan_views (CatalogPlans).
var catalogView = aggregateView[*domain.CatalogPlan]{
	kind: "catalog plan", agg: eventstore.CatalogPlanAggregate, live: catalogLive, rebuild: catalogRebuild,
	key: "catalog_plan_id", jsonColumn: "plan",
	write: func(ctx context.Context, db execer, table string, p *domain.CatalogPlan) error {
		return (&CatalogPlans{table: table}).write(ctx, db, p)
	},
}

// groupView is plan_group_views (PlanGroups). A group's row holds its
// members as its events record them, a deleted catalog plan included (it
// is left out when the group is shown): a rebuild folds the same events,
// so it holds the same members.
var groupView = aggregateView[*domain.PlanGroup]{
	kind: "plan group", agg: eventstore.PlanGroupAggregate, live: groupLive, rebuild: groupRebuild,
	key: "plan_group_id", jsonColumn: "members",
	write: func(ctx context.Context, db execer, table string, g *domain.PlanGroup) error {
		return (&PlanGroups{table: table}).write(ctx, db, g)
	},
}

// viewReplay is one aggregate read model's part of a Replay: its rebuilt
// table and the aggregates that could not be rebuilt (a swap keeps their
// live rows).
type viewReplay[A replayable] struct {
	aggregateView[A]
	store  *eventstore.Store
	failed map[int64]bool
}

// swapper is a rebuilt read model Replay can make live.
type swapper interface {
	swap(ctx context.Context) error
}

// replayView rebuilds v from its streams into a fresh table, counting the
// events read and the rows written into *events and *rows, and appends its
// differences and failures to res. Catalog aggregates are few (an
// account's price list and its groups): one goroutine folds them.
func replayView[A replayable](ctx context.Context, store *eventstore.Store, v aggregateView[A], opts ReplayOptions,
	res *ReplayResult, events, rows *int64) (*viewReplay[A], error) {
	pool := store.Pool()
	if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS `+v.rebuild+`;
		CREATE TABLE `+v.rebuild+` (LIKE `+v.live+` INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
		ALTER TABLE `+v.rebuild+` ADD PRIMARY KEY (`+v.key+`)`); err != nil {
		return nil, fmt.Errorf("create %s: %w", v.rebuild, err)
	}
	r := &viewReplay[A]{aggregateView: v, store: store, failed: map[int64]bool{}}
	fail := func(stream string, err error) {
		res.Failed = append(res.Failed, StreamFailure{StreamID: stream, Reason: err.Error()})
		if id, ok := v.agg.IDOf(stream); ok {
			r.failed[id] = true
		}
	}
	var writeErr error
	readErr := store.ReadStreams(ctx, v.agg.Prefix, func(evs []eventstore.StreamEvent) bool {
		*events += int64(len(evs))
		opts.Progress.Add(int64(len(evs)))
		stream := evs[0].StreamID
		if _, ok := v.agg.IDOf(stream); !ok {
			fail(stream, errors.New("not a "+v.kind+" stream id"))
			return true
		}
		a, err := r.fold(evs)
		if err != nil {
			fail(stream, err)
			return true
		}
		if err := v.write(ctx, pool, v.rebuild, a); err != nil {
			if ctx.Err() != nil || !isPgError(err) {
				writeErr = err
				return false
			}
			fail(stream, err)
			return true
		}
		*rows++
		return true
	})
	switch {
	case writeErr != nil:
		return nil, fmt.Errorf("replay %s write: %w", v.kind, writeErr)
	case readErr != nil:
		return nil, fmt.Errorf("replay %s read: %w", v.kind, readErr)
	}
	diffs, err := r.compare(ctx, opts.CatchUpWait)
	if err != nil {
		return nil, err
	}
	res.Diffs = append(res.Diffs, diffs...)
	return r, nil
}

// fold folds one stream with the aggregate's own fold.
func (r *viewReplay[A]) fold(evs []eventstore.StreamEvent) (A, error) {
	recs := make([]eventstore.Record, len(evs))
	for i, e := range evs {
		recs[i] = eventstore.Record{StreamID: e.StreamID, Version: int64(i + 1), Type: e.Type, Data: e.Data,
			Metadata: e.Metadata, RecordedAt: e.RecordedAt}
	}
	a, err := r.agg.Fold(r.agg.New(), recs)
	if err != nil {
		return a, err
	}
	if a.ID() == 0 {
		return a, fmt.Errorf("no creation event: the stream folds to no %s", r.kind)
	}
	return a, nil
}

// compare lists the aggregates whose live row differs from the rebuilt
// one, with the plan replay's lag tolerance (see compareRows).
func (r *viewReplay[A]) compare(ctx context.Context, wait time.Duration) ([]Diff, error) {
	k, j := r.key, r.jsonColumn
	diffs, err := compareRows(ctx, r.store, wait, `SELECT coalesce(r.`+k+`, l.`+k+`),
			coalesce(r.public_id, l.public_id)::text, r.version, l.version, to_jsonb(r), to_jsonb(l)
		FROM `+r.rebuild+` r FULL JOIN `+r.live+` l ON l.`+k+` = r.`+k+`
		WHERE to_jsonb(r) IS DISTINCT FROM to_jsonb(l) OR r.`+j+`::text IS DISTINCT FROM l.`+j+`::text
		ORDER BY 1 LIMIT 1000`, r.failed,
		func(ctx context.Context, id int64) (int64, error) {
			a, _, _, err := r.agg.Load(ctx, r.store, id)
			if err != nil {
				return 0, err
			}
			return a.Version(), r.write(ctx, r.store.Pool(), r.rebuild, a)
		})
	for i := range diffs {
		diffs[i].Kind = r.kind
	}
	return diffs, err
}

// swap makes the rebuilt table live in its own transaction, under the same
// discipline as the plan swap: projection writes wait on the lock,
// aggregates that changed since the snapshot are refolded first, and one
// that could not be rebuilt keeps its live row. The read models are
// independent (no row of one is derived from another's), so each swaps on
// its own and none holds another's lock longer than it needs.
func (r *viewReplay[A]) swap(ctx context.Context) error {
	tx, err := r.store.Pool().Begin(ctx)
	if err != nil {
		return fmt.Errorf("swap %s: %w", r.live, err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `LOCK TABLE `+r.live+` IN EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("swap %s lock: %w", r.live, err)
	}
	rows, err := tx.Query(ctx, `SELECT s.stream_id FROM streams s
		LEFT JOIN `+r.rebuild+` r ON s.stream_id = $1::text || r.`+r.key+`
		WHERE starts_with(s.stream_id, $1) AND (r.version IS NULL OR r.version < s.version)`, r.agg.Prefix)
	if err != nil {
		return fmt.Errorf("swap %s catch-up: %w", r.live, err)
	}
	var behind []int64
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return fmt.Errorf("swap %s catch-up: %w", r.live, err)
		}
		if id, ok := r.agg.IDOf(s); ok {
			behind = append(behind, id)
		}
	}
	rows.Close()
	for _, id := range behind {
		if r.failed[id] {
			if _, err := tx.Exec(ctx, `INSERT INTO `+r.rebuild+` SELECT * FROM `+r.live+` WHERE `+r.key+` = $1`, id); err != nil {
				return fmt.Errorf("swap keep %s %d: %w", r.kind, id, err)
			}
			continue
		}
		a, _, _, err := r.agg.Load(ctx, r.store, id)
		if err != nil {
			return fmt.Errorf("swap catch-up %s %d: %w", r.kind, id, err)
		}
		if err := r.write(ctx, tx, r.rebuild, a); err != nil {
			return fmt.Errorf("swap catch-up: %w", err)
		}
	}
	if err := swapTables(ctx, tx, r.live, r.rebuild); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
