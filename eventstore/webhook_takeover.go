package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// OwnerLockName is the advisory lock (Locks.Hold) a webhook deliverer
// that claims as owner holds for its lifetime: while some session holds
// it, the owner is alive and its claims stand.
func OwnerLockName(owner uuid.UUID) string { return "webhook-owner:" + owner.String() }

// TakenOver is a delivery made due again because its owner's lock was
// gone: MissingSince is when the lock was first seen missing.
type TakenOver struct {
	DeliveryID   int64
	Owner        uuid.UUID
	MissingSince time.Time
}

// TakeOverDeliveries looks for owners of claims in flight (ClaimOptions.Owner)
// whose lock (OwnerLockName) no session holds, notes when each was first
// seen missing (and forgets owners seen holding it again), and makes due
// at now the claims of owners missing for at least grace, still leased,
// and made before their owner went missing: a claim made since (the owner
// took its lock again after a broken session, then claimed) stands.
// PostgreSQL ends the sessions of a killed process at once, so its claims
// are freed about grace after its death rather than when their lease runs
// out; a live owner whose session broke (a PostgreSQL restart) has grace
// to take its lock again, and one that is merely slow or paused keeps its
// session and its lock. Rows another transaction holds are skipped (the
// next call takes them). It returns the deliveries made due.
//
// The times are the database's (when the absence was seen, after
// pg_locks was read; when the claim was made, at its transaction's
// start), so the deliverers' clocks do not matter; now is only the new
// due time, in the deliverers' clock like every due time.
func (s *Deliveries) TakeOverDeliveries(ctx context.Context, now time.Time, grace time.Duration) ([]TakenOver, error) {
	rows, err := s.pool.Query(ctx, `WITH held AS MATERIALIZED (
		SELECT (l.classid::bigint << 32) | l.objid::bigint AS key FROM pg_locks l
		WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
		  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
	), owners AS MATERIALIZED (
		SELECT o.owner, EXISTS (SELECT 1 FROM held WHERE held.key = hashtextextended('webhook-owner:' || o.owner::text, 0)) AS alive
		FROM (SELECT DISTINCT claimed_by AS owner FROM webhook_deliveries
			WHERE claimed_by IS NOT NULL AND state = 'pending') o
	), cleared AS (
		DELETE FROM webhook_owner_absences a
		WHERE NOT EXISTS (SELECT 1 FROM owners o WHERE o.owner = a.owner AND NOT o.alive)
	), noted AS (
		INSERT INTO webhook_owner_absences (owner, since)
		SELECT owner, clock_timestamp() FROM owners WHERE NOT alive
		ON CONFLICT (owner) DO NOTHING
	), gone AS (
		SELECT a.owner, a.since FROM webhook_owner_absences a JOIN owners o ON o.owner = a.owner AND NOT o.alive
		WHERE a.since <= now() - $2::bigint * interval '1 microsecond'
	), picked AS (
		SELECT d.id, g.owner, g.since FROM webhook_deliveries d JOIN gone g ON d.claimed_by = g.owner
		WHERE d.state = 'pending' AND d.claimed_at < g.since AND d.next_attempt_at > $1
		ORDER BY d.id
		FOR UPDATE OF d SKIP LOCKED
	)
	UPDATE webhook_deliveries d SET next_attempt_at = $1, claimed_by = NULL, claimed_at = NULL, updated_at = now()
	FROM picked p WHERE d.id = p.id
	RETURNING d.id, p.owner, p.since`, now, grace.Microseconds())
	if err != nil {
		return nil, fmt.Errorf("take over webhook deliveries: %w", err)
	}
	var out []TakenOver
	var t TakenOver
	_, err = pgx.ForEachRow(rows, []any{&t.DeliveryID, &t.Owner, &t.MissingSince}, func() error {
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("take over webhook deliveries: %w", err)
	}
	return out, nil
}

// ReconfirmClaim re-dates owner's claim of delivery id under leaseUntil
// (DueDelivery.LeaseUntil) to now, and reports whether owner still held
// it: false when it was taken over, released, finished or claimed again.
// An owner whose lock was lost and taken again calls it before sending a
// delivery it claimed before the loss: the claim is then one made under
// the lock it holds now, which TakeOverDeliveries leaves alone unless
// that lock goes missing too.
func (s *Deliveries) ReconfirmClaim(ctx context.Context, id int64, owner uuid.UUID, leaseUntil time.Time) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `UPDATE webhook_deliveries SET claimed_at = now()
		WHERE id = $1 AND state = 'pending' AND claimed_by = $2 AND next_attempt_at = $3
		RETURNING true`, id, owner.String(), leaseUntil).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reconfirm webhook delivery %d: %w", id, err)
	}
	return true, nil
}
