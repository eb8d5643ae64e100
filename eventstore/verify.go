package eventstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"

	"github.com/google/uuid"
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

// Error names the event (or stream) and what is wrong with it.
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
func (s *Events) Verify(ctx context.Context) (VerifyResult, error) {
	return s.VerifyProgress(ctx, nil)
}

// VerifyProgress is Verify counting the events it has read into progress
// (nil: no counting) as it goes.
func (s *Events) VerifyProgress(ctx context.Context, progress *Progress) (VerifyResult, error) {
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
		w := &chainWorker{in: make(chan *verifyBatch, 8), tips: newTipMap()}
		workers[i] = w
		wg.Go(w.run)
	}
	const batchSize = 256
	batches := make([]*verifyBatch, n)
	for i := range batches {
		batches[i] = &verifyBatch{}
	}
	send := func(i int) {
		if b := batches[i]; len(b.rows) > 0 {
			progress.Add(int64(len(b.rows)))
			workers[i].in <- b
			batches[i] = &verifyBatch{buf: make([]byte, 0, len(b.buf)), rows: make([]verifyRow, 0, batchSize)}
		}
	}
	readErr := func() error {
		rows, err := tx.Query(ctx, `SELECT `+verifyColumns+` FROM events ORDER BY global_position`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			// The columns' binary values are copied into the batch's one
			// buffer: no allocation per event.
			v := rows.RawValues()
			stream := v[1]
			i := int(streamHash(stream) % uint32(n))
			if err := batches[i].add(rows.FieldDescriptions(), v); err != nil {
				return err
			}
			res.Events++
			if len(batches[i].rows) == batchSize {
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

	progress.SetPhase("checking the stream heads")
	srows, err := tx.Query(ctx, `SELECT stream_id, version, last_hash FROM streams`)
	if err != nil {
		return res, fmt.Errorf("verify streams: %w", err)
	}
	defer srows.Close()
	for srows.Next() {
		// Binary values, read in place: no allocation per stream.
		v := srows.RawValues()
		fd := srows.FieldDescriptions()
		if len(v) != 3 || len(v[1]) != 8 || fd[1].Format != pgx.BinaryFormatCode || fd[2].Format != pgx.BinaryFormatCode {
			return res, fmt.Errorf("verify streams: malformed row")
		}
		id, version, hash := v[0], int64(binary.BigEndian.Uint64(v[1])), v[2]
		res.Streams++
		w := workers[streamHash(id)%uint32(n)]
		tip, ok := w.tips.get(id)
		if !ok || tip.version != version || !bytes.Equal(tip.hash[:], hash) {
			return res, &ChainError{StreamID: string(id), Reason: fmt.Sprintf("stream head (version %d) does not match its last event (version %d)", version, tip.version)}
		}
		w.tips.delete(id)
	}
	if err := srows.Err(); err != nil {
		return res, fmt.Errorf("verify streams: %w", err)
	}
	for _, w := range workers {
		if id, tip, ok := w.tips.any(); ok {
			return res, &ChainError{StreamID: id, Reason: fmt.Sprintf("events up to version %d have no stream head", tip.version)}
		}
	}
	return res, nil
}

// chainWorker checks the chains of the streams that hash to it, in the
// order their events arrive; it stops at its first bad event.
type chainWorker struct {
	in     chan *verifyBatch
	tips   *tipMap
	err    *ChainError
	hasher chainHasher
	sum    [HashSize]byte
}

func (w *chainWorker) run() {
	for batch := range w.in {
		if w.err != nil {
			continue // drain
		}
		for i := range batch.rows {
			r := &batch.rows[i]
			stream := batch.bytes(r.stream)
			tip, seen := w.tips.get(stream)
			bad := func(reason string) {
				w.err = &ChainError{Position: r.position, StreamID: string(stream), Version: r.version,
					EventID: uuid.UUID(r.eventID).String(), Reason: reason}
			}
			if r.version != tip.version+1 {
				bad(fmt.Sprintf("version %d follows version %d", r.version, tip.version))
				break
			}
			var prev []byte
			if seen {
				prev = tip.hash[:]
			}
			hash := batch.bytes(r.hash)
			got := chainSum(&w.hasher, w.sum[:0], prev, stream, r.version, r.eventID, batch.bytes(r.typ),
				batch.bytes(r.data), batch.bytes(r.meta), r.micros)
			if !bytes.Equal(got, hash) {
				bad("hash does not match the event's contents and the previous hash")
				break
			}
			tip.version = r.version
			copy(tip.hash[:], hash)
			w.tips.set(stream, tip)
		}
	}
}

// streamHash spreads streams over the workers (FNV-1a).
func streamHash(s []byte) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// tipMap holds the last verified event of every stream seen. Plan streams,
// nearly all of them, are keyed by their number: a map of integers to
// pointer-free values costs the garbage collector nothing to scan, where a
// million string keys were scanned on every cycle.
type tipMap struct {
	plans  map[int64]chainTip
	others map[string]chainTip
}

func newTipMap() *tipMap {
	return &tipMap{plans: make(map[int64]chainTip), others: make(map[string]chainTip)}
}

func (m *tipMap) get(stream []byte) (chainTip, bool) {
	if n, ok := planNumber(stream); ok {
		t, seen := m.plans[n]
		return t, seen
	}
	t, seen := m.others[string(stream)] // no copy for a lookup
	return t, seen
}

func (m *tipMap) set(stream []byte, t chainTip) {
	if n, ok := planNumber(stream); ok {
		m.plans[n] = t
		return
	}
	m.others[string(stream)] = t
}

func (m *tipMap) delete(stream []byte) {
	if n, ok := planNumber(stream); ok {
		delete(m.plans, n)
		return
	}
	delete(m.others, string(stream))
}

// any returns one stream still in the map.
func (m *tipMap) any() (string, chainTip, bool) {
	for n, t := range m.plans {
		return PlanStream(n), t, true
	}
	for id, t := range m.others {
		return id, t, true
	}
	return "", chainTip{}, false
}

// planNumber is PlanIDOf without allocating: the number of a stream id
// "plan-N" in canonical form (no sign, no leading zero, N > 0).
func planNumber[T string | []byte](stream T) (int64, bool) {
	const prefix = "plan-"
	if len(stream) <= len(prefix) || len(stream) > len(prefix)+18 || string(stream[:len(prefix)]) != prefix || stream[len(prefix)] == '0' {
		return 0, false
	}
	var n int64
	for i := len(prefix); i < len(stream); i++ {
		c := stream[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
