package eventstore

import (
	"bytes"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ChainError names the first event whose hash chain does not hold.
type ChainError struct {
	Position int64
	StreamID string
	Version  int64
	EventID  string
	Reason   string
}

func (e *ChainError) Error() string {
	if e.Position == 0 {
		return fmt.Sprintf("stream %s: %s", e.StreamID, e.Reason)
	}
	return fmt.Sprintf("event %s (stream %s, version %d, position %d): %s", e.EventID, e.StreamID, e.Version, e.Position, e.Reason)
}

// VerifyResult counts what Verify checked.
type VerifyResult struct {
	Events  int64
	Streams int64
}

type chainTip struct {
	version int64
	hash    [HashSize]byte
}

// Verify walks every event in one sequential scan, recomputes each hash from
// its stream's previous one, checks versions are contiguous from 1, and checks
// every stream row against the last event of its chain. It returns a
// *ChainError naming the first bad event, or nil with the counts.
func (s *Store) Verify(ctx context.Context) (VerifyResult, error) {
	var res VerifyResult
	tips := make(map[string]chainTip)
	// One snapshot for both reads: an append between them would otherwise
	// look like a stream head ahead of its chain.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	defer tx.Rollback(ctx)
	// global_position order is version order within a stream: a stream's
	// next append waits for the previous one to commit (stream row lock), and
	// one append inserts its events in version order.
	rows, err := tx.Query(ctx, `SELECT `+recordColumns+` FROM events ORDER BY global_position`)
	if err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	defer rows.Close()
	var r Record
	for rows.Next() {
		if err := scanRecord(rows, &r); err != nil {
			return res, fmt.Errorf("verify: %w", err)
		}
		res.Events++
		tip, seen := tips[r.StreamID]
		bad := func(reason string) error {
			return &ChainError{Position: r.Position, StreamID: r.StreamID, Version: r.Version, EventID: r.EventID.String(), Reason: reason}
		}
		if r.Version != tip.version+1 {
			return res, bad(fmt.Sprintf("version %d follows version %d", r.Version, tip.version))
		}
		var prev []byte
		if seen {
			prev = tip.hash[:]
		}
		if !bytes.Equal(recordHash(prev, &r), r.Hash) {
			return res, bad("hash does not match the event's contents and the previous hash")
		}
		tip.version = r.Version
		copy(tip.hash[:], r.Hash)
		tips[r.StreamID] = tip
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	rows.Close()

	srows, err := tx.Query(ctx, `SELECT stream_id, version, last_hash FROM streams`)
	if err != nil {
		return res, fmt.Errorf("verify streams: %w", err)
	}
	defer srows.Close()
	var id string
	var version int64
	var hash []byte
	for srows.Next() {
		if err := srows.Scan(&id, &version, &hash); err != nil {
			return res, fmt.Errorf("verify streams: %w", err)
		}
		res.Streams++
		tip, ok := tips[id]
		if !ok || tip.version != version || !bytes.Equal(tip.hash[:], hash) {
			return res, &ChainError{StreamID: id, Reason: fmt.Sprintf("stream head (version %d) does not match its last event (version %d)", version, tip.version)}
		}
		delete(tips, id)
	}
	if err := srows.Err(); err != nil {
		return res, fmt.Errorf("verify streams: %w", err)
	}
	for id, tip := range tips {
		return res, &ChainError{StreamID: id, Reason: fmt.Sprintf("events up to version %d have no stream head", tip.version)}
	}
	return res, nil
}
