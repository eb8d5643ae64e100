package pgtest

import (
	"errors"
	"testing"
	"time"
)

// WaitFor calls cond until it returns true: at once, then at intervals
// growing from 1ms to 50ms. If it has not by timeout, or t's context ends
// first, WaitFor fails t with "timed out after <timeout> waiting for
// <what>". Call it from the test's goroutine (it may call t.FailNow), with
// what naming the condition ("the relay to publish 3 events").
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	Poller{}.WaitFor(t, timeout, what, cond)
}

// WaitForNil is WaitFor for a check that says what is still missing: it
// calls check until it returns nil and, on timeout, fails t with what and
// check's last error.
func WaitForNil(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	Poller{}.WaitForNil(t, timeout, what, check)
}

// Poller waits as WaitFor and WaitForNil do, at the pace it was made with.
// The zero Poller is theirs.
type Poller struct {
	every time.Duration // 0: from 1ms, doubling up to 50ms
}

// Every returns a Poller that checks at once and then every d: for
// conditions that cost a request to a rate-limited server.
func Every(d time.Duration) Poller { return Poller{every: d} }

// errNotYet is WaitFor's "not yet", which has nothing more to say.
var errNotYet = errors.New("not yet")

// WaitFor is the package's WaitFor at p's pace.
func (p Poller) WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	p.WaitForNil(t, timeout, what, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	})
}

// WaitForNil is the package's WaitForNil at p's pace.
func (p Poller) WaitForNil(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	pause := p.every
	if pause <= 0 {
		pause = time.Millisecond
	}
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-timer.C:
			if err == errNotYet {
				t.Fatalf("timed out after %v waiting for %s", timeout, what)
			}
			t.Fatalf("timed out after %v waiting for %s: %v", timeout, what, err)
		case <-t.Context().Done():
			t.Fatalf("test ended while waiting for %s: %v", what, err)
		case <-time.After(pause):
		}
		if p.every <= 0 {
			pause = min(2*pause, 50*time.Millisecond)
		}
	}
}
