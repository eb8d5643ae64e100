package projections

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Search is the page-numbered, sortable and filterable list of catalog
// plans (the Invoiced dialect's GET /plans). Every query is scoped to one
// account's plans not deleted, which the partial indexes of migration 009
// select; the filters and sort keys that live only in the plan document
// (name, catalog_item, pricing_mode, ...) are evaluated on that account's
// rows, which a catalog keeps few enough of (hundreds, not millions) that
// an expression index per column would cost every write more than it
// saves a read.

// CatalogSortKey is one term of a Search's order: a column of the plan
// object (see CatalogSortable) and a direction.
type CatalogSortKey struct {
	Column string
	Desc   bool
}

// catalogSortExprs maps each sortable column to its SQL expression. Text
// sorts byte-wise (COLLATE "C"), whatever the database's collation, so an
// order is the same on every installation; the interval sorts by length.
var catalogSortExprs = map[string]string{
	"id":             `public_id COLLATE "C"`,
	"name":           `(plan->>'name') COLLATE "C"`,
	"catalog_item":   `(plan->>'catalog_item') COLLATE "C"`,
	"currency":       `currency COLLATE "C"`,
	"amount":         `(plan->>'amount')::numeric`,
	"pricing_mode":   `(plan->>'pricing_mode') COLLATE "C"`,
	"quantity_type":  `(plan->>'quantity_type') COLLATE "C"`,
	"interval":       `CASE interval WHEN 'day' THEN 1 WHEN 'week' THEN 2 WHEN 'month' THEN 3 ELSE 4 END`,
	"interval_count": `(plan->>'interval_count')::int`,
	"created_at":     `created_at`,
	"updated_at":     `updated_at`,
}

// CatalogSortable reports whether Search can order by column.
func CatalogSortable(column string) bool {
	_, ok := catalogSortExprs[column]
	return ok
}

// CatalogSearch selects a page of an account's catalog plans not deleted.
// Zero values do not filter.
type CatalogSearch struct {
	AccountID int64
	// Sort orders the plans, first key first; none means newest first.
	// Plans equal on every key keep their creation order, in the direction
	// of the first key.
	Sort []CatalogSortKey
	// Currency (upper case), Interval, PricingMode and CatalogItem match
	// exactly; IntervalCount 0 does not filter.
	Currency, Interval, PricingMode, CatalogItem string
	IntervalCount                                int
	// UpdatedSince keeps plans updated at or after it.
	UpdatedSince time.Time
	// Limit (1..100) plans after skipping Offset.
	Limit, Offset int
}

// Search returns the page q selects and how many plans match in all. A
// column Sort names that CatalogSortable refuses is an error.
func (c *CatalogPlans) Search(ctx context.Context, q CatalogSearch) ([]CatalogPlan, int, error) {
	order, err := catalogOrder(q.Sort)
	if err != nil {
		return nil, 0, err
	}
	where := ` FROM catalog_plan_views WHERE account_id = $1 AND deleted_at IS NULL`
	args := []any{q.AccountID}
	match := func(expr string, v any) {
		args = append(args, v)
		where += " AND " + expr + " = $" + strconv.Itoa(len(args))
	}
	if q.Currency != "" {
		match("currency", q.Currency)
	}
	if q.Interval != "" {
		match("interval", q.Interval)
	}
	if q.PricingMode != "" {
		match("plan->>'pricing_mode'", q.PricingMode)
	}
	if q.CatalogItem != "" {
		match("plan->>'catalog_item'", q.CatalogItem)
	}
	if q.IntervalCount != 0 {
		match("(plan->>'interval_count')::int", q.IntervalCount)
	}
	if !q.UpdatedSince.IsZero() {
		args = append(args, q.UpdatedSince)
		where += " AND updated_at >= $" + strconv.Itoa(len(args))
	}
	var total int
	if err := c.Store.Pool().QueryRow(ctx, `SELECT count(*)`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count catalog plans: %w", err)
	}
	args = append(args, q.Limit, q.Offset)
	rows, err := c.Store.Pool().Query(ctx, `SELECT plan, version`+where+` ORDER BY `+order+
		` LIMIT $`+strconv.Itoa(len(args)-1)+` OFFSET $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("search catalog plans: %w", err)
	}
	items, err := collectCatalogPlans(rows, "search catalog plans")
	return items, total, err
}

// catalogOrder is the ORDER BY list of keys, ending with the internal id
// (creation order) so that the order is total and pages never overlap.
func catalogOrder(keys []CatalogSortKey) (string, error) {
	if len(keys) == 0 {
		return "catalog_plan_id DESC", nil
	}
	terms := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		expr, ok := catalogSortExprs[k.Column]
		if !ok {
			return "", fmt.Errorf("sort catalog plans by %q: not a sortable column", k.Column)
		}
		terms = append(terms, expr+direction(k.Desc)+" NULLS LAST")
	}
	terms = append(terms, "catalog_plan_id"+direction(keys[0].Desc))
	return strings.Join(terms, ", "), nil
}

func direction(desc bool) string {
	if desc {
		return " DESC"
	}
	return " ASC"
}
