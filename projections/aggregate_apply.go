package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"goodplan/eventstore"
)

// applyAggregate is the Apply of a read model with one row per aggregate of
// agg (table, keyed by idColumn, with a version column): records of other
// streams are ignored; a row at or past rec.Version is left alone;
// otherwise the aggregate is folded from all its events in the store and
// handed to write, which must guard on the version so that the row never
// moves backwards. So it is idempotent under redelivery and reordering.
func applyAggregate[A any](ctx context.Context, store *eventstore.Store, agg eventstore.Aggregate[A], table, idColumn string,
	rec eventstore.Record, write func(A) error) error {
	id, ok := agg.IDOf(rec.StreamID)
	if !ok {
		return nil
	}
	var version int64
	err := store.Pool().QueryRow(ctx, `SELECT version FROM `+table+` WHERE `+idColumn+` = $1`, id).Scan(&version)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("project %s %d: %w", agg.Name, id, err)
	}
	if version >= rec.Version {
		return nil
	}
	a, _, _, err := agg.Load(ctx, store, id)
	if err != nil {
		return fmt.Errorf("project %s %d: %w", agg.Name, id, err)
	}
	return write(a)
}
