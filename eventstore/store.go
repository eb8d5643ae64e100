// Package eventstore is goodplan's source of truth: an append-only,
// hash-chained log of events in PostgreSQL (DESIGN.md section 2).
//
// Appends are one round trip and take no global or advisory lock; optimistic
// concurrency is a version check on the stream row. Readers tail the log in
// (tx_id, global_position) order and only see transactions below the xmin
// horizon, so no reader ever skips an event that commits late.
package eventstore

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store reads and writes the event log. It is safe for concurrent use.
type Store struct {
	pool     *pgxpool.Pool
	ids      idAllocator
	appended chan struct{} // see RunNotifier
}

// New returns a Store on pool. The schema must be migrated (see Migrate).
func New(pool *pgxpool.Pool) *Store {
	s := &Store{pool: pool, appended: make(chan struct{}, 1)}
	s.ids.pool = pool
	return s
}

// Pool returns the connection pool the store uses.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// NewEvent is an event to append: its id, type name and exact JSON bytes.
type NewEvent struct {
	ID   uuid.UUID
	Type string
	Data []byte
}

// Metadata is recorded with every event of one append: who acted and why.
// Its JSON bytes are part of the hash chain.
type Metadata struct {
	AccountID     int64  `json:"account_id"`
	Actor         string `json:"actor"`
	CommandID     string `json:"command_id"`
	CorrelationID string `json:"correlation_id,omitempty"`
	IP            string `json:"ip,omitempty"`
	UserAgent     string `json:"user_agent,omitempty"`
}

// Head is the position of a stream: its version and the hash of its last
// event. The zero Head is a stream that does not exist yet.
type Head struct {
	Version int64
	Hash    []byte
}

// Record is one stored event.
type Record struct {
	Position   int64
	TxID       uint64
	StreamID   string
	Version    int64
	EventID    uuid.UUID
	Type       string
	Data       []byte
	Metadata   []byte
	RecordedAt time.Time
	Hash       []byte
}

// Head returns the stream head right after r.
func (r Record) Head() Head { return Head{Version: r.Version, Hash: r.Hash} }

// Cursor is a reader's place in the global order: the last (tx_id, position)
// it has seen. The zero Cursor is the start of the log.
type Cursor struct {
	TxID     uint64
	Position int64
}

// Cursor returns the cursor just after r.
func (r Record) Cursor() Cursor { return Cursor{TxID: r.TxID, Position: r.Position} }

// Ping checks that the database answers within two seconds.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return s.pool.Ping(ctx)
}
