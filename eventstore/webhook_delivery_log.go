package eventstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Delivery is one event for one endpoint and its progress.
type Delivery struct {
	ID            int64
	EndpointID    int64
	EventID       uuid.UUID
	EventType     string
	State         string
	Attempts      int
	NextAttemptAt *time.Time // nil unless pending
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// DeliveryLog is a delivery with its attempts, oldest first.
type DeliveryLog struct {
	Delivery
	Log []Attempt
}

const deliveryColumns = `id, endpoint_id, event_id, event_type, state, attempts, next_attempt_at, created_at, updated_at`

func scanDelivery(row pgx.Row, d *Delivery) error {
	return row.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.EventType, &d.State, &d.Attempts, &d.NextAttemptAt, &d.CreatedAt, &d.UpdatedAt)
}

// ListDeliveries returns a page of the endpoint's deliveries, newest first,
// each with its attempts, and the total count. ErrNotFound when the endpoint
// does not exist, was deleted, or belongs to another account.
func (s *Deliveries) ListDeliveries(ctx context.Context, accountID, endpointID int64, limit, offset int) ([]DeliveryLog, int, error) {
	var total int
	out, err := s.deliveryLogs(ctx, accountID, endpointID, func(tx pgx.Tx) (pgx.Rows, error) {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1`, endpointID).Scan(&total); err != nil {
			return nil, fmt.Errorf("count webhook deliveries: %w", err)
		}
		return tx.Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
			WHERE endpoint_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3`, endpointID, limit, offset)
	})
	return out, total, err
}

// DeliveriesBefore returns up to limit of the endpoint's deliveries whose
// id is below before (0: from the newest), newest first, each with its
// attempts: keyset paging over the (endpoint_id, id) index. ErrNotFound as
// ListDeliveries.
func (s *Deliveries) DeliveriesBefore(ctx context.Context, accountID, endpointID, before int64, limit int) ([]DeliveryLog, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	return s.deliveryLogs(ctx, accountID, endpointID, func(tx pgx.Tx) (pgx.Rows, error) {
		return tx.Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
			WHERE endpoint_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, endpointID, before, limit)
	})
}

// deliveryLogs reads the deliveries that query selects (deliveryColumns)
// of the account's endpoint, with their attempts, in one read-only
// snapshot: a delivery and its attempts as of one moment, even while a
// deliverer records an attempt. ErrNotFound when the endpoint does not
// exist, was deleted, or belongs to another account.
func (s *Deliveries) deliveryLogs(ctx context.Context, accountID, endpointID int64, query func(pgx.Tx) (pgx.Rows, error)) ([]DeliveryLog, error) {
	var out []DeliveryLog
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM webhook_endpoints WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL`,
			endpointID, accountID).Scan(&one); err != nil {
			return fmt.Errorf("webhook endpoint %d: %w", endpointID, interpretError(err))
		}
		rows, err := query(tx)
		if err != nil {
			return fmt.Errorf("list webhook deliveries: %w", err)
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (DeliveryLog, error) {
			d := DeliveryLog{Log: []Attempt{}}
			return d, scanDelivery(row, &d.Delivery)
		})
		if err != nil || len(out) == 0 {
			return err
		}
		index := make(map[int64]int, len(out))
		ids := make([]int64, len(out))
		for i, d := range out {
			index[d.ID], ids[i] = i, d.ID
		}
		rows, err = tx.Query(ctx, `SELECT delivery_id, attempt, COALESCE(status_code, 0), latency_ms,
				COALESCE(response_excerpt, ''), COALESCE(error, ''), attempted_at
			FROM webhook_attempts WHERE delivery_id = ANY($1) ORDER BY delivery_id, attempt, id`, ids)
		if err != nil {
			return fmt.Errorf("list webhook attempts: %w", err)
		}
		var a Attempt
		var ms int64
		_, err = pgx.ForEachRow(rows, []any{&a.DeliveryID, &a.Number, &a.StatusCode, &ms, &a.ResponseExcerpt, &a.Error, &a.AttemptedAt}, func() error {
			a.Latency = time.Duration(ms) * time.Millisecond
			i := index[a.DeliveryID]
			out[i].Log = append(out[i].Log, a)
			return nil
		})
		if err != nil {
			return fmt.Errorf("list webhook attempts: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []DeliveryLog{}
	}
	return out, nil
}

// sendable returns endpoint id of account if something may be sent to it
// now: ErrNotFound when it is not the account's, ErrEndpointDisabled when
// it is disabled, ErrEndpointPaused when it is paused.
func (s *Deliveries) sendable(ctx context.Context, accountID, endpointID int64) (WebhookEndpoint, error) {
	ep, err := s.endpoints.Endpoint(ctx, accountID, endpointID)
	switch {
	case err != nil:
		return WebhookEndpoint{}, err
	case ep.DisabledAt != nil:
		return WebhookEndpoint{}, fmt.Errorf("webhook endpoint %d: %w", endpointID, ErrEndpointDisabled)
	case ep.PausedAt != nil:
		return WebhookEndpoint{}, fmt.Errorf("webhook endpoint %d: %w", endpointID, ErrEndpointPaused)
	}
	return ep, nil
}

// EnqueueTest stores d, a delivery that is not an event of the store (a
// test event: its EventID is new and its Payload made by the caller), as
// pending and due now for the account's endpoint d.EndpointID, and returns
// it. It goes out, signed and retried, like every other delivery, and is
// listed in the endpoint's delivery log. ErrNotFound, ErrEndpointDisabled
// or ErrEndpointPaused as Resend.
func (s *Deliveries) EnqueueTest(ctx context.Context, accountID int64, d NewDelivery) (Delivery, error) {
	if _, err := s.sendable(ctx, accountID, d.EndpointID); err != nil {
		return Delivery{}, err
	}
	var out Delivery
	err := scanDelivery(s.pool.QueryRow(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload, next_attempt_at)
		VALUES ($1, $2, $3, $4, now()) RETURNING `+deliveryColumns, d.EndpointID, d.EventID, d.EventType, d.Payload), &out)
	if err != nil {
		return Delivery{}, fmt.Errorf("enqueue test delivery: %w", interpretError(err))
	}
	return out, nil
}

