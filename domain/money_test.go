package domain_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"goodplan/domain"
)

var (
	usd = mustCurrency("USD")
	jpy = mustCurrency("JPY")
	kwd = mustCurrency("KWD")
)

func mustCurrency(code string) domain.Currency {
	c, ok := domain.LookupCurrency(code)
	if !ok {
		panic("unknown currency " + code)
	}
	return c
}

func TestParseMoney(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		text      string
		cur       domain.Currency
		wantMinor int64
		wantStr   string
		wantErr   error
	}{
		{name: "integer", text: "1200", cur: usd, wantMinor: 120000, wantStr: "1200.00"},
		{name: "two decimals", text: "1200.00", cur: usd, wantMinor: 120000, wantStr: "1200.00"},
		{name: "exponent", text: "1.2e3", cur: usd, wantMinor: 120000, wantStr: "1200.00"},
		{name: "upper exponent", text: "1.2E3", cur: usd, wantMinor: 120000, wantStr: "1200.00"},
		{name: "negative exponent", text: "12345e-2", cur: usd, wantMinor: 12345, wantStr: "123.45"},
		{name: "trailing zeros beyond minor units", text: "1200.000", cur: usd, wantMinor: 120000, wantStr: "1200.00"},
		{name: "many trailing zeros", text: "10.10000000000000000000000000000000000000000", cur: usd, wantMinor: 1010, wantStr: "10.10"},
		{name: "one cent", text: "0.01", cur: usd, wantMinor: 1, wantStr: "0.01"},
		{name: "64 characters", text: "1." + strings.Repeat("0", 62), cur: usd, wantMinor: 100, wantStr: "1.00"},
		{name: "65 characters (apd reduces long text in quadratic time)", text: "1." + strings.Repeat("0", 63), cur: usd, wantErr: domain.ErrInvalidAmount},
		{name: "60,000 zeros", text: "1" + strings.Repeat("0", 60000) + "e-60000", cur: usd, wantErr: domain.ErrInvalidAmount},
		{name: "zero", text: "0", cur: usd, wantMinor: 0, wantStr: "0.00"},
		{name: "negative zero", text: "-0.00", cur: usd, wantMinor: 0, wantStr: "0.00"},
		{name: "negative", text: "-0.50", cur: usd, wantMinor: -50, wantStr: "-0.50"},
		{name: "negative large", text: "-1234.5", cur: usd, wantMinor: -123450, wantStr: "-1234.50"},
		{name: "max", text: "1000000000000", cur: usd, wantMinor: 100000000000000, wantStr: "1000000000000.00"},
		{name: "max exponent form", text: "1e12", cur: kwd, wantMinor: 1000000000000000, wantStr: "1000000000000.000"},
		{name: "max negative", text: "-1000000000000.00", cur: usd, wantMinor: -100000000000000, wantStr: "-1000000000000.00"},
		{name: "JPY integer", text: "400", cur: jpy, wantMinor: 400, wantStr: "400"},
		{name: "JPY zero decimals", text: "400.000", cur: jpy, wantMinor: 400, wantStr: "400"},
		{name: "JPY exponent", text: "5e2", cur: jpy, wantMinor: 500, wantStr: "500"},
		{name: "KWD three decimals", text: "1.5", cur: kwd, wantMinor: 1500, wantStr: "1.500"},
		{name: "KWD fils", text: "1.234", cur: kwd, wantMinor: 1234, wantStr: "1.234"},
		{name: "plus sign", text: "+5", cur: usd, wantMinor: 500, wantStr: "5.00"},
		{name: "tiny zero", text: "0e-5000", cur: usd, wantMinor: 0, wantStr: "0.00"},

		{name: "too many decimals USD", text: "10.001", cur: usd, wantErr: domain.ErrTooManyDecimals},
		{name: "too many decimals USD exponent", text: "1001e-3", cur: usd, wantErr: domain.ErrTooManyDecimals},
		{name: "too many decimals JPY", text: "10.5", cur: jpy, wantErr: domain.ErrTooManyDecimals},
		{name: "too many decimals KWD", text: "1.0001", cur: kwd, wantErr: domain.ErrTooManyDecimals},
		{name: "far digit", text: "1.00000000000000000000000000000000000000000001", cur: usd, wantErr: domain.ErrTooManyDecimals},
		{name: "negative too many decimals", text: "-0.001", cur: usd, wantErr: domain.ErrTooManyDecimals},
		{name: "too large", text: "1000000000000.01", cur: usd, wantErr: domain.ErrAmountTooLarge},
		{name: "too large exponent", text: "1e13", cur: usd, wantErr: domain.ErrAmountTooLarge},
		{name: "too large negative", text: "-1e13", cur: usd, wantErr: domain.ErrAmountTooLarge},
		{name: "huge", text: "123456789012345678901234567890", cur: usd, wantErr: domain.ErrAmountTooLarge},
		{name: "empty", text: "", cur: usd, wantErr: domain.ErrInvalidAmount},
		{name: "letters", text: "abc", cur: usd, wantErr: domain.ErrInvalidAmount},
		{name: "NaN", text: "NaN", cur: usd, wantErr: domain.ErrInvalidAmount},
		{name: "Infinity", text: "Infinity", cur: usd, wantErr: domain.ErrInvalidAmount},
		{name: "negative Infinity", text: "-Inf", cur: usd, wantErr: domain.ErrInvalidAmount},
		{name: "space", text: " 12", cur: usd, wantErr: domain.ErrInvalidAmount},
		{name: "comma", text: "1,200.00", cur: usd, wantErr: domain.ErrInvalidAmount},
		{name: "hex", text: "0x10", cur: usd, wantErr: domain.ErrInvalidAmount},
		{name: "two points", text: "1.2.3", cur: usd, wantErr: domain.ErrInvalidAmount},
		{name: "bare exponent", text: "1e", cur: usd, wantErr: domain.ErrInvalidAmount},
		{name: "exponent overflow", text: "1e999999999999", cur: usd, wantErr: domain.ErrInvalidAmount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := domain.ParseMoney(tt.text, tt.cur)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseMoney(%q, %s) error = %v, want %v", tt.text, tt.cur.Code, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMoney(%q, %s): %v", tt.text, tt.cur.Code, err)
			}
			if got.Minor() != tt.wantMinor || got.Scale() != tt.cur.MinorUnits || got.String() != tt.wantStr {
				t.Errorf("ParseMoney(%q, %s) = %d (scale %d, %q), want %d (scale %d, %q)",
					tt.text, tt.cur.Code, got.Minor(), got.Scale(), got.String(), tt.wantMinor, tt.cur.MinorUnits, tt.wantStr)
			}
		})
	}
}

