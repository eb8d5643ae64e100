package eventstore

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// HeldLock is a session-level advisory lock held on the process's lock
// session (see Locks) for as long as its holder lives: a liveness token
// other processes can see in pg_locks. When the session breaks (the
// database restarted, the connection dropped) the lock is gone with it;
// the lock is checked every interval and taken again on the next session.
// A process that dies loses it at once, since PostgreSQL ends a session
// whose connection closed.
type HeldLock struct {
	locks *Locks
	name  string
	every time.Duration
	stop  context.CancelFunc
	done  chan struct{}

	// The state below is written under locks.mu and mu (so locks' code
	// reads it under locks.mu alone) and read by State under mu, which
	// never waits for a query on the lock session.
	mu      sync.Mutex
	gen     uint64    // the session generation holding the lock; 0: not held
	checked time.Time // when the last check that found it held began
	changed chan struct{}
}

// Hold takes the advisory lock name (as TryLock names it) and keeps it
// until Release: every interval it checks that the lock session is alive,
// and opens a new one and takes the lock again when it is not (also when
// a TryLock opens the new session first). It returns at once; State says
// whether the lock is held. It fails if name is already held in this
// process.
//
// name must be this process's alone (a random id in it): another
// session found holding it is taken for one of this process's own
// sessions, cut off by the network but not yet ended by the server (which
// may take hours to notice), and is terminated so the lock can be taken
// again.
func (s *Locks) Hold(name string, every time.Duration) (*HeldLock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[name] || s.pinned[name] != nil {
		return nil, fmt.Errorf("hold lock %s: already held in this process", name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &HeldLock{locks: s, name: name, every: every, stop: cancel, done: make(chan struct{}), changed: make(chan struct{})}
	if s.pinned == nil {
		s.pinned = make(map[string]*HeldLock)
	}
	if s.held == nil {
		s.held = make(map[string]bool)
	}
	s.pinned[name], s.held[name] = h, true
	go h.run(ctx)
	return h, nil
}

// State returns the generation of the lock session holding the lock (0
// when it is not held; a new session has a new generation) and when the
// last check that found it held began. While the generation stays the
// same, the lock has been held without a break since it was taken, at
// least until checked.
func (h *HeldLock) State() (gen uint64, checked time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gen, h.checked
}

// Changed returns a channel closed at the next check (or change) of the
// lock's state.
func (h *HeldLock) Changed() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.changed
}

// Release stops holding the lock: it is unlocked if its session is alive,
// and left to end with its session otherwise. It waits for the checks to
// stop; calling it again does nothing.
func (h *HeldLock) Release() {
	h.stop()
	<-h.done
}

func (h *HeldLock) run(ctx context.Context) {
	defer close(h.done)
	t := time.NewTicker(h.every)
	defer t.Stop()
	for {
		h.locks.check(ctx, h)
		select {
		case <-ctx.Done():
			h.locks.unpin(h)
			return
		case <-t.C:
		}
	}
}

// setLocked records the lock's state and wakes the waiters; under
// locks.mu.
func (h *HeldLock) setLocked(gen uint64, checked time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.gen, h.checked = gen, checked
	close(h.changed)
	h.changed = make(chan struct{})
}

// takePinnedLocked takes h's lock on the current session, new or alive.
// When another session holds it, that session is one of this process's
// own (Hold's names are this process's alone) that the network cut off
// and the server has not ended yet: it is terminated, and the lock is
// taken at a later check (no error).
func (s *Locks) takePinnedLocked(ctx context.Context, h *HeldLock) error {
	start := time.Now()
	var ok bool
	if err := s.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, h.name).Scan(&ok); err != nil {
		return fmt.Errorf("hold lock %s: %w", h.name, err)
	}
	if ok {
		h.setLocked(s.gen, start)
		return nil
	}
	h.setLocked(0, time.Time{})
	if _, err := s.conn.Exec(ctx, `SELECT pg_terminate_backend(l.pid) FROM pg_locks l
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.pid <> pg_backend_pid()
		  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($1, 0)`, h.name); err != nil {
		return fmt.Errorf("hold lock %s: end the session holding it: %w", h.name, err)
	}
	return nil
}

// check makes sure h's lock is held on a live session: a round trip on
// the session when it holds the lock, a new session (or a new try) when
// it does not.
func (s *Locks) check(ctx context.Context, h *HeldLock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pinned[h.name] != h {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, lockQueryTimeout)
	defer cancel()
	start := time.Now()
	switch {
	case s.conn == nil:
		_ = s.openLocked(ctx) // takes h's lock; on failure the next check tries again
	case h.gen != s.gen:
		if err := s.takePinnedLocked(ctx, h); err != nil {
			s.dropSession()
		}
	default:
		if err := s.conn.Ping(ctx); err != nil {
			s.dropSession()
			_ = s.openLocked(ctx)
			return
		}
		h.setLocked(h.gen, start)
	}
	if s.conn == nil {
		h.setLocked(0, time.Time{}) // wake the waiters: the check is over
	}
}

// unpin releases h's lock and forgets it.
func (s *Locks) unpin(h *HeldLock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pinned[h.name] != h {
		return
	}
	delete(s.pinned, h.name)
	delete(s.held, h.name)
	if s.conn == nil || h.gen != s.gen {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), lockQueryTimeout)
	defer cancel()
	if _, err := s.conn.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, h.name); err != nil {
		s.dropSession()
	}
	h.setLocked(0, time.Time{})
}
