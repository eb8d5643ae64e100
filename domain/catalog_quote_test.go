package domain_test

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/cockroachdb/apd/v3"

	"goodplan/domain"
)

func qty(n int64) *int64 { return &n }

func dec(t *testing.T, s string) domain.Decimal {
	t.Helper()
	d, err := domain.ParseDecimal(s)
	if err != nil {
		t.Fatalf("ParseDecimal(%q): %v", s, err)
	}
	return d
}

// invoicedTiers are the tiers of Invoiced's documentation and issue 11.
func invoicedTiers(t *testing.T) []domain.Tier {
	return []domain.Tier{
		{MaxQty: qty(50), UnitCost: dec(t, "100")},
		{MinQty: qty(51), MaxQty: qty(100), UnitCost: dec(t, "80")},
		{MinQty: qty(101), UnitCost: dec(t, "70")},
	}
}

func TestPriceQuantity(t *testing.T) {
	sub := []domain.Tier{{MinQty: qty(0), MaxQty: qty(1000), UnitCost: dec(t, "0.0015")}, {MinQty: qty(1001), UnitCost: dec(t, "0.00125")}}
	amt := func(s string) *domain.Decimal { d := dec(t, s); return &d }
	for _, tc := range []struct {
		name     string
		currency string
		mode     domain.PricingMode
		amount   *domain.Decimal
		tiers    []domain.Tier
		quantity string
		total    string
		subtotal string
		lines    int
	}{
		{"volume 101", "USD", domain.Volume, nil, invoicedTiers(t), "101", "7070.00", "7070", 1},
		{"tiered 101", "USD", domain.Tiered, nil, invoicedTiers(t), "101", "9070.00", "9070", 3},
		{"volume 50", "USD", domain.Volume, nil, invoicedTiers(t), "50", "5000.00", "5000", 1},
		{"tiered 50", "USD", domain.Tiered, nil, invoicedTiers(t), "50", "5000.00", "5000", 1},
		{"volume 51", "USD", domain.Volume, nil, invoicedTiers(t), "51", "4080.00", "4080", 1},
		{"tiered 51", "USD", domain.Tiered, nil, invoicedTiers(t), "51", "5080.00", "5080", 2},
		{"volume 100", "USD", domain.Volume, nil, invoicedTiers(t), "100", "8000.00", "8000", 1},
		{"tiered 1000", "USD", domain.Tiered, nil, invoicedTiers(t), "1000", "72000.00", "72000", 3},
		{"volume 0 (first tier from 1)", "USD", domain.Volume, nil, invoicedTiers(t), "0", "0.00", "0", 0},
		{"tiered 0", "USD", domain.Tiered, nil, invoicedTiers(t), "0", "0.00", "0", 0},
		{"per_unit 0", "USD", domain.PerUnit, amt("49"), nil, "0", "0.00", "0", 1},
		{"per_unit 3", "USD", domain.PerUnit, amt("49.99"), nil, "3", "149.97", "149.97", 1},
		{"per_unit fractional quantity", "USD", domain.PerUnit, amt("10"), nil, "1.5", "15.00", "15.0", 1},
		{"sub-cent rounds half up", "USD", domain.PerUnit, amt("0.005"), nil, "1", "0.01", "0.005", 1},
		{"sub-cent rounds down", "USD", domain.PerUnit, amt("0.0049999999"), nil, "1", "0.00", "0.0049999999", 1},
		{"sub-cent tiers volume", "USD", domain.Volume, nil, sub, "1001", "1.25", "1.25125", 1},
		{"sub-cent tiers tiered", "USD", domain.Tiered, nil, sub, "1001", "1.50", "1.50125", 2},
		{"sub-cent tiers volume 0 (first tier from 0)", "USD", domain.Volume, nil, sub, "0", "0.00", "0.0000", 1},
		{"JPY half up", "JPY", domain.PerUnit, amt("0.5"), nil, "3", "2", "1.5", 1},
		{"JPY below half", "JPY", domain.PerUnit, amt("0.49"), nil, "3", "1", "1.47", 1},
		{"KWD three decimals", "KWD", domain.PerUnit, amt("1.2345"), nil, "2", "2.469", "2.4690", 1},
		{"KWD half up", "KWD", domain.Tiered, nil, []domain.Tier{{MinQty: qty(1), UnitCost: dec(t, "0.0005")}}, "1", "0.001", "0.0005", 1},
		{"largest quantity", "USD", domain.PerUnit, amt("1"), nil, "1000000000000", "1000000000000.00", "1000000000000", 1},
		{"amount with ten decimals", "USD", domain.PerUnit, amt("0.0000000001"), nil, "1000000000000", "100.00", "100.0000000000", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := domain.PriceQuantity(tc.currency, tc.mode, tc.amount, tc.tiers, dec(t, tc.quantity))
			if err != nil {
				t.Fatal(err)
			}
			if q.Total.String() != tc.total || q.Subtotal.String() != tc.subtotal || len(q.Lines) != tc.lines {
				t.Fatalf("total %s subtotal %s lines %+v, want %s %s %d lines", q.Total, q.Subtotal, q.Lines, tc.total, tc.subtotal, tc.lines)
			}
		})
	}
}

