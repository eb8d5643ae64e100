package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// A catalog plan is a price billed over a recurring interval (Invoiced's,
// 4Geeks' and Paygentic's "plan"), unlike a payment plan (Plan), which
// spreads one overdue invoice over installments. It is identified inside
// goodplan by an integer id (its stream) and towards the merchant by its
// public id, which may be reused once the plan is deleted.

// Event type names of catalog plans. They are not webhook types by default
// (WebhookEventTypes stays Good Plan's 16).
const (
	// EventCatalogPlanCreated is the type of CatalogPlanCreated.
	EventCatalogPlanCreated = "catalog_plan.created"
	// EventCatalogPlanUpdated is the type of CatalogPlanUpdated.
	EventCatalogPlanUpdated = "catalog_plan.updated"
	// EventCatalogPlanDeleted is the type of CatalogPlanDeleted.
	EventCatalogPlanDeleted = "catalog_plan.deleted"
)

// Errors of catalog plan commands.
var (
	// ErrCatalogPlanExists is returned by Create on a stream that already
	// has events.
	ErrCatalogPlanExists = errors.New("catalog plan already exists")
	// ErrCatalogPlanNotFound is returned by Update and Delete on a catalog
	// plan that has no events.
	ErrCatalogPlanNotFound = errors.New("catalog plan not found")
)

// PricingMode says how a catalog plan prices a quantity.
type PricingMode string

// The pricing modes.
const (
	PerUnit PricingMode = "per_unit" // quantity x amount (the default)
	Volume  PricingMode = "volume"   // every unit at the cost of the tier the quantity falls in
	Tiered  PricingMode = "tiered"   // each tier prices its own slice
	Custom  PricingMode = "custom"   // no list price
)

// QuantityType says whether a subscription's quantity is fixed or metered.
type QuantityType string

// The quantity types.
const (
	ConstantQuantity QuantityType = "constant" // the default
	UsageQuantity    QuantityType = "usage"
)

// BillingInterval is the unit of a catalog plan's billing period.
type BillingInterval string

// The billing intervals.
const (
	Day   BillingInterval = "day"
	Week  BillingInterval = "week"
	Month BillingInterval = "month" // the default
	Year  BillingInterval = "year"
)

// Tier is one price band of a volume or tiered plan: quantities MinQty to
// MaxQty inclusive at UnitCost each. MinQty is nil only on a first tier that
// did not name it (it then starts at 1); MaxQty is nil only on the last
// tier, which has no upper bound.
type Tier struct {
	MinQty   *int64  `json:"min_qty,omitempty"`
	MaxQty   *int64  `json:"max_qty,omitempty"`
	UnitCost Decimal `json:"unit_cost"`
}

// PaymentOptions are Paygentic's payment options of a plan, kept as given.
type PaymentOptions struct {
	OutOfBand  bool   `json:"out_of_band"`
	PayAsYouGo bool   `json:"pay_as_you_go"`
	PrePaid    bool   `json:"pre_paid"`
	PostPaid   bool   `json:"post_paid"`
	Credits    string `json:"credits"`
}

// CatalogPlanCreated records a new catalog plan. Amount is nil when the plan
// has none (custom pricing, or tiers that price). Metadata and Tax are never
// nil ({} when empty); Tiers and Prices are nil when there are none.
type CatalogPlanCreated struct {
	CatalogPlanID      int64             `json:"catalog_plan_id"`
	AccountID          int64             `json:"account_id"`
	PublicID           string            `json:"id"`
	Name               string            `json:"name"`
	Description        string            `json:"description"`
	InvoiceDisplayName string            `json:"invoice_display_name"`
	CatalogItem        string            `json:"catalog_item"`
	Currency           string            `json:"currency"`
	Amount             *Decimal          `json:"amount"`
	PricingMode        PricingMode       `json:"pricing_mode"`
	QuantityType       QuantityType      `json:"quantity_type"`
	Interval           BillingInterval   `json:"interval"`
	IntervalCount      int               `json:"interval_count"`
	Tiers              []Tier            `json:"tiers"`
	Metadata           map[string]string `json:"metadata"`
	Tax                json.RawMessage   `json:"tax"`
	PaymentOptions     PaymentOptions    `json:"payment_options"`
	Prices             []string          `json:"prices"`
	Active             bool              `json:"active"`
	CreatedAt          time.Time         `json:"created_at"` // UTC, the command's Now
	// StandardPrice is the price minted with the plan; absent (as in
	// every event written before prices) when none.
	StandardPrice *Price `json:"standard_price,omitempty"`
}

