package eventstore

import (
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Events is the event log itself: appends with their command ids, reads by
// stream and in the global order, the chain check, the plan streams folded
// into plans, and the entity ids given to what the events describe. It is
// safe for concurrent use.
type Events struct {
	pool     *pgxpool.Pool
	ids      idAllocator
	appended chan struct{} // see RunNotifier
	group    *groupCommitter
	metrics  *appendMetrics // nil until Store.Instrument
}

func newEvents(pool *pgxpool.Pool) *Events {
	s := &Events{pool: pool, ids: idAllocator{pool: pool}, appended: make(chan struct{}, 1)}
	s.group = newGroupCommitter(pool, s.signalAppend)
	return s
}

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
	// Traceparent is the W3C trace context of the request that caused the
	// events (the span that handled it), carried on to their NATS messages.
	Traceparent string `json:"traceparent,omitempty"`
	// User is the merchant's dashboard user who acted (Actor is then
	// "merchant", as for an API key); nil when a key, the customer or the
	// service acted.
	User *ActorUser `json:"user,omitempty"`
}

// ActorUser names the dashboard user behind a command in its events'
// metadata, as they were when it ran ("user":{"id":7,"email":"..."}).
type ActorUser struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
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