func TestMoneyString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		minor int64
		cur   domain.Currency
		want  string
	}{
		{40000, usd, "400.00"},
		{400, jpy, "400"},
		{1500, kwd, "1.500"},
		{5, kwd, "0.005"},
		{-50, usd, "-0.50"},
		{-5, usd, "-0.05"},
		{0, usd, "0.00"},
		{0, jpy, "0"},
		{-7, jpy, "-7"},
		{1, usd, "0.01"},
		{100, usd, "1.00"},
		{math.MaxInt64, usd, "92233720368547758.07"},
		{math.MinInt64, usd, "-92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := domain.MoneyFromMinor(tt.minor, tt.cur).String(); got != tt.want {
			t.Errorf("MoneyFromMinor(%d, %s).String() = %q, want %q", tt.minor, tt.cur.Code, got, tt.want)
		}
	}
	if got := (domain.Money{}).String(); got != "0" {
		t.Errorf("zero Money String() = %q, want \"0\"", got)
	}
}

func TestMoneyParseFormatRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range []domain.Currency{usd, jpy, kwd} {
		for _, minor := range []int64{0, 1, 9, 10, 99, 100, 101, 12345, 999999, -1, -100, -12345, 1_000_000_000_000} {
			m := domain.MoneyFromMinor(minor, c)
			back, err := domain.ParseMoney(m.String(), c)
			if err != nil {
				t.Fatalf("ParseMoney(%q, %s): %v", m.String(), c.Code, err)
			}
			if back != m {
				t.Errorf("round trip of %s %s = %v, want %v", m, c.Code, back, m)
			}
		}
	}
}

func TestMoneyJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m    domain.Money
		want string
	}{
		{domain.MoneyFromMinor(40000, usd), `"400.00"`},
		{domain.MoneyFromMinor(400, jpy), `"400"`},
		{domain.MoneyFromMinor(1500, kwd), `"1.500"`},
		{domain.MoneyFromMinor(-50, usd), `"-0.50"`},
		{domain.MoneyFromMinor(100000000000000, usd), `"1000000000000.00"`},
		{domain.MoneyFromMinor(1, kwd), `"0.001"`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.m)
		if err != nil || string(b) != tt.want {
			t.Fatalf("Marshal(%v) = %s, %v; want %s", tt.m, b, err, tt.want)
		}
		var back domain.Money
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		if back != tt.m || back.Scale() != tt.m.Scale() {
			t.Errorf("JSON round trip of %s = %v (scale %d), want exact", b, back, back.Scale())
		}
	}
}

func TestMoneyUnmarshalJSON(t *testing.T) {
	t.Parallel()
	good := []struct {
		in        string
		wantMinor int64
		wantScale int32
	}{
		{`"400.00"`, 40000, 2},
		{`"400"`, 400, 0},
		{`"1.500"`, 1500, 3},
		{`"-0.50"`, -50, 2},
		{`"007.10"`, 710, 2},
		{`"\u0034.5"`, 45, 1},
		{`12.34`, 1234, 2},
	}
	for _, tt := range good {
		var m domain.Money
		if err := json.Unmarshal([]byte(tt.in), &m); err != nil {
			t.Fatalf("Unmarshal(%s): %v", tt.in, err)
		}
		if m.Minor() != tt.wantMinor || m.Scale() != tt.wantScale {
			t.Errorf("Unmarshal(%s) = %d scale %d, want %d scale %d", tt.in, m.Minor(), m.Scale(), tt.wantMinor, tt.wantScale)
		}
	}
	for _, in := range []string{`""`, `"abc"`, `"1.2e3"`, `"1."`, `".5"`, `"-"`, `"1.2.3"`, `"+1"`, `"99999999999999999999"`, `"1.0000000000000000000"`, `true`, `{}`} {
		var m domain.Money
		if err := json.Unmarshal([]byte(in), &m); err == nil {
			t.Errorf("Unmarshal(%s) = %v, want error", in, m)
		}
	}
	m := domain.MoneyFromMinor(5, usd)
	if err := json.Unmarshal([]byte(`null`), &m); err != nil || m != domain.MoneyFromMinor(5, usd) {
		t.Errorf("Unmarshal(null) changed the value to %v (err %v)", m, err)
	}
}

func TestMoneyArithmetic(t *testing.T) {
	t.Parallel()
	a := domain.MoneyFromMinor(1050, usd)
	b := domain.MoneyFromMinor(275, usd)
	if got := a.Add(b); got != domain.MoneyFromMinor(1325, usd) {
		t.Errorf("Add = %v, want 13.25", got)
	}
	if got := b.Sub(a); got != domain.MoneyFromMinor(-775, usd) {
		t.Errorf("Sub = %v, want -7.75", got)
	}
	if a.Cmp(b) != 1 || b.Cmp(a) != -1 || a.Cmp(a) != 0 {
		t.Errorf("Cmp is not ordering 10.50 and 2.75")
	}
	if !domain.MoneyFromMinor(0, kwd).IsZero() || a.IsZero() {
		t.Errorf("IsZero wrong")
	}
	// Cmp is exact across scales: 1.50 USD-scale == 1.500 KWD-scale.
	if got := domain.MoneyFromMinor(150, usd).Cmp(domain.MoneyFromMinor(1500, kwd)); got != 0 {
		t.Errorf("Cmp(1.50, 1.500) = %d, want 0", got)
	}
	if got := domain.MoneyFromMinor(-150, usd).Cmp(domain.MoneyFromMinor(-1499, kwd)); got != -1 {
		t.Errorf("Cmp(-1.50, -1.499) = %d, want -1", got)
	}
	if got := domain.MoneyFromMinor(2, jpy).Cmp(domain.MoneyFromMinor(199, usd)); got != 1 {
		t.Errorf("Cmp(2, 1.99) = %d, want 1", got)
	}
}

func TestMoneyScaleMismatchPanics(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]func(){
		"Add": func() { domain.MoneyFromMinor(1, usd).Add(domain.MoneyFromMinor(1, jpy)) },
		"Sub": func() { domain.MoneyFromMinor(1, kwd).Sub(domain.MoneyFromMinor(1, usd)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s with different scales did not panic", name)
				}
			}()
			f()
		}()
	}
}
