package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Limits of a catalog plan's fields, in characters (runes) after trimming.
const (
	MaxCatalogTextLen   = 255  // name, invoice_display_name, catalog_item, credits, a price id
	MaxMetadataKeys     = 50   // metadata entries
	MaxMetadataKeyLen   = 40   // a metadata key
	MaxMetadataValueLen = 500  // a metadata value
	MaxTaxBytes         = 4096 // the tax object's JSON text
	MaxIntervalCount    = 1000 // interval_count
	MaxPrices           = 100  // price ids attached to one plan
)

// catalogPlanID is the rule of a public catalog plan id: the caller's own,
// or a generated "plan_" + 14+ base62 characters, which matches it too. It
// is kept as given and compared exactly.
var catalogPlanID = regexp.MustCompile(`(?i)^[a-z0-9_\-:]{2,64}$`)

// ValidCatalogPlanID reports whether id may name a catalog plan.
func ValidCatalogPlanID(id string) bool { return catalogPlanID.MatchString(id) }

// TierInput is one tier as the request gave it; nil means missing.
type TierInput struct {
	MinQty, MaxQty *int64
	// UnitCost is decimal text; "" means missing.
	UnitCost string
}

// CreateCatalogPlan is the command to create a catalog plan. It is plain
// data: the surface has turned its request into strings, and the caller has
// allocated the internal id and chosen the public id (the client's, or a
// generated one) and checked it is free in the account.
type CreateCatalogPlan struct {
	CatalogPlanID, AccountID int64
	// ID is the public id.
	ID                              string
	Name, Description               string
	InvoiceDisplayName, CatalogItem string
	// Currency is an ISO 4217 code in any letter case; "" means
	// DefaultCurrency.
	Currency string
	// Amount is decimal text; "" means none.
	Amount string
	// PricingMode "" means per_unit, QuantityType "" constant, Interval
	// "" month, IntervalCount nil 1.
	PricingMode, QuantityType, Interval string
	IntervalCount                       *int64
	Tiers                               []TierInput
	Metadata                            map[string]string
	// Tax is the tax object's JSON text; nil means {}.
	Tax            json.RawMessage
	PaymentOptions PaymentOptions
	Prices         []string
	// Active nil means true.
	Active *bool
	Now    time.Time
}

// errBadNow reports a command whose time no date of this domain can hold.
var errBadNow = errors.New("command time outside " + MinDate.String() + ".." + MaxDate.String())

// checkNow returns errBadNow unless now's date is within MinDate..MaxDate.
func checkNow(now time.Time) error {
	if now.IsZero() || !DateOf(now).InRange() {
		return fmt.Errorf("%w: %s", errBadNow, now)
	}
	return nil
}

// Create decides the creation of p. It returns ErrCatalogPlanExists on a
// plan that has events, a *ValidationError listing every field problem, or
// the catalog_plan.created event.
func (p *CatalogPlan) Create(cmd CreateCatalogPlan) ([]Event, error) {
	if p.Exists() {
		return nil, ErrCatalogPlanExists
	}
	if err := checkNow(cmd.Now); err != nil {
		return nil, err
	}
	var ve ValidationError
	e := CatalogPlanCreated{CatalogPlanID: cmd.CatalogPlanID, AccountID: cmd.AccountID, CreatedAt: cmd.Now.UTC()}
	e.PublicID = cmd.ID
	switch {
	case cmd.ID == "":
		ve.Require("id")
	case !ValidCatalogPlanID(cmd.ID):
		ve.AddRule("id", CodeInvalid, "must be 2 to 64 letters, digits, _, - or :.")
	}
	e.Name = CheckText(&ve, "name", cmd.Name, SingleLine, MaxCatalogTextLen)
	e.Description = CheckText(&ve, "description", cmd.Description, MultiLine, MaxDescriptionLen)
	e.InvoiceDisplayName = CheckText(&ve, "invoice_display_name", cmd.InvoiceDisplayName, SingleLine, MaxCatalogTextLen)
	e.CatalogItem = CheckText(&ve, "catalog_item", cmd.CatalogItem, SingleLine, MaxCatalogTextLen)
	e.Currency = checkCatalogCurrency(&ve, cmd.Currency)
	e.PricingMode = PricingMode(choose(&ve, "pricing_mode", cmd.PricingMode, string(PerUnit), PerUnit, Volume, Tiered, Custom))
	e.QuantityType = QuantityType(choose(&ve, "quantity_type", cmd.QuantityType, string(ConstantQuantity), ConstantQuantity, UsageQuantity))
	e.Interval = BillingInterval(choose(&ve, "interval", cmd.Interval, string(Month), Day, Week, Month, Year))
	e.IntervalCount = 1
	if cmd.IntervalCount != nil {
		if n := *cmd.IntervalCount; n < 1 || n > MaxIntervalCount {
			ve.AddRule("interval_count", CodeInvalid, "must be between 1 and "+strconv.Itoa(MaxIntervalCount)+".")
		} else {
			e.IntervalCount = int(n)
		}
	}
	e.Amount = checkPlanAmount(&ve, cmd.Amount, e.PricingMode)
	e.Tiers = checkTiers(&ve, cmd.Tiers, e.PricingMode)
	e.Metadata = CheckMetadata(&ve, "metadata", cmd.Metadata)
	e.Tax = CheckJSONObject(&ve, "tax", cmd.Tax, MaxTaxBytes)
	e.PaymentOptions = cmd.PaymentOptions
	e.PaymentOptions.Credits = CheckText(&ve, "payment_options.credits", cmd.PaymentOptions.Credits, SingleLine, MaxCatalogTextLen)
	e.Prices = checkPrices(&ve, cmd.Prices)
	e.Active = cmd.Active == nil || *cmd.Active
	if err := ve.OrNil(); err != nil {
		return nil, err
	}
	return []Event{e}, nil
}

