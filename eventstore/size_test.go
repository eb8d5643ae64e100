package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"goodplan/eventstore"
)

// TestAppendRefusesAnEventOverTheCap: an event whose data and metadata
// together are over MaxEventBytes is refused with ErrEventTooLarge and
// nothing of the append is written; one exactly at the cap is stored.
func TestAppendRefusesAnEventOverTheCap(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	meta := eventstore.Metadata{AccountID: 7, Actor: "test", CommandID: "cmd-size"}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	// data of n bytes: {"s":"xxx..."}
	data := func(n int) []byte { return []byte(`{"s":"` + strings.Repeat("x", n-8) + `"}`) }
	atCap := eventstore.MaxEventBytes - len(metaJSON)

	small := eventstore.NewEvent{ID: uuid.New(), Type: "t.small", Data: []byte(`{}`)}
	big := eventstore.NewEvent{ID: uuid.New(), Type: "t.big", Data: data(atCap + 1)}
	_, err = s.Append(ctx, "plan-1", eventstore.Head{}, []eventstore.NewEvent{small, big}, meta)
	if !errors.Is(err, eventstore.ErrEventTooLarge) {
		t.Fatalf("append over the cap: err = %v, want ErrEventTooLarge", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM events`); n != 0 {
		t.Fatalf("%d events stored after a refused append", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM commands`); n != 0 {
		t.Fatalf("%d commands stored after a refused append", n)
	}

	fits := eventstore.NewEvent{ID: uuid.New(), Type: "t.fits", Data: data(atCap)}
	recs, err := s.Append(ctx, "plan-1", eventstore.Head{}, []eventstore.NewEvent{small, fits}, meta)
	if err != nil {
		t.Fatalf("append at the cap: %v", err)
	}
	if got := len(recs[1].Data) + len(recs[1].Metadata); got != eventstore.MaxEventBytes {
		t.Fatalf("stored event of %d bytes, want exactly %d", got, eventstore.MaxEventBytes)
	}
	if _, head, err := s.Load(ctx, "plan-1"); err != nil || head.Version != 2 {
		t.Fatalf("load: head %+v, %v", head, err)
	}
}
