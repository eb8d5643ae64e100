package eventstore

import (
	"context"
	"fmt"

	"goodplan/domain"
)

// Stream prefixes of the catalog's aggregates. Neither starts with
// PlanStreamPrefix ("plan-"), so nothing that reads payment plan streams by
// that prefix (PlanIDOf, ReadStreams, the plan projection, replay) ever
// sees one of them.
const (
	// CatalogPlanStreamPrefix starts the id of every catalog plan stream.
	CatalogPlanStreamPrefix = "catalogplan-"
	// PlanGroupStreamPrefix starts the id of every plan group stream.
	PlanGroupStreamPrefix = "plangroup-"
)

// CatalogPlanAggregate registers the catalog plan with the command path:
// streams "catalogplan-{id}" keyed by an internal id from NextID (a public
// id may be given to a new plan once its plan is deleted, so it cannot name
// a stream).
var CatalogPlanAggregate = Aggregate[*domain.CatalogPlan]{
	Name:   "catalog plan",
	Prefix: CatalogPlanStreamPrefix,
	New:    func() *domain.CatalogPlan { return &domain.CatalogPlan{} },
	Fold:   FoldEvents[*domain.CatalogPlan],
}

// PlanGroupAggregate registers the plan group with the command path:
// streams "plangroup-{id}" keyed by an internal id from NextID (the group's
// UUID is in its events).
var PlanGroupAggregate = Aggregate[*domain.PlanGroup]{
	Name:   "plan group",
	Prefix: PlanGroupStreamPrefix,
	New:    func() *domain.PlanGroup { return &domain.PlanGroup{} },
	Fold:   FoldEvents[*domain.PlanGroup],
}

// CatalogPlanIDOf returns the internal id of the catalog plan that publicID
// names in account: the plan not deleted that holds it, else the one that
// held it last (deleted plans stay readable by id until the id is reused).
// ErrNotFound if no plan of the account ever had it.
func (s *Events) CatalogPlanIDOf(ctx context.Context, account int64, publicID string) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT catalog_plan_id FROM catalog_plan_ids
		WHERE account_id = $1 AND public_id = $2
		ORDER BY released_at IS NULL DESC, reserved_at DESC, catalog_plan_id DESC LIMIT 1`,
		account, publicID).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("catalog plan %q: %w", publicID, interpretError(err))
	}
	return id, nil
}

// CatalogPrices returns the prices of account among ids, by id; an id that
// names no price of the account (another account's included) is absent.
// Reading catalog_prices rather than a read model is deliberate: it is
// written in the append of the event that mints the price, so a price
// created a moment ago is found (the read models catch up asynchronously),
// and prices never change or go away, so a check made before the append
// that attaches one stays true.
func (s *Events) CatalogPrices(ctx context.Context, account int64, ids []string) (map[string]domain.Price, error) {
	out := make(map[string]domain.Price, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT price_id, unit_amount::text, currency, created_at FROM catalog_prices
		WHERE account_id = $1 AND price_id = ANY($2)`, account, ids)
	if err != nil {
		return nil, fmt.Errorf("catalog prices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p domain.Price
		var amount string
		if err := rows.Scan(&p.ID, &amount, &p.Currency, &p.CreatedAt); err != nil {
			return nil, fmt.Errorf("catalog prices: %w", err)
		}
		if p.UnitAmount, err = domain.ParseDecimal(amount); err != nil {
			return nil, fmt.Errorf("catalog price %s: %w", p.ID, err)
		}
		p.CreatedAt = p.CreatedAt.UTC()
		out[p.ID] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog prices: %w", err)
	}
	return out, nil
}
