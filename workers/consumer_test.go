package workers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/workers"
)

// TestConsumerBatchFallsBackToSingles: when a batch fails, every event of it
// still reaches Handle; a permanent failure of one event does not hold up
// the others.
func TestConsumerBatchFallsBackToSingles(t *testing.T) {
	t.Parallel()
	store := eventstore.New(pgtest.NewPool(t))
	bus := relayBus(t, false)
	runRelay(t, &workers.Relay{Store: store, Bus: bus, Poll: 20 * time.Millisecond})
	recs := appendPlans(t, store, 4, 10)
	poison := recs[7].EventID

	var mu sync.Mutex
	handled := map[string]int{}
	batches := 0
	c := &workers.Consumer{Bus: bus, Durable: "test-batch",
		BatchHandle: func(ctx context.Context, rs []eventstore.Record) error {
			mu.Lock()
			batches++
			mu.Unlock()
			return errors.New("batch refused")
		},
		Handle: func(ctx context.Context, r eventstore.Record) error {
			mu.Lock()
			defer mu.Unlock()
			handled[r.EventID.String()]++
			if r.EventID == poison {
				return workers.Permanent(errors.New("poison"))
			}
			return nil
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	handledCount := func() int { mu.Lock(); defer mu.Unlock(); return len(handled) }
	pgtest.WaitForNil(t, 20*time.Second, "every event to reach Handle", func() error {
		if n := handledCount(); n != len(recs) {
			return fmt.Errorf("%d of %d events reached Handle", n, len(recs))
		}
		return nil
	})
	// A terminated or acked message must not come back: a marker appended
	// now is delivered after anything redelivered, so once it is handled
	// nothing of the first events may have been handled again.
	marker := appendPlans(t, store, 1, 1)[0]
	pgtest.WaitFor(t, 20*time.Second, "the marker event to reach Handle", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return handled[marker.EventID.String()] > 0
	})
	mu.Lock()
	defer mu.Unlock()
	if batches == 0 {
		t.Fatal("BatchHandle was never called")
	}
	for _, r := range append(recs, marker) {
		if n := handled[r.EventID.String()]; n != 1 {
			t.Fatalf("event %s handled %d times, want 1", r.EventID, n)
		}
	}
}

func TestEncodeRecordRoundTrip(t *testing.T) {
	t.Parallel()
	rec := eventstore.Record{EventID: uuid.New(), StreamID: "plan-7 \"q\"", Version: 3, Position: 99, TxID: 1 << 40,
		Type: "plan.created", RecordedAt: time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC),
		Data: []byte(`{"a":"<b>","n":1.50}`), Metadata: []byte(`{"account_id":4}`), Hash: []byte{1, 2, 3}}
	body, err := workers.EncodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(body) {
		t.Fatalf("not JSON: %s", body)
	}
	got, err := workers.DecodeRecord(body)
	if err != nil {
		t.Fatal(err)
	}
	if got.EventID != rec.EventID || got.StreamID != rec.StreamID || got.Version != 3 || got.Position != 99 || got.TxID != 1<<40 ||
		got.Type != rec.Type || !got.RecordedAt.Equal(rec.RecordedAt) || string(got.Data) != string(rec.Data) ||
		string(got.Metadata) != string(rec.Metadata) || string(got.Hash) != string(rec.Hash) {
		t.Fatalf("round trip:\n%+v\n%+v", got, rec)
	}
}

// TestDecodeRecordLayouts checks the fast split against plain JSON decoding:
// data that itself holds data and metadata keys, and bodies in another key
// order or with white space, which take the plain path.
func TestDecodeRecordLayouts(t *testing.T) {
	t.Parallel()
	rec := eventstore.Record{EventID: uuid.New(), StreamID: `plan-1,"data":`, Version: 2, Position: 5, TxID: 9, Type: "x",
		RecordedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Hash: []byte{9},
		Data:     []byte(`{"x":1,"data":{"y":2,"metadata":3},"s":",\"metadata\":","t":",\"data\":"}`),
		Metadata: []byte(`{"account_id":4,"actor":"merchant"}`)}
	body, err := workers.EncodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	reordered := []byte(`{"metadata":` + string(rec.Metadata) + `, "data": ` + string(rec.Data) + `,` + string(body[1:bytes.Index(body, []byte(`,"data":`))]) + `}`)
	for _, b := range [][]byte{body, reordered} {
		got, err := workers.DecodeRecord(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if got.StreamID != rec.StreamID || got.Version != 2 || string(got.Data) != string(rec.Data) || string(got.Metadata) != string(rec.Metadata) {
			t.Fatalf("%s:\n%+v", b, got)
		}
	}
	for _, bad := range []string{`{"event_id":1,"data":{},"metadata":{}}`, `{"data":{},"metadata":{`, `nope`} {
		if _, err := workers.DecodeRecord([]byte(bad)); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
}
