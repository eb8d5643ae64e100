package domain_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cockroachdb/apd/v3"

	"goodplan/domain"
)

// fuzzCurrencies are the minor-unit cases the money fuzz targets pick from:
// 2, 0 and 3 decimals.
var fuzzCurrencies = []domain.Currency{
	{Code: "USD", MinorUnits: 2}, {Code: "JPY", MinorUnits: 0}, {Code: "KWD", MinorUnits: 3},
}

// sameDecimal reports whether the decimal texts a and b have the same value.
func sameDecimal(t *testing.T, a, b string) bool {
	t.Helper()
	da, _, err := apd.NewFromString(a)
	if err != nil {
		t.Fatalf("apd %q: %v", a, err)
	}
	db, _, err := apd.NewFromString(b)
	if err != nil {
		t.Fatalf("apd %q: %v", b, err)
	}
	return da.Cmp(db) == 0
}

// FuzzParseMoney: ParseMoney never panics, fails only with its documented
// errors, and an accepted amount keeps every digit (its value is the
// input's), has the currency's scale, stays within MaxAmountMajor, and
// parses back from its own String and JSON forms.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"1200", "1200.00", "1200.000", "1.2e3", "0.01", "-0.50", "1e12", "1000000000000.01",
		"12.345", "0", "-0", "+5", ".5", "5.", "1e-2", "NaN", "Inf", "0x10", "1_000", " 1", "9999999999999999999999",
		"1E+2", "00012.50", "1e400", "1e-400"} {
		for i := range fuzzCurrencies {
			f.Add(s, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, text string, cur uint8) {
		c := fuzzCurrencies[int(cur)%len(fuzzCurrencies)]
		m, err := domain.ParseMoney(text, c)
		if err != nil {
			if !errors.Is(err, domain.ErrInvalidAmount) && !errors.Is(err, domain.ErrAmountTooLarge) &&
				!errors.Is(err, domain.ErrTooManyDecimals) {
				t.Fatalf("ParseMoney(%q, %s): undocumented error %v", text, c.Code, err)
			}
			return
		}
		if m.Scale() != c.MinorUnits {
			t.Fatalf("ParseMoney(%q, %s) scale %d, want %d", text, c.Code, m.Scale(), c.MinorUnits)
		}
		s := m.String()
		if !sameDecimal(t, text, s) {
			t.Fatalf("ParseMoney(%q, %s) = %s: digits lost", text, c.Code, s)
		}
		if limit := domain.MoneyFromMinor(domain.MaxAmountMajor, domain.Currency{}); m.Cmp(limit) > 0 ||
			m.Cmp(domain.MoneyFromMinor(-domain.MaxAmountMajor, domain.Currency{})) < 0 {
			t.Fatalf("ParseMoney(%q, %s) = %s beyond MaxAmountMajor", text, c.Code, s)
		}
		if again, err := domain.ParseMoney(s, c); err != nil || again != m {
			t.Fatalf("ParseMoney(String() = %q) = %v, %v; want %v", s, again, err, m)
		}
		b, err := m.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back domain.Money
		if err := back.UnmarshalJSON(b); err != nil || back != m {
			t.Fatalf("UnmarshalJSON(%s) = %v, %v; want %v", b, back, err, m)
		}
	})
}

// FuzzMoneyJSON: Money.UnmarshalJSON never panics, fails only with
// ErrInvalidAmount, keeps every digit of what it accepts (scale = digits
// after the point), and what it accepts encodes and decodes back equal.
func FuzzMoneyJSON(f *testing.F) {
	for _, s := range []string{`"400.00"`, `"-0.50"`, `400.00`, `"400"`, `null`, `""`, `"1e3"`, `"4\u0030"`,
		`"9223372036854775807"`, `"9223372036854775808"`, `"0.000000000000000001"`, `"0.0000000000000000001"`,
		`"-"`, `"."`, `"1."`, `".1"`, `"--1"`, `"1.2.3"`, `"\u0000"`, `{}`, `[1]`, `"12`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m domain.Money
		if err := m.UnmarshalJSON(b); err != nil {
			if !errors.Is(err, domain.ErrInvalidAmount) {
				t.Fatalf("UnmarshalJSON(%q): undocumented error %v", b, err)
			}
			return
		}
		if string(b) == "null" {
			return
		}
		text := string(b)
		if strings.HasPrefix(text, `"`) {
			if err := json.Unmarshal(b, &text); err != nil {
				t.Fatalf("UnmarshalJSON accepted %q, which is not a JSON string: %v", b, err)
			}
		}
		if !sameDecimal(t, text, m.String()) {
			t.Fatalf("UnmarshalJSON(%q) = %s: digits lost", b, m)
		}
		enc, err := m.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back domain.Money
		if err := back.UnmarshalJSON(enc); err != nil || back != m {
			t.Fatalf("round trip of %q through %s = %v, %v", b, enc, back, err)
		}
	})
}
