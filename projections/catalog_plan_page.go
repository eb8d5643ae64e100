package projections

import (
	"context"
	"fmt"
)

// Page returns the account's catalog plans not deleted, newest first,
// skipping offset and at most limit of them, with how many there are in
// all (the offset pagination of the 4Geeks dialect).
func (c *CatalogPlans) Page(ctx context.Context, account int64, limit, offset int) ([]CatalogPlan, int, error) {
	var total int
	if err := c.Store.Pool().QueryRow(ctx, `SELECT count(*) FROM catalog_plan_views
		WHERE account_id = $1 AND deleted_at IS NULL`, account).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count catalog plans: %w", err)
	}
	rows, err := c.Store.Pool().Query(ctx, `SELECT plan, version FROM catalog_plan_views
		WHERE account_id = $1 AND deleted_at IS NULL
		ORDER BY catalog_plan_id DESC LIMIT $2 OFFSET $3`, account, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("page catalog plans: %w", err)
	}
	items, err := collectCatalogPlans(rows, "page catalog plans")
	return items, total, err
}
