package eventstore

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/jackc/pgx/v5"
)

// ChainError names the first event whose hash chain does not hold.
type ChainError struct {
	Position int64
	StreamID string
	Version  int64
	EventID  string
	Reason   string
}

func (e *ChainError) Error() string {
	if e.Position == 0 {
		return fmt.Sprintf("stream %s: %s", e.StreamID, e.Reason)
	}
	return fmt.Sprintf("event %s (stream %s, version %d, position %d): %s", e.EventID, e.StreamID, e.Version, e.Position, e.Reason)
}

// VerifyResult counts what Verify checked.
type VerifyResult struct {
	Events  int64
	Streams int64
}

type chainTip struct {
	version int64
	hash    [HashSize]byte
}

// Verify walks every event in one sequential scan, recomputes each hash from
// its stream's previous one, checks versions are contiguous from 1, and checks
// every stream row against the last event of its chain, all in one snapshot.
// It returns a *ChainError naming the first bad event (in the global order),
// or nil with the counts.
//
// One goroutine reads; the hashing is spread over a worker per CPU, each
// owning the streams that hash to it, so each stream is still checked in
// order.
func (s *Store) Verify(ctx context.Context) (VerifyResult, error) {
	var res VerifyResult
	// One snapshot for both reads: an append between them would otherwise
	// look like a stream head ahead of its chain.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	defer tx.Rollback(ctx)

	n := runtime.GOMAXPROCS(0)
	workers := make([]*chainWorker, n)
	var wg sync.WaitGroup
	for i := range workers {
		w := &chainWorker{in: make(chan []Record, 8), tips: make(map[string]chainTip)}
		workers[i] = w
		wg.Go(w.run)
	}
	const batchSize = 256
	batches := make([][]Record, n)
	send := func(i int) {
		if len(batches[i]) > 0 {
			workers[i].in <- batches[i]
			batches[i] = make([]Record, 0, batchSize)
		}
	}
	readErr := func() error {
		rows, err := tx.Query(ctx, `SELECT `+recordColumns+` FROM events ORDER BY global_position`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r Record
			if err := scanRecord(rows, &r); err != nil {
				return err
			}
			res.Events++
			i := int(streamHash(r.StreamID) % uint32(n))
			batches[i] = append(batches[i], r)
			if len(batches[i]) == batchSize {
				send(i)
			}
		}
		return rows.Err()
	}()
	for i := range workers {
		send(i)
		close(workers[i].in)
	}
	wg.Wait()
	if readErr != nil {
		return res, fmt.Errorf("verify: %w", readErr)
	}
	var first *ChainError
	for _, w := range workers {
		if w.err != nil && (first == nil || w.err.Position < first.Position) {
			first = w.err
		}
	}
	if first != nil {
		return res, first
	}

	srows, err := tx.Query(ctx, `SELECT stream_id, version, last_hash FROM streams`)
	if err != nil {
		return res, fmt.Errorf("verify streams: %w", err)
	}
	defer srows.Close()
	var id string
	var version int64
	var hash []byte
	for srows.Next() {
		if err := srows.Scan(&id, &version, &hash); err != nil {
			return res, fmt.Errorf("verify streams: %w", err)
		}
		res.Streams++
		w := workers[streamHash(id)%uint32(n)]
		tip, ok := w.tips[id]
		if !ok || tip.version != version || !bytes.Equal(tip.hash[:], hash) {
			return res, &ChainError{StreamID: id, Reason: fmt.Sprintf("stream head (version %d) does not match its last event (version %d)", version, tip.version)}
		}
		delete(w.tips, id)
	}
	if err := srows.Err(); err != nil {
		return res, fmt.Errorf("verify streams: %w", err)
	}
	for _, w := range workers {
		for id, tip := range w.tips {
			return res, &ChainError{StreamID: id, Reason: fmt.Sprintf("events up to version %d have no stream head", tip.version)}
		}
	}
	return res, nil
}

// chainWorker checks the chains of the streams that hash to it, in the
// order their events arrive; it stops at its first bad event.
type chainWorker struct {
	in     chan []Record
	tips   map[string]chainTip
	err    *ChainError
	hasher chainHasher
	sum    [HashSize]byte
}

func (w *chainWorker) run() {
	for batch := range w.in {
		if w.err != nil {
			continue // drain
		}
		for i := range batch {
			r := &batch[i]
			tip, seen := w.tips[r.StreamID]
			bad := func(reason string) {
				w.err = &ChainError{Position: r.Position, StreamID: r.StreamID, Version: r.Version, EventID: r.EventID.String(), Reason: reason}
			}
			if r.Version != tip.version+1 {
				bad(fmt.Sprintf("version %d follows version %d", r.Version, tip.version))
				break
			}
			var prev []byte
			if seen {
				prev = tip.hash[:]
			}
			got := w.hasher.sum(w.sum[:0], prev, r.StreamID, r.Version, r.EventID, r.Type, r.Data, r.Metadata, r.RecordedAt)
			if !bytes.Equal(got, r.Hash) {
				bad("hash does not match the event's contents and the previous hash")
				break
			}
			tip.version = r.Version
			copy(tip.hash[:], r.Hash)
			w.tips[r.StreamID] = tip
		}
	}
}

// streamHash spreads streams over the workers (FNV-1a).
func streamHash(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
