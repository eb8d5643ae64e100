package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"goodplan/domain"
	"goodplan/eventstore"
)

// rawAppendWorkers is how many concurrent writers the append baseline uses.
const rawAppendWorkers = 16

const (
	rawInsertStream = `INSERT INTO streams (stream_id, version, last_hash) VALUES ($1, 1, $2)`
	rawInsertEvent  = `INSERT INTO events (stream_id, version, event_id, type, data, metadata, recorded_at, hash)
		VALUES ($1, 1, $2, $3, $4, $5, $6, $7)`
)

// rawAppendResult is the append baseline: durable single-event appends of
// real plan.created rows by 16 writers, with plain INSERTs.
type rawAppendResult struct {
	load       loadResult
	eventBytes int
}

// rawAppend measures the append baseline on a fresh migrated database. Each
// append is one pgx.Batch (an INSERT into streams and one into events); pgx
// sends a batch as one pipeline ending in a single Sync, so PostgreSQL runs
// it as one implicit transaction: one round trip, one durable commit, as the
// store's own append. No CTE, no command row, no version guard.
func rawAppend(ctx context.Context, dbs *databases, s settings) (rawAppendResult, error) {
	dbURL, err := dbs.create(ctx, true)
	if err != nil {
		return rawAppendResult{}, err
	}
	var ids atomic.Int64
	ids.Store(1000)
	nextID := func() int64 { return ids.Add(1) }
	_, data, err := createPlanEvent(planSpec{n: 1, durations: []int{3, 6, 12}, now: time.Now()}, 1, nextID)
	if err != nil {
		return rawAppendResult{}, err
	}
	conns := make([]*pgx.Conn, rawAppendWorkers)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close(context.Background())
			}
		}
	}()
	for i := range conns {
		if conns[i], err = pgx.Connect(ctx, dbURL); err != nil {
			return rawAppendResult{}, fmt.Errorf("raw append: connect: %w", err)
		}
		var sc string
		if err := conns[i].QueryRow(ctx, `SHOW synchronous_commit`).Scan(&sc); err != nil {
			return rawAppendResult{}, err
		}
		if sc == "off" {
			return rawAppendResult{}, fmt.Errorf("raw append: synchronous_commit is off on the bench database; durable commits are required")
		}
	}
	var streams atomic.Int64
	append1 := func(ctx context.Context, c int) error {
		stream := eventstore.PlanStream(streams.Add(1))
		id := uuid.Must(uuid.NewV7())
		meta := apiMetadata(1)
		at := time.Now().UTC().Truncate(time.Microsecond)
		hash := eventstore.ChainHash(nil, stream, 1, id, domain.EventPlanCreated, data, meta, at)
		b := &pgx.Batch{}
		b.Queue(rawInsertStream, stream, hash)
		b.Queue(rawInsertEvent, stream, id, domain.EventPlanCreated, data, meta, at, hash)
		return conns[c].SendBatch(ctx, b).Close()
	}
	res := runLoad(ctx, loadSpec{Clients: rawAppendWorkers, Warmup: s.warmup, Duration: s.duration}, append1)
	if res.OK == 0 {
		return rawAppendResult{}, fmt.Errorf("raw append: no append succeeded: %v", res.ErrSamples)
	}
	return rawAppendResult{load: res, eventBytes: len(data)}, ctx.Err()
}

// rawScan reads every row and every column of events into Go values, as
// the store's own readers scan a record, and returns events per second.
func rawScan(ctx context.Context, dbURL string) (int64, time.Duration, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, 0, fmt.Errorf("raw scan: connect: %w", err)
	}
	defer conn.Close(context.Background())
	start := time.Now()
	rows, err := conn.Query(ctx, `SELECT * FROM events`)
	if err != nil {
		return 0, 0, fmt.Errorf("raw scan: %w", err)
	}
	defer rows.Close()
	var (
		n          int64
		position   int64
		txID       uint64
		streamID   string
		version    int64
		eventID    uuid.UUID
		typ        string
		data, meta []byte
		recordedAt time.Time
		hash       []byte
	)
	for rows.Next() {
		if err := rows.Scan(&position, &txID, &streamID, &version, &eventID, &typ, &data, &meta, &recordedAt, &hash); err != nil {
			return 0, 0, fmt.Errorf("raw scan: %w", err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("raw scan: %w", err)
	}
	return n, time.Since(start), nil
}

// baselineAppend is step 1a: the append baseline row.
func (r *runner) baselineAppend(ctx context.Context) error {
	progress("baseline: raw pgx appends, %d writers, %s after %s warm-up", rawAppendWorkers, r.s.duration, r.s.warmup)
	res, err := rawAppend(ctx, r.dbs, r.s)
	if err != nil {
		return err
	}
	r.rawAppendRate = res.load.Rate()
	p50, p99 := res.load.Lat.p50p99()
	row := Row{Group: "baseline", Name: "raw append (16 writers, durable)", Value: r.rawAppendRate, Unit: "appends/s",
		P50Ms: p50, P99Ms: p99, Errors: res.load.Errors,
		Note: fmt.Sprintf("plain INSERT streams + events in one pgx.Batch (one implicit transaction, one round trip), "+
			"a %d-byte plan.created with 3 monthly options, synchronous_commit=%s", res.eventBytes, r.rep.Machine.SynchronousCommit)}
	row.Note = joinNotes(row.Note, describeErrors(res.load))
	r.add(row)
	return nil
}