// Resend makes a finished (succeeded or failed) delivery pending and due
// now; its attempt count continues. ErrNotFound when the endpoint or the
// delivery is not the account's; ErrEndpointDisabled when the endpoint is
// disabled, ErrEndpointPaused when it is paused; ErrDeliveryPending when the delivery has not finished (it may
// be in flight, and resending it would race that attempt).
func (s *Deliveries) Resend(ctx context.Context, accountID, endpointID, deliveryID int64) (Delivery, error) {
	if _, err := s.sendable(ctx, accountID, endpointID); err != nil {
		return Delivery{}, fmt.Errorf("resend delivery %d: %w", deliveryID, err)
	}
	var d Delivery
	err := scanDelivery(s.pool.QueryRow(ctx, `UPDATE webhook_deliveries
		SET state = 'pending', next_attempt_at = now(), claimed_by = NULL, claimed_at = NULL, updated_at = now()
		WHERE id = $1 AND endpoint_id = $2 AND state <> 'pending'
		RETURNING `+deliveryColumns, deliveryID, endpointID), &d)
	if errors.Is(err, pgx.ErrNoRows) {
		var state string
		err = s.pool.QueryRow(ctx, `SELECT state FROM webhook_deliveries WHERE id = $1 AND endpoint_id = $2`, deliveryID, endpointID).Scan(&state)
		if err == nil {
			err = ErrDeliveryPending
		}
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("resend delivery %d: %w", deliveryID, interpretError(err))
	}
	return d, nil
}

// PlanDelivery is a delivery of one of a plan's events: the endpoint's
// URL and the last attempt's answer.
type PlanDelivery struct {
	Delivery
	EndpointURL string
	Last        *Attempt // nil before the first attempt
}

// PlanDeliveries returns the newest deliveries (at most limit) of the
// events of stream to account's endpoints (deleted ones included: the
// deliveries happened), newest first.
func (s *Deliveries) PlanDeliveries(ctx context.Context, accountID int64, stream string, limit int) ([]PlanDelivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT d.id, d.endpoint_id, d.event_id, d.event_type, d.state, d.attempts,
			d.next_attempt_at, d.created_at, d.updated_at, en.url,
			a.attempt, COALESCE(a.status_code, 0), a.latency_ms, COALESCE(a.response_excerpt, ''), COALESCE(a.error, ''), a.attempted_at
		FROM webhook_deliveries d
		JOIN webhook_endpoints en ON en.id = d.endpoint_id AND en.account_id = $1
		LEFT JOIN LATERAL (SELECT * FROM webhook_attempts WHERE delivery_id = d.id ORDER BY attempt DESC, id DESC LIMIT 1) a ON true
		WHERE d.event_id IN (SELECT event_id FROM events WHERE stream_id = $2)
		ORDER BY d.id DESC LIMIT $3`, accountID, stream, limit)
	if err != nil {
		return nil, fmt.Errorf("plan deliveries of %s: %w", stream, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (PlanDelivery, error) {
		var d PlanDelivery
		var number *int
		var ms *int64
		var a Attempt
		var at *time.Time
		err := row.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.EventType, &d.State, &d.Attempts, &d.NextAttemptAt,
			&d.CreatedAt, &d.UpdatedAt, &d.EndpointURL, &number, &a.StatusCode, &ms, &a.ResponseExcerpt, &a.Error, &at)
		if err == nil && number != nil && ms != nil && at != nil {
			a.DeliveryID, a.Number, a.Latency, a.AttemptedAt = d.ID, *number, time.Duration(*ms)*time.Millisecond, *at
			d.Last = &a
		}
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("plan deliveries of %s: %w", stream, err)
	}
	return out, nil
}
