package eventstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"goodplan/domain"
)

// WebhookEndpoints holds the merchants' webhook endpoints and their secrets.
type WebhookEndpoints struct {
	pool *pgxpool.Pool
}

// MaxWebhookEndpoints is how many endpoints (not deleted) an account may have.
const MaxWebhookEndpoints = 20

// WebhookSecretPrefix starts every endpoint secret (Standard Webhooks).
const WebhookSecretPrefix = "whsec_"

// Delivery states, as stored in webhook_deliveries.state.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// Errors of the webhook tables.
var (
	// ErrEndpointLimit: the account already has MaxWebhookEndpoints endpoints.
	ErrEndpointLimit = errors.New("webhook endpoint limit reached")
	// ErrEndpointDisabled: the endpoint was disabled (it answered 410), so
	// nothing can be sent to it.
	ErrEndpointDisabled = errors.New("webhook endpoint is disabled")
	// ErrDeliveryPending: the delivery is still pending (possibly in
	// flight), so it cannot be resent; it will be attempted on schedule.
	ErrDeliveryPending = errors.New("webhook delivery is still pending")
	// ErrEndpointPaused: the endpoint is paused by its merchant, so nothing
	// is sent to it until it is resumed.
	ErrEndpointPaused = errors.New("webhook endpoint is paused")
)

// WebhookEndpoint is a merchant's webhook target.
type WebhookEndpoint struct {
	ID             int64
	AccountID      int64
	URL            string
	Events         []string // see domain.SubscribesTo: empty means Good Plan's types, "*" every type
	Secret         string   // whsec_ + base64 of 24 random bytes
	CreatedAt      time.Time
	DisabledAt     *time.Time
	DisabledReason string
	// PausedAt is when the merchant paused the endpoint (nil: not paused).
	// While paused, events are skipped for it: no delivery is enqueued
	// (EndpointsFor leaves it out), none is claimed, and none can be
	// resent or tested; the deliveries pending when it was paused are
	// stopped. See PauseEndpoint.
	PausedAt *time.Time
}

// Subscribes reports whether the endpoint wants events of typ (see
// domain.SubscribesTo).
func (e WebhookEndpoint) Subscribes(typ string) bool {
	return domain.SubscribesTo(e.Events, typ)
}

// NewWebhookEndpoint is what CreateEndpoint needs; the secret is generated.
type NewWebhookEndpoint struct {
	AccountID int64
	URL       string
	Events    []string // empty or nil: Good Plan's types (see domain.SubscribesTo)
	// FormID is the dashboard form that asks for it ("" for none): the
	// account gets one endpoint per form, and a second submit of it makes
	// none (ErrFormUsed).
	FormID string
}

const endpointColumns = `id, account_id, url, events, secret, created_at, disabled_at, COALESCE(disabled_reason, ''), paused_at`

func scanEndpoint(row pgx.Row, e *WebhookEndpoint) error {
	return row.Scan(&e.ID, &e.AccountID, &e.URL, &e.Events, &e.Secret, &e.CreatedAt, &e.DisabledAt, &e.DisabledReason, &e.PausedAt)
}

func collectEndpoints(rows pgx.Rows) ([]WebhookEndpoint, error) {
	defer rows.Close()
	out := []WebhookEndpoint{}
	for rows.Next() {
		var e WebhookEndpoint
		if err := scanEndpoint(rows, &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// NewWebhookSecret returns "whsec_" and the standard base64 of 24 bytes from
// crypto/rand.
func NewWebhookSecret() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// CreateEndpoint stores a new endpoint with a new secret and returns it (the
// only time the caller should show the secret). It returns ErrEndpointLimit
// when the account already has MaxWebhookEndpoints endpoints, ErrNotFound
// when the account does not exist. The account row is locked for the count,
// so concurrent creations cannot exceed the limit.
func (s *WebhookEndpoints) CreateEndpoint(ctx context.Context, ne NewWebhookEndpoint) (WebhookEndpoint, error) {
	events := ne.Events
	if events == nil {
		events = []string{}
	}
	var out WebhookEndpoint
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Lock first, count second: a count in the locking statement would
		// be read from the snapshot taken before the lock wait.
		var one, n int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, ne.AccountID).Scan(&one); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM webhook_endpoints WHERE account_id = $1 AND deleted_at IS NULL`,
			ne.AccountID).Scan(&n); err != nil {
			return err
		}
		var formID *string
		if ne.FormID != "" {
			formID = &ne.FormID
			var used bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE account_id = $1 AND form_id = $2)`,
				ne.AccountID, ne.FormID).Scan(&used); err != nil {
				return err
			}
			if used {
				return ErrFormUsed
			}
		}
		if n >= MaxWebhookEndpoints {
			return ErrEndpointLimit
		}
		return scanEndpoint(tx.QueryRow(ctx, `INSERT INTO webhook_endpoints (account_id, url, events, secret, form_id)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+endpointColumns,
			ne.AccountID, ne.URL, events, NewWebhookSecret(), formID), &out)
	})
	if err != nil {
		return WebhookEndpoint{}, fmt.Errorf("create webhook endpoint for account %d: %w", ne.AccountID, interpretError(err))
	}
	return out, nil
}

// Endpoint returns endpoint id of account, or ErrNotFound when it does not
// exist, was deleted, or belongs to another account.
func (s *WebhookEndpoints) Endpoint(ctx context.Context, accountID, id int64) (WebhookEndpoint, error) {
	var e WebhookEndpoint
	err := scanEndpoint(s.pool.QueryRow(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints
		WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL`, id, accountID), &e)
	if err != nil {
		return WebhookEndpoint{}, fmt.Errorf("webhook endpoint %d: %w", id, interpretError(err))
	}
	return e, nil
}

