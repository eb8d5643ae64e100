package pgtest_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"goodplan/eventstore/pgtest"
)

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, as the real one does.
type fatalRecorder struct {
	testing.TB
	ctx context.Context
	msg string
}

func (r *fatalRecorder) Helper()                   {}
func (r *fatalRecorder) Context() context.Context  { return r.ctx }
func (r *fatalRecorder) Fatalf(f string, a ...any) { r.msg = fmt.Sprintf(f, a...); runtime.Goexit() }

// run calls wait with a fatalRecorder on its own goroutine and returns what
// it failed with ("" if it returned).
func run(ctx context.Context, wait func(testing.TB)) string {
	r := &fatalRecorder{ctx: ctx}
	done := make(chan struct{})
	go func() {
		defer close(done)
		wait(r)
	}()
	<-done
	return r.msg
}

func TestWaitForReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	msg := run(t.Context(), func(tb testing.TB) {
		pgtest.WaitFor(tb, time.Minute, "three calls", func() bool { calls++; return calls == 3 })
	})
	if msg != "" || calls != 3 {
		t.Fatalf("failed with %q after %d calls; want no failure after 3", msg, calls)
	}
}

func TestWaitForFailsNamingWhatItAwaited(t *testing.T) {
	msg := run(t.Context(), func(tb testing.TB) {
		pgtest.WaitFor(tb, 20*time.Millisecond, "the impossible", func() bool { return false })
	})
	if want := "timed out after 20ms waiting for the impossible"; msg != want {
		t.Fatalf("failed with %q, want %q", msg, want)
	}
	msg = run(t.Context(), func(tb testing.TB) {
		n := 0
		pgtest.WaitForNil(tb, 20*time.Millisecond, "3 events", func() error { n = min(n+1, 2); return fmt.Errorf("%d of 3", n) })
	})
	if want := "timed out after 20ms waiting for 3 events: 2 of 3"; msg != want {
		t.Fatalf("failed with %q, want %q", msg, want)
	}
}

func TestWaitForStopsWhenTheTestContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	msg := run(ctx, func(tb testing.TB) {
		pgtest.WaitFor(tb, time.Hour, "the impossible", func() bool { return false })
	})
	if want := "test ended while waiting for the impossible: not yet"; msg != want {
		t.Fatalf("failed with %q, want %q", msg, want)
	}
}

func TestEveryPollsAtItsPace(t *testing.T) {
	var calls []time.Time
	msg := run(t.Context(), func(tb testing.TB) {
		pgtest.Every(20*time.Millisecond).WaitFor(tb, time.Minute, "four calls", func() bool {
			calls = append(calls, time.Now())
			return len(calls) == 4
		})
	})
	if msg != "" || len(calls) != 4 {
		t.Fatalf("failed with %q after %d calls", msg, len(calls))
	}
	for i := 1; i < len(calls); i++ {
		if gap := calls[i].Sub(calls[i-1]); gap < 20*time.Millisecond {
			t.Fatalf("call %d came %v after the one before, sooner than every 20ms", i+1, gap)
		}
	}
}
