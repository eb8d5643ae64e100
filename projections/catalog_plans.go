package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"goodplan/domain"
	"goodplan/eventstore"
)

// CatalogPlan is a catalog plan as the native API shows it (the plan
// column of catalog_plan_views): amounts and unit costs as decimal strings,
// amount null when the plan has none, tiers null when none, metadata and
// tax objects, deleted_at null unless deleted.
type CatalogPlan struct {
	ID                 string                 `json:"id"`
	Object             string                 `json:"object"`
	Name               string                 `json:"name"`
	Description        string                 `json:"description"`
	InvoiceDisplayName string                 `json:"invoice_display_name"`
	CatalogItem        string                 `json:"catalog_item"`
	Currency           string                 `json:"currency"`
	Amount             *domain.Decimal        `json:"amount"`
	PricingMode        domain.PricingMode     `json:"pricing_mode"`
	QuantityType       domain.QuantityType    `json:"quantity_type"`
	Interval           domain.BillingInterval `json:"interval"`
	IntervalCount      int                    `json:"interval_count"`
	Tiers              []domain.Tier          `json:"tiers"`
	Metadata           map[string]string      `json:"metadata"`
	Tax                json.RawMessage        `json:"tax"`
	PaymentOptions     domain.PaymentOptions  `json:"payment_options"`
	Prices             []string               `json:"prices"`
	Active             bool                   `json:"active"`
	CreatedAt          time.Time              `json:"created_at"`
	UpdatedAt          time.Time              `json:"updated_at"`
	DeletedAt          *time.Time             `json:"deleted_at"`
	Version            int64                  `json:"version"`
}

// CatalogPlanOf renders a folded catalog plan.
func CatalogPlanOf(p *domain.CatalogPlan) CatalogPlan {
	interval, count := p.Interval()
	v := CatalogPlan{ID: p.PublicID(), Object: "catalog_plan", Name: p.Name(), Description: p.Description(),
		InvoiceDisplayName: p.InvoiceDisplayName(), CatalogItem: p.CatalogItem(), Currency: p.Currency(),
		PricingMode: p.PricingMode(), QuantityType: p.QuantityType(), Interval: interval, IntervalCount: count,
		Tiers: p.Tiers(), Metadata: p.Metadata(), Tax: p.Tax(), PaymentOptions: p.PaymentOptions(),
		Prices: p.Prices(), Active: p.Active(), CreatedAt: p.CreatedAt().UTC(), UpdatedAt: p.UpdatedAt().UTC(),
		Version: p.Version()}
	if a, ok := p.Amount(); ok {
		v.Amount = &a
	}
	if len(v.Tax) == 0 {
		v.Tax = json.RawMessage(`{}`)
	}
	if v.Prices == nil {
		v.Prices = []string{}
	}
	if d := p.DeletedAt(); !d.IsZero() {
		d = d.UTC()
		v.DeletedAt = &d
	}
	return v
}

// CatalogPlans is the catalog plan read model (table catalog_plan_views):
// one row per plan, folded up to the row's version.
type CatalogPlans struct {
	Store *eventstore.Store
	table string // catalog_plan_views, or the rebuild table during replay
}

// NewCatalogPlans returns the catalog plan read model.
func NewCatalogPlans(store *eventstore.Store) *CatalogPlans {
	return &CatalogPlans{Store: store, table: catalogLive}
}

// Apply brings the catalog plan of rec up to date; records of other streams
// are ignored. Like Plans.Apply it is idempotent under redelivery and
// reordering: a row at or past rec.Version is left alone; otherwise the
// plan is folded from all its events in the store and written with a
// version guard, so the row never moves backwards.
func (c *CatalogPlans) Apply(ctx context.Context, rec eventstore.Record) error {
	return applyAggregate(ctx, c.Store, eventstore.CatalogPlanAggregate, c.table, "catalog_plan_id", rec,
		func(p *domain.CatalogPlan) error { return c.write(ctx, c.Store.Pool(), p) })
}

// execer is what a row write needs: the pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// write upserts p's row into c.table through db (the projection and replay
// share it, so a rebuilt row equals a projected one by construction).
func (c *CatalogPlans) write(ctx context.Context, db execer, p *domain.CatalogPlan) error {
	v := CatalogPlanOf(p)
	doc, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("write catalog plan view %d: %w", p.ID(), err)
	}
	interval, _ := p.Interval()
	_, err = db.Exec(ctx, `INSERT INTO `+c.table+` AS v
		(catalog_plan_id, account_id, public_id, version, currency, interval, active, plan, created_at, updated_at, deleted_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (catalog_plan_id) DO UPDATE SET
			account_id = EXCLUDED.account_id, public_id = EXCLUDED.public_id, version = EXCLUDED.version,
			currency = EXCLUDED.currency, interval = EXCLUDED.interval, active = EXCLUDED.active,
			plan = EXCLUDED.plan, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
			deleted_at = EXCLUDED.deleted_at
		WHERE v.version < EXCLUDED.version`,
		p.ID(), p.AccountID(), storableText(p.PublicID()), p.Version(), storableText(p.Currency()),
		storableText(string(interval)), p.Active(), storableJSON(doc), v.CreatedAt, v.UpdatedAt, v.DeletedAt)
	if err != nil {
		return fmt.Errorf("write catalog plan view %d: %w", p.ID(), err)
	}
	return nil
}