// Endpoints returns the account's endpoints that are not deleted, oldest
// first.
func (s *WebhookEndpoints) Endpoints(ctx context.Context, accountID int64) ([]WebhookEndpoint, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints
		WHERE account_id = $1 AND deleted_at IS NULL ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	out, err := collectEndpoints(rows)
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	return out, nil
}

// EndpointsFor returns the account's endpoints that should receive an event
// of eventType: not deleted, not disabled, not paused, and subscribed to it
// (see WebhookEndpoint.Subscribes).
func (s *WebhookEndpoints) EndpointsFor(ctx context.Context, accountID int64, eventType string) ([]WebhookEndpoint, error) {
	// The query narrows, Subscribes decides: one definition of who gets
	// what.
	rows, err := s.pool.Query(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints
		WHERE account_id = $1 AND deleted_at IS NULL AND disabled_at IS NULL AND paused_at IS NULL
		  AND (cardinality(events) = 0 OR $2 = ANY(events) OR $3 = ANY(events))
		ORDER BY id`, accountID, eventType, domain.AllWebhookEvents)
	if err != nil {
		return nil, fmt.Errorf("webhook endpoints for %s: %w", eventType, err)
	}
	all, err := collectEndpoints(rows)
	if err != nil {
		return nil, fmt.Errorf("webhook endpoints for %s: %w", eventType, err)
	}
	return slices.DeleteFunc(all, func(e WebhookEndpoint) bool { return !e.Subscribes(eventType) }), nil
}

// WebhookSecretOverlap is how long after a rotation deliveries are still
// signed with the previous secret too.
const WebhookSecretOverlap = 24 * time.Hour

// RotateEndpointSecret gives endpoint id of account a new secret and
// returns the endpoint with it (the only time the caller should show it).
// Until now+WebhookSecretOverlap deliveries are signed with the new and the
// previous secret; a second rotation within that window drops the oldest
// secret at once (only the newest two are ever kept). ErrNotFound when the
// endpoint does not exist, was deleted, or belongs to another account.
func (s *WebhookEndpoints) RotateEndpointSecret(ctx context.Context, accountID, id int64, now time.Time) (WebhookEndpoint, error) {
	return s.rotateEndpointSecret(ctx, accountID, id, now, nil)
}

// RotateEndpointSecretOnce is RotateEndpointSecret for the dashboard form
// formID: the endpoint's secret is rotated once per form, and a second
// call with the same formID rotates nothing and returns ErrFormUsed (a
// second rotation would end the secret the receiver still uses at once).
func (s *WebhookEndpoints) RotateEndpointSecretOnce(ctx context.Context, accountID, id int64, now time.Time, formID string) (WebhookEndpoint, error) {
	return s.rotateEndpointSecret(ctx, accountID, id, now, &formID)
}

func (s *WebhookEndpoints) rotateEndpointSecret(ctx context.Context, accountID, id int64, now time.Time, formID *string) (WebhookEndpoint, error) {
	var e WebhookEndpoint
	// The form's check is in the UPDATE's WHERE, which a concurrent
	// rotation of the same row makes PostgreSQL evaluate again on the
	// rotated row.
	err := scanEndpoint(s.pool.QueryRow(ctx, `UPDATE webhook_endpoints
		SET previous_secret = secret, previous_secret_expires_at = $3, secret = $4,
			rotate_form_id = coalesce($5, rotate_form_id)
		WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL AND ($5::text IS NULL OR rotate_form_id IS DISTINCT FROM $5)
		RETURNING `+endpointColumns, id, accountID, now.Add(WebhookSecretOverlap), NewWebhookSecret(), formID), &e)
	if errors.Is(err, pgx.ErrNoRows) && formID != nil {
		if _, err := s.Endpoint(ctx, accountID, id); err != nil {
			return WebhookEndpoint{}, err
		}
		return WebhookEndpoint{}, fmt.Errorf("rotate webhook endpoint %d secret: %w", id, ErrFormUsed)
	}
	if err != nil {
		return WebhookEndpoint{}, fmt.Errorf("rotate webhook endpoint %d secret: %w", id, interpretError(err))
	}
	return e, nil
}

// DeleteEndpoint soft-deletes endpoint id of account and fails its pending
// deliveries, so nothing more is sent to it. ErrNotFound when it does not
// exist, is already deleted, or belongs to another account.
func (s *WebhookEndpoints) DeleteEndpoint(ctx context.Context, accountID, id int64) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE webhook_endpoints SET deleted_at = now()
			WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL`, id, accountID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return stopPending(ctx, tx, id)
	})
	if err != nil {
		return fmt.Errorf("delete webhook endpoint %d: %w", id, interpretError(err))
	}
	return nil
}

