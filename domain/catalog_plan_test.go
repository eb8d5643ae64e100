package domain_test

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/domain/domaintest"
)

var catalogNow = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// starter is Invoiced's documented create request.
func starter() domain.CreateCatalogPlan {
	return domain.CreateCatalogPlan{CatalogPlanID: 7, AccountID: 1, ID: "starter", Name: "Starter",
		CatalogItem: "software-subscription", Amount: "49", Interval: "month", IntervalCount: qty(1),
		PricingMode: "per_unit", Now: catalogNow}
}

func createCatalogPlan(t *testing.T, cmd domain.CreateCatalogPlan) *domain.CatalogPlan {
	t.Helper()
	var p domain.CatalogPlan
	evs, err := p.Create(cmd)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if err := domaintest.CheckStorable(e); err != nil {
			t.Fatal(err)
		}
		if err := p.ApplyStored(e, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	return &p
}

func TestCreateCatalogPlanDefaults(t *testing.T) {
	p := createCatalogPlan(t, domain.CreateCatalogPlan{ID: "a1", Amount: "49.00", Currency: "eur", Now: catalogNow})
	iv, n := p.Interval()
	amt, ok := p.Amount()
	if p.Currency() != "EUR" || p.PricingMode() != domain.PerUnit || p.QuantityType() != domain.ConstantQuantity ||
		iv != domain.Month || n != 1 || !p.Active() || !ok || amt.String() != "49.00" || p.Tiers() != nil ||
		p.Metadata() == nil || len(p.Metadata()) != 0 || string(p.Tax()) != "{}" || !p.CreatedAt().Equal(catalogNow) {
		t.Fatalf("defaults: %+v", p)
	}
	if p := createCatalogPlan(t, domain.CreateCatalogPlan{ID: "a1", Amount: "1", Now: catalogNow}); p.Currency() != domain.DefaultCurrency {
		t.Fatalf("currency %q, want USD", p.Currency())
	}
}

func TestCreateCatalogPlanKeepsValues(t *testing.T) {
	cmd := starter()
	cmd.ID = "Plan_ABC:x-1"
	cmd.PricingMode, cmd.Amount = "tiered", ""
	cmd.Tiers = []domain.TierInput{{MaxQty: qty(50), UnitCost: "100"}, {MinQty: qty(51), MaxQty: qty(100), UnitCost: "80"}, {MinQty: qty(101), UnitCost: "70"}}
	cmd.Metadata = map[string]string{"k": " v "}
	cmd.Tax = json.RawMessage(`{ "rate" : 0.2, "region": "EU<>", "nested": {"z": 1, "a": [1e3]} }`)
	cmd.PaymentOptions = domain.PaymentOptions{OutOfBand: true, PayAsYouGo: true, Credits: ""}
	cmd.Prices = []string{"price_1", "price_2"}
	cmd.KnownPrices = map[string]domain.Price{"price_1": {ID: "price_1", Currency: "USD"}, "price_2": {ID: "price_2", Currency: "USD"}, "price_3": {}}
	cmd.Active = new(bool)
	p := createCatalogPlan(t, cmd)
	if p.PublicID() != "Plan_ABC:x-1" || p.Metadata()["k"] != "v" || len(p.Tiers()) != 3 || p.Active() ||
		!slices.Equal(p.Prices(), cmd.Prices) || !p.PaymentOptions().PayAsYouGo {
		t.Fatalf("plan %+v", p)
	}
	if want := `{"rate":0.2,"region":"EU\u003c\u003e","nested":{"z":1,"a":[1e3]}}`; string(p.Tax()) != want {
		t.Fatalf("tax %s, want %s", p.Tax(), want)
	}
	q, err := p.Quote(domain.NewDecimal(101, 0))
	if err != nil || q.Total.String() != "9070.00" {
		t.Fatalf("quote %+v, %v", q, err)
	}
}

func TestCreateCatalogPlanValidation(t *testing.T) {
	tiers := func(ts ...domain.TierInput) func(*domain.CreateCatalogPlan) {
		return func(c *domain.CreateCatalogPlan) { c.PricingMode, c.Amount, c.Tiers = "volume", "", ts }
	}
	long := strings.Repeat("x", 256)
	for _, tc := range []struct {
		name  string
		edit  func(*domain.CreateCatalogPlan)
		field string
		code  domain.Code
	}{
		{"id missing", func(c *domain.CreateCatalogPlan) { c.ID = "" }, "id", domain.CodeRequired},
		{"id too short", func(c *domain.CreateCatalogPlan) { c.ID = "a" }, "id", domain.CodeInvalid},
		{"id too long", func(c *domain.CreateCatalogPlan) { c.ID = strings.Repeat("a", 65) }, "id", domain.CodeInvalid},
		{"id with a space", func(c *domain.CreateCatalogPlan) { c.ID = "a b" }, "id", domain.CodeInvalid},
		{"id with a slash", func(c *domain.CreateCatalogPlan) { c.ID = "a/b" }, "id", domain.CodeInvalid},
		{"id not ascii", func(c *domain.CreateCatalogPlan) { c.ID = "plän" }, "id", domain.CodeInvalid},
		{"name too long", func(c *domain.CreateCatalogPlan) { c.Name = long }, "name", domain.CodeInvalid},
		{"name with a line break", func(c *domain.CreateCatalogPlan) { c.Name = "a\nb" }, "name", domain.CodeInvalid},
		{"name with NUL", func(c *domain.CreateCatalogPlan) { c.Name = "a\x00" }, "name", domain.CodeInvalid},
		{"name invalid UTF-8", func(c *domain.CreateCatalogPlan) { c.Name = "a\xff" }, "name", domain.CodeInvalid},
		{"description with NUL", func(c *domain.CreateCatalogPlan) { c.Description = "a\x00" }, "description", domain.CodeInvalid},
		{"invoice_display_name bidi override", func(c *domain.CreateCatalogPlan) { c.InvoiceDisplayName = "a\u202e" }, "invoice_display_name", domain.CodeInvalid},
		{"catalog_item too long", func(c *domain.CreateCatalogPlan) { c.CatalogItem = long }, "catalog_item", domain.CodeInvalid},
		{"currency unknown", func(c *domain.CreateCatalogPlan) { c.Currency = "usx" }, "currency", domain.CodeInvalid},
		{"currency fund code", func(c *domain.CreateCatalogPlan) { c.Currency = "XAU" }, "currency", domain.CodeInvalid},
		{"amount missing for per_unit", func(c *domain.CreateCatalogPlan) { c.Amount = "" }, "amount", domain.CodeRequired},
		{"amount negative", func(c *domain.CreateCatalogPlan) { c.Amount = "-1" }, "amount", domain.CodeInvalid},
		{"amount not a number", func(c *domain.CreateCatalogPlan) { c.Amount = "1,5" }, "amount", domain.CodeInvalid},
		{"amount eleven decimals", func(c *domain.CreateCatalogPlan) { c.Amount = "0.00000000001" }, "amount", domain.CodeInvalid},
		{"amount too large", func(c *domain.CreateCatalogPlan) { c.Amount = "1e13" }, "amount", domain.CodeInvalid},
		{"amount refused for custom", func(c *domain.CreateCatalogPlan) { c.PricingMode = "custom" }, "amount", domain.CodeInvalid},
		{"pricing_mode unknown", func(c *domain.CreateCatalogPlan) { c.PricingMode = "PER_UNIT" }, "pricing_mode", domain.CodeNotOneOf},
		{"quantity_type unknown", func(c *domain.CreateCatalogPlan) { c.QuantityType = "metered" }, "quantity_type", domain.CodeNotOneOf},
		{"interval unknown", func(c *domain.CreateCatalogPlan) { c.Interval = "monthly" }, "interval", domain.CodeNotOneOf},
		{"interval_count 0", func(c *domain.CreateCatalogPlan) { c.IntervalCount = qty(0) }, "interval_count", domain.CodeInvalid},
		{"interval_count too large", func(c *domain.CreateCatalogPlan) { c.IntervalCount = qty(1001) }, "interval_count", domain.CodeInvalid},
		{"tiers refused for per_unit", func(c *domain.CreateCatalogPlan) { c.Tiers = []domain.TierInput{{UnitCost: "1"}} }, "tiers", domain.CodeInvalid},
		{"tiers required for volume", tiers(), "tiers", domain.CodeRequired},
		{"first tier from 2", tiers(domain.TierInput{MinQty: qty(2), UnitCost: "1"}), "tiers.0.min_qty", domain.CodeInvalid},
		{"gap between tiers", tiers(domain.TierInput{MaxQty: qty(10), UnitCost: "1"}, domain.TierInput{MinQty: qty(12), UnitCost: "1"}), "tiers.1.min_qty", domain.CodeInvalid},
		{"overlapping tiers", tiers(domain.TierInput{MaxQty: qty(10), UnitCost: "1"}, domain.TierInput{MinQty: qty(10), UnitCost: "1"}), "tiers.1.min_qty", domain.CodeInvalid},
		{"later tier without min_qty", tiers(domain.TierInput{MaxQty: qty(10), UnitCost: "1"}, domain.TierInput{UnitCost: "1"}), "tiers.1.min_qty", domain.CodeRequired},
		{"open tier before the last", tiers(domain.TierInput{UnitCost: "1"}, domain.TierInput{MinQty: qty(11), UnitCost: "1"}), "tiers.0.max_qty", domain.CodeRequired},
		{"max below min", tiers(domain.TierInput{MinQty: qty(1), MaxQty: qty(0), UnitCost: "1"}, domain.TierInput{MinQty: qty(1), UnitCost: "1"}), "tiers.0.max_qty", domain.CodeInvalid},
		{"unit_cost missing", tiers(domain.TierInput{MinQty: qty(1)}), "tiers.0.unit_cost", domain.CodeRequired},
		{"unit_cost negative", tiers(domain.TierInput{MinQty: qty(1), UnitCost: "-0.01"}), "tiers.0.unit_cost", domain.CodeInvalid},
		{"metadata too many keys", func(c *domain.CreateCatalogPlan) {
			c.Metadata = map[string]string{}
			for i := range 51 {
				c.Metadata[strings.Repeat("k", i+1)] = "v"
			}
		}, "metadata", domain.CodeTooMany},
		{"metadata key too long", func(c *domain.CreateCatalogPlan) { c.Metadata = map[string]string{strings.Repeat("k", 41): "v"} }, "metadata." + strings.Repeat("k", 41), domain.CodeInvalid},
		{"metadata key empty", func(c *domain.CreateCatalogPlan) { c.Metadata = map[string]string{"": "v"} }, "metadata.", domain.CodeInvalid},
		{"metadata key with spaces", func(c *domain.CreateCatalogPlan) { c.Metadata = map[string]string{" k": "v"} }, "metadata. k", domain.CodeInvalid},
		{"metadata value too long", func(c *domain.CreateCatalogPlan) { c.Metadata = map[string]string{"k": strings.Repeat("v", 501)} }, "metadata.k", domain.CodeInvalid},
		{"metadata value with NUL", func(c *domain.CreateCatalogPlan) { c.Metadata = map[string]string{"k": "\x00"} }, "metadata.k", domain.CodeInvalid},
		{"tax not an object", func(c *domain.CreateCatalogPlan) { c.Tax = json.RawMessage(`[1]`) }, "tax", domain.CodeInvalid},
		{"tax not JSON", func(c *domain.CreateCatalogPlan) { c.Tax = json.RawMessage(`{`) }, "tax", domain.CodeInvalid},
		{"tax too large", func(c *domain.CreateCatalogPlan) {
			c.Tax = json.RawMessage(`{"a":"` + strings.Repeat("x", 4096) + `"}`)
		}, "tax", domain.CodeInvalid},
		{"tax with NUL escape", func(c *domain.CreateCatalogPlan) { c.Tax = json.RawMessage(`{"a":"\u0000"}`) }, "tax", domain.CodeInvalid},
		{"tax with lone surrogate", func(c *domain.CreateCatalogPlan) { c.Tax = json.RawMessage(`{"a":"\ud800"}`) }, "tax", domain.CodeInvalid},
		{"tax with a huge exponent", func(c *domain.CreateCatalogPlan) { c.Tax = json.RawMessage(`{"a":1e999999}`) }, "tax", domain.CodeInvalid},
		{"credits with a line break", func(c *domain.CreateCatalogPlan) { c.PaymentOptions.Credits = "a\nb" }, "payment_options.credits", domain.CodeInvalid},
		{"price id empty", func(c *domain.CreateCatalogPlan) { c.Prices = []string{" "} }, "prices.0", domain.CodeRequired},
		{"price id twice", func(c *domain.CreateCatalogPlan) { c.Prices = []string{"p", "p"} }, "prices.1", domain.CodeInvalid},
		{"price id unknown", func(c *domain.CreateCatalogPlan) {
			c.Prices = []string{"price_x", "price_y"}
			c.KnownPrices = map[string]domain.Price{"price_x": {ID: "price_x", Currency: "USD"}}
		}, "prices.1", domain.CodeUnknown},
		{"price of another currency", func(c *domain.CreateCatalogPlan) {
			c.Prices = []string{"price_x"}
			c.KnownPrices = map[string]domain.Price{"price_x": {ID: "price_x", Currency: "EUR"}}
		}, "prices.0", domain.CodeInvalid},
		{"standard price without an amount", func(c *domain.CreateCatalogPlan) {
			c.PricingMode, c.Amount, c.StandardPriceID = "custom", "", "price_abcdefghijklmn"
		}, "amount", domain.CodeRequired},
		{"standard price id malformed", func(c *domain.CreateCatalogPlan) { c.StandardPriceID = "price_1" }, "standard_price_id", domain.CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := starter()
			tc.edit(&cmd)
			var p domain.CatalogPlan
			evs, err := p.Create(cmd)
			var ve *domain.ValidationError
			if !errors.As(err, &ve) || evs != nil {
				t.Fatalf("Create = %v, %v; want a validation error", evs, err)
			}
			if got := ve.Problems[tc.field]; len(got) == 0 || got[0].Code != tc.code {
				t.Fatalf("problems %v (%v), want %s on %q", ve.Problems, ve, tc.code, tc.field)
			}
		})
	}
}

