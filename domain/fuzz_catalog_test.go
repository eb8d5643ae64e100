package domain_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/domain"
	"goodplan/domain/domaintest"
)

// FuzzCatalogCommands: whatever text, numbers, tiers, metadata and tax a
// request carries, creating and updating a catalog plan and creating a plan
// group either refuse it with a *ValidationError or decide events that
// PostgreSQL's jsonb can store and read back exactly (issue 9's rule), and
// a per_unit, volume or tiered plan that was accepted can be quoted.
func FuzzCatalogCommands(f *testing.F) {
	f.Add("starter", "Starter", "usd", "49", "per_unit", "month", int64(1), int64(50), "100", "k", "v", []byte(`{"rate":"20%"}`), int64(101))
	f.Add("tiers", "T", "eur", "70", "tiered", "month", int64(1), int64(50), "100", "k", "v", []byte(`{}`), int64(101))
	f.Add("vol", "V", "JPY", "0.5", "volume", "month", int64(0), int64(50), "0.25", "k", "v", []byte(`{"x":[1,2,{"y":null}]}`), int64(3))
	f.Add("Plan_X:1", "a\x00b", "KWD", "0.0015", "tiered", "week", int64(0), int64(1), "0.00000000001", "", "\u202e", []byte(`{"a":"\ud800"}`), int64(0))
	f.Add("p-1", "Zoë\r\nx", "jpy", "1e3", "volume", "year", int64(1), int64(-5), "-1", "k\x00", "v\xff", []byte(`[1]`), int64(1000000000000))
	f.Add("plan_abcdefghijklmn", " ", "", "", "custom", "day", int64(1), int64(1000000000001), "1e13", " k", "\n", []byte(`{"n":1e999999,"s":"\u0000"}`), int64(-1))
	f.Fuzz(func(t *testing.T, id, text, currency, amount, mode, interval string, min, max int64, cost, key, value string, tax []byte, quantity int64) {
		now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
		cmd := domain.CreateCatalogPlan{CatalogPlanID: 1, AccountID: 1, ID: id, Name: text, Description: text,
			InvoiceDisplayName: value, CatalogItem: key, Currency: currency, Amount: amount, PricingMode: mode,
			Interval: interval, IntervalCount: &min, Metadata: map[string]string{key: value}, Tax: json.RawMessage(tax),
			PaymentOptions: domain.PaymentOptions{Credits: text}, Prices: []string{value}, Now: now,
			KnownPrices: map[string]domain.Price{value: {ID: value, Currency: strings.ToUpper(currency), CreatedAt: now}}}
		if strings.HasPrefix(id, "p") {
			cmd.StandardPriceID = "price_" + strings.Repeat("a", 14)
		}
		if mode == "volume" || mode == "tiered" {
			next := max + 1
			cmd.Tiers = []domain.TierInput{{MinQty: &min, MaxQty: &max, UnitCost: cost}, {MinQty: &next, UnitCost: amount}}
			cmd.Amount = ""
		}
		var p domain.CatalogPlan
		evs, err := p.Create(cmd)
		var ve *domain.ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("Create: %v", err)
		}
		for _, e := range evs {
			if err := domaintest.CheckStorable(e); err != nil {
				t.Fatal(err)
			}
			if err := p.ApplyStored(e, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		if p.Exists() && p.PricingMode() != domain.Custom {
			q, err := p.Quote(domain.NewDecimal(quantity, 0))
			if err != nil && !errors.As(err, &ve) && !errors.Is(err, domain.ErrAmountTooLarge) {
				t.Fatalf("Quote(%d): %v", quantity, err)
			}
			if err == nil && q.Total.Minor() < 0 {
				t.Fatalf("Quote(%d) = %s", quantity, q.Total)
			}
		}
		if p.Exists() {
			meta := map[string]string{value: key}
			evs, err := p.Update(domain.UpdateCatalogPlan{Name: &value, Description: &text, Metadata: &meta, Now: now})
			if err != nil && !errors.As(err, &ve) {
				t.Fatalf("Update: %v", err)
			}
			for _, e := range evs {
				if err := domaintest.CheckStorable(e); err != nil {
					t.Fatal(err)
				}
			}
		}
		var g domain.PlanGroup
		evs, err = g.Create(domain.CreatePlanGroup{PlanGroupID: 2, AccountID: 1, ID: uuid.New(), Name: text,
			Members: []domain.MemberInput{{Kind: mode, Ref: id, ID: min}}, Now: now})
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("group Create: %v", err)
		}
		for _, e := range evs {
			if err := domaintest.CheckStorable(e); err != nil {
				t.Fatal(err)
			}
		}
	})
}
