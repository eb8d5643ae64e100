package eventstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
)

// idBlockSize must equal the INCREMENT BY of the entity_ids sequence.
const idBlockSize = 100

// idAllocator hands out integer ids from blocks of the entity_ids sequence
// (hi/lo): one nextval per 100 ids, unique across processes. Ids left in a
// block when a process stops are never used (gaps are fine; reuse is not).
type idAllocator struct {
	pool      *pgxpool.Pool
	mu        sync.Mutex
	next, end int64
}

// NextID returns a new integer id for a plan, customer, invoice or option,
// unique across every process using this database.
func (s *Events) NextID(ctx context.Context) (int64, error) {
	a := &s.ids
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.next == a.end {
		var start int64
		if err := a.pool.QueryRow(ctx, `SELECT nextval('entity_ids')`).Scan(&start); err != nil {
			return 0, fmt.Errorf("allocate ids: %w", err)
		}
		a.next, a.end = start, start+idBlockSize
	}
	id := a.next
	a.next++
	return id, nil
}