func TestPriceQuantityLines(t *testing.T) {
	q, err := domain.PriceQuantity("USD", domain.Tiered, nil, invoicedTiers(t), dec(t, "101"))
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.QuoteLine{
		{Tier: 1, Quantity: dec(t, "50"), UnitCost: dec(t, "100"), Amount: dec(t, "5000")},
		{Tier: 2, Quantity: dec(t, "50"), UnitCost: dec(t, "80"), Amount: dec(t, "4000")},
		{Tier: 3, Quantity: dec(t, "1"), UnitCost: dec(t, "70"), Amount: dec(t, "70")},
	}
	if !reflect.DeepEqual(q.Lines, want) {
		t.Fatalf("lines %+v, want %+v", q.Lines, want)
	}
	v, err := domain.PriceQuantity("USD", domain.Volume, nil, invoicedTiers(t), dec(t, "101"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []domain.QuoteLine{{Tier: 3, Quantity: dec(t, "101"), UnitCost: dec(t, "70"), Amount: dec(t, "7070")}}; !reflect.DeepEqual(v.Lines, want) {
		t.Fatalf("volume lines %+v, want %+v", v.Lines, want)
	}
}

func TestPriceQuantityRefuses(t *testing.T) {
	amt := dec(t, "1000000000000")
	for _, tc := range []struct {
		name     string
		mode     domain.PricingMode
		amount   *domain.Decimal
		tiers    []domain.Tier
		quantity string
		want     func(error) bool
	}{
		{"custom has no price", domain.Custom, nil, nil, "1", func(err error) bool { return errors.Is(err, domain.ErrNoListPrice) }},
		{"negative quantity", domain.PerUnit, &amt, nil, "-1", isValidation("quantity")},
		{"quantity above the bound", domain.PerUnit, &amt, nil, "", isValidation("quantity")},
		{"fractional quantity in tiers", domain.Tiered, nil, invoicedTiers(t), "1.5", isValidation("quantity")},
		{"total above the bound", domain.PerUnit, &amt, nil, "2", func(err error) bool { return errors.Is(err, domain.ErrAmountTooLarge) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := domain.NewDecimal(1_000_000_000_001, 0) // beyond what ParseDecimal takes
			if tc.quantity != "" {
				q = dec(t, tc.quantity)
			}
			_, err := domain.PriceQuantity("USD", tc.mode, tc.amount, tc.tiers, q)
			if !tc.want(err) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func isValidation(field string) func(error) bool {
	return func(err error) bool {
		var ve *domain.ValidationError
		return errors.As(err, &ve) && len(ve.Fields[field]) > 0
	}
}

// TestPriceQuantityProperties: for random tiers and quantities, a tiered
// subtotal is the exact sum of its lines, each line quantity x unit cost,
// the slices add up to the quantity; a volume subtotal is quantity x the
// cost of the one tier the quantity falls in; the total is the subtotal
// rounded half up. Everything is compared as decimals, never floats.
func TestPriceQuantityProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	ctx := apd.BaseContext.WithPrecision(80)
	for i := 0; i < 2000; i++ {
		n := 1 + r.IntN(6)
		tiers := make([]domain.Tier, n)
		start := int64(r.IntN(2))
		for j := range tiers {
			tiers[j].MinQty = qty(start)
			tiers[j].UnitCost = domain.NewDecimal(r.Int64N(100_000_000), -int32(r.IntN(11)))
			if j < n-1 {
				end := start + r.Int64N(1000)
				if end < 1 {
					end = 1
				}
				tiers[j].MaxQty = qty(end)
				start = end + 1
			}
		}
		quantity := domain.NewDecimal(r.Int64N(start+2000), 0)
		cur := []string{"USD", "JPY", "KWD"}[r.IntN(3)]
		for _, mode := range []domain.PricingMode{domain.Tiered, domain.Volume} {
			q, err := domain.PriceQuantity(cur, mode, nil, tiers, quantity)
			if err != nil {
				t.Fatalf("%s %v at %s: %v", mode, tiers, quantity, err)
			}
			sum, units := new(apd.Decimal), new(apd.Decimal)
			for _, l := range q.Lines {
				want := new(apd.Decimal)
				_, _ = ctx.Mul(want, ad(l.Quantity), ad(l.UnitCost))
				if want.Cmp(ad(l.Amount)) != 0 {
					t.Fatalf("line %+v: amount is not quantity x unit cost", l)
				}
				_, _ = ctx.Add(sum, sum, ad(l.Amount))
				_, _ = ctx.Add(units, units, ad(l.Quantity))
			}
			if sum.Cmp(ad(q.Subtotal)) != 0 {
				t.Fatalf("%s: subtotal %s, lines sum to %s", mode, q.Subtotal, sum)
			}
			if mode == domain.Tiered && quantity.Sign() > 0 && units.Cmp(ad(quantity)) != 0 {
				t.Fatalf("tiered slices add up to %s, quantity %s (%v)", units, quantity, tiers)
			}
			if mode == domain.Volume && quantity.Sign() > 0 {
				if len(q.Lines) != 1 || q.Lines[0].Quantity.Cmp(quantity) != 0 {
					t.Fatalf("volume lines %+v for quantity %s", q.Lines, quantity)
				}
				tier := tiers[q.Lines[0].Tier-1]
				if quantity.Cmp(domain.NewDecimal(*tier.MinQty, 0)) < 0 || tier.MaxQty != nil && quantity.Cmp(domain.NewDecimal(*tier.MaxQty, 0)) > 0 {
					t.Fatalf("volume picked tier %+v for quantity %s", tier, quantity)
				}
			}
			c, _ := domain.LookupCurrency(cur)
			rounded := new(apd.Decimal)
			rctx := *ctx
			rctx.Rounding = apd.RoundHalfUp
			_, _ = rctx.Quantize(rounded, sum, -c.MinorUnits)
			if rounded.Text('f') != q.Total.String() {
				t.Fatalf("%s %s: total %s, subtotal %s rounds half up to %s", mode, cur, q.Total, q.Subtotal, rounded.Text('f'))
			}
		}
	}
}

func ad(d domain.Decimal) *apd.Decimal {
	v, _, err := apd.NewFromString(d.String())
	if err != nil {
		panic(err)
	}
	return v
}

func TestParseDecimal(t *testing.T) {
	for in, want := range map[string]string{"49": "49", "49.00": "49.00", "1.2e3": "1200", "-0": "0", "0.0015": "0.0015",
		"1.00000000000000": "1", "0.0000000001": "0.0000000001", "5E+3": "5000", "1000000000000": "1000000000000"} {
		if d, err := domain.ParseDecimal(in); err != nil || d.String() != want {
			t.Errorf("ParseDecimal(%q) = %s, %v; want %s", in, d, err, want)
		}
	}
	for in, want := range map[string]error{"": domain.ErrInvalidAmount, "abc": domain.ErrInvalidAmount, "NaN": domain.ErrInvalidAmount,
		"Infinity": domain.ErrInvalidAmount, "0.00000000001": domain.ErrTooManyDecimalPlaces, "1000000000000.01": domain.ErrAmountTooLarge,
		"1e400": domain.ErrAmountTooLarge} {
		if _, err := domain.ParseDecimal(in); !errors.Is(err, want) {
			t.Errorf("ParseDecimal(%q) err = %v, want %v", in, err, want)
		}
	}
}