// DisableEndpoint marks endpoint id disabled with reason (e.g. it answered
// 410 Gone) and fails its pending deliveries. Disabling twice keeps the first
// time and reason. ErrNotFound if the endpoint does not exist.
func (s *WebhookEndpoints) DisableEndpoint(ctx context.Context, id int64, reason string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `UPDATE webhook_endpoints
			SET disabled_at = COALESCE(disabled_at, now()), disabled_reason = COALESCE(disabled_reason, $2)
			WHERE id = $1 RETURNING 1`, id, cleanText(reason, 1000)).Scan(&one)
		if err != nil {
			return err
		}
		return stopPending(ctx, tx, id)
	})
	if err != nil {
		return fmt.Errorf("disable webhook endpoint %d: %w", id, interpretError(err))
	}
	return nil
}

// stopPending fails the endpoint's pending deliveries. A delivery in flight
// at that moment still logs its attempt afterwards, but its outcome leaves
// the delivery failed (RecordAttempts only changes pending deliveries). A
// delivery enqueued concurrently (the fan-out read the endpoint before it
// was stopped) is failed by ClaimDue when it comes due.
func stopPending(ctx context.Context, tx pgx.Tx, endpointID int64) error {
	_, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET state = 'failed', next_attempt_at = NULL, claimed_by = NULL, claimed_at = NULL, updated_at = now()
		WHERE endpoint_id = $1 AND state = 'pending'`, endpointID)
	return err
}

// PauseEndpoint pauses endpoint id of account (a no-op if it is paused
// already) and returns it. Events are skipped for a paused endpoint, not
// queued: no delivery is enqueued for an event recorded while it is
// paused, and the deliveries pending when it is paused are stopped
// (failed), so resuming never releases a burst of stale events; the
// merchant can resend any of them from the delivery log once it is
// resumed. ErrNotFound when it does not exist, was deleted, or belongs to
// another account.
func (s *WebhookEndpoints) PauseEndpoint(ctx context.Context, accountID, id int64) (WebhookEndpoint, error) {
	var e WebhookEndpoint
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := scanEndpoint(tx.QueryRow(ctx, `UPDATE webhook_endpoints SET paused_at = COALESCE(paused_at, now())
			WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL
			RETURNING `+endpointColumns, id, accountID), &e); err != nil {
			return err
		}
		return stopPending(ctx, tx, id)
	})
	if err != nil {
		return WebhookEndpoint{}, fmt.Errorf("pause webhook endpoint %d: %w", id, interpretError(err))
	}
	return e, nil
}

// ResumeEndpoint resumes endpoint id of account (a no-op if it is not
// paused) and returns it: events recorded from now on are delivered
// again. ErrNotFound as PauseEndpoint.
func (s *WebhookEndpoints) ResumeEndpoint(ctx context.Context, accountID, id int64) (WebhookEndpoint, error) {
	var e WebhookEndpoint
	err := scanEndpoint(s.pool.QueryRow(ctx, `UPDATE webhook_endpoints SET paused_at = NULL
		WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL
		RETURNING `+endpointColumns, id, accountID), &e)
	if err != nil {
		return WebhookEndpoint{}, fmt.Errorf("resume webhook endpoint %d: %w", id, interpretError(err))
	}
	return e, nil
}
