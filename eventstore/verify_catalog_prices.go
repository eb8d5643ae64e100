package eventstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"goodplan/domain"
)

// checkCatalogPrices is VerifyCatalog's check of catalog_prices, in its
// snapshot: every standard price a catalog plan's events mint has its row,
// as the event records it (account, plan, unit amount, currency, time to
// the microsecond timestamptz keeps), and no row names a price no event
// mints. The append writes both in one statement, so any difference is
// damage; prices attached by id are checked when attached. It returns
// the rows read and the problems found.
func checkCatalogPrices(ctx context.Context, tx pgx.Tx, plans map[int64]*domain.CatalogPlan) (int64, []CatalogProblem, error) {
	minted := map[string]*domain.CatalogPlan{}
	for _, p := range plans {
		if sp, ok := p.StandardPrice(); ok {
			minted[sp.ID] = p
		}
	}
	rows, err := tx.Query(ctx, `SELECT price_id, account_id, catalog_plan_id, unit_amount::text, currency, created_at
		FROM catalog_prices`)
	if err != nil {
		return 0, nil, fmt.Errorf("verify catalog prices: %w", err)
	}
	defer rows.Close()
	var n int64
	var problems []CatalogProblem
	for rows.Next() {
		var id, amount, currency string
		var account, plan int64
		var at time.Time
		if err := rows.Scan(&id, &account, &plan, &amount, &currency, &at); err != nil {
			return n, nil, fmt.Errorf("verify catalog prices: %w", err)
		}
		n++
		p, ok := minted[id]
		if !ok {
			problems = append(problems, CatalogProblem{Reason: fmt.Sprintf(
				"catalog_prices has price %s (account %d, catalog plan %d), which no catalog_plan.created mints", id, account, plan)})
			continue
		}
		delete(minted, id)
		sp, _ := p.StandardPrice()
		if account != p.AccountID() || plan != p.ID() || amount != sp.UnitAmount.String() || currency != sp.Currency ||
			!at.Equal(sp.CreatedAt.Truncate(time.Microsecond)) {
			problems = append(problems, CatalogProblem{StreamID: CatalogPlanAggregate.Stream(p.ID()), Reason: fmt.Sprintf(
				"catalog_prices has price %s as %s %s of catalog plan %d in account %d at %s, its catalog_plan.created mints %s %s at %s",
				id, amount, currency, plan, account, at.UTC().Format(time.RFC3339Nano),
				sp.UnitAmount, sp.Currency, sp.CreatedAt.UTC().Format(time.RFC3339Nano))})
		}
	}
	if err := rows.Err(); err != nil {
		return n, nil, fmt.Errorf("verify catalog prices: %w", err)
	}
	for id, p := range minted {
		problems = append(problems, CatalogProblem{StreamID: CatalogPlanAggregate.Stream(p.ID()), Reason: fmt.Sprintf(
			"its catalog_plan.created mints price %s, which has no row in catalog_prices (it cannot be attached)", id)})
	}
	return n, problems, nil
}
