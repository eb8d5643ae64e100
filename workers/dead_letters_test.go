package workers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

// countingHandler counts Handle calls per event and fails the events in
// fail (with a plain or a permanent error) while they are listed.
type countingHandler struct {
	mu      sync.Mutex
	calls   map[uuid.UUID]int
	handled map[uuid.UUID]bool
	fail    map[uuid.UUID]error
}

func newCountingHandler() *countingHandler {
	return &countingHandler{calls: map[uuid.UUID]int{}, handled: map[uuid.UUID]bool{}, fail: map[uuid.UUID]error{}}
}

func (h *countingHandler) Handle(_ context.Context, rec eventstore.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls[rec.EventID]++
	if err := h.fail[rec.EventID]; err != nil {
		return err
	}
	h.handled[rec.EventID] = true
	return nil
}

func (h *countingHandler) setFail(id uuid.UUID, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		delete(h.fail, id)
	} else {
		h.fail[id] = err
	}
}

func (h *countingHandler) state(id uuid.UUID) (calls int, handled bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[id], h.handled[id]
}

func (h *countingHandler) handledAll(recs []eventstore.Record) (int, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range recs {
		if h.handled[r.EventID] {
			n++
		}
	}
	return n, n == len(recs)
}

// runConsumer runs c until the test ends.
func runConsumer(t *testing.T, c *workers.Consumer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// TestConsumerDeadLetters: an event that keeps failing is set aside after
// DeadLetterAfter deliveries (a permanent failure at once), every other
// event, before and after it, is handled, and a retry once the handler is
// fixed processes it and resolves the dead letter.
func TestConsumerDeadLetters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := eventstore.New(pgtest.NewPool(t))
	bus := relayBus(t, false)
	runRelay(t, &workers.Relay{Store: store, Bus: bus, Poll: 20 * time.Millisecond})

	recs := appendPlans(t, store, 3, 6)
	poison, fatal := recs[4], recs[9]
	h := newCountingHandler()
	h.setFail(poison.EventID, errors.New("cannot project this one"))
	h.setFail(fatal.EventID, workers.Permanent(errors.New("never")))
	const durable = "test-dead-letters"
	runConsumer(t, &workers.Consumer{Bus: bus, Durable: durable, Store: store, DeadLetterAfter: 3,
		RetryDelay: func(int) time.Duration { return 20 * time.Millisecond },
		Handle:     h.Handle,
		// Like the projection: the whole batch fails with its poison.
		BatchHandle: func(ctx context.Context, rs []eventstore.Record) error {
			for _, r := range rs {
				if r.EventID == poison.EventID || r.EventID == fatal.EventID {
					return errors.New("batch has a bad event")
				}
			}
			for _, r := range rs {
				_ = h.Handle(ctx, r)
			}
			return nil
		}, Batch: 4})

	var dls []eventstore.DeadLetter
	pgtest.WaitForNil(t, 30*time.Second, "two dead letters", func() error {
		var err error
		if dls, err = store.DeadLetters.List(ctx, false); err != nil {
			return err
		}
		if len(dls) != 2 {
			return fmt.Errorf("dead letters %+v", dls)
		}
		return nil
	})
	// Later events, of every account, still flow.
	later := appendPlans(t, store, 3, 2)
	var others []eventstore.Record
	for _, r := range append(recs, later...) {
		if r.EventID != poison.EventID && r.EventID != fatal.EventID {
			others = append(others, r)
		}
	}
	pgtest.WaitForNil(t, 30*time.Second, "the other events to be handled", func() error {
		if n, all := h.handledAll(others); !all {
			return fmt.Errorf("%d of %d handled", n, len(others))
		}
		return nil
	})

	byEvent := map[uuid.UUID]eventstore.DeadLetter{}
	for _, d := range dls {
		byEvent[d.EventID] = d
	}
	for _, c := range []struct {
		rec      eventstore.Record
		attempts int
		err      string
	}{{poison, 3, "cannot project this one"}, {fatal, 1, "never"}} {
		d, ok := byEvent[c.rec.EventID]
		if !ok {
			t.Fatalf("no dead letter for %s: %+v", c.rec.EventID, dls)
		}
		if d.Consumer != durable || d.StreamID != c.rec.StreamID || d.EventType != c.rec.Type || d.Attempts != c.attempts ||
			!strings.Contains(d.LastError, c.err) || d.ResolvedAt != nil || d.LastFailure.Before(d.FirstFailure) {
			t.Fatalf("dead letter %+v, want consumer %s, stream %s, %d attempts, error %q", d, durable, c.rec.StreamID, c.attempts, c.err)
		}
		if calls, _ := h.state(c.rec.EventID); calls != c.attempts {
			t.Fatalf("event %s handled %d times, want %d", c.rec.EventID, calls, c.attempts)
		}
	}

	// Retry while it still fails: recorded, not resolved.
	handlers := map[string]workers.Handler{durable: h.Handle}
	if err := workers.RetryDeadLetter(ctx, store, byEvent[poison.EventID], handlers); err == nil {
		t.Fatal("retry of a still failing event succeeded")
	}
	d, err := store.DeadLetterByID(ctx, byEvent[poison.EventID].ID)
	if err != nil || d.Attempts != 4 || d.ResolvedAt != nil {
		t.Fatalf("after a failed retry: %+v, %v", d, err)
	}
	// Fixed: the retry processes it once and resolves it.
	h.setFail(poison.EventID, nil)
	if err := workers.RetryDeadLetter(ctx, store, d, handlers); err != nil {
		t.Fatal(err)
	}
	if calls, handled := h.state(poison.EventID); calls != 5 || !handled {
		t.Fatalf("after the retry: %d calls, handled %v", calls, handled)
	}
	if d, err = store.DeadLetterByID(ctx, d.ID); err != nil || d.ResolvedAt == nil {
		t.Fatalf("not resolved: %+v, %v", d, err)
	}
	if n, err := store.UnresolvedDeadLetters(ctx); err != nil || n != 1 {
		t.Fatalf("unresolved %d, %v; want 1", n, err)
	}
	if err := workers.RetryDeadLetter(ctx, store, byEvent[fatal.EventID], map[string]workers.Handler{}); !errors.Is(err, workers.ErrNoHandler) {
		t.Fatalf("retry without a handler: %v", err)
	}
}