// EventType returns EventCatalogPlanCreated.
func (CatalogPlanCreated) EventType() string { return EventCatalogPlanCreated }

// CatalogPlanUpdated records new values of the fields an update may change;
// a nil field did not change. Metadata, when set, replaces the whole map.
type CatalogPlanUpdated struct {
	Name               *string            `json:"name,omitempty"`
	Description        *string            `json:"description,omitempty"`
	InvoiceDisplayName *string            `json:"invoice_display_name,omitempty"`
	Metadata           *map[string]string `json:"metadata,omitempty"`
	Active             *bool              `json:"active,omitempty"`
	UpdatedAt          time.Time          `json:"updated_at"`
}

// EventType returns EventCatalogPlanUpdated.
func (CatalogPlanUpdated) EventType() string { return EventCatalogPlanUpdated }

// CatalogPlanDeleted records that a catalog plan was deleted: it stays in
// the history (and readable by its internal id), and its public id may be
// given to a new plan.
type CatalogPlanDeleted struct {
	DeletedAt time.Time `json:"deleted_at"`
}

// EventType returns EventCatalogPlanDeleted.
func (CatalogPlanDeleted) EventType() string { return EventCatalogPlanDeleted }

// CatalogPlan is the catalog plan aggregate, folded from its events.
type CatalogPlan struct {
	version   int64
	created   CatalogPlanCreated // the plan as created, then updated in place
	updatedAt time.Time
	deletedAt time.Time
}

// ApplyStored folds one stored event into p. An event of another aggregate,
// or one that contradicts the plan (an update before the creation), is an
// error.
func (p *CatalogPlan) ApplyStored(e Event, at time.Time) error {
	switch e := e.(type) {
	case CatalogPlanCreated:
		if p.version != 0 {
			return fmt.Errorf("catalog_plan.created at version %d of catalog plan %d", p.version+1, p.created.CatalogPlanID)
		}
		p.created = e
		p.created.Metadata = maps.Clone(e.Metadata)
		p.created.Tiers = slices.Clone(e.Tiers)
		p.created.Prices = slices.Clone(e.Prices)
		if sp := e.StandardPrice; sp != nil {
			c := *sp
			p.created.StandardPrice = &c
		}
		p.updatedAt = e.CreatedAt
	case CatalogPlanUpdated:
		if p.version == 0 {
			return errors.New("catalog_plan.updated before catalog_plan.created")
		}
		p.applyUpdated(e)
	case CatalogPlanDeleted:
		if p.version == 0 {
			return errors.New("catalog_plan.deleted before catalog_plan.created")
		}
		p.deletedAt, p.updatedAt = e.DeletedAt, e.DeletedAt
	default:
		return fmt.Errorf("%s cannot be applied to a catalog plan", e.EventType())
	}
	p.version++
	if !at.IsZero() {
		p.updatedAt = at
	}
	return nil
}

func (p *CatalogPlan) applyUpdated(e CatalogPlanUpdated) {
	if e.Name != nil {
		p.created.Name = *e.Name
	}
	if e.Description != nil {
		p.created.Description = *e.Description
	}
	if e.InvoiceDisplayName != nil {
		p.created.InvoiceDisplayName = *e.InvoiceDisplayName
	}
	if e.Metadata != nil {
		p.created.Metadata = maps.Clone(*e.Metadata)
	}
	if e.Active != nil {
		p.created.Active = *e.Active
	}
	p.updatedAt = e.UpdatedAt
}

