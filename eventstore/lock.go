package eventstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Locks hands out named session-level advisory locks, all held on one
// database session of their own, outside the pool: a holder never keeps a
// pooled connection while it works, so holders that need the pool (to read
// a plan, to record an outcome) cannot exhaust it and wait on each other
// (with a pool of n, n holders each holding a connection and waiting for a
// second one never moved again). One session holds many advisory locks;
// since a session may take a lock it holds again, the names this process
// holds are also kept here, so two callers in one process exclude each
// other as two processes do. Locks held for the process's lifetime (Hold:
// a webhook deliverer's owner lock) share the session and are taken again
// on each new one.
type Locks struct {
	pool *pgxpool.Pool

	mu   sync.Mutex // guards the fields below and serialises the session's queries
	conn *pgx.Conn  // the lock session; nil before the first lock and after it broke
	gen  uint64     // the session's generation: bumped on each new session
	held map[string]bool
	// pinned are the locks held for a holder's lifetime (Hold): taken
	// again on every new session.
	pinned map[string]*HeldLock
}

// lockQueryTimeout bounds one lock or unlock query, which runs while
// every other locker waits for the session.
const lockQueryTimeout = 5 * time.Second

// TryLock takes the session-level advisory lock named name, without
// waiting. It returns ok false if another session, or another caller in
// this process, holds it. release unlocks; it must be called when ok.
// Workers use it to claim a side effect (an email) across replicas;
// nothing on the append path takes a lock. If the lock session breaks (the
// database restarted) its locks are gone: another process may then take a
// name this one still believes it holds, which the claimers tolerate
// (their outcome is recorded under a deterministic command id).
func (s *Locks) TryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[name] {
		return nil, false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, lockQueryTimeout)
	defer cancel()
	for try := 0; ; try++ {
		if s.conn == nil {
			if err := s.openLocked(ctx); err != nil {
				return nil, false, fmt.Errorf("lock %s: %w", name, err)
			}
		}
		err = s.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, name).Scan(&ok)
		if err == nil {
			break
		}
		s.dropSession()
		// A session that broke while idle (the database restarted) fails
		// its next query: one retry on a new session.
		if try > 0 || ctx.Err() != nil {
			return nil, false, fmt.Errorf("lock %s: %w", name, err)
		}
	}
	if !ok {
		return nil, false, nil
	}
	if s.held == nil {
		s.held = make(map[string]bool)
	}
	s.held[name] = true
	gen := s.gen
	var once sync.Once
	return func() { once.Do(func() { s.unlock(name, gen) }) }, true, nil
}

// unlock releases name, taken on the session of generation gen.
func (s *Locks) unlock(name string, gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.held, name)
	if s.conn == nil || s.gen != gen {
		return // that session is gone, and its locks with it
	}
	ctx, cancel := context.WithTimeout(context.Background(), lockQueryTimeout)
	defer cancel()
	if _, err := s.conn.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, name); err != nil {
		s.dropSession() // closing the session frees its locks
	}
}

// openLocked opens a new lock session and takes the pinned locks on it.
func (s *Locks) openLocked(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	s.conn = conn
	s.gen++
	for _, h := range s.pinned {
		if err := s.takePinnedLocked(ctx, h); err != nil {
			s.dropSession()
			return err
		}
	}
	return nil
}

// dropSession closes the lock session; the next TryLock (or a held lock's
// check) opens a new one. The pinned locks are lost with it.
func (s *Locks) dropSession() {
	if s.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = s.conn.Close(ctx)
		s.conn = nil
	}
	for _, h := range s.pinned {
		h.setLocked(0, time.Time{})
	}
}
