package projections

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"goodplan/eventstore"
)

// A plan whose stream has an unresolved dead letter (some consumer set one
// of its events aside: see workers.Consumer) may have a read-model row that
// is behind, or none. Reads of such a plan fold it from the store, the
// source of truth, so the plan still answers; the row is used again once
// it has caught up or every dead letter of the stream is resolved. The
// dead letters table has an index on the unresolved ones by stream, so the
// check costs one index probe per row read.

// deadLetteredColumn is true for a plan_views row (alias v) whose stream
// has an unresolved dead letter and more events than the row has folded (a
// row that has them all is the fold).
const deadLetteredColumn = `(EXISTS (SELECT 1 FROM dead_letters d WHERE d.stream_id = '` + eventstore.PlanStreamPrefix + `' || v.plan_id AND d.resolved_at IS NULL)
	AND v.version < (SELECT s.version FROM streams s WHERE s.stream_id = '` + eventstore.PlanStreamPrefix + `' || v.plan_id))`

// maxDeadLetteredStreams bounds how many dead-lettered plans a portal token
// lookup that the read model cannot answer folds.
const maxDeadLetteredStreams = 50

// folded is plan id of account folded from the store, or
// eventstore.ErrNotFound.
func (p *Plans) folded(ctx context.Context, accountID, id int64, publicURL string) (Detail, error) {
	plan, _, err := p.Store.CurrentPlan(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	if plan.AccountID() != accountID {
		return Detail{}, fmt.Errorf("plan %d: %w", id, eventstore.ErrNotFound)
	}
	return DetailOf(plan, publicURL), nil
}

// deadLetteredPlanByToken looks for the plan with portal token among the
// plans with an unresolved dead letter whose row is missing or behind their
// stream (it may carry an older token), or returns eventstore.ErrNotFound.
// Those are few (a projection failure each), and at most
// maxDeadLetteredStreams are folded, so an unknown token costs little.
func (p *Plans) deadLetteredPlanByToken(ctx context.Context, token string) (int64, error) {
	rows, err := p.Store.Pool().Query(ctx, `SELECT DISTINCT s.stream_id FROM dead_letters d
		JOIN streams s ON s.stream_id = d.stream_id
		LEFT JOIN `+p.table+` v ON d.stream_id = '`+eventstore.PlanStreamPrefix+`' || v.plan_id
		WHERE d.resolved_at IS NULL AND d.stream_id ~ '`+planStreamPattern+`' AND (v.plan_id IS NULL OR v.version < s.version)
		ORDER BY s.stream_id LIMIT $1`, maxDeadLetteredStreams)
	if err != nil {
		return 0, fmt.Errorf("portal token: %w", err)
	}
	streams, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("portal token: %w", err)
	}
	for _, s := range streams {
		id, ok := eventstore.PlanIDOf(s)
		if !ok {
			continue
		}
		plan, _, err := p.Store.CurrentPlan(ctx, id)
		if err != nil {
			continue // a plan that cannot be folded has no portal either
		}
		if plan.PortalToken() == token {
			return id, nil
		}
	}
	return 0, fmt.Errorf("portal token: %w", eventstore.ErrNotFound)
}
