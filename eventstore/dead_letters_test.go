package eventstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// TestDeadLetters: recording is idempotent by (event, consumer) (a
// redelivery after a crash between the record and the ack records it
// again), resolving and failed retries are kept, and stored text is made
// storable.
func TestDeadLetters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := eventstore.New(pgtest.NewPool(t))
	recs, err := store.Append(ctx, "plan-42", eventstore.Head{},
		[]eventstore.NewEvent{{ID: uuid.New(), Type: "plan.created", Data: []byte(`{}`)}}, eventstore.Metadata{AccountID: 1})
	if err != nil {
		t.Fatal(err)
	}
	ev := recs[0]
	nd := eventstore.NewDeadLetter{EventID: ev.EventID, StreamID: ev.StreamID, EventType: ev.Type, Consumer: "projection-plans",
		Attempts: 5, Err: "bad \x00 byte \xff " + strings.Repeat("x", 5000)}
	id, err := store.RecordDeadLetter(ctx, nd)
	if err != nil {
		t.Fatal(err)
	}
	again, err := store.RecordDeadLetter(ctx, eventstore.NewDeadLetter{EventID: ev.EventID, StreamID: ev.StreamID, EventType: ev.Type,
		Consumer: "projection-plans", Attempts: 6, Err: "second"})
	if err != nil || again != id {
		t.Fatalf("recorded again: id %d (first %d), %v", again, id, err)
	}
	other, err := store.RecordDeadLetter(ctx, eventstore.NewDeadLetter{EventID: ev.EventID, StreamID: ev.StreamID, EventType: ev.Type,
		Consumer: "webhook-fanout", Attempts: 1, Err: "other"})
	if err != nil || other == id {
		t.Fatalf("another consumer: %d, %v", other, err)
	}
	dls, err := store.DeadLetters.List(ctx, false)
	if err != nil || len(dls) != 2 || dls[0].ID != id || dls[0].Attempts != 6 || dls[0].LastError != "second" {
		t.Fatalf("dead letters %+v, %v", dls, err)
	}
	if err := store.FailDeadLetterRetry(ctx, id, "third"); err != nil {
		t.Fatal(err)
	}
	if err := store.ResolveDeadLetter(ctx, id); err != nil {
		t.Fatal(err)
	}
	d, err := store.DeadLetterByID(ctx, id)
	if err != nil || d.Attempts != 7 || d.LastError != "third" || d.ResolvedAt == nil || d.LastFailure.Before(d.FirstFailure) {
		t.Fatalf("after a failed retry and a resolve: %+v, %v", d, err)
	}
	if n, err := store.UnresolvedDeadLetters(ctx); err != nil || n != 1 {
		t.Fatalf("unresolved %d, %v", n, err)
	}
	if all, err := store.DeadLetters.List(ctx, true); err != nil || len(all) != 2 {
		t.Fatalf("all: %d, %v", len(all), err)
	}
	// Failing again makes it unresolved.
	if _, err := store.RecordDeadLetter(ctx, nd); err != nil {
		t.Fatal(err)
	}
	if d, err = store.DeadLetterByID(ctx, id); err != nil || d.ResolvedAt != nil || d.Attempts != 7 ||
		!strings.HasPrefix(d.LastError, "bad \uFFFD byte \uFFFD x") || len(d.LastError) > 2000 {
		t.Fatalf("failed again: %+v, %v", d, err)
	}
	if _, err := store.DeadLetterByID(ctx, 999); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("missing dead letter: %v", err)
	}
	if got, err := store.LoadEvent(ctx, ev.EventID); err != nil || got.StreamID != "plan-42" || string(got.Data) != `{}` {
		t.Fatalf("load event: %+v, %v", got, err)
	}
	if _, err := store.LoadEvent(ctx, uuid.New()); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("load a missing event: %v", err)
	}
}
