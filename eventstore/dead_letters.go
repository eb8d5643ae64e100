package eventstore

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DeadLetters holds the events consumers gave up on (table dead_letters).
type DeadLetters struct {
	pool *pgxpool.Pool
}

// maxDeadLetterError bounds the error text kept with a dead letter.
const maxDeadLetterError = 2000

// DeadLetter is an event one consumer could not process, set aside so the
// others keep flowing (table dead_letters).
type DeadLetter struct {
	ID           int64
	EventID      uuid.UUID
	StreamID     string
	EventType    string
	Consumer     string
	Attempts     int
	LastError    string
	FirstFailure time.Time
	LastFailure  time.Time
	ResolvedAt   *time.Time // nil while unresolved
}

// NewDeadLetter is a failure to record: the event, the consumer that gave
// up on it, how many attempts it made and the last error.
type NewDeadLetter struct {
	EventID   uuid.UUID
	StreamID  string
	EventType string
	Consumer  string
	Attempts  int
	Err       string
}

// RecordDeadLetter records that consumer gave up on an event. It is
// idempotent by (event id, consumer): recording the same pair again (the
// message redelivered after a crash between the record and the ack) keeps
// one row with the larger attempt count, replaces the last error and the
// last failure time, and makes a resolved dead letter unresolved again. It
// returns the dead letter's id.
func (s *DeadLetters) RecordDeadLetter(ctx context.Context, d NewDeadLetter) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO dead_letters (event_id, stream_id, event_type, consumer, attempts, last_error)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (event_id, consumer) DO UPDATE SET
			attempts = greatest(dead_letters.attempts, EXCLUDED.attempts), last_error = EXCLUDED.last_error,
			last_failed_at = now(), resolved_at = NULL
		RETURNING id`,
		d.EventID, deadLetterText(d.StreamID, 1000), deadLetterText(d.EventType, 200), deadLetterText(d.Consumer, 200),
		max(d.Attempts, 1), deadLetterText(d.Err, maxDeadLetterError)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record dead letter %s for %s: %w", d.EventID, d.Consumer, err)
	}
	return id, nil
}

// deadLetterText is s storable as PostgreSQL text and at most n bytes: an
// error about bad text often quotes it, so NUL and invalid UTF-8 become
// U+FFFD (StorableText) rather than vanish.
func deadLetterText(s string, n int) string { return cleanText(StorableText(s), n) }

const deadLetterColumns = `id, event_id, stream_id, event_type, consumer, attempts, last_error, first_failed_at, last_failed_at, resolved_at`

func scanDeadLetter(row pgx.Row, d *DeadLetter) error {
	return row.Scan(&d.ID, &d.EventID, &d.StreamID, &d.EventType, &d.Consumer, &d.Attempts, &d.LastError,
		&d.FirstFailure, &d.LastFailure, &d.ResolvedAt)
}

// List returns the unresolved dead letters (every one with all), oldest
// first.
func (s *DeadLetters) List(ctx context.Context, all bool) ([]DeadLetter, error) {
	q := `SELECT ` + deadLetterColumns + ` FROM dead_letters`
	if !all {
		q += ` WHERE resolved_at IS NULL`
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (DeadLetter, error) {
		var d DeadLetter
		err := scanDeadLetter(row, &d)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	return out, nil
}

// DeadLetterByID returns one dead letter, or ErrNotFound.
func (s *DeadLetters) DeadLetterByID(ctx context.Context, id int64) (DeadLetter, error) {
	var d DeadLetter
	err := scanDeadLetter(s.pool.QueryRow(ctx, `SELECT `+deadLetterColumns+` FROM dead_letters WHERE id = $1`, id), &d)
	if err != nil {
		return d, fmt.Errorf("dead letter %d: %w", id, interpretError(err))
	}
	return d, nil
}

// ResolveDeadLetter marks a dead letter resolved (its event was processed
// after all). Resolving one twice changes nothing.
func (s *DeadLetters) ResolveDeadLetter(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE dead_letters SET resolved_at = now() WHERE id = $1 AND resolved_at IS NULL`, id)
	if err != nil {
		return fmt.Errorf("resolve dead letter %d: %w", id, err)
	}
	return nil
}

// FailDeadLetterRetry records that a retry of dead letter id failed with
// errText: one more attempt, a new last error and last failure time.
func (s *DeadLetters) FailDeadLetterRetry(ctx context.Context, id int64, errText string) error {
	_, err := s.pool.Exec(ctx, `UPDATE dead_letters SET attempts = attempts + 1, last_error = $2, last_failed_at = now()
		WHERE id = $1`, id, deadLetterText(errText, maxDeadLetterError))
	if err != nil {
		return fmt.Errorf("dead letter %d: %w", id, err)
	}
	return nil
}

// UnresolvedDeadLetters counts the dead letters not resolved yet.
func (s *DeadLetters) UnresolvedDeadLetters(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM dead_letters WHERE resolved_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count dead letters: %w", err)
	}
	return n, nil
}
