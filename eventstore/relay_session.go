package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// relayLockKey is the pg_try_advisory_lock key held by the active relay.
const relayLockKey int64 = 0x676f6f64706c616e // "goodplan"

// RelaySession is the relay's own database session: a connection outside
// the pool that holds the leader lock (one active relay per database),
// LISTENs on NotifyChannel, and reads and writes the relay's checkpoint
// (table relay_checkpoints). Writing on the session that holds the lock
// means a relay that lost it (the session is gone) cannot write. Closing
// the session releases the lock. It is not safe for concurrent use.
type RelaySession struct {
	conn *pgx.Conn
	name string
}

// OpenRelaySession connects a session of its own, with the pool's
// configuration, for the relay whose checkpoint is called name.
func (s *Events) OpenRelaySession(ctx context.Context, name string) (*RelaySession, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("relay connect: %w", err)
	}
	return &RelaySession{conn: conn, name: name}, nil
}

// Close ends the session, which releases the leader lock if it held it.
func (r *RelaySession) Close() { r.conn.Close(context.Background()) }

// TryLead takes the relay's leader lock without waiting: true if this
// session is now the leader, false if another session holds the lock.
func (r *RelaySession) TryLead(ctx context.Context) (bool, error) {
	var leader bool
	if err := r.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, relayLockKey).Scan(&leader); err != nil {
		return false, fmt.Errorf("relay lock: %w", err)
	}
	return leader, nil
}

// Listen subscribes the session to NotifyChannel (see RunNotifier).
func (r *RelaySession) Listen(ctx context.Context) error {
	if _, err := r.conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return fmt.Errorf("relay listen: %w", err)
	}
	return nil
}

// WaitForNotification blocks until a notification arrives on the session or
// ctx is done. Its error is the driver's, unwrapped, so the caller can tell
// a timeout (ctx's deadline, or an error with Timeout() true) from a lost
// session.
func (r *RelaySession) WaitForNotification(ctx context.Context) error {
	return r.conn.PgConn().WaitForNotification(ctx)
}

// Checkpoint returns the saved checkpoint and whether the publishing mark is
// set (a batch was going out when the last leader stopped). ErrNotFound if
// the relay never saved one.
func (r *RelaySession) Checkpoint(ctx context.Context) (c Cursor, publishing bool, err error) {
	err = r.conn.QueryRow(ctx, `SELECT tx_id, position, publishing FROM relay_checkpoints WHERE name = $1`, r.name).
		Scan(&c.TxID, &c.Position, &publishing)
	if errors.Is(err, pgx.ErrNoRows) {
		return Cursor{}, false, fmt.Errorf("relay checkpoint %s: %w", r.name, ErrNotFound)
	}
	if err != nil {
		return Cursor{}, false, fmt.Errorf("relay checkpoint: %w", err)
	}
	return c, publishing, nil
}

// MarkPublishing durably sets the publishing mark before a batch goes out,
// creating the checkpoint at the start of the log if there is none.
func (r *RelaySession) MarkPublishing(ctx context.Context) error {
	_, err := r.conn.Exec(ctx, `INSERT INTO relay_checkpoints (name, tx_id, position, publishing, updated_at)
		VALUES ($1, '0', 0, true, now())
		ON CONFLICT (name) DO UPDATE SET publishing = true, updated_at = now()`, r.name)
	if err != nil {
		return fmt.Errorf("relay mark publishing: %w", err)
	}
	return nil
}

// SaveCheckpoint records that everything up to c was published and clears
// the publishing mark. It only ever moves the checkpoint forward.
func (r *RelaySession) SaveCheckpoint(ctx context.Context, c Cursor) error {
	_, err := r.conn.Exec(ctx, `INSERT INTO relay_checkpoints (name, tx_id, position, publishing, updated_at)
		VALUES ($1, $2, $3, false, now())
		ON CONFLICT (name) DO UPDATE SET tx_id = EXCLUDED.tx_id, position = EXCLUDED.position, publishing = false, updated_at = now()
		WHERE (relay_checkpoints.tx_id, relay_checkpoints.position) <= (EXCLUDED.tx_id, EXCLUDED.position)`,
		r.name, c.TxID, c.Position)
	if err != nil {
		return fmt.Errorf("relay save checkpoint: %w", err)
	}
	return nil
}

// IsEventAt reports whether the event with id eventID (as text, e.g. a
// message's Nats-Msg-Id header) is stored in this database at exactly at in
// the global order.
func (r *RelaySession) IsEventAt(ctx context.Context, eventID string, at Cursor) (bool, error) {
	var ours bool
	if err := r.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE event_id = $1 AND tx_id = $2 AND global_position = $3)`,
		eventID, at.TxID, at.Position).Scan(&ours); err != nil {
		return false, fmt.Errorf("relay last message: %w", err)
	}
	return ours, nil
}
