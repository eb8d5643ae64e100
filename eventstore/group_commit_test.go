package eventstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"goodplan/eventstore"
)

// TestBatchOutcomesArePerAppend runs one batch whose appends meet every
// outcome: each caller gets its own, and a replayed command id in the batch
// (which aborts the batch statement) fails only its own append.
func TestBatchOutcomesArePerAppend(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	meta := func(cmd string) eventstore.Metadata {
		return eventstore.Metadata{AccountID: 1, Actor: "test", CommandID: cmd}
	}
	first, err := s.Append(ctx, "plan-1", eventstore.Head{}, events(2, "t.a"), meta("used"))
	if err != nil {
		t.Fatal(err)
	}
	for _, withReplay := range []bool{false, true} {
		t.Run(fmt.Sprintf("replayed command %v", withReplay), func(t *testing.T) {
			suffix := fmt.Sprint(withReplay)
			batch := []eventstore.BatchAppend{
				{Stream: "plan-new-" + suffix, Events: events(3, "t.b"), Meta: meta("new-" + suffix)},
				{Stream: "plan-1", Expected: first[0].Head(), Events: events(1, "t.c"), Meta: meta("stale-" + suffix)}, // behind
				{Stream: "plan-1", Events: events(1, "t.c"), Meta: meta("exists-" + suffix)},                           // exists already
				{Stream: "plan-ok-" + suffix, Events: events(1, "t.d"), Meta: meta("")},
			}
			if withReplay {
				batch = append(batch, eventstore.BatchAppend{Stream: "plan-replay", Events: events(1, "t.e"), Meta: meta("used")})
			}
			recs, errs := eventstore.AppendBatch(ctx, s, batch)
			want := []error{nil, eventstore.ErrVersionConflict, eventstore.ErrVersionConflict, nil, eventstore.ErrDuplicateCommand}
			for i := range batch {
				if want[i] == nil && errs[i] != nil || want[i] != nil && !errors.Is(errs[i], want[i]) {
					t.Errorf("append %d (%s): got %v, want %v", i, batch[i].Stream, errs[i], want[i])
				}
				stored := count(t, pool, `SELECT count(*) FROM events WHERE event_id = ANY($1)`, eventIDs(batch[i].Events))
				if want[i] == nil {
					if stored != int64(len(batch[i].Events)) || len(recs[i]) != len(batch[i].Events) {
						t.Errorf("append %d: %d stored, %d records, want %d", i, stored, len(recs[i]), len(batch[i].Events))
					}
					checkRecords(t, pool, recs[i])
				} else if stored != 0 || recs[i] != nil {
					t.Errorf("append %d failed but stored %d events and returned %d records", i, stored, len(recs[i]))
				}
			}
			if c, err := s.LookupCommand(ctx, "new-"+suffix); err != nil || c.FirstVersion != 1 || c.LastVersion != 3 {
				t.Errorf("command of the new stream: %+v, %v", c, err)
			}
			if _, err := s.LookupCommand(ctx, "stale-"+suffix); !errors.Is(err, eventstore.ErrNotFound) {
				t.Errorf("the conflicting append recorded its command: %v", err)
			}
		})
	}
	batches, fallbacks := eventstore.GroupCommitStats(s)
	if batches < 1 || fallbacks < 1 {
		t.Errorf("%d batch statements and %d fallbacks, want at least 1 of each", batches, fallbacks)
	}
	if _, err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func eventIDs(evs []eventstore.NewEvent) []uuid.UUID {
	ids := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

// checkRecords holds what an append returned against the stored rows.
func checkRecords(t *testing.T, pool *pgxpool.Pool, recs []eventstore.Record) {
	t.Helper()
	for _, r := range recs {
		var (
			version, position int64
			txID              uint64
			hash              []byte
		)
		err := pool.QueryRow(context.Background(), `SELECT version, global_position, tx_id, hash FROM events WHERE event_id = $1`, r.EventID).
			Scan(&version, &position, &txID, &hash)
		if err != nil || version != r.Version || position != r.Position || txID != r.TxID || !bytes.Equal(hash, r.Hash) {
			t.Errorf("record %s version %d at %d/%d: stored version %d at %d/%d, %v", r.StreamID, r.Version, r.TxID, r.Position, version, txID, position, err)
		}
	}
}

// groupOp is one append of the property test and what its caller was told.
type groupOp struct {
	stream    string
	expected  eventstore.Head
	events    []eventstore.NewEvent
	commandID string
	replay    bool // reuses a command id that was stored before
	cancelled bool // the caller's context ends while it waits
	recs      []eventstore.Record
	err       error
}

// TestGroupCommitProperty: many goroutines append to a few streams at
// once, with stale heads (version conflicts), replayed command ids and
// callers that give up. Each caller must get exactly its own outcome: a
// success is stored as returned, a conflict or a replay stores nothing, a
// caller that gave up has all or none of its events; nothing else is
// stored, and every chain verifies.
func TestGroupCommitProperty(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	const (
		writers = 32
		rounds  = 40
		streams = 12
	)
	var (
		mu    sync.Mutex
		heads = map[string]eventstore.Head{} // last head a writer saw; may be stale
		used  []string                       // command ids stored
		ops   []*groupOp
		wg    sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 13))
			for i := range rounds {
				op := &groupOp{stream: fmt.Sprintf("plan-%d", 1+rng.IntN(streams)),
					events: events(1+rng.IntN(3), "t.p"), commandID: fmt.Sprintf("w%d-%d", w, i)}
				mu.Lock()
				op.expected = heads[op.stream]
				if len(used) > 0 && rng.IntN(10) == 0 {
					op.commandID, op.replay = used[rng.IntN(len(used))], true
				}
				mu.Unlock()
				if rng.IntN(2) == 0 {
					// A fresh head: most of these win.
					_, head, err := s.Load(ctx, op.stream)
					if err != nil {
						t.Error(err)
						return
					}
					op.expected = head
				}
				cctx, cancel := context.WithCancel(ctx)
				if rng.IntN(8) == 0 {
					op.cancelled = true
					go cancel()
				}
				meta := eventstore.Metadata{AccountID: 1, Actor: "test", CommandID: op.commandID}
				op.recs, op.err = s.Append(cctx, op.stream, op.expected, op.events, meta)
				cancel()
				mu.Lock()
				ops = append(ops, op)
				if op.err == nil {
					heads[op.stream] = op.recs[len(op.recs)-1].Head()
					used = append(used, op.commandID)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	type storedEvent struct {
		stream   string
		version  int64
		position int64
		txID     uint64
		hash     []byte
	}
	stored := map[uuid.UUID]storedEvent{}
	rows, err := pool.Query(ctx, `SELECT event_id, stream_id, version, global_position, tx_id, hash FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id uuid.UUID
		var e storedEvent
		if err := rows.Scan(&id, &e.stream, &e.version, &e.position, &e.txID, &e.hash); err != nil {
			t.Fatal(err)
		}
		stored[id] = e
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var wins, conflicts, replays, gaveUp int
	accounted := 0
	for _, op := range ops {
		n := 0
		for _, e := range op.events {
			if _, ok := stored[e.ID]; ok {
				n++
			}
		}
		switch {
		case op.err == nil:
			wins++
			if op.replay {
				t.Errorf("%s: replayed command id %s was stored again", op.stream, op.commandID)
			}
			if n != len(op.events) || len(op.recs) != len(op.events) {
				t.Fatalf("%s: success with %d of %d events stored, %d records", op.stream, n, len(op.events), len(op.recs))
			}
			for i, r := range op.recs {
				e := stored[r.EventID]
				if r.EventID != op.events[i].ID || e.stream != op.stream || e.version != op.expected.Version+int64(i)+1 ||
					e.position != r.Position || e.txID != r.TxID || !bytes.Equal(e.hash, r.Hash) {
					t.Fatalf("%s: record %d %+v, stored %+v", op.stream, i, r, e)
				}
			}
		case errors.Is(op.err, eventstore.ErrVersionConflict) || errors.Is(op.err, eventstore.ErrDuplicateCommand):
			if errors.Is(op.err, eventstore.ErrDuplicateCommand) {
				replays++
				if !op.replay {
					t.Errorf("%s: fresh command id %s refused as a duplicate", op.stream, op.commandID)
				}
			} else {
				conflicts++
			}
			if n != 0 {
				t.Fatalf("%s: %v, but %d events stored", op.stream, op.err, n)
			}
		case op.cancelled && errors.Is(op.err, context.Canceled):
			gaveUp++
			if n != 0 && n != len(op.events) {
				t.Fatalf("%s: gave up with %d of %d events stored", op.stream, n, len(op.events))
			}
		default:
			t.Fatalf("%s: unexpected outcome %v", op.stream, op.err)
		}
		accounted += n
	}
	if accounted != len(stored) {
		t.Fatalf("%d events stored, %d of them from an append", len(stored), accounted)
	}
	res, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	batches, fallbacks := eventstore.GroupCommitStats(s)
	t.Logf("%d appends: %d stored, %d conflicts, %d replays refused, %d gave up; %d events in %d streams; %d batch statements, %d fallbacks",
		len(ops), wins, conflicts, replays, gaveUp, res.Events, res.Streams, batches, fallbacks)
	if wins == 0 || conflicts == 0 || replays == 0 {
		t.Errorf("the run did not meet every outcome")
	}
	if batches == 0 {
		t.Errorf("no append was committed in a batch")
	}
}
