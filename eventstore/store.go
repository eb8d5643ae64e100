// Package eventstore is goodplan's source of truth: an append-only,
// hash-chained log of events in PostgreSQL (DESIGN.md section 2), and the
// plain tables kept beside it (accounts, keys and dashboard users, webhook endpoints and
// their delivery queue, dead letters, locks, instance secrets).
//
// Appends are one round trip and take no global or advisory lock; optimistic
// concurrency is a version check on the stream row. Readers tail the log in
// (tx_id, global_position) order and only see transactions below the xmin
// horizon, so no reader ever skips an event that commits late.
package eventstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is every part of the store on one pool. Each part is a type named
// for what it holds; Store embeds them, so store.LoadPlan and
// store.CreateAccount both work, and a caller that needs one concern only
// can take that part (store.Events, store.Deliveries, ...). It is safe for
// concurrent use.
type Store struct {
	*Events
	*Accounts
	*WebhookEndpoints
	*Deliveries
	*DeadLetters
	*Locks
	*Secrets
	*Users

	pool *pgxpool.Pool
}

// New returns a Store on pool. The schema must be migrated (see Migrate).
func New(pool *pgxpool.Pool) *Store {
	endpoints := &WebhookEndpoints{pool: pool}
	return &Store{
		Events:           newEvents(pool),
		Accounts:         &Accounts{pool: pool},
		WebhookEndpoints: endpoints,
		Deliveries:       &Deliveries{pool: pool, endpoints: endpoints},
		DeadLetters:      &DeadLetters{pool: pool},
		Locks:            &Locks{pool: pool},
		Secrets:          &Secrets{pool: pool},
		Users:            &Users{pool: pool},
		pool:             pool,
	}
}

// Pool returns the connection pool the store uses.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the database answers within two seconds.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return s.pool.Ping(ctx)
}
