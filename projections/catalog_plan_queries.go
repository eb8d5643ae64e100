package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"goodplan/eventstore"
)

// ErrUnknownCursor is returned by List for a starting_after that names no
// listed plan of the account.
var ErrUnknownCursor = fmt.Errorf("starting_after names no catalog plan: %w", eventstore.ErrNotFound)

// scanCatalogPlan reads a row's plan and version.
func scanCatalogPlan(row pgx.Row) (CatalogPlan, error) {
	var doc []byte
	var version int64
	if err := row.Scan(&doc, &version); err != nil {
		return CatalogPlan{}, err
	}
	var v CatalogPlan
	if err := json.Unmarshal(doc, &v); err != nil {
		return CatalogPlan{}, fmt.Errorf("catalog plan view: %w", err)
	}
	v.Version = version
	return v, nil
}

// collectCatalogPlans reads every row of rows (plan, version), closing
// it; what names the query in errors.
func collectCatalogPlans(rows pgx.Rows, what string) ([]CatalogPlan, error) {
	defer rows.Close()
	items := []CatalogPlan{}
	for rows.Next() {
		v, err := scanCatalogPlan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		items = append(items, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return items, nil
}

// Get returns the catalog plan that publicID names in account: the one
// not deleted, else the one deleted last (it stays readable, with
// deleted_at). eventstore.ErrNotFound when the account has none, also when
// the projection has not reached it yet.
func (c *CatalogPlans) Get(ctx context.Context, account int64, publicID string) (CatalogPlan, error) {
	v, err := scanCatalogPlan(c.Store.Pool().QueryRow(ctx, `SELECT plan, version FROM catalog_plan_views
		WHERE account_id = $1 AND public_id = $2
		ORDER BY deleted_at IS NULL DESC, catalog_plan_id DESC LIMIT 1`, account, publicID))
	if err == pgx.ErrNoRows {
		return CatalogPlan{}, fmt.Errorf("catalog plan %q: %w", publicID, eventstore.ErrNotFound)
	}
	return v, err
}

// GetByID returns catalog plan id (internal) of account, or
// eventstore.ErrNotFound (also when the projection has not reached it).
func (c *CatalogPlans) GetByID(ctx context.Context, account, id int64) (CatalogPlan, error) {
	v, err := scanCatalogPlan(c.Store.Pool().QueryRow(ctx, `SELECT plan, version FROM catalog_plan_views
		WHERE account_id = $1 AND catalog_plan_id = $2`, account, id))
	if err == pgx.ErrNoRows {
		return CatalogPlan{}, fmt.Errorf("catalog plan %d: %w", id, eventstore.ErrNotFound)
	}
	return v, err
}

// CatalogListQuery selects a page of an account's catalog plans not
// deleted, newest first. Zero values do not filter.
type CatalogListQuery struct {
	AccountID int64
	// Limit is the page size (1..100).
	Limit int
	// StartingAfter is the public id of the last plan of the previous page.
	StartingAfter string
	// UpdatedAfter keeps plans updated strictly after it.
	UpdatedAfter time.Time
	// Currency (upper case) and Interval match exactly.
	Currency, Interval string
	// Active, when set, keeps plans with that active flag.
	Active *bool
}

// List returns a page of plans and whether more follow.
// ErrUnknownCursor for a StartingAfter that is not a listed plan.
func (c *CatalogPlans) List(ctx context.Context, q CatalogListQuery) ([]CatalogPlan, bool, error) {
	sql := `SELECT plan, version FROM catalog_plan_views WHERE account_id = $1 AND deleted_at IS NULL`
	args := []any{q.AccountID}
	arg := func(cond string, v any) {
		args = append(args, v)
		sql += " AND " + cond + " $" + strconv.Itoa(len(args))
	}
	if q.StartingAfter != "" {
		var cursor int64
		err := c.Store.Pool().QueryRow(ctx, `SELECT catalog_plan_id FROM catalog_plan_views
			WHERE account_id = $1 AND public_id = $2 AND deleted_at IS NULL`, q.AccountID, q.StartingAfter).Scan(&cursor)
		if err == pgx.ErrNoRows {
			return nil, false, ErrUnknownCursor
		}
		if err != nil {
			return nil, false, fmt.Errorf("list catalog plans: %w", err)
		}
		arg("catalog_plan_id <", cursor)
	}
	if !q.UpdatedAfter.IsZero() {
		arg("updated_at >", q.UpdatedAfter)
	}
	if q.Currency != "" {
		arg("currency =", q.Currency)
	}
	if q.Interval != "" {
		arg("interval =", q.Interval)
	}
	if q.Active != nil {
		arg("active =", *q.Active)
	}
	args = append(args, q.Limit+1)
	sql += " ORDER BY catalog_plan_id DESC LIMIT $" + strconv.Itoa(len(args))
	rows, err := c.Store.Pool().Query(ctx, sql, args...)
	if err != nil {
		return nil, false, fmt.Errorf("list catalog plans: %w", err)
	}
	items, err := collectCatalogPlans(rows, "list catalog plans")
	if err != nil {
		return nil, false, err
	}
	more := len(items) > q.Limit
	if more {
		items = items[:q.Limit]
	}
	return items, more, nil
}
