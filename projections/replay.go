package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"goodplan/domain"
	"goodplan/eventstore"
)

const rebuildTable = "plan_views_rebuild"

// ReplayOptions tune Replay.
type ReplayOptions struct {
	// Swap makes the rebuilt table the live one after the comparison.
	Swap bool
	// CatchUpWait is how long a live row that is merely behind the store
	// (projection lag) may take to catch up before it counts as a
	// difference; default 10s.
	CatchUpWait time.Duration
	// Progress, when set, counts the events read as they are read and
	// names the phase after the reading (comparing, swapping).
	Progress *eventstore.Progress
}

// Diff is one plan (a payment plan, or an aggregate of the catalog when
// Kind is set) whose live row differs from the rebuilt one, or an
// account's plan count (Kind "plan count", see compareCounts).
type Diff struct {
	Kind     string      // "catalog plan" or "plan group"; empty for a payment plan
	PlanID   int64       // the plan's id; a catalog aggregate's internal id
	PublicID string      // a catalog aggregate's public id; empty for a payment plan
	Fields   []FieldDiff // empty when a whole row is missing on one side
	Reason   string
}

// FieldDiff is one column that differs.
type FieldDiff struct {
	Column, Rebuilt, Live string
}

func (d Diff) String() string {
	s := fmt.Sprintf("plan %d: %s", d.PlanID, d.Reason)
	if d.Kind != "" {
		s = fmt.Sprintf("%s %s (%d): %s", d.Kind, d.PublicID, d.PlanID, d.Reason)
	}
	for _, f := range d.Fields {
		s += fmt.Sprintf("\n    %s:\n      rebuilt: %s\n      live:    %s", f.Column, f.Rebuilt, f.Live)
	}
	return s
}

// ReplayResult is what Replay found.
type ReplayResult struct {
	Events int64
	Plans  int64
	// CatalogEvents and CatalogPlans count the catalog plan streams
	// replayed, GroupEvents and Groups the plan group streams (see
	// replayView).
	CatalogEvents int64
	CatalogPlans  int64
	GroupEvents   int64
	Groups        int64
	Diffs         []Diff          // payment plans first, then catalog plans, then plan groups
	Failed        []StreamFailure // streams that could not be folded or written
	Swapped       bool
	// Rechecked counts the plans compared in SQL after their digests
	// differed from the live rows' (0 when every plan was compared in SQL,
	// as with Swap; see compareFast).
	Rechecked int64

	countDiffs []Diff // the plan counts' differences, once compared
}

// StreamFailure is a plan stream Replay could not rebuild, and why. The
// other streams are rebuilt all the same; a swap keeps the live row of a
// failed one.
type StreamFailure struct {
	StreamID string
	Reason   string
}

// String is "stream: reason".
func (f StreamFailure) String() string { return f.StreamID + ": " + f.Reason }

// Replay rebuilds the plan read model (without opts.Swap by digest: see
// compareFast), then the catalog plan and plan group
// read models (catalog_plan_views and plan_group_views, see replayView),
// from the event store into fresh
// tables, compares it row by row with the live one and, with opts.Swap, makes
// the rebuilt table live. It only reads events and writes read-model tables:
// it never sends an email or a webhook. A stream that cannot be folded or
// written is listed in the result's Failed and left out; it does not stop
// the others.
func Replay(ctx context.Context, store *eventstore.Store, opts ReplayOptions) (ReplayResult, error) {
	if opts.CatchUpWait == 0 {
		opts.CatchUpWait = 10 * time.Second
	}
	var res ReplayResult
	var (
		rebuilt *Plans
		failed  map[int64]bool
		err     error
	)
	if !opts.Swap {
		rebuilt, failed, err = replayPlansFast(ctx, store, opts, &res)
	}
	if opts.Swap || rebuilt == nil && err == nil {
		res = ReplayResult{}
		rebuilt, failed, err = replayPlansFull(ctx, store, opts, &res)
	}
	if err != nil {
		return res, err
	}
	if res.countDiffs == nil { // the fast path counted the plans as it read them
		if res.countDiffs, err = compareCounts(ctx, store); err != nil {
			return res, err
		}
	}
	res.Diffs = append(res.Diffs, res.countDiffs...)
	opts.Progress.SetPhase("")
	cat, err := replayView(ctx, store, catalogView, opts, &res, &res.CatalogEvents, &res.CatalogPlans)
	if err != nil {
		return res, err
	}
	groups, err := replayView(ctx, store, groupView, opts, &res, &res.GroupEvents, &res.Groups)
	if err != nil {
		return res, err
	}
	if opts.Swap {
		opts.Progress.SetPhase("swapping the rebuilt read models in")
		if err := swap(ctx, store, rebuilt, failed); err != nil {
			return res, err
		}
		for _, v := range []swapper{cat, groups} {
			if err := v.swap(ctx); err != nil {
				return res, err
			}
		}
		res.Swapped = true
	}
	return res, nil
}

