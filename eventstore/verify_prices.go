package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"goodplan/domain"
)

// priceCheck collects, during Verify's one scan, the standard prices the
// catalog_plan.created events mint, and then checks catalog_prices
// against them in the same snapshot: a row for every price, none without
// its event, each as the event records it (catalog_prices is written in
// the append's own statement, so any difference is damage).
type priceCheck struct {
	minted map[string]mintedPrice
}

// mintedPrice is a standard price as its event records it.
type mintedPrice struct {
	stream  string
	account int64
	plan    int64
	price   domain.Price
}

// observe notes the standard price of r, a catalog_plan.created record.
// A record that does not decode is the hash chain's business (its bytes
// are what was hashed): it mints nothing here.
func (c *priceCheck) observe(r *Record) {
	var e struct {
		CatalogPlanID int64         `json:"catalog_plan_id"`
		AccountID     int64         `json:"account_id"`
		StandardPrice *domain.Price `json:"standard_price"`
	}
	if json.Unmarshal(r.Data, &e) != nil || e.StandardPrice == nil {
		return
	}
	if c.minted == nil {
		c.minted = map[string]mintedPrice{}
	}
	c.minted[e.StandardPrice.ID] = mintedPrice{stream: r.StreamID, account: e.AccountID, plan: e.CatalogPlanID, price: *e.StandardPrice}
}

// check compares catalog_prices with the prices observed (times to the
// microsecond timestamptz keeps); the first
// difference, by price id, is a *ChainError naming the stream.
func (c *priceCheck) check(ctx context.Context, tx pgx.Tx) (int64, error) {
	rows, err := tx.Query(ctx, `SELECT price_id, account_id, catalog_plan_id, unit_amount::text, currency, created_at
		FROM catalog_prices ORDER BY price_id`)
	if err != nil {
		return 0, fmt.Errorf("verify catalog prices: %w", err)
	}
	defer rows.Close()
	var n int64
	seen := map[string]bool{}
	for rows.Next() {
		var id, amount, currency string
		var account, plan int64
		var at time.Time
		if err := rows.Scan(&id, &account, &plan, &amount, &currency, &at); err != nil {
			return n, fmt.Errorf("verify catalog prices: %w", err)
		}
		n++
		seen[id] = true
		m, ok := c.minted[id]
		switch {
		case !ok:
			return n, &ChainError{StreamID: CatalogPlanAggregate.Stream(plan),
				Reason: fmt.Sprintf("catalog_prices has price %s, which no catalog_plan.created event mints", id)}
		case m.account != account || m.plan != plan || m.price.UnitAmount.String() != amount ||
			m.price.Currency != currency || !m.price.CreatedAt.Truncate(time.Microsecond).Equal(at):
			return n, &ChainError{StreamID: m.stream,
				Reason: fmt.Sprintf("catalog_prices row of price %s differs from the event that mints it", id)}
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("verify catalog prices: %w", err)
	}
	var missing []string
	for id := range c.minted {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return n, &ChainError{StreamID: c.minted[missing[0]].stream,
			Reason: fmt.Sprintf("price %s minted by the plan's catalog_plan.created has no catalog_prices row", missing[0])}
	}
	return n, nil
}