// TestRelayStandInForARefusedEvent: an event larger than NATS's max_payload
// does not stall the relay: a small stand-in with its headers goes out in
// its place, the relay records a dead letter, later events are published,
// and a consumer given the stand-in handles the real event from the store.
func TestRelayStandInForARefusedEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := eventstore.New(pgtest.NewPool(t))
	// Events are capped below NATS's usual max_payload; an event stored
	// before the cap, or a server whose max_payload was lowered since, is
	// what the relay still meets.
	bus := smallNATS(t, 64<<10)
	maxPayload := bus.NC.MaxPayload()
	appendOne := func(account int64, data []byte) eventstore.Record {
		t.Helper()
		recs, err := store.Append(ctx, "test-"+uuid.NewString(), eventstore.Head{},
			[]eventstore.NewEvent{{ID: uuid.New(), Type: "plan.created", Data: data}}, eventstore.Metadata{AccountID: account})
		if err != nil {
			t.Fatal(err)
		}
		return recs[0]
	}
	first := appendOne(1, []byte(`{"n":1}`))
	big := appendOne(2, []byte(`{"blob":"`+strings.Repeat("x", int(maxPayload))+`"}`))
	after := appendOne(3, []byte(`{"n":3}`))
	runRelay(t, &workers.Relay{Store: store, Bus: bus, Poll: 20 * time.Millisecond})

	msgs := streamMessages(t, bus, 3)
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	for i, want := range []eventstore.Record{first, big, after} {
		if id := msgs[i].Headers().Get(jetstream.MsgIDHeader); id != want.EventID.String() {
			t.Fatalf("message %d is %s, want %s", i, id, want.EventID)
		}
	}
	stand := msgs[1]
	if !workers.IsStandIn(stand.Headers()) || workers.IsStandIn(msgs[0].Headers()) || workers.IsStandIn(msgs[2].Headers()) {
		t.Fatalf("stand-in headers: %v / %v / %v", msgs[0].Headers(), stand.Headers(), msgs[2].Headers())
	}
	if stand.Subject() != bus.Subject(2, "plan.created") || stand.Headers().Get(workers.HeaderStreamID) != big.StreamID ||
		stand.Headers().Get(workers.HeaderVersion) != "1" {
		t.Fatalf("stand-in %s %v", stand.Subject(), stand.Headers())
	}
	var body workers.StandIn
	if err := json.Unmarshal(stand.Data(), &body); err != nil || len(stand.Data()) > 4096 {
		t.Fatalf("stand-in body (%d bytes) %s: %v", len(stand.Data()), stand.Data(), err)
	}
	if body.EventID != big.EventID || body.StreamID != big.StreamID || body.Version != 1 || body.Type != "plan.created" ||
		!strings.Contains(body.DeadLetter.Reason, "maximum payload") {
		t.Fatalf("stand-in body %s", stand.Data())
	}
	dls, err := store.DeadLetters.List(ctx, false)
	if err != nil || len(dls) != 1 || dls[0].Consumer != workers.RelayConsumer || dls[0].EventID != big.EventID ||
		!strings.Contains(dls[0].LastError, "maximum payload") {
		t.Fatalf("dead letters %+v, %v", dls, err)
	}

	var mu sync.Mutex
	got := map[uuid.UUID]int{} // data length per event
	runConsumer(t, &workers.Consumer{Bus: bus, Durable: "test-stand-in", Store: store,
		Handle: func(_ context.Context, rec eventstore.Record) error {
			mu.Lock()
			defer mu.Unlock()
			got[rec.EventID] = len(rec.Data)
			return nil
		}})
	pgtest.WaitForNil(t, 30*time.Second, "the consumer to get the 3 events", func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 3 {
			return fmt.Errorf("got %v", got)
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if got[big.EventID] != len(big.Data) {
		t.Fatalf("the consumer got %d bytes of the big event, want the %d stored", got[big.EventID], len(big.Data))
	}
}

// TestRelayStandInForAStreamLimit: an event the stream refuses in its
// PubAck (larger than the stream's max message size, not the connection's
// max_payload) is also replaced by a stand-in, as is one whose metadata
// names no account (on account 0's subject); a body no consumer can decode
// is set aside at once, under the event id its headers name.
func TestRelayStandInForAStreamLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := eventstore.New(pgtest.NewPool(t))
	bus := relayBus(t, false)
	stream, err := bus.JS.Stream(ctx, bus.Stream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := stream.CachedInfo().Config
	cfg.MaxMsgSize = 2048
	if _, err := bus.JS.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	var recs []eventstore.Record
	for i, data := range []string{`{"n":1}`, `{"blob":"` + strings.Repeat("y", 4096) + `"}`, `{"n":3}`} {
		r, err := store.Append(ctx, "test-"+uuid.NewString(), eventstore.Head{},
			[]eventstore.NewEvent{{ID: uuid.New(), Type: "plan.created", Data: []byte(data)}}, eventstore.Metadata{AccountID: int64(i + 1)})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r[0])
	}
	// Below the store's API: metadata whose account id is not a number.
	noAccount := eventstore.Record{EventID: uuid.New(), StreamID: "test-" + uuid.NewString(), Version: 1, Type: "plan.created"}
	if _, err := store.Pool().Exec(ctx, `INSERT INTO events (stream_id, version, event_id, type, data, metadata, recorded_at, hash)
		VALUES ($1, 1, $2, 'plan.created', '{}'::bytea, '{"account_id":"x"}'::bytea, now(), '\x00'::bytea)`,
		noAccount.StreamID, noAccount.EventID); err != nil {
		t.Fatal(err)
	}
	recs = append(recs, noAccount)
	runRelay(t, &workers.Relay{Store: store, Bus: bus, Poll: 20 * time.Millisecond})
	msgs := streamMessages(t, bus, 4)
	ids := map[string]jetstream.Msg{}
	for _, m := range msgs {
		ids[m.Headers().Get(jetstream.MsgIDHeader)] = m
	}
	for i, r := range recs {
		m, ok := ids[r.EventID.String()]
		if !ok {
			t.Fatalf("event %d (%s) not published", i, r.EventID)
		}
		if workers.IsStandIn(m.Headers()) != (i == 1 || i == 3) {
			t.Fatalf("event %d: stand-in %v, headers %v", i, workers.IsStandIn(m.Headers()), m.Headers())
		}
	}
	if m := ids[noAccount.EventID.String()]; m.Subject() != bus.Subject(0, "plan.created") {
		t.Fatalf("stand-in for an event without an account on %s", m.Subject())
	}
	dls, err := store.DeadLetters.List(ctx, false)
	if err != nil || len(dls) != 2 {
		t.Fatalf("dead letters %+v, %v", dls, err)
	}
	for _, d := range dls {
		if d.Consumer != workers.RelayConsumer || (d.EventID != recs[1].EventID && d.EventID != noAccount.EventID) ||
			(d.EventID == recs[1].EventID && !strings.Contains(d.LastError, "maximum")) ||
			(d.EventID == noAccount.EventID && !strings.Contains(d.LastError, "metadata")) {
			t.Fatalf("relay dead letter %+v", d)
		}
	}

	// A message whose body is not an event: set aside at once.
	garbled := uuid.New()
	msg := &nats.Msg{Subject: bus.Subject(1, "plan.created"), Data: []byte(`{"event_id":`), Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, garbled.String())
	msg.Header.Set(workers.HeaderStreamID, "test-garbled")
	msg.Header.Set(workers.HeaderType, "plan.created")
	if _, err := bus.JS.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	h := newCountingHandler()
	runConsumer(t, &workers.Consumer{Bus: bus, Durable: "test-garbled", Store: store, Handle: h.Handle})
	pgtest.WaitFor(t, 30*time.Second, "a dead letter for the garbled message", func() bool {
		dls, err = store.DeadLetters.List(ctx, false)
		return err == nil && len(dls) == 3
	})
	d := dls[2]
	if d.EventID != garbled || d.StreamID != "test-garbled" || d.Consumer != "test-garbled" || d.Attempts != 1 ||
		!strings.Contains(d.LastError, "decode event message") {
		t.Fatalf("dead letter of the garbled message: %+v", d)
	}
	pgtest.WaitFor(t, 30*time.Second, "the other events to be handled", func() bool {
		_, all := h.handledAll(recs)
		return all
	})
}