// TestCreateCatalogPlanStandardPrice: the standard price is minted at the
// plan's amount, in its canonical currency, at its creation time, comes
// first among its price ids, and survives the event's round trip; an event
// without one (written before prices) folds to a plan without one.
func TestCreateCatalogPlanStandardPrice(t *testing.T) {
	cmd := starter()
	cmd.Amount, cmd.Currency, cmd.StandardPriceID = "10.990", "eur", "price_0123456789abcD"
	cmd.Prices = []string{"price_old"}
	cmd.KnownPrices = map[string]domain.Price{"price_old": {ID: "price_old", UnitAmount: domain.NewDecimal(5, 0), Currency: "EUR"}}
	var p domain.CatalogPlan
	evs, err := p.Create(cmd)
	if err != nil {
		t.Fatal(err)
	}
	typ, data, err := domain.MarshalEvent(evs[0])
	if err != nil {
		t.Fatal(err)
	}
	e, err := domain.UnmarshalEvent(typ, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ApplyStored(e, time.Time{}); err != nil {
		t.Fatal(err)
	}
	sp, ok := p.StandardPrice()
	want := domain.Price{ID: "price_0123456789abcD", UnitAmount: domain.NewDecimal(10990, -3), Currency: "EUR", CreatedAt: catalogNow}
	if !ok || sp.ID != want.ID || sp.UnitAmount.String() != "10.990" || sp.Currency != want.Currency || !sp.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("standard price %+v, %v; want %+v", sp, ok, want)
	}
	if got := p.Prices(); !slices.Equal(got, []string{"price_0123456789abcD", "price_old"}) {
		t.Fatalf("prices %v", got)
	}
	var old domain.CatalogPlan
	legacy := []byte(`{"catalog_plan_id":1,"account_id":1,"id":"x1","name":"","currency":"USD","amount":"1",` +
		`"pricing_mode":"per_unit","interval":"month","interval_count":1,"prices":["a"],"created_at":"2026-12-03T10:00:00Z"}`)
	e, err = domain.UnmarshalEvent(domain.EventCatalogPlanCreated, legacy)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.ApplyStored(e, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := old.StandardPrice(); ok || !slices.Equal(old.Prices(), []string{"a"}) {
		t.Fatalf("legacy event: prices %v", old.Prices())
	}
}

func TestCreateCatalogPlanRefusesBadTimeAndSecondCreate(t *testing.T) {
	var p domain.CatalogPlan
	for _, now := range []time.Time{{}, time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		cmd := starter()
		cmd.Now = now
		if _, err := p.Create(cmd); err == nil {
			t.Fatalf("Create at %v: no error", now)
		}
	}
	q := createCatalogPlan(t, starter())
	if _, err := q.Create(starter()); !errors.Is(err, domain.ErrCatalogPlanExists) {
		t.Fatalf("second Create: %v", err)
	}
}

func TestCatalogPlanUpdateAndDelete(t *testing.T) {
	p := createCatalogPlan(t, starter())
	later := catalogNow.Add(time.Hour)
	name, desc := " Starter 2 ", "line 1\r\nline 2"
	meta := map[string]string{"tier": "gold"}
	evs, err := p.Update(domain.UpdateCatalogPlan{Name: &name, Description: &desc, Metadata: &meta, Active: new(bool), Now: later})
	if err != nil || len(evs) != 1 {
		t.Fatalf("Update = %v, %v", evs, err)
	}
	if err := domaintest.CheckStorable(evs[0]); err != nil {
		t.Fatal(err)
	}
	if err := p.ApplyStored(evs[0], time.Time{}); err != nil {
		t.Fatal(err)
	}
	if p.Name() != "Starter 2" || p.Description() != "line 1\nline 2" || p.Active() || !maps.Equal(p.Metadata(), meta) ||
		!p.UpdatedAt().Equal(later) || p.Version() != 2 {
		t.Fatalf("after update: %+v", p)
	}
	// The same values again change nothing.
	if evs, err := p.Update(domain.UpdateCatalogPlan{Name: &name, Metadata: &meta, Now: later}); err != nil || evs != nil {
		t.Fatalf("no-op Update = %v, %v", evs, err)
	}
	bad := "a\x00"
	if _, err := p.Update(domain.UpdateCatalogPlan{InvoiceDisplayName: &bad, Now: later}); !isValidation("invoice_display_name")(err) {
		t.Fatalf("bad Update: %v", err)
	}
	evs, err = p.Delete(domain.DeleteCatalogPlan{Now: later})
	if err != nil || len(evs) != 1 {
		t.Fatalf("Delete = %v, %v", evs, err)
	}
	if err := p.ApplyStored(evs[0], time.Time{}); err != nil {
		t.Fatal(err)
	}
	if !p.Deleted() || !p.DeletedAt().Equal(later) {
		t.Fatalf("after delete: %+v", p)
	}
	var nf *domain.NotFoundError
	if _, err := p.Update(domain.UpdateCatalogPlan{Name: &name, Now: later}); !errors.As(err, &nf) {
		t.Fatalf("Update of a deleted plan: %v", err)
	}
	if _, err := p.Delete(domain.DeleteCatalogPlan{Now: later}); !errors.As(err, &nf) {
		t.Fatalf("second Delete: %v", err)
	}
	var none domain.CatalogPlan
	if _, err := none.Delete(domain.DeleteCatalogPlan{Now: later}); !errors.Is(err, domain.ErrCatalogPlanNotFound) {
		t.Fatalf("Delete of no plan: %v", err)
	}
}

func TestCatalogPlanApplyStoredRefusesOutOfOrder(t *testing.T) {
	var p domain.CatalogPlan
	if err := p.ApplyStored(domain.CatalogPlanDeleted{DeletedAt: catalogNow}, time.Time{}); err == nil {
		t.Fatal("deleted before created: no error")
	}
	if err := p.ApplyStored(domain.PlanCompleted{}, time.Time{}); err == nil {
		t.Fatal("a payment plan event: no error")
	}
}

func TestCustomCatalogPlanHasNoPrice(t *testing.T) {
	cmd := starter()
	cmd.PricingMode, cmd.Amount = "custom", ""
	p := createCatalogPlan(t, cmd)
	if _, err := p.Quote(domain.NewDecimal(1, 0)); !errors.Is(err, domain.ErrNoListPrice) {
		t.Fatalf("Quote of a custom plan: %v", err)
	}
}
