package domain

import (
	"regexp"
	"strconv"
	"time"
)

// A price is a unit amount in a currency (Paygentic's "price" object,
// model "standard"). It is minted as the standard price of the catalog plan
// created with it (recorded in that plan's catalog_plan.created event) and
// never changes or goes away, even when that plan is deleted: other plans
// of the account may attach it by id.

// Price is one price of an account's catalog.
type Price struct {
	ID         string    `json:"id"`
	UnitAmount Decimal   `json:"unit_amount"`
	Currency   string    `json:"currency"` // canonical ISO 4217 code
	CreatedAt  time.Time `json:"created_at"`
}

// priceID is the rule of a generated price id: "price_" + 14 to 32 base62
// characters.
var priceID = regexp.MustCompile(`^price_[0-9A-Za-z]{14,32}$`)

// ValidPriceID reports whether id has the shape of a generated price id.
func ValidPriceID(id string) bool { return priceID.MatchString(id) }

// standardPrice mints the plan's standard price with id (none for ""): at
// the plan's amount, in its currency, created with it. The amount is then
// required, whatever the pricing mode.
func standardPrice(ve *ValidationError, id string, amount *Decimal, e *CatalogPlanCreated) *Price {
	switch {
	case id == "":
		return nil
	case !ValidPriceID(id):
		ve.AddRule("standard_price_id", CodeInvalid, "must be price_ and 14 to 32 letters or digits.")
		return nil
	case amount == nil:
		if ve.Fields["amount"] == nil {
			ve.AddRule("amount", CodeRequired, "is required for a standard price.")
		}
		return nil
	}
	return &Price{ID: id, UnitAmount: *amount, Currency: e.Currency, CreatedAt: e.CreatedAt}
}

// checkKnownPrices records every attached price id that names no price of
// the account (known holds the account's prices among them, resolved by
// the caller) or a price in another currency than the plan's.
func checkKnownPrices(ve *ValidationError, ids []string, known map[string]Price, currency string) {
	for i, id := range ids {
		field := "prices." + strconv.Itoa(i)
		if ve.Fields[field] != nil {
			continue
		}
		p, ok := known[id]
		switch {
		case !ok:
			ve.AddRule(field, CodeUnknown, "names no price of the account: "+strconv.Quote(id)+".")
		case ve.Fields["currency"] == nil && p.Currency != currency:
			ve.AddRule(field, CodeInvalid, "is a price in "+p.Currency+", not in the plan's currency "+currency+".")
		}
	}
}