// TestConsumerPanicIsADeadLetter: a handler that panics on one event (a
// stored event the domain cannot apply) sets that event aside at once, in
// the batch path and alone, and the process and the other events go on.
func TestConsumerPanicIsADeadLetter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := eventstore.New(pgtest.NewPool(t))
	bus := relayBus(t, false)
	runRelay(t, &workers.Relay{Store: store, Bus: bus, Poll: 20 * time.Millisecond})

	recs := appendPlans(t, store, 2, 4)
	bad := recs[3]
	var mu sync.Mutex
	handled := map[uuid.UUID]int{}
	handle := func(_ context.Context, r eventstore.Record) error {
		if r.EventID == bad.EventID {
			panic("domain: money scale mismatch: 2 vs 0")
		}
		mu.Lock()
		handled[r.EventID]++
		mu.Unlock()
		return nil
	}
	runConsumer(t, &workers.Consumer{Bus: bus, Durable: "test-panic", Store: store, DeadLetterAfter: 5,
		RetryDelay: func(int) time.Duration { return 20 * time.Millisecond },
		Handle:     handle,
		BatchHandle: func(ctx context.Context, rs []eventstore.Record) error {
			for _, r := range rs {
				if err := handle(ctx, r); err != nil {
					return err
				}
			}
			return nil
		}, Batch: 4})

	var dls []eventstore.DeadLetter
	pgtest.WaitFor(t, 30*time.Second, "one dead letter and every other event handled", func() bool {
		var err error
		dls, err = store.DeadLetters.List(ctx, false)
		mu.Lock()
		n := len(handled)
		mu.Unlock()
		return err == nil && len(dls) == 1 && n == len(recs)-1
	})
	if d := dls[0]; d.EventID != bad.EventID || d.Attempts != 1 || !strings.Contains(d.LastError, "panic: domain: money scale mismatch") {
		t.Fatalf("dead letter %+v, want the panicking event after one attempt", d)
	}
}
