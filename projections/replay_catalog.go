package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
)

const (
	catalogLive    = "catalog_plan_views"
	catalogRebuild = "catalog_plan_views_rebuild"
)

// catalogReplay is the catalog plan part of a Replay: the rebuilt table and
// the plans that could not be rebuilt (their live rows are kept by a swap).
type catalogReplay struct {
	store   *eventstore.Store
	rebuilt *CatalogPlans
	failed  map[int64]bool
}

// replayCatalog rebuilds catalog_plan_views from the catalog plan streams
// into a fresh table with the projection's own fold and write
// (CatalogPlans.write), so rebuilt rows equal projected ones by
// construction, and appends its differences and failures to res. Catalog
// plans are few (an account's price list): one goroutine folds them.
func replayCatalog(ctx context.Context, store *eventstore.Store, opts ReplayOptions, res *ReplayResult) (*catalogReplay, error) {
	pool := store.Pool()
	if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS `+catalogRebuild+`;
		CREATE TABLE `+catalogRebuild+` (LIKE `+catalogLive+` INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
		ALTER TABLE `+catalogRebuild+` ADD PRIMARY KEY (catalog_plan_id)`); err != nil {
		return nil, fmt.Errorf("create %s: %w", catalogRebuild, err)
	}
	c := &catalogReplay{store: store, rebuilt: &CatalogPlans{Store: store, table: catalogRebuild}, failed: map[int64]bool{}}
	fail := func(stream string, err error) {
		res.Failed = append(res.Failed, StreamFailure{StreamID: stream, Reason: err.Error()})
		if id, ok := eventstore.CatalogPlanAggregate.IDOf(stream); ok {
			c.failed[id] = true
		}
	}
	var writeErr error
	readErr := store.ReadStreams(ctx, eventstore.CatalogPlanStreamPrefix, func(evs []eventstore.StreamEvent) bool {
		res.CatalogEvents += int64(len(evs))
		stream := evs[0].StreamID
		if _, ok := eventstore.CatalogPlanAggregate.IDOf(stream); !ok {
			fail(stream, errors.New("not a catalog plan stream id"))
			return true
		}
		p, err := foldCatalog(evs)
		if err != nil {
			fail(stream, err)
			return true
		}
		if err := c.rebuilt.write(ctx, pool, p); err != nil {
			if ctx.Err() != nil || !isPgError(err) {
				writeErr = err
				return false
			}
			fail(stream, err)
			return true
		}
		res.CatalogPlans++
		return true
	})
	switch {
	case writeErr != nil:
		return nil, fmt.Errorf("replay catalog write: %w", writeErr)
	case readErr != nil:
		return nil, fmt.Errorf("replay catalog read: %w", readErr)
	}
	diffs, err := c.compare(ctx, opts.CatchUpWait)
	if err != nil {
		return nil, err
	}
	res.Diffs = append(res.Diffs, diffs...)
	return c, nil
}

// foldCatalog folds one catalog plan stream with the aggregate's own fold.
func foldCatalog(evs []eventstore.StreamEvent) (*domain.CatalogPlan, error) {
	recs := make([]eventstore.Record, len(evs))
	for i, e := range evs {
		recs[i] = eventstore.Record{StreamID: e.StreamID, Version: int64(i + 1), Type: e.Type, Data: e.Data,
			Metadata: e.Metadata, RecordedAt: e.RecordedAt}
	}
	p, err := eventstore.CatalogPlanAggregate.Fold(eventstore.CatalogPlanAggregate.New(), recs)
	if err != nil {
		return nil, err
	}
	if p.ID() == 0 {
		return nil, errors.New("no catalog_plan.created: the stream folds to no catalog plan")
	}
	return p, nil
}

// compare lists the catalog plans whose live row differs from the rebuilt
// one, with the plan replay's lag tolerance (see compareRows).
func (c *catalogReplay) compare(ctx context.Context, wait time.Duration) ([]Diff, error) {
	// plan is json, which has no equality: compared as text (key order
	// counts, as the API returns it) next to the jsonb of the whole row.
	return compareRows(ctx, c.store, wait, `SELECT coalesce(r.catalog_plan_id, l.catalog_plan_id),
			coalesce(r.public_id, l.public_id), r.version, l.version, to_jsonb(r), to_jsonb(l)
		FROM `+catalogRebuild+` r FULL JOIN `+catalogLive+` l ON l.catalog_plan_id = r.catalog_plan_id
		WHERE to_jsonb(r) IS DISTINCT FROM to_jsonb(l) OR r.plan::text IS DISTINCT FROM l.plan::text
		ORDER BY 1 LIMIT 1000`, c.failed,
		func(ctx context.Context, id int64) (int64, error) {
			p, _, _, err := eventstore.CatalogPlanAggregate.Load(ctx, c.store, id)
			if err != nil {
				return 0, err
			}
			return p.Version(), c.rebuilt.write(ctx, c.store.Pool(), p)
		})
}

// swap makes the rebuilt catalog table live in its own transaction, under
// the same discipline as the plan swap: projection writes wait on the lock,
// plans that changed since the snapshot are refolded first, and a plan that
// could not be rebuilt keeps its live row. The two read models are
// independent (no row of one is derived from the other), so each swaps on
// its own and neither holds the other's lock longer than it needs.
func (c *catalogReplay) swap(ctx context.Context) error {
	tx, err := c.store.Pool().Begin(ctx)
	if err != nil {
		return fmt.Errorf("swap catalog: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `LOCK TABLE `+catalogLive+` IN EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("swap catalog lock: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT s.stream_id FROM streams s
		LEFT JOIN `+catalogRebuild+` r ON s.stream_id = '`+eventstore.CatalogPlanStreamPrefix+`' || r.catalog_plan_id
		WHERE s.stream_id LIKE '`+eventstore.CatalogPlanStreamPrefix+`%' AND (r.version IS NULL OR r.version < s.version)`)
	if err != nil {
		return fmt.Errorf("swap catalog catch-up: %w", err)
	}
	var behind []int64
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return fmt.Errorf("swap catalog catch-up: %w", err)
		}
		if id, ok := eventstore.CatalogPlanAggregate.IDOf(s); ok {
			behind = append(behind, id)
		}
	}
	rows.Close()
	for _, id := range behind {
		if c.failed[id] {
			if _, err := tx.Exec(ctx, `INSERT INTO `+catalogRebuild+` SELECT * FROM `+catalogLive+` WHERE catalog_plan_id = $1`, id); err != nil {
				return fmt.Errorf("swap keep catalog plan %d: %w", id, err)
			}
			continue
		}
		p, _, _, err := eventstore.CatalogPlanAggregate.Load(ctx, c.store, id)
		if err != nil {
			return fmt.Errorf("swap catch-up catalog plan %d: %w", id, err)
		}
		if err := c.rebuilt.write(ctx, tx, p); err != nil {
			return fmt.Errorf("swap catch-up: %w", err)
		}
	}
	if err := swapTables(ctx, tx, catalogLive, catalogRebuild); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
