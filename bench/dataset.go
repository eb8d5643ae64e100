package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"goodplan/domain"
	"goodplan/eventstore"
)

// Dataset layout: one plan in secondEvery also has an
// introduction_email.sent event (5% of the events for the default size).
const (
	secondEvery    = 19
	datasetChunk   = 10_000 // plans per COPY transaction
	datasetWorkers = 3
)

var (
	eventColumns  = []string{"stream_id", "version", "event_id", "type", "data", "metadata", "recorded_at", "hash"}
	streamColumns = []string{"stream_id", "version", "last_hash"}
)

// datasetSize splits events into plans with one event and plans with two.
func datasetSize(events int) (plans, second int) {
	plans = (events*secondEvery + secondEvery) / (secondEvery + 1)
	return plans, events - plans
}

// hasSecond reports whether plan n (0-based) gets the second event.
func hasSecond(n, second int) bool { return n%secondEvery == 0 && n/secondEvery < second }

// generateDataset fills a fresh database with events: realistic small
// plan.created events (a real domain CreatePlan, one monthly option of 3
// installments), distinct ids, valid per-stream hash chains and API-like
// metadata; some plans get an introduction_email.sent as version 2. It
// loads them with COPY from several goroutines: every version 1 first,
// then the versions 2, so global order is version order within a stream.
func generateDataset(ctx context.Context, pool *pgxpool.Pool, accountID int64, events int) error {
	return generateDatasetFrom(ctx, pool, accountID, events, time.Now().UTC().Add(-30*24*time.Hour))
}

// generateDatasetFrom is generateDataset with plan n created at t0 + n ms.
func generateDatasetFrom(ctx context.Context, pool *pgxpool.Pool, accountID int64, events int, t0 time.Time) error {
	plans, second := datasetSize(events)
	t0 = t0.UTC().Truncate(time.Microsecond)
	var (
		next   atomic.Int64
		mu     sync.Mutex
		later  [][]any // version-2 event rows
		errOne error
		wg     sync.WaitGroup
	)
	chunks := int64((plans + datasetChunk - 1) / datasetChunk)
	for range datasetWorkers {
		wg.Go(func() {
			for {
				c := next.Add(1) - 1
				if c >= chunks || ctx.Err() != nil {
					return
				}
				first := int(c) * datasetChunk
				last := min(first+datasetChunk, plans)
				evRows, stRows, v2, err := datasetChunkRows(first, last, second, accountID, t0)
				if err == nil {
					err = copyRows(ctx, pool, evRows, stRows)
				}
				mu.Lock()
				later = append(later, v2...)
				if err != nil && errOne == nil {
					errOne = err
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if errOne != nil {
		return errOne
	}
	if err := copyRows(ctx, pool, later, nil); err != nil {
		return err
	}
	_, err := pool.Exec(ctx, `VACUUM (ANALYZE) events, streams`)
	return err
}

func copyRows(ctx context.Context, pool *pgxpool.Pool, events, streams [][]any) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, eventColumns, pgx.CopyFromRows(events)); err != nil {
			return fmt.Errorf("copy events: %w", err)
		}
		if len(streams) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"streams"}, streamColumns, pgx.CopyFromRows(streams)); err != nil {
				return fmt.Errorf("copy streams: %w", err)
			}
		}
		return nil
	})
}

// datasetChunkRows builds plans [first, last): their version-1 event rows,
// their stream rows (at their final version) and their version-2 rows.
func datasetChunkRows(first, last, second int, accountID int64, t0 time.Time) (evRows, stRows, v2Rows [][]any, err error) {
	for n := first; n < last; n++ {
		base := int64(1000 + 4*n)
		ids := base
		nextID := func() int64 { ids++; return ids - 1 }
		at := t0.Add(time.Duration(n) * time.Millisecond)
		two := hasSecond(n, second)
		created, data, err := createPlanEvent(planSpec{n: int64(n), durations: []int{3}, sendIntro: two, now: at}, accountID, nextID)
		if err != nil {
			return nil, nil, nil, err
		}
		stream := eventstore.PlanStream(created.PlanID)
		id := uuid.Must(uuid.NewV7())
		meta := apiMetadata(accountID)
		hash := eventstore.ChainHash(nil, stream, 1, id, domain.EventPlanCreated, data, meta, at)
		evRows = append(evRows, []any{stream, int64(1), id, domain.EventPlanCreated, data, meta, at, hash})
		if !two {
			stRows = append(stRows, []any{stream, int64(1), hash})
			continue
		}
		sentAt := at.Add(time.Minute)
		var p domain.Plan
		p.ApplyAt(created, at)
		evs, err := p.RecordIntroductionEmailSent(fmt.Sprintf("<plan-%d.introduction@localhost>", created.PlanID),
			created.Customer.Email, sentAt)
		if err != nil || len(evs) != 1 {
			return nil, nil, nil, fmt.Errorf("record email sent for plan %d: %v", created.PlanID, err)
		}
		typ, data2, err := domain.MarshalEvent(evs[0])
		if err != nil {
			return nil, nil, nil, err
		}
		meta2, _ := json.Marshal(eventstore.Metadata{AccountID: accountID, Actor: "email-worker",
			CommandID: "introduction-email-sent:" + stream})
		id2 := uuid.Must(uuid.NewV7())
		hash2 := eventstore.ChainHash(hash, stream, 2, id2, typ, data2, meta2, sentAt)
		v2Rows = append(v2Rows, []any{stream, int64(2), id2, typ, data2, meta2, sentAt, hash2})
		stRows = append(stRows, []any{stream, int64(2), hash2})
	}
	return evRows, stRows, v2Rows, nil
}
