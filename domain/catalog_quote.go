package domain

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/apd/v3"
)

// ErrNoListPrice is returned by Quote for a plan with custom pricing.
var ErrNoListPrice = errors.New("the plan has custom pricing: it has no list price")

// QuoteLine is what one tier (or, for per_unit, the plan's amount) charges.
// Tier is the tier's 1-based position, 0 for per_unit. Amount is exact:
// Quantity x UnitCost, not rounded.
type QuoteLine struct {
	Tier     int
	Quantity Decimal
	UnitCost Decimal
	Amount   Decimal
}

// Quote is the price of a quantity of a catalog plan. Subtotal is the exact
// sum of the lines' amounts; Total is Subtotal rounded once, half up, to the
// currency's minor units.
type Quote struct {
	Currency Currency
	Quantity Decimal
	Lines    []QuoteLine
	Subtotal Decimal
	Total    Money
}

// quoteContext computes exactly: the bounds (quantity and costs at most
// 10^12 with 10 decimals, at most MaxTiers lines) keep every product and
// sum within 60 digits.
var quoteContext = func() *apd.Context {
	c := apd.BaseContext.WithPrecision(60)
	c.Rounding = apd.RoundHalfUp
	return c
}()

// Quote prices quantity of p (see PriceQuantity).
func (p *CatalogPlan) Quote(quantity Decimal) (Quote, error) {
	return PriceQuantity(p.created.Currency, p.created.PricingMode, p.created.Amount, p.created.Tiers, quantity)
}

// PriceQuantity prices quantity in currency by mode: per_unit is quantity x
// amount; volume prices every unit at the unit cost of the tier the
// quantity falls in; tiered prices each tier's own slice at its unit cost;
// custom has no price (ErrNoListPrice). The quantity must be >= 0 and at
// most MaxTierQty, and a whole number for volume and tiered (tiers are
// ranges of whole quantities); otherwise a *ValidationError on "quantity".
// A total above MaxAmountMajor is ErrAmountTooLarge.
func PriceQuantity(currency string, mode PricingMode, amount *Decimal, tiers []Tier, quantity Decimal) (Quote, error) {
	c, ok := LookupCurrency(currency)
	if !ok {
		return Quote{}, fmt.Errorf("quote: unknown currency %q", currency)
	}
	if mode == Custom {
		return Quote{}, ErrNoListPrice
	}
	var ve ValidationError
	switch {
	case quantity.Sign() < 0:
		ve.AddRule("quantity", CodeInvalid, "must be at least 0.")
	case quantity.Cmp(NewDecimal(MaxTierQty, 0)) > 0:
		ve.AddRule("quantity", CodeInvalid, "may not be greater than 1000000000000.")
	case mode != PerUnit && !quantity.IsInteger():
		ve.AddRule("quantity", CodeInvalid, "must be a whole number when the pricing_mode is "+string(mode)+".")
	}
	if err := ve.OrNil(); err != nil {
		return Quote{}, err
	}
	q := Quote{Currency: c, Quantity: quantity}
	var err error
	switch mode {
	case PerUnit:
		if amount == nil {
			return Quote{}, errors.New("quote: per_unit plan without an amount")
		}
		q.Lines, err = appendLine(nil, 0, quantity.apd(), *amount)
	case Volume:
		q.Lines, err = volumeLines(tiers, quantity.apd())
	case Tiered:
		q.Lines, err = tieredLines(tiers, quantity.apd())
	default:
		return Quote{}, fmt.Errorf("quote: unknown pricing mode %q", mode)
	}
	if err != nil {
		return Quote{}, err
	}
	return q.total()
}

// total sums the lines into Subtotal and rounds Total.
func (q Quote) total() (Quote, error) {
	sum := new(apd.Decimal)
	var cond apd.Condition
	for _, l := range q.Lines {
		c, err := quoteContext.Add(sum, sum, l.Amount.apd())
		if err != nil {
			return Quote{}, err
		}
		cond |= c
	}
	if cond.Inexact() {
		return Quote{}, fmt.Errorf("quote: sum %s: %w", sum, ErrAmountTooLarge)
	}
	q.Subtotal = decimalOf(sum)
	if sum.Cmp(maxAmount) > 0 {
		return Quote{}, fmt.Errorf("quote: total %s: %w", q.Subtotal, ErrAmountTooLarge)
	}
	var r apd.Decimal
	if _, err := quoteContext.Quantize(&r, sum, -q.Currency.MinorUnits); err != nil {
		return Quote{}, fmt.Errorf("quote: round %s: %w", q.Subtotal, err)
	}
	total, err := moneyFromDecimal(&r, q.Currency, r.String())
	if err != nil {
		return Quote{}, err
	}
	q.Total = total
	return q, nil
}

// appendLine adds the line units x cost of tier (exactly).
func appendLine(lines []QuoteLine, tier int, units *apd.Decimal, cost Decimal) ([]QuoteLine, error) {
	var amt apd.Decimal
	cond, err := quoteContext.Mul(&amt, units, cost.apd())
	if err != nil {
		return nil, err
	}
	if cond.Inexact() {
		return nil, fmt.Errorf("quote: %s x %s: %w", units, cost, ErrAmountTooLarge)
	}
	return append(lines, QuoteLine{Tier: tier, Quantity: decimalOf(units), UnitCost: cost, Amount: decimalOf(&amt)}), nil
}

// tierStart is where a tier begins (a first tier without min_qty: 1).
func tierStart(t Tier) int64 {
	if t.MinQty == nil {
		return 1
	}
	return *t.MinQty
}

// volumeLines prices all of quantity at the cost of the tier it falls in:
// one line, or none for 0 when the first tier starts at 1.
func volumeLines(tiers []Tier, quantity *apd.Decimal) ([]QuoteLine, error) {
	for i, t := range tiers {
		if quantity.Cmp(apd.New(tierStart(t), 0)) < 0 {
			break
		}
		if t.MaxQty == nil || quantity.Cmp(apd.New(*t.MaxQty, 0)) <= 0 {
			return appendLine(nil, i+1, quantity, t.UnitCost)
		}
	}
	return nil, nil
}

// tieredLines prices each tier's slice of quantity (units max(min, 1) to
// min(quantity, max)): one line per tier reached.
func tieredLines(tiers []Tier, quantity *apd.Decimal) ([]QuoteLine, error) {
	q, err := quantity.Int64()
	if err != nil {
		return nil, fmt.Errorf("quote: quantity %s: %w", quantity, err)
	}
	var lines []QuoteLine
	for i, t := range tiers {
		lo := max(tierStart(t), 1)
		if q < lo {
			break
		}
		hi := q
		if t.MaxQty != nil {
			hi = min(q, *t.MaxQty)
		}
		if lines, err = appendLine(lines, i+1, apd.New(hi-lo+1, 0), t.UnitCost); err != nil {
			return nil, err
		}
	}
	return lines, nil
}