// checkCatalogCurrency returns the canonical code of an ISO 4217 currency
// given in any letter case, DefaultCurrency for "".
func checkCatalogCurrency(ve *ValidationError, code string) string {
	code = strings.TrimSpace(code)
	if code == "" {
		return DefaultCurrency
	}
	up := strings.ToUpper(code)
	if _, ok := LookupCurrency(up); !ok {
		ve.AddRule("currency", CodeInvalid, "must be an ISO 4217 currency code.")
		return code
	}
	return up
}

// choose returns value (or def when value is "") if it is one of choices,
// and records a CodeNotOneOf problem otherwise. Values are exact (no case
// folding): they are the documented words.
func choose[T ~string](ve *ValidationError, field, value, def string, choices ...T) string {
	if value == "" {
		return def
	}
	words := make([]string, len(choices))
	for i, c := range choices {
		if string(c) == value {
			return value
		}
		words[i] = string(c)
	}
	ve.AddRule(field, CodeNotOneOf, "must be one of: "+strings.Join(words, ", ")+".")
	return value
}

// checkPlanAmount parses the plan's amount: required for per_unit, optional
// for volume and tiered, refused for custom; >= 0, at most 10 decimals.
func checkPlanAmount(ve *ValidationError, text string, mode PricingMode) *Decimal {
	text = strings.TrimSpace(text)
	if text == "" {
		if mode == PerUnit {
			ve.Require("amount")
		}
		return nil
	}
	if mode == Custom {
		ve.AddRule("amount", CodeInvalid, "is not allowed when the pricing_mode is custom.")
		return nil
	}
	d, ok := checkDecimal(ve, "amount", text)
	if !ok {
		return nil
	}
	return &d
}

// checkDecimal parses a non-negative decimal of at most MaxDecimalPlaces
// decimals and at most MaxAmountMajor, recording the problem under field.
func checkDecimal(ve *ValidationError, field, text string) (Decimal, bool) {
	d, err := ParseDecimal(text)
	switch {
	case errors.Is(err, ErrTooManyDecimalPlaces):
		ve.AddRule(field, CodeInvalid, "may not have more than "+strconv.Itoa(MaxDecimalPlaces)+" decimal places.")
	case errors.Is(err, ErrAmountTooLarge):
		ve.AddRule(field, CodeInvalid, "may not be greater than "+strconv.FormatInt(MaxAmountMajor, 10)+".")
	case err != nil:
		ve.AddRule(field, CodeInvalid, "must be a number.")
	case d.Sign() < 0:
		ve.AddRule(field, CodeInvalid, "must be at least 0.")
	default:
		return d, true
	}
	return Decimal{}, false
}

// checkPrices cleans the attached price ids: each a non-empty single line
// of at most MaxCatalogTextLen characters, no duplicates, at most
// MaxPrices. Whether they exist in the account is the caller's check.
func checkPrices(ve *ValidationError, ids []string) []string {
	if len(ids) > MaxPrices {
		ve.AddRule("prices", CodeTooMany, "may not have more than "+strconv.Itoa(MaxPrices)+" items.")
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for i, id := range ids {
		field := "prices." + strconv.Itoa(i)
		id = CheckText(ve, field, id, SingleLine, MaxCatalogTextLen)
		switch {
		case id == "":
			ve.Require(field)
		case seen[id]:
			ve.AddRule(field, CodeInvalid, "is listed twice.")
		}
		seen[id] = true
		out = append(out, id)
	}
	return out
}
