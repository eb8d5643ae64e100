package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"goodplan/eventstore"
)

// ReadStreams hands out whole streams, in stream id order, only those whose
// id starts with the prefix taken literally, and stops when emit says so.
func TestReadStreams(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	meta := eventstore.Metadata{AccountID: 1}
	for stream, n := range map[string]int{"plan-2": 3, "plan-10": 2, "plan_x": 1, "planet-1": 1, "other-1": 2} {
		if _, err := s.Append(ctx, stream, eventstore.Head{}, events(n, "t.a"), meta); err != nil {
			t.Fatal(err)
		}
	}
	read := func(prefix string) []string {
		t.Helper()
		var got []string
		err := s.ReadStreams(ctx, prefix, func(evs []eventstore.StreamEvent) bool {
			for i, e := range evs {
				if e.StreamID != evs[0].StreamID || string(e.Data) != fmt.Sprintf(`{"n":%d}`, i) {
					t.Errorf("%s event %d: %+v", evs[0].StreamID, i, e)
				}
			}
			got = append(got, fmt.Sprintf("%s:%d", evs[0].StreamID, len(evs)))
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got, want := read(eventstore.PlanStreamPrefix), []string{"plan-10:2", "plan-2:3"}; !slices.Equal(got, want) {
		t.Errorf("plan streams: %v, want %v", got, want)
	}
	if got, want := read("plan_"), []string{"plan_x:1"}; !slices.Equal(got, want) {
		t.Errorf("prefix plan_ (an underscore, not a wildcard): %v, want %v", got, want)
	}
	if got := read("nothing-"); len(got) != 0 {
		t.Errorf("no stream with the prefix: %v", got)
	}

	cctx, cancel := context.WithCancel(ctx)
	calls := 0
	err := s.ReadStreams(cctx, "", func([]eventstore.StreamEvent) bool {
		calls++
		cancel()
		return false
	})
	if calls != 1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("emit stopping the read: %d calls, %v; want 1 call and context.Canceled", calls, err)
	}
}

// ScanStreams hands out the same streams as ReadStreams, each whole and in
// version order, whether it holds every stream in flight or has to set
// some aside and read them at the end.
func TestScanStreams(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	meta := eventstore.Metadata{AccountID: 1}
	// Streams appended in turns, so their events interleave in the table.
	heads := map[string]eventstore.Head{}
	for round := range 3 {
		for i := 1; i <= 20; i++ {
			stream := fmt.Sprintf("plan-%d", i)
			if round >= i%4 {
				evs := events(1, "t.a")
				evs[0].Data = []byte(fmt.Sprintf(`{"n":%d}`, heads[stream].Version))
				recs, err := s.Append(ctx, stream, heads[stream], evs, meta)
				if err != nil {
					t.Fatal(err)
				}
				last := recs[len(recs)-1]
				heads[stream] = eventstore.Head{Version: last.Version, Hash: last.Hash}
			}
		}
	}
	if _, err := s.Append(ctx, "other-1", eventstore.Head{}, events(2, "t.a"), meta); err != nil {
		t.Fatal(err)
	}
	collect := func(read func(context.Context, string, func([]eventstore.StreamEvent) bool) error) []string {
		t.Helper()
		var got []string
		err := read(ctx, eventstore.PlanStreamPrefix, func(evs []eventstore.StreamEvent) bool {
			for i, e := range evs {
				if e.StreamID != evs[0].StreamID || string(e.Data) != fmt.Sprintf(`{"n":%d}`, i) {
					t.Errorf("%s event %d: %+v", evs[0].StreamID, i, e)
				}
			}
			got = append(got, fmt.Sprintf("%s:%d", evs[0].StreamID, len(evs)))
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		return got
	}
	want := collect(s.ReadStreams)
	if len(want) != 15 {
		t.Fatalf("ReadStreams: %v", want)
	}
	if got := collect(s.ScanStreams); !slices.Equal(got, want) {
		t.Errorf("ScanStreams: %v, want %v", got, want)
	}
	eventstore.SetMaxPendingBytes(t, 300) // about two events: most streams are set aside
	if got := collect(s.ScanStreams); !slices.Equal(got, want) {
		t.Errorf("ScanStreams setting streams aside: %v, want %v", got, want)
	}
}
