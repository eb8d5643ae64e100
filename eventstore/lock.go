package eventstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Locks hands out named session-level advisory locks.
type Locks struct {
	pool *pgxpool.Pool
}

// TryLock takes the session-level advisory lock named name on a connection
// of its own, without waiting. It returns ok false if another session holds
// it. release unlocks and returns the connection; it must be called when ok.
// Workers use it to claim a side effect (an email) across replicas; nothing
// on the append path takes a lock.
func (s *Locks) TryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, name).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return func() {
		_, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, name)
		if err != nil {
			conn.Conn().Close(context.Background()) // closing the session frees the lock
		}
		conn.Release()
	}, true, nil
}
