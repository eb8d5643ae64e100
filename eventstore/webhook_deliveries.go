package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Deliveries is the leased queue of webhook deliveries and their attempt
// log: enqueued by the fan-out, claimed and recorded by the deliverers,
// listed and resent through the API.
type Deliveries struct {
	pool      *pgxpool.Pool
	endpoints *WebhookEndpoints // Resend checks the endpoint
}

// NewDelivery is one event to send to one endpoint; Payload is the exact
// body every attempt sends.
type NewDelivery struct {
	EndpointID int64
	EventID    uuid.UUID
	EventType  string
	Payload    []byte
}

// EnqueueDeliveries stores deliveries as pending and due now (the database's
// clock). A delivery of an event already enqueued for that endpoint is
// skipped, so the fan-out is idempotent by event id. It returns how many were
// new.
func (s *Deliveries) EnqueueDeliveries(ctx context.Context, ds []NewDelivery) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	endpoints := make([]int64, len(ds))
	ids := make([]string, len(ds))
	types := make([]string, len(ds))
	payloads := make([][]byte, len(ds))
	for i, d := range ds {
		endpoints[i], ids[i], types[i], payloads[i] = d.EndpointID, d.EventID.String(), d.EventType, d.Payload
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload, next_attempt_at)
		SELECT d.endpoint_id, d.event_id, d.event_type, d.payload, now()
		FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::bytea[]) AS d(endpoint_id, event_id, event_type, payload)
		ON CONFLICT (endpoint_id, event_id) DO NOTHING`, endpoints, ids, types, payloads)
	if err != nil {
		return 0, fmt.Errorf("enqueue webhook deliveries: %w", interpretError(err))
	}
	return int(tag.RowsAffected()), nil
}

// DueDelivery is a claimed delivery with what sending it needs.
type DueDelivery struct {
	ID         int64
	EndpointID int64
	EventID    uuid.UUID
	EventType  string
	Payload    []byte
	Attempts   int // attempts made before this claim
	URL        string
	Secret     string
	// PreviousSecret is the secret before the last rotation, and
	// PreviousSecretUntil until when deliveries are signed with it too
	// ("" and zero: no rotation pending).
	PreviousSecret      string
	PreviousSecretUntil time.Time
	// LeaseUntil is the delivery's next_attempt_at as this claim set it:
	// the claim's fencing token. Outcomes (AttemptOutcome.LeaseUntil) and
	// releases carry it, and apply only while the delivery still has it,
	// i.e. while no other claimer has taken the delivery since.
	LeaseUntil time.Time
	// RequestID and Traceparent name the request behind the delivery's
	// event (from its metadata; "" for none, and for test deliveries).
	RequestID   string
	Traceparent string
}

// ClaimOptions bound what one ClaimDue takes per endpoint.
type ClaimOptions struct {
	// PerEndpoint caps the deliveries of one endpoint the caller holds
	// (Busy plus the claimed ones); 0: no cap. Endpoints already at the cap
	// are skipped entirely, so their backlog cannot hide other endpoints'
	// due deliveries.
	PerEndpoint int
	// Busy is how many deliveries of each endpoint the caller already holds
	// (claimed and not yet recorded).
	Busy map[int64]int
	// Owner, if set, is recorded as the claims' owner (claimed_by): a
	// deliverer that holds the advisory lock OwnerLockName(Owner) for its
	// lifetime, so that its claims can be taken over soon after it dies
	// (TakeOverDeliveries) rather than when their lease runs out. Zero:
	// only the lease frees the claims.
	Owner uuid.UUID
}

// asyncCommit is a CTE (referenced as async_commit) that makes the
// statement's transaction commit without waiting for its WAL flush
// (synchronous_commit = off for this transaction only). Claims and attempt
// records use it: a crash of PostgreSQL can lose their last fraction of a
// second, which only means those deliveries are attempted again (at least
// once, same webhook-id), while other sessions see every commit at once, so
// leases still keep replicas apart. It quadruples what the database can
// commit per second; enqueueing stays synchronous, since losing a delivery
// would lose a webhook.
const asyncCommit = `async_commit AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true))`

// claimWindow is how many due rows per claimed row ClaimDue looks at when
// capping per endpoint.
const claimWindow = 8

// ClaimDue takes up to limit pending deliveries due at now (oldest due
// first) and pushes their next_attempt_at to now+lease, so no other claimer
// (replica) takes them while they are in flight; rows another claimer holds
// locked are skipped (FOR UPDATE SKIP LOCKED). A claimer that dies mid-way
// leaves its deliveries to be claimed again when the lease runs out
// (at-least-once), or sooner when it named itself as opts.Owner (see
// TakeOverDeliveries); so does one that lags past its lease, whose outcomes are
// then fenced out (see DueDelivery.LeaseUntil). Deliveries of endpoints
// deleted or disabled since they were enqueued are failed instead of
// returned; so are those of endpoints paused since (a delivery enqueued
// while PauseEndpoint ran).
func (s *Deliveries) ClaimDue(ctx context.Context, limit int, now time.Time, lease time.Duration, opts ClaimOptions) ([]DueDelivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	var busyIDs, busyN, saturated []int64
	for id, n := range opts.Busy {
		if n <= 0 {
			continue
		}
		busyIDs, busyN = append(busyIDs, id), append(busyN, int64(n))
		if opts.PerEndpoint > 0 && n >= opts.PerEndpoint {
			saturated = append(saturated, id)
		}
	}
	if saturated == nil {
		saturated = []int64{}
	}
	leaseUntil := now.Add(lease)
	var owner any // NULL: no owner
	if opts.Owner != uuid.Nil {
		owner = opts.Owner.String()
	}
	// The window function ranks each endpoint's due rows within a bounded
	// candidate set (saturated endpoints left out, so a dead endpoint's
	// backlog cannot fill it); the lock is taken in a separate step because
	// FOR UPDATE cannot sit beside a window function.
	rows, err := s.pool.Query(ctx, `WITH `+asyncCommit+`, cand AS (
		SELECT d.id, d.endpoint_id, d.next_attempt_at FROM webhook_deliveries d
		WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND d.endpoint_id <> ALL($3::bigint[])
		ORDER BY d.next_attempt_at
		LIMIT $2::int * $8::int
	), ranked AS (
		SELECT c.id, row_number() OVER (PARTITION BY c.endpoint_id ORDER BY c.next_attempt_at, c.id) + COALESCE(b.n, 0) AS slot
		FROM cand c LEFT JOIN unnest($4::bigint[], $5::bigint[]) AS b(endpoint_id, n) ON b.endpoint_id = c.endpoint_id
	), picked AS (
		SELECT d.id FROM webhook_deliveries d JOIN ranked r ON r.id = d.id
		WHERE ($6::int = 0 OR r.slot <= $6::int) AND d.state = 'pending' AND d.next_attempt_at <= $1
		ORDER BY d.next_attempt_at, d.id
		LIMIT $2
		FOR UPDATE OF d SKIP LOCKED
	)
	UPDATE webhook_deliveries d
	SET state = CASE WHEN e.deleted_at IS NULL AND e.disabled_at IS NULL AND e.paused_at IS NULL THEN 'pending' ELSE 'failed' END,
	    next_attempt_at = CASE WHEN e.deleted_at IS NULL AND e.disabled_at IS NULL AND e.paused_at IS NULL THEN $7::timestamptz END,
	    claimed_by = CASE WHEN e.deleted_at IS NULL AND e.disabled_at IS NULL AND e.paused_at IS NULL THEN $9::uuid END,
	    claimed_at = CASE WHEN e.deleted_at IS NULL AND e.disabled_at IS NULL AND e.paused_at IS NULL AND $9::uuid IS NOT NULL THEN now() END,
	    updated_at = now()
	FROM picked p, webhook_endpoints e, async_commit
	WHERE d.id = p.id AND e.id = d.endpoint_id
	RETURNING d.id, d.endpoint_id, d.event_id, d.event_type, d.payload, d.attempts, e.url, e.secret,
		COALESCE(e.previous_secret, ''), e.previous_secret_expires_at, d.next_attempt_at,
		(SELECT ev.metadata FROM events ev WHERE ev.event_id = d.event_id)`,
		now, limit, saturated, busyIDs, busyN, opts.PerEndpoint, leaseUntil, claimWindow, owner)
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	defer rows.Close()
	var out []DueDelivery
	for rows.Next() {
		var d DueDelivery
		var lease *time.Time // nil: failed (dead endpoint)
		var prevUntil *time.Time
		var meta []byte // nil: no such event (a test delivery)
		if err := rows.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.EventType, &d.Payload, &d.Attempts, &d.URL, &d.Secret, &d.PreviousSecret, &prevUntil, &lease, &meta); err != nil {
			return nil, fmt.Errorf("claim webhook deliveries: %w", err)
		}
		if meta != nil {
			var m Metadata
			if json.Unmarshal(meta, &m) == nil {
				d.RequestID, d.Traceparent = m.CorrelationID, m.Traceparent
			}
		}
		if prevUntil != nil {
			d.PreviousSecretUntil = *prevUntil
		} else {
			d.PreviousSecret = ""
		}
		if lease != nil {
			// As stored (microseconds), so the fence compares equal.
			d.LeaseUntil = *lease
			out = append(out, d)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	return out, nil
}

// ReleaseClaims makes claimed deliveries that were not attempted (the
// claimer is shutting down) due again at at, instead of when their lease
// runs out. Deliveries no longer pending, or claimed again since (their
// lease ran out first), are left alone.
func (s *Deliveries) ReleaseClaims(ctx context.Context, claims []DueDelivery, at time.Time) error {
	if len(claims) == 0 {
		return nil
	}
	ids := make([]int64, len(claims))
	leases := make([]time.Time, len(claims))
	for i, c := range claims {
		ids[i], leases[i] = c.ID, c.LeaseUntil
	}
	_, err := s.pool.Exec(ctx, `WITH `+asyncCommit+`
		UPDATE webhook_deliveries d SET next_attempt_at = $3, claimed_by = NULL, claimed_at = NULL, updated_at = now()
		FROM async_commit, unnest($1::bigint[], $2::timestamptz[]) AS c(id, lease_until)
		WHERE d.id = c.id AND d.state = 'pending' AND d.next_attempt_at = c.lease_until`, ids, leases, at)
	if err != nil {
		return fmt.Errorf("release webhook deliveries: %w", err)
	}
	return nil
}

// Attempt is one try at a delivery, as logged.
type Attempt struct {
	DeliveryID      int64
	Number          int // 1 for the first
	StatusCode      int // 0: no response (network error, timeout, refused address)
	Latency         time.Duration
	ResponseExcerpt string // the first bytes of the response body
	Error           string // "" when a response arrived
	AttemptedAt     time.Time
}

// AttemptOutcome is an attempt with what it decided for its delivery.
type AttemptOutcome struct {
	Attempt
	State         string    // DeliveryPending, DeliverySucceeded or DeliveryFailed
	NextAttemptAt time.Time // when State is DeliveryPending
	// LeaseUntil is the DueDelivery.LeaseUntil the attempt was made under:
	// the outcome changes the delivery only if it still has that lease.
	// Zero only for callers that hold no claim (tests, tools): the outcome
	// then applies to any pending delivery.
	LeaseUntil time.Time
}

// Text limits of the attempt log.
const (
	maxExcerptBytes = 1024
	maxErrorBytes   = 1024
)

// RecordAttempt logs o and updates its delivery (state, attempt count, next
// attempt) in one statement, so one transaction. The update is fenced: it
// applies only while the delivery is pending and still has o.LeaseUntil, so
// an outcome that arrives after another claimer took the delivery over
// (this one lagged past its lease) is logged but changes nothing; see
// RecordAttempts.
func (s *Deliveries) RecordAttempt(ctx context.Context, o AttemptOutcome) error {
	_, err := s.RecordAttempts(ctx, []AttemptOutcome{o})
	return err
}

// RecordAttempts is RecordAttempt for many attempts in one statement. Every
// attempt is logged (it happened), once: an attempt already in the log
// (same delivery, number and time: a retry of a write that committed) is
// not logged again; each delivery is updated only if it is
// still pending under the outcome's lease, and its attempt count never goes
// down. It returns the outcomes that were fenced out: their delivery had
// finished or was claimed again, so the other claimer's outcome stands.
func (s *Deliveries) RecordAttempts(ctx context.Context, os []AttemptOutcome) (stale []AttemptOutcome, err error) {
	if len(os) == 0 {
		return nil, nil
	}
	n := len(os)
	var (
		ids      = make([]int64, n)
		attempts = make([]int32, n)
		codes    = make([]*int32, n)
		latency  = make([]int32, n)
		excerpts = make([]*string, n)
		errs     = make([]*string, n)
		at       = make([]time.Time, n)
		states   = make([]string, n)
		next     = make([]*time.Time, n)
		leases   = make([]*time.Time, n)
	)
	for i, o := range os {
		ids[i], attempts[i], at[i], states[i] = o.DeliveryID, int32(o.Number), o.AttemptedAt, o.State
		latency[i] = int32(min(o.Latency.Milliseconds(), 1<<31-1))
		if o.StatusCode != 0 {
			c := int32(o.StatusCode)
			codes[i] = &c
		}
		if o.StatusCode != 0 || o.ResponseExcerpt != "" {
			e := cleanText(o.ResponseExcerpt, maxExcerptBytes)
			excerpts[i] = &e
		}
		if o.Error != "" {
			e := cleanText(o.Error, maxErrorBytes)
			errs[i] = &e
		}
		if o.State == DeliveryPending {
			t := o.NextAttemptAt
			next[i] = &t
		}
		if !o.LeaseUntil.IsZero() {
			t := o.LeaseUntil
			leases[i] = &t
		}
	}
	// The fence is in the UPDATE's WHERE: a row locked by a concurrent
	// claim or outcome is re-checked on its new version once that commits
	// (READ COMMITTED), so a claim that wins the race fences this out. The
	// log insert is a separate CTE and always runs.
	rows, err := s.pool.Query(ctx, `WITH `+asyncCommit+`, input AS (
		SELECT i.* FROM async_commit, unnest($1::bigint[], $2::int[], $3::int[], $4::int[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::timestamptz[], $10::timestamptz[])
			WITH ORDINALITY AS i(delivery_id, attempt, status_code, latency_ms, response_excerpt, error, attempted_at, state, next_attempt_at, lease_until, n)
	), logged AS (
		INSERT INTO webhook_attempts (delivery_id, attempt, status_code, latency_ms, response_excerpt, error, attempted_at)
		SELECT delivery_id, attempt, status_code, latency_ms, response_excerpt, error, attempted_at FROM input
		WHERE NOT EXISTS (SELECT 1 FROM webhook_attempts a
			WHERE a.delivery_id = input.delivery_id AND a.attempt = input.attempt AND a.attempted_at = input.attempted_at)
	)
	UPDATE webhook_deliveries d
	SET state = i.state, attempts = GREATEST(d.attempts, i.attempt), next_attempt_at = i.next_attempt_at,
	    claimed_by = NULL, claimed_at = NULL, updated_at = now()
	FROM input i
	WHERE d.id = i.delivery_id AND d.state = 'pending'
	  AND (i.lease_until IS NULL OR d.next_attempt_at = i.lease_until)
	RETURNING i.n`,
		ids, attempts, codes, latency, excerpts, errs, at, states, next, leases)
	if err != nil {
		return nil, fmt.Errorf("record webhook attempts: %w", interpretError(err))
	}
	applied := make([]bool, n)
	var ord int64
	_, err = pgx.ForEachRow(rows, []any{&ord}, func() error {
		applied[ord-1] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record webhook attempts: %w", interpretError(err))
	}
	for i, ok := range applied {
		if !ok {
			stale = append(stale, os[i])
		}
	}
	return stale, nil
}

// StorableText is s as PostgreSQL text (and jsonb) accept it: NUL and
// invalid UTF-8 become U+FFFD. s itself when it has neither.
func StorableText(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// cleanText makes s storable as PostgreSQL text for the delivery log:
// valid UTF-8, no NUL (dropped: a response body's NULs are noise), at most n
// bytes (cut on a rune boundary).
func cleanText(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
