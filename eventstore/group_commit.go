package eventstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Group commit: concurrent appends are coalesced into one statement, so
// one round trip, one transaction and one WAL flush carry many appends.
//
// A caller queues its prepared append and, when fewer than maxFlushers
// flushes are running, becomes a flusher itself (leader/follower): it
// takes what is queued (up to maxBatch appends, at most one per stream,
// none of a stream another flush holds), runs the batch and answers every
// caller in it, until its own append has been answered; if appends are
// still queued then, a goroutine takes its place. A caller that is not a
// flusher waits for its answer. No lock is held while a batch runs.
//
// Each append keeps its own outcome: the statement (batchAppendSQL) checks
// every stream's version separately and stores only the appends whose
// check passed; the others get ErrVersionConflict. An error of the
// statement as a whole (a replayed command id, a deadlock with another
// process's batch) writes nothing, and its appends are then run one by
// one with appendWith, so each gets exactly the outcome it would have had
// alone. A caller is answered only after the commit.
type groupCommitter struct {
	pool        *pgxpool.Pool
	maxBatch    int
	maxFlushers int
	// timeout bounds one batch statement: it runs on a context of its
	// own, so a caller that gives up does not cancel the others' appends.
	timeout time.Duration
	// appended is called after each batch that stored something (the
	// relay's wake-up, once per batch).
	appended func()

	// batches counts the statements that stored several appends and
	// fallbacks the batches PostgreSQL refused, run again one by one.
	batches, fallbacks atomic.Int64

	mu       sync.Mutex
	queue    []*queuedAppend
	flushers int
	busy     map[string]bool // streams in a running batch
}

// queuedAppend is one caller's append, waiting to be run or answered.
type queuedAppend struct {
	p     *prepared
	recs  []Record
	err   error
	taken bool          // in a batch (under groupCommitter.mu)
	done  chan struct{} // closed once recs/err are set
}

// Group commit defaults: batches up to 256 appends, two at a time (one
// being committed while the next forms).
const (
	defaultMaxBatch    = 256
	defaultMaxFlushers = 2
	batchTimeout       = time.Minute
)

func newGroupCommitter(pool *pgxpool.Pool, appended func()) *groupCommitter {
	return &groupCommitter{pool: pool, maxBatch: defaultMaxBatch, maxFlushers: defaultMaxFlushers,
		timeout: batchTimeout, appended: appended, busy: map[string]bool{}}
}

// append runs p in a group commit and returns its records as stored, or
// ErrVersionConflict, ErrDuplicateCommand or another error of Append. If
// ctx ends first, the append is withdrawn when it is still queued; once in
// a running batch it may still be stored, and the caller gets ctx.Err().
func (g *groupCommitter) append(ctx context.Context, p *prepared) ([]Record, error) {
	q := &queuedAppend{p: p, done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, q)
	lead := g.flushers < g.maxFlushers
	if lead {
		g.flushers++
	}
	g.mu.Unlock()
	if lead {
		g.lead(q)
	}
	select {
	case <-q.done:
		return q.recs, q.err
	case <-ctx.Done():
		g.mu.Lock()
		if !q.taken {
			g.queue = slices.DeleteFunc(g.queue, func(x *queuedAppend) bool { return x == q })
			g.mu.Unlock()
			return nil, ctx.Err()
		}
		g.mu.Unlock()
		select {
		case <-q.done: // answered meanwhile: the true outcome
			return q.recs, q.err
		default:
			return nil, ctx.Err()
		}
	}
}

// lead flushes batches until own has been answered (or nothing it may take
// is queued), then hands the flusher's place to a goroutine if appends are
// still waiting.
func (g *groupCommitter) lead(own *queuedAppend) {
	for {
		batch := g.take()
		if batch == nil {
			return // g.take gave the place up
		}
		g.flush(batch)
		if isDone(own) {
			g.mu.Lock()
			if len(g.queue) > 0 {
				g.mu.Unlock()
				go g.lead(nil)
				return
			}
			g.flushers--
			g.mu.Unlock()
			return
		}
	}
}

func isDone(q *queuedAppend) bool {
	if q == nil {
		return false
	}
	select {
	case <-q.done:
		return true
	default:
		return false
	}
}

// take removes the next batch from the queue: in queue order, at most one
// append per stream and none of a stream in a running batch. With nothing
// to take it gives up the caller's flusher place and returns nil.
func (g *groupCommitter) take() []*queuedAppend {
	g.mu.Lock()
	defer g.mu.Unlock()
	var batch []*queuedAppend
	rest := g.queue[:0]
	for _, q := range g.queue {
		if len(batch) < g.maxBatch && !g.busy[q.p.stream] {
			g.busy[q.p.stream] = true
			q.taken = true
			batch = append(batch, q)
			continue
		}
		rest = append(rest, q)
	}
	clear(g.queue[len(rest):])
	g.queue = rest
	if len(batch) == 0 {
		g.flushers--
		return nil
	}
	return batch
}

// flush runs batch and answers each of its callers.
func (g *groupCommitter) flush(batch []*queuedAppend) {
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	stored := false
	if len(batch) == 1 {
		// Alone, the plain statement is cheaper to plan and run.
		q := batch[0]
		q.recs, q.err = appendPrepared(ctx, g.pool, q.p, &appendOptions{})
		stored = q.err == nil
	} else if err := runBatch(ctx, g.pool, batch); errors.As(err, new(*pgconn.PgError)) {
		// PostgreSQL refused the statement, so nothing of the batch was
		// written: each append alone, for its own outcome.
		g.fallbacks.Add(1)
		for _, q := range batch {
			q.recs, q.err = appendPrepared(ctx, g.pool, q.p, &appendOptions{})
			stored = stored || q.err == nil
		}
	} else if err != nil {
		// Whether it committed is unknown (the connection broke, the
		// batch timed out): every caller gets the error, as one alone
		// would.
		for _, q := range batch {
			q.err = err
		}
	} else {
		g.batches.Add(1)
		stored = true
	}
	if stored && g.appended != nil {
		g.appended()
	}
	g.mu.Lock()
	for _, q := range batch {
		delete(g.busy, q.p.stream)
	}
	g.mu.Unlock()
	for _, q := range batch {
		close(q.done)
	}
}

// streamOrder sorts a batch by stream id, the order its statement visits
// the streams rows, so two batches lock shared rows in the same order.
func streamOrder(a, b *queuedAppend) int { return strings.Compare(a.p.stream, b.p.stream) }
