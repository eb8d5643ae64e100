package workers_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/workers"
)

// externalNATS is the machine's NATS with JetStream, used by the tests that
// run against an external server (NATS_URL in production).
func externalNATS() string {
	if u := os.Getenv("TEST_NATS_URL"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// relayBus opens a bus for a test: embedded in a temp dir, or on the
// external server with a prefix (so a stream) of its own, deleted at the end.
func relayBus(t *testing.T, external bool) *workers.Bus {
	t.Helper()
	cfg := workers.BusConfig{DataDir: t.TempDir()}
	if external {
		var b [4]byte
		_, _ = rand.Read(b[:])
		cfg.URL = externalNATS()
		cfg.Prefix = "gptest" + hex.EncodeToString(b[:])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bus, err := workers.OpenBus(ctx, cfg)
	if err != nil {
		t.Fatalf("NATS is required for this test (external=%v, %s): %v", external, cfg.URL, err)
	}
	t.Cleanup(func() {
		if external {
			_ = bus.JS.DeleteStream(context.Background(), bus.Stream)
		}
		bus.Close()
	})
	return bus
}

// runRelay runs r until the test ends (or stop is called).
func runRelay(t *testing.T, r *workers.Relay) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// streamMessages reads every message of the bus's stream in stream order.
func streamMessages(t *testing.T, bus *workers.Bus, want int) []jetstream.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cons, err := bus.JS.OrderedConsumer(ctx, bus.Stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out []jetstream.Msg
	for len(out) < want {
		batch, err := cons.Fetch(want-len(out), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			out = append(out, m)
			n++
		}
		if n == 0 && ctx.Err() != nil {
			break
		}
		if n == 0 {
			select {
			case <-ctx.Done():
				t.Fatalf("stream has %d messages, want %d", len(out), want)
			default:
			}
		}
	}
	return out
}

func appendPlans(t *testing.T, store *eventstore.Store, writers, each int) []eventstore.Record {
	t.Helper()
	var mu sync.Mutex
	var all []eventstore.Record
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				ev := []eventstore.NewEvent{{ID: uuid.New(), Type: "plan.created", Data: fmt.Appendf(nil, `{"w":%d,"i":%d}`, w, i)}}
				recs, err := store.Append(context.Background(), "test-"+uuid.NewString(), eventstore.Head{}, ev, eventstore.Metadata{AccountID: int64(1 + w%3)})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				all = append(all, recs...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return all
}

func TestRelayPublishesEveryEventOnceInOrder(t *testing.T) {
	t.Parallel()
	for _, external := range []bool{false, true} {
		t.Run(fmt.Sprintf("external=%v", external), func(t *testing.T) {
			t.Parallel()
			store := eventstore.New(pgtest.NewPool(t))
			bus := relayBus(t, external)
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			go store.RunNotifier(ctx)
			runRelay(t, &workers.Relay{Store: store, Bus: bus, Poll: 50 * time.Millisecond})

			recs := appendPlans(t, store, 8, 25)
			msgs := streamMessages(t, bus, len(recs))
			if len(msgs) != len(recs) {
				t.Fatalf("%d messages for %d events", len(msgs), len(recs))
			}
			seen := make(map[string]bool)
			var prevTx uint64
			var prevPos int64
			for _, m := range msgs {
				id := m.Headers().Get(jetstream.MsgIDHeader)
				if seen[id] {
					t.Fatalf("event %s published twice", id)
				}
				seen[id] = true
				rec, err := workers.DecodeRecord(m.Data())
				if err != nil || rec.EventID.String() != id {
					t.Fatalf("message %s: %v (body event %s)", id, err, rec.EventID)
				}
				tx, _ := strconv.ParseUint(m.Headers().Get(workers.HeaderTxID), 10, 64)
				pos, _ := strconv.ParseInt(m.Headers().Get(workers.HeaderPosition), 10, 64)
				if tx < prevTx || (tx == prevTx && pos <= prevPos) {
					t.Fatalf("out of order: %d/%d after %d/%d", tx, pos, prevTx, prevPos)
				}
				prevTx, prevPos = tx, pos
				acct, _ := workers.AccountOf(rec)
				if want := bus.Subject(acct, "plan.created"); m.Subject() != want {
					t.Fatalf("subject %s, want %s", m.Subject(), want)
				}
			}
			for _, r := range recs {
				if !seen[r.EventID.String()] {
					t.Fatalf("event %s never published", r.EventID)
				}
			}
		})
	}
}

// TestRelayFailoverAndResume: a standby takes over when the leader stops, and
// a relay that restarts without its checkpoint republishes nothing and skips
// nothing.
func TestRelayFailoverAndResume(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	store := eventstore.New(pool)
	bus := relayBus(t, false)

	var mu sync.Mutex
	published := map[string]int{} // relay name -> events it published
	counter := func(name string) func([]eventstore.Record) {
		return func(recs []eventstore.Record) { mu.Lock(); published[name] += len(recs); mu.Unlock() }
	}
	count := func(name string) int { mu.Lock(); defer mu.Unlock(); return published[name] }
	// waitCount waits until f() reaches want (Published runs after the
	// PubAcks, a moment after the stream has the messages) and returns it.
	waitCount := func(what string, f func() int, want int) int {
		pgtest.WaitForNil(t, 20*time.Second, what, func() error {
			if n := f(); n < want {
				return fmt.Errorf("%d of %d", n, want)
			}
			return nil
		})
		return f()
	}
	stops := map[string]func(){
		"a": runRelay(t, &workers.Relay{Store: store, Bus: bus, Poll: 20 * time.Millisecond, Published: counter("a")}),
		"b": runRelay(t, &workers.Relay{Store: store, Bus: bus, Poll: 20 * time.Millisecond, Published: counter("b")}),
	}
	first := appendPlans(t, store, 4, 10)
	streamMessages(t, bus, len(first))
	waitCount("the first events to be published", func() int { return count("a") + count("b") }, len(first))

	// Stop whichever relay is the leader; the standby takes over.
	leader, standby := "a", "b"
	if count("b") > count("a") {
		leader, standby = "b", "a"
	}
	stops[leader]()
	before := count(standby)
	second := appendPlans(t, store, 4, 10)
	streamMessages(t, bus, len(first)+len(second))
	// If the leader was stopped between its PubAcks and its checkpoint, the
	// standby re-publishes that batch (deduplicated by Nats-Msg-Id): more
	// than len(second) is allowed, fewer is not.
	if got := waitCount("the standby to publish", func() int { return count(standby) - before }, len(second)); got < len(second) {
		t.Fatalf("the standby published %d of the %d events after the leader stopped", got, len(second))
	}
	if info, err := bus.JS.Stream(context.Background(), bus.Stream); err != nil || info.CachedInfo().State.Msgs != uint64(len(first)+len(second)) {
		t.Fatalf("stream holds %v messages (%v), want %d", info.CachedInfo().State.Msgs, err, len(first)+len(second))
	}

	// Lose the checkpoint (a crash right after the PubAcks): a relay
	// resumes from the stream's last message and republishes nothing.
	stops[standby]()
	if _, err := pool.Exec(context.Background(), `DELETE FROM relay_checkpoints`); err != nil {
		t.Fatal(err)
	}
	third := appendPlans(t, store, 2, 5)
	runRelay(t, &workers.Relay{Store: store, Bus: bus, Poll: 20 * time.Millisecond, Published: counter("c")})
	total := len(first) + len(second) + len(third)
	streamMessages(t, bus, total)
	if got := waitCount("the events after the lost checkpoint to be published", func() int { return count("c") }, len(third)); got != len(third) {
		t.Fatalf("after losing the checkpoint %d events were published, want %d", got, len(third))
	}
	// A republish of older events would come in order, before anything
	// appended now: once this marker is published, nothing else may have been.
	marker := appendPlans(t, store, 1, 1)
	total += len(marker)
	streamMessages(t, bus, total)
	waitCount("the marker to be published", func() int { return count("c") }, len(third)+len(marker))
	if got := count("c"); got != len(third)+len(marker) {
		t.Fatalf("after losing the checkpoint %d events were published, want %d and the marker", got-len(marker), len(third))
	}
	info, err := bus.JS.Stream(context.Background(), bus.Stream)
	if err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().State.Msgs; n != uint64(total) {
		t.Fatalf("stream holds %d messages, want %d", n, total)
	}
}

// publishRaw puts rec on the stream as the relay would, without the relay.
func publishRaw(t *testing.T, bus *workers.Bus, rec eventstore.Record, txID uint64, pos int64) {
	t.Helper()
	body, err := workers.EncodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	msg := nats.NewMsg(bus.Subject(1, rec.Type))
	msg.Data = body
	msg.Header.Set(jetstream.MsgIDHeader, rec.EventID.String())
	msg.Header.Set(workers.HeaderTxID, strconv.FormatUint(txID, 10))
	msg.Header.Set(workers.HeaderPosition, strconv.FormatInt(pos, 10))
	if _, err := bus.JS.PublishMsg(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
}

// TestRelayIgnoresAForeignTail: a last message that is not an event of this
// database (a restored backup, a shared NATS) must not make the relay skip
// the store's events.
func TestRelayIgnoresAForeignTail(t *testing.T) {
	t.Parallel()
	store := eventstore.New(pgtest.NewPool(t))
	bus := relayBus(t, false)
	recs := appendPlans(t, store, 2, 5)
	foreign := eventstore.Record{EventID: uuid.New(), StreamID: "plan-x", Version: 1, Type: "plan.created",
		Data: []byte(`{}`), Metadata: []byte(`{"account_id":1}`)}
	publishRaw(t, bus, foreign, 50_000_000, 1<<40)
	runRelay(t, &workers.Relay{Store: store, Bus: bus, Poll: 20 * time.Millisecond})
	msgs := streamMessages(t, bus, len(recs)+1)
	if len(msgs) != len(recs)+1 {
		t.Fatalf("%d messages, want the foreign one and %d events", len(msgs), len(recs))
	}
}

// TestRelayResumesFromCheckpointAfterACutBatch: the relay died with a batch
// out: a later event of it reached the stream, an earlier one did not. The
// next relay must not trust the stream's tail and publish the missing one.
func TestRelayResumesFromCheckpointAfterACutBatch(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	store := eventstore.New(pool)
	bus := relayBus(t, false)
	recs := appendPlans(t, store, 1, 3) // one writer: commit order = slice order
	last := recs[len(recs)-1]
	publishRaw(t, bus, last, last.TxID, last.Position) // only the batch's last message got through
	if _, err := pool.Exec(context.Background(),
		`INSERT INTO relay_checkpoints (name, tx_id, position, publishing) VALUES ('relay', '0', 0, true)`); err != nil {
		t.Fatal(err)
	}
	runRelay(t, &workers.Relay{Store: store, Bus: bus, Poll: 20 * time.Millisecond})
	msgs := streamMessages(t, bus, len(recs))
	seen := map[string]bool{}
	for _, m := range msgs {
		seen[m.Headers().Get(jetstream.MsgIDHeader)] = true
	}
	for _, r := range recs {
		if !seen[r.EventID.String()] {
			t.Fatalf("event %s was skipped", r.EventID)
		}
	}
}
