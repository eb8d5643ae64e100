package eventstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

func newStore(t *testing.T) (*eventstore.Store, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.NewPool(t)
	return eventstore.New(pool), pool
}

func events(n int, typ string) []eventstore.NewEvent {
	out := make([]eventstore.NewEvent, n)
	for i := range out {
		out[i] = eventstore.NewEvent{ID: uuid.New(), Type: typ, Data: []byte(fmt.Sprintf(`{"n":%d}`, i))}
	}
	return out
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestAppendAndLoad(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	meta := eventstore.Metadata{AccountID: 7, Actor: "test"}
	first, err := s.Append(ctx, "plan-1", eventstore.Head{}, events(2, "t.a"), meta)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Append(ctx, "plan-1", first[1].Head(), events(3, "t.b"), meta)
	if err != nil {
		t.Fatal(err)
	}
	recs, head, err := s.Load(ctx, "plan-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 || head.Version != 5 || !bytes.Equal(head.Hash, second[2].Hash) {
		t.Fatalf("loaded %d records, head %+v", len(recs), head)
	}
	var prev []byte
	for i, r := range recs {
		if r.Version != int64(i+1) {
			t.Errorf("record %d has version %d", i, r.Version)
		}
		want := eventstore.ChainHash(prev, r.StreamID, r.Version, r.EventID, r.Type, r.Data, r.Metadata, r.RecordedAt)
		if !bytes.Equal(want, r.Hash) {
			t.Errorf("record %d: stored hash does not chain", i)
		}
		prev = r.Hash
		if i < 2 && (r.Position != first[i].Position || r.TxID != first[i].TxID) {
			t.Errorf("record %d: position/tx %d/%d, append returned %d/%d", i, r.Position, r.TxID, first[i].Position, first[i].TxID)
		}
	}
	if recs, head, err := s.Load(ctx, "plan-missing"); err != nil || len(recs) != 0 || head.Version != 0 {
		t.Fatalf("missing stream: %d records, %+v, %v", len(recs), head, err)
	}
	if _, err := s.Append(ctx, "plan-2", eventstore.Head{}, nil, meta); !errors.Is(err, eventstore.ErrNoEvents) {
		t.Fatalf("empty append: %v", err)
	}
}

func TestVersionConflictWritesNothing(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	meta := eventstore.Metadata{AccountID: 1}
	recs, err := s.Append(ctx, "plan-1", eventstore.Head{}, events(1, "t"), meta)
	if err != nil {
		t.Fatal(err)
	}
	head := recs[0].Head()
	cases := []struct {
		name   string
		stream string
		head   eventstore.Head
	}{
		{"new stream that exists", "plan-1", eventstore.Head{}},
		{"stale version", "plan-1", eventstore.Head{Version: 0, Hash: head.Hash}},
		{"future version", "plan-1", eventstore.Head{Version: 2, Hash: head.Hash}},
		{"right version wrong hash", "plan-1", eventstore.Head{Version: 1, Hash: make([]byte, 32)}},
		{"existing version of missing stream", "plan-2", eventstore.Head{Version: 1, Hash: head.Hash}},
	}
	for _, c := range cases {
		_, err := s.Append(ctx, c.stream, c.head, events(2, "t"), meta)
		if !errors.Is(err, eventstore.ErrVersionConflict) {
			t.Errorf("%s: got %v, want ErrVersionConflict", c.name, err)
		}
	}
	// A caller-chosen command id that loses the race is not recorded either,
	// so its retry is not mistaken for a replay.
	if _, err := s.Append(ctx, "plan-1", eventstore.Head{}, events(1, "t"), eventstore.Metadata{CommandID: "c-1"}); !errors.Is(err, eventstore.ErrVersionConflict) {
		t.Fatalf("conflicting command: %v", err)
	}
	if _, err := s.Append(ctx, "plan-1", head, events(1, "t"), eventstore.Metadata{CommandID: "c-1"}); err != nil {
		t.Fatalf("retry of the conflicting command: %v", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM events`); n != 2 {
		t.Fatalf("%d events stored after conflicts and one retry, want 2", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM commands`); n != 1 {
		t.Fatalf("%d commands stored, want 1 (only the caller-chosen one that landed)", n)
	}
	if n := count(t, pool, `SELECT version FROM streams WHERE stream_id = 'plan-1'`); n != 2 {
		t.Fatalf("stream at version %d, want 2", n)
	}
}

func TestConcurrentAppendersOneWins(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	const rounds, writers = 50, 8
	for round := range rounds {
		stream := fmt.Sprintf("plan-%d", round)
		var head eventstore.Head
		if round%2 == 1 { // odd rounds race on an existing stream, even ones on a new one
			recs, err := s.Append(ctx, stream, eventstore.Head{}, events(1, "t"), eventstore.Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			head = recs[0].Head()
		}
		var wg sync.WaitGroup
		results := make([]error, writers)
		for w := range writers {
			wg.Go(func() {
				_, results[w] = s.Append(ctx, stream, head, events(2, "t"), eventstore.Metadata{})
			})
		}
		wg.Wait()
		wins := 0
		for _, err := range results {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, eventstore.ErrVersionConflict):
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d appenders won, want exactly 1", round, wins)
		}
		if n := count(t, pool, `SELECT count(*) FROM events WHERE stream_id = $1`, stream); n != head.Version+2 {
			t.Fatalf("round %d: %d events in stream, want %d", round, n, head.Version+2)
		}
	}
}

func TestReplayedCommandReturnsFirstResult(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	meta := eventstore.Metadata{AccountID: 1, CommandID: "acct-1:key-abc"}
	hash := []byte("request-1")
	if _, err := s.Append(ctx, "plan-1", eventstore.Head{}, events(2, "t"), meta, eventstore.WithRequestHash(hash)); err != nil {
		t.Fatal(err)
	}
	// The replay decided on other ids (another stream) and must not land.
	_, err := s.Append(ctx, "plan-2", eventstore.Head{}, events(2, "t"), meta, eventstore.WithRequestHash([]byte("request-2")))
	if !errors.Is(err, eventstore.ErrDuplicateCommand) {
		t.Fatalf("replay: got %v, want ErrDuplicateCommand", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM streams WHERE stream_id = 'plan-2'`); n != 0 {
		t.Fatalf("replayed command created its stream")
	}
	c, err := s.LookupCommand(ctx, meta.CommandID)
	if err != nil {
		t.Fatal(err)
	}
	if c.StreamID != "plan-1" || c.FirstVersion != 1 || c.LastVersion != 2 || !bytes.Equal(c.RequestHash, hash) {
		t.Fatalf("first result %+v", c)
	}
	if _, err := s.LookupCommand(ctx, "nope"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("unknown command: %v", err)
	}
}

func TestPlanQuota(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	limit := int64(3)
	acct, err := s.CreateAccount(ctx, eventstore.NewAccount{Name: "Limited", PlanLimit: &limit, RateLimitPerMinute: 60, RateLimitBurst: 10})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.Append(ctx, fmt.Sprintf("plan-%d", i), eventstore.Head{}, events(1, "t"), eventstore.Metadata{AccountID: acct.ID}, eventstore.WithPlanQuota(acct.ID))
		})
	}
	wg.Wait()
	ok, limited := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, eventstore.ErrPlanLimitReached):
			limited++
		default:
			t.Fatalf("unexpected: %v", err)
		}
	}
	if ok != 3 || limited != 7 {
		t.Fatalf("%d created, %d refused; want 3 and 7", ok, limited)
	}
	if n := count(t, pool, `SELECT count(*) FROM streams`); n != 3 {
		t.Fatalf("%d streams, want 3", n)
	}
}

func TestEventsAreImmutable(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	if _, err := s.Append(ctx, "plan-1", eventstore.Head{}, events(1, "t"), eventstore.Metadata{}); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`UPDATE events SET type = 'x'`,
		`DELETE FROM events`,
		`TRUNCATE events`,
	} {
		if _, err := pool.Exec(ctx, sql); err == nil {
			t.Errorf("%s succeeded", sql)
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM events WHERE type = 't'`); n != 1 {
		t.Fatalf("event changed")
	}
}

// tamper runs sql with triggers off, as an attacker with superuser access could.
func tamper(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, `SET session_replication_role = origin`)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("tamper %s: %v", sql, err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		sql  string
		want string // the bad event's version, or "" for a stream-level finding
	}{
		{"one byte of data", `UPDATE events SET data = overlay(data placing '\x7b'::bytea from 2 for 1) WHERE stream_id = 'plan-b' AND version = 2`, "2"},
		{"metadata", `UPDATE events SET metadata = convert_to('{"account_id":2}', 'UTF8') WHERE stream_id = 'plan-b' AND version = 3`, "3"},
		{"recorded_at", `UPDATE events SET recorded_at = recorded_at + interval '1 microsecond' WHERE stream_id = 'plan-b' AND version = 1`, "1"},
		{"type", `UPDATE events SET type = 'plan.cancelled' WHERE stream_id = 'plan-b' AND version = 2`, "2"},
		{"deleted middle event", `DELETE FROM events WHERE stream_id = 'plan-b' AND version = 2`, "3"},
		{"deleted last event", `DELETE FROM events WHERE stream_id = 'plan-b' AND version = 4`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, pool := newStore(t)
			ctx := context.Background()
			for _, stream := range []string{"plan-a", "plan-b", "plan-c"} {
				var head eventstore.Head
				for range 2 {
					recs, err := s.Append(ctx, stream, head, events(2, "t"), eventstore.Metadata{AccountID: 1})
					if err != nil {
						t.Fatal(err)
					}
					head = recs[len(recs)-1].Head()
				}
			}
			res, err := s.Verify(ctx)
			if err != nil || res.Events != 12 || res.Streams != 3 {
				t.Fatalf("untouched store: %+v, %v", res, err)
			}
			tamper(t, pool, c.sql)
			_, err = s.Verify(ctx)
			var ce *eventstore.ChainError
			if !errors.As(err, &ce) {
				t.Fatalf("verify after tampering: %v, want a ChainError", err)
			}
			if ce.StreamID != "plan-b" || (c.want != "" && fmt.Sprint(ce.Version) != c.want) {
				t.Fatalf("verify named %v, want plan-b version %s", ce, c.want)
			}
		})
	}
}

func TestNextIDUnique(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	a, b := eventstore.New(pool), eventstore.New(pool) // two processes' allocators
	seen := make(map[int64]bool)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, s := range []*eventstore.Store{a, b, a, b} {
		wg.Go(func() {
			for range 250 {
				id, err := s.NextID(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[id] {
					t.Errorf("id %d handed out twice", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 1000 {
		t.Fatalf("%d distinct ids, want 1000", len(seen))
	}
}

// TestVerifyWhileAppending: verify on a live database never mistakes an
// append that lands during the check for corruption.
func TestVerifyWhileAppending(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			head := eventstore.Head{}
			stream := fmt.Sprintf("plan-%d", w)
			for ctx.Err() == nil {
				recs, err := s.Append(ctx, stream, head, events(1, "t"), eventstore.Metadata{})
				if err != nil {
					if ctx.Err() == nil {
						t.Error(err)
					}
					return
				}
				head = recs[0].Head()
			}
		})
	}
	for range 30 {
		if _, err := s.Verify(context.Background()); err != nil {
			cancel()
			wg.Wait()
			t.Fatalf("verify on a healthy, busy store: %v", err)
		}
	}
	cancel()
	wg.Wait()
}

func TestPlanNumberMatchesPlanIDOf(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"plan-1", "plan-42", "plan-0", "plan-01", "plan-", "plan--1", "plan-+1", "plan-1a", "plan-999999999999999999",
		"plan-9223372036854775807", "plan-9999999999999999999", "Plan-1", "x-1", "plan-1 ", ""} {
		n, ok := eventstore.PlanNumber(s)
		id, want := eventstore.PlanIDOf(s)
		if ok && (!want || n != id) {
			t.Errorf("planNumber(%q) = %d, %v; PlanIDOf = %d, %v", s, n, ok, id, want)
		}
		if want && !ok && len(s) <= len("plan-")+18 {
			t.Errorf("planNumber(%q) refused a plan stream", s)
		}
	}
}