// Version is the number of events folded.
func (p *CatalogPlan) Version() int64 { return p.version }

// Exists reports whether the plan was created.
func (p *CatalogPlan) Exists() bool { return p.version > 0 }

// Deleted reports whether the plan was deleted.
func (p *CatalogPlan) Deleted() bool { return !p.deletedAt.IsZero() }

// ID is the internal id (the stream's).
func (p *CatalogPlan) ID() int64 { return p.created.CatalogPlanID }

// AccountID is the owning account.
func (p *CatalogPlan) AccountID() int64 { return p.created.AccountID }

// PublicID is the id the merchant knows the plan by.
func (p *CatalogPlan) PublicID() string { return p.created.PublicID }

// Name is the plan's name.
func (p *CatalogPlan) Name() string { return p.created.Name }

// Description is the plan's description.
func (p *CatalogPlan) Description() string { return p.created.Description }

// InvoiceDisplayName is the name shown on invoices.
func (p *CatalogPlan) InvoiceDisplayName() string { return p.created.InvoiceDisplayName }

// CatalogItem is the item (product) the plan belongs to.
func (p *CatalogPlan) CatalogItem() string { return p.created.CatalogItem }

// Currency is the canonical (upper-case) ISO 4217 code.
func (p *CatalogPlan) Currency() string { return p.created.Currency }

// Amount is the plan's amount, ok false when it has none.
func (p *CatalogPlan) Amount() (Decimal, bool) {
	if p.created.Amount == nil {
		return Decimal{}, false
	}
	return *p.created.Amount, true
}

// PricingMode is how the plan prices a quantity.
func (p *CatalogPlan) PricingMode() PricingMode { return p.created.PricingMode }

// QuantityType is constant or usage.
func (p *CatalogPlan) QuantityType() QuantityType { return p.created.QuantityType }

// Interval is the billing interval and IntervalCount how many of them.
func (p *CatalogPlan) Interval() (BillingInterval, int) {
	return p.created.Interval, p.created.IntervalCount
}

// Tiers returns a copy of the price tiers (nil when none).
func (p *CatalogPlan) Tiers() []Tier { return slices.Clone(p.created.Tiers) }

// Metadata returns a copy of the metadata (never nil).
func (p *CatalogPlan) Metadata() map[string]string {
	if p.created.Metadata == nil {
		return map[string]string{}
	}
	return maps.Clone(p.created.Metadata)
}

// Tax returns a copy of the tax object as stored.
func (p *CatalogPlan) Tax() json.RawMessage { return slices.Clone(p.created.Tax) }

// PaymentOptions are the plan's payment options.
func (p *CatalogPlan) PaymentOptions() PaymentOptions { return p.created.PaymentOptions }

// Prices returns the plan's price ids: its standard price first, if any,
// then the attached ones, in the order given (nil when none).
func (p *CatalogPlan) Prices() []string {
	if sp := p.created.StandardPrice; sp != nil {
		return append([]string{sp.ID}, p.created.Prices...)
	}
	return slices.Clone(p.created.Prices)
}

// StandardPrice is the price minted with the plan, ok false when none.
func (p *CatalogPlan) StandardPrice() (Price, bool) {
	if sp := p.created.StandardPrice; sp != nil {
		return *sp, true
	}
	return Price{}, false
}

// Active reports whether the plan may be used for new subscriptions.
func (p *CatalogPlan) Active() bool { return p.created.Active }

// CreatedAt, UpdatedAt and DeletedAt (zero unless deleted) are the plan's
// times.
func (p *CatalogPlan) CreatedAt() time.Time { return p.created.CreatedAt }

// UpdatedAt is the time of the last event.
func (p *CatalogPlan) UpdatedAt() time.Time { return p.updatedAt }

// DeletedAt is when the plan was deleted, zero if it was not.
func (p *CatalogPlan) DeletedAt() time.Time { return p.deletedAt }