// replayPlansFast compares the plans by digest (see compareFast) and the
// few that differ in SQL (recheck). It returns a nil *Plans, and no
// error, when too many differ: the caller then runs replayPlansFull.
func replayPlansFast(ctx context.Context, store *eventstore.Store, opts ReplayOptions, res *ReplayResult) (*Plans, map[int64]bool, error) {
	fast, err := compareFast(ctx, store, res, opts.Progress)
	if err != nil {
		return nil, nil, err
	}
	if len(fast.candidates) > maxCandidates {
		return nil, nil, nil
	}
	opts.Progress.SetPhase("comparing the plans that differ with the live read model")
	res.Rechecked = int64(len(fast.candidates))
	rebuilt, diffs, err := recheck(ctx, store, fast.candidates, res, fast.failed, opts.CatchUpWait)
	if err != nil {
		return nil, nil, err
	}
	res.Diffs = diffs
	res.countDiffs = append([]Diff{}, fast.counts...)
	return rebuilt, fast.failed, nil
}

// replayPlansFull rebuilds every plan into the rebuild tables and compares
// them with the live ones in SQL.
func replayPlansFull(ctx context.Context, store *eventstore.Store, opts ReplayOptions, res *ReplayResult) (*Plans, map[int64]bool, error) {
	pool := store.Pool()
	// The rebuild tables are unlogged: a million rows written once and
	// compared need no WAL (it was most of PostgreSQL's share of a
	// replay). A swap makes them logged first.
	if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS `+rebuildTable+`;
		CREATE UNLOGGED TABLE `+rebuildTable+` (LIKE plan_views INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
		DROP TABLE IF EXISTS `+weeksRebuildTable+`;
		CREATE UNLOGGED TABLE `+weeksRebuildTable+` (LIKE `+weeksTable+` INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`); err != nil {
		return nil, nil, fmt.Errorf("create %s: %w", rebuildTable, err)
	}
	if err := rebuild(ctx, store, res, opts.Progress); err != nil {
		return nil, nil, err
	}
	if _, err := pool.Exec(ctx, `ALTER TABLE `+rebuildTable+` ADD PRIMARY KEY (plan_id)`); err != nil {
		return nil, nil, fmt.Errorf("index %s: %w", rebuildTable, err)
	}
	opts.Progress.SetPhase("indexing the rebuilt plans")
	// A plan without installments or payments has no weekly amounts.
	if _, err := pool.Exec(ctx, fillWeeksSQL(rebuildTable, `cardinality(v.due_on) + cardinality(v.paid_on) > 0`)+`;
		ALTER TABLE `+weeksRebuildTable+` ADD PRIMARY KEY (plan_id, week, currency)`); err != nil {
		return nil, nil, fmt.Errorf("fill %s: %w", weeksRebuildTable, err)
	}
	rebuilt := &Plans{Store: store, table: rebuildTable}
	failed := map[int64]bool{}
	for _, f := range res.Failed {
		if id, ok := eventstore.PlanIDOf(f.StreamID); ok {
			failed[id] = true
		}
	}
	opts.Progress.SetPhase("comparing the plans with the live read model")
	diffs, err := compare(ctx, store, rebuilt, opts.CatchUpWait, failed)
	if err != nil {
		return nil, nil, err
	}
	weekDiffs, err := compareWeeks(ctx, store, rebuilt, opts.CatchUpWait, failed)
	if err != nil {
		return nil, nil, err
	}
	res.Diffs = append(diffs, weekDiffs...)
	return rebuilt, failed, nil
}

// planStreamPattern matches the stream ids of payment plans alone
// ("plan-42"), not those of any aggregate whose prefix merely starts alike.
const planStreamPattern = `^` + eventstore.PlanStreamPrefix + `[1-9][0-9]*$`

// rebuild folds every plan stream, in one consistent snapshot, into the
// rebuild table. One reader gathers the events into whole streams in the
// table's physical order (eventstore.ScanStreams) and hands them to a
// worker per CPU, which fold and encode them; two writers COPY the rows.
func rebuild(ctx context.Context, store *eventstore.Store, res *ReplayResult, progress *eventstore.Progress) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	streams := make(chan []eventstore.StreamEvent, 256)
	rows := make(chan rebuiltRow, 1024)
	var readErr, writeErr error
	var events, plans int64
	var failMu sync.Mutex
	fail := func(stream string, err error) {
		failMu.Lock()
		defer failMu.Unlock()
		res.Failed = append(res.Failed, StreamFailure{StreamID: stream, Reason: err.Error()})
	}

	var workers sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		workers.Go(func() {
			for evs := range streams {
				stream := evs[0].StreamID
				args, err := foldStream(len(evs), func(i int) (string, []byte, []byte, time.Time) {
					e := evs[i]
					return e.Type, e.Data, e.Metadata, e.RecordedAt
				})
				if err != nil {
					fail(stream, err)
					continue
				}
				select {
				case rows <- rebuiltRow{stream, args}:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	// Two writers: PostgreSQL parses each row's JSON into jsonb on COPY,
	// on the writer's backend, so a second COPY uses a second core.
	var written sync.WaitGroup
	var writeMu sync.Mutex
	for range 2 {
		written.Go(func() {
			batch := make([]rebuiltRow, 0, 1000)
			flush := func() bool {
				if len(batch) == 0 {
					return true
				}
				n, err := writeRows(ctx, store, batch, fail)
				writeMu.Lock()
				defer writeMu.Unlock()
				if err != nil {
					if writeErr == nil {
						writeErr = err
					}
					cancel()
					return false
				}
				plans += n
				batch = batch[:0]
				return true
			}
			for r := range rows {
				if batch = append(batch, r); len(batch) == cap(batch) && !flush() {
					for range rows { // drain so the workers can finish
					}
					return
				}
			}
			flush()
		})
	}

	events, readErr = scanPlanStreams(ctx, store, streams, progress)
	workers.Wait()
	close(rows)
	written.Wait()
	res.Events, res.Plans = events, plans
	sort.Slice(res.Failed, func(i, j int) bool { return res.Failed[i].StreamID < res.Failed[j].StreamID })
	switch {
	case writeErr != nil:
		return fmt.Errorf("replay write: %w", writeErr)
	case readErr != nil:
		return fmt.Errorf("replay read: %w", readErr)
	}
	return nil
}

// rebuiltRow is the row of one stream, as COPY arguments.
type rebuiltRow struct {
	stream string
	args   []any
}

// foldStream folds the n events of one stream (event i given by ev) into
// its row's COPY arguments.
func foldStream(n int, ev func(i int) (typ string, data, meta []byte, at time.Time)) ([]any, error) {
	r, err := foldStreamRow(n, ev)
	if err != nil {
		return nil, err
	}
	return r.args(), nil
}

// foldStreamRow folds the n events of one stream (event i given by ev)
// into its row.
func foldStreamRow(n int, ev func(i int) (typ string, data, meta []byte, at time.Time)) (planRow, error) {
	plan := &domain.Plan{}
	var options json.RawMessage
	for i := range n {
		typ, data, _, at := ev(i)
		opts, err := foldEvent(plan, typ, data, at)
		if err != nil {
			return planRow{}, fmt.Errorf("version %d: %w", i+1, err)
		}
		if opts != nil {
			options = opts
		}
	}
	if !plan.Exists() {
		return planRow{}, errors.New("no plan.created: the stream folds to no plan")
	}
	return rowOf(plan, options)
}

// writeRows COPYs rows into the rebuild table and returns how many it
// wrote. When PostgreSQL refuses the COPY (one row it cannot store must not
// cost all the others), each row is written alone and those it still
// refuses are reported to fail. An error is a failure of the database.
func writeRows(ctx context.Context, store *eventstore.Store, rows []rebuiltRow, fail func(string, error)) (int64, error) {
	args := make([][]any, len(rows))
	for i, r := range rows {
		args[i] = r.args
	}
	_, err := store.Pool().CopyFrom(ctx, pgx.Identifier{rebuildTable}, columnList, pgx.CopyFromRows(args))
	if err == nil {
		return int64(len(rows)), nil
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return 0, err
	}
	var n int64
	for _, r := range rows {
		_, err := store.Pool().Exec(ctx, `INSERT INTO `+rebuildTable+` (`+planColumns+`) VALUES (`+placeholders+`)`, r.args...)
		switch {
		case err == nil:
			n++
		case errors.As(err, &pgErr):
			fail(r.stream, fmt.Errorf("write: %w", err))
		default:
			return n, err
		}
	}
	return n, nil
}

// swap makes the rebuilt table live. Projection writes wait on the lock;
// plans that changed since the snapshot are refolded first so the swap loses
// nothing the live table had. It needs pool connections of its own while
// projection writers wait on the lock: run it from its own process (as
// `goodplan replay` does), not on a small pool shared with the projection.
// A plan in failed (it could not be rebuilt) keeps its live row.
func swap(ctx context.Context, store *eventstore.Store, rebuilt *Plans, failed map[int64]bool) error {
	// Logged before the lock is taken: SET LOGGED writes the whole table
	// to the WAL, which projection writes need not wait for.
	if _, err := store.Pool().Exec(ctx, `ALTER TABLE `+rebuildTable+` SET LOGGED;
		ALTER TABLE `+weeksRebuildTable+` SET LOGGED`); err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	tx, err := store.Pool().Begin(ctx)
	if err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `LOCK TABLE plan_views, `+weeksTable+` IN EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("swap lock: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT s.stream_id FROM streams s
		LEFT JOIN `+rebuildTable+` r ON s.stream_id = '`+eventstore.PlanStreamPrefix+`' || r.plan_id
		WHERE s.stream_id ~ '`+planStreamPattern+`' AND (r.version IS NULL OR r.version < s.version)`)
	if err != nil {
		return fmt.Errorf("swap catch-up: %w", err)
	}
	var behind []int64
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return fmt.Errorf("swap catch-up: %w", err)
		}
		if id, ok := eventstore.PlanIDOf(s); ok {
			behind = append(behind, id)
		}
	}
	rows.Close()
	for _, id := range behind {
		if failed[id] {
			for _, stmt := range []string{`INSERT INTO ` + rebuildTable + ` SELECT * FROM plan_views WHERE plan_id = $1`,
				`DELETE FROM ` + weeksRebuildTable + ` WHERE plan_id = $1`,
				`INSERT INTO ` + weeksRebuildTable + ` SELECT * FROM ` + weeksTable + ` WHERE plan_id = $1`} {
				if _, err := tx.Exec(ctx, stmt, id); err != nil {
					return fmt.Errorf("swap keep plan %d: %w", id, err)
				}
			}
			continue
		}
		plan, _, _, err := store.LoadPlan(ctx, id)
		if err != nil {
			return fmt.Errorf("swap catch-up plan %d: %w", id, err)
		}
		r, err := rowOf(plan, nil)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+rebuildTable+` WHERE plan_id = $1`, id); err != nil {
			return fmt.Errorf("swap catch-up plan %d: %w", id, err)
		}
		if _, err := tx.Exec(ctx, upsertSQL(rebuildTable), r.args()...); err != nil {
			return fmt.Errorf("swap catch-up plan %d: %w", id, err)
		}
	}
	if err := rebuildCounts(ctx, tx, rebuildTable); err != nil {
		return err
	}
	if err := swapTables(ctx, tx, "plan_views", rebuildTable); err != nil {
		return err
	}
	if err := swapTables(ctx, tx, weeksTable, weeksRebuildTable); err != nil {
		return err
	}
	// The rebuilt weekly rows carry no deltas: the Overview's totals are
	// recomputed from the rows now live.
	for _, stmt := range refillTotalsSQL {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("swap: refill the overview totals: %w", err)
		}
	}
	return tx.Commit(ctx)
}

// swapTables makes table rebuilt the live table in tx (which holds the live
// table's lock). The rebuilt table gets every index the live one has
// (whatever later migrations add), under temporary names; after the swap
// they take the live names back, so swaps can follow each other.
func swapTables(ctx context.Context, tx pgx.Tx, live, rebuilt string) error {
	idx, err := tx.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = $1 AND indexname <> $2`, live, live+"_pkey")
	if err != nil {
		return fmt.Errorf("swap %s indexes: %w", live, err)
	}
	type index struct{ name, def string }
	var indexes []index
	for idx.Next() {
		var i index
		if err := idx.Scan(&i.name, &i.def); err != nil {
			idx.Close()
			return fmt.Errorf("swap %s indexes: %w", live, err)
		}
		indexes = append(indexes, i)
	}
	idx.Close()
	var stmts []string
	for _, i := range indexes {
		def := strings.Replace(i.def, " INDEX "+i.name+" ON ", " INDEX "+i.name+"_rebuilt ON ", 1)
		def = strings.Replace(def, "."+live+" ", "."+rebuilt+" ", 1)
		stmts = append(stmts, def)
	}
	triggers, err := triggerDefs(ctx, tx, live, rebuilt)
	if err != nil {
		return err
	}
	stmts = append(stmts, triggers...)
	stmts = append(stmts,
		`ALTER TABLE `+live+` RENAME TO `+live+`_replaced`,
		`ALTER TABLE `+rebuilt+` RENAME TO `+live,
		`DROP TABLE `+live+`_replaced`,
		`ALTER INDEX `+rebuilt+`_pkey RENAME TO `+live+`_pkey`)
	for _, i := range indexes {
		stmts = append(stmts, `ALTER INDEX `+i.name+`_rebuilt RENAME TO `+i.name)
	}
	for _, stmt := range stmts {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("swap: %s: %w", stmt, err)
		}
	}
	return nil
}

// scanPlanStreams reads every plan stream (in physical order, see
// eventstore.ScanStreams) into streams, closing it at the end, and counts
// the events on progress; it returns how many it read.
func scanPlanStreams(ctx context.Context, store *eventstore.Store, streams chan<- []eventstore.StreamEvent,
	progress *eventstore.Progress) (int64, error) {
	var events int64
	err := store.ScanStreams(ctx, eventstore.PlanStreamPrefix, func(evs []eventstore.StreamEvent) bool {
		events += int64(len(evs))
		progress.Add(int64(len(evs)))
		select {
		case streams <- evs:
			return true
		case <-ctx.Done():
			return false
		}
	})
	close(streams)
	return events, err
}
