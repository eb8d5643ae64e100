package domain

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// MaxAmountMajor is the largest absolute amount, in major units, that
// ParseMoney accepts. It keeps every amount far inside int64 minor units.
const MaxAmountMajor = 1_000_000_000_000

// maxMoneyScale bounds the decimals UnmarshalJSON accepts: 10^18 is the
// largest power of ten that fits an int64.
const maxMoneyScale = 18

// maxAmountText is the longest amount text parsed.
const maxAmountText = 64

// maxAmount is MaxAmountMajor as a decimal, for exact comparisons.
var maxAmount = apd.New(MaxAmountMajor, 0)

// Money is an exact decimal amount: an integer number of minor units and a
// scale (the number of digits after the decimal point, the currency's minor
// units). The zero value is 0 with no decimals. Money never goes through
// float64.
type Money struct {
	minor int64
	scale int32
}

// ParseMoney parses text (JSON number text or a numeric string such as
// "1200", "1200.00", "1.2e3") as an amount in currency c. Trailing zeros carry
// no value, so "1200.000" is fine for USD. It returns an error wrapping
// ErrInvalidAmount if text is not a finite decimal, ErrAmountTooLarge if the
// absolute value is above MaxAmountMajor, and ErrTooManyDecimals if a nonzero
// digit lies beyond c.MinorUnits decimals. Negative amounts parse; rejecting
// them is validation's job.
func ParseMoney(text string, c Currency) (Money, error) {
	d, err := parseAmount(text)
	if err != nil {
		return Money{}, err
	}
	return moneyFromDecimal(d, c, text)
}

// parseAmount parses text exactly with apd and checks it is a finite number
// whose absolute value is at most MaxAmountMajor.
func parseAmount(text string) (*apd.Decimal, error) {
	if text == "" {
		return nil, fmt.Errorf("amount %q: %w", text, ErrInvalidAmount)
	}
	if len(text) > maxAmountText {
		// No amount within MaxAmountMajor needs this many characters, and
		// apd's reduction of a long one ("1" and 60,000 zeros "e-60000")
		// takes seconds.
		return nil, fmt.Errorf("amount of %d characters: %w", len(text), ErrInvalidAmount)
	}
	d, _, err := apd.NewFromString(text)
	if err != nil || d.Form != apd.Finite {
		return nil, fmt.Errorf("amount %q: %w", text, ErrInvalidAmount)
	}
	var abs apd.Decimal
	abs.Abs(d)
	if abs.Cmp(maxAmount) > 0 {
		return nil, fmt.Errorf("amount %q: %w", text, ErrAmountTooLarge)
	}
	return d, nil
}

// moneyFromDecimal converts d, already bounded by parseAmount, to minor units
// of c. Reducing first strips trailing zeros, so only significant digits
// count against the currency's decimals.
func moneyFromDecimal(d *apd.Decimal, c Currency, text string) (Money, error) {
	var r apd.Decimal
	r.Reduce(d)
	if r.Exponent < -c.MinorUnits {
		return Money{}, fmt.Errorf("amount %q in %s: %w", text, c.Code, ErrTooManyDecimals)
	}
	r.Exponent += c.MinorUnits
	minor, err := r.Int64()
	if err != nil {
		// Unreachable: |d| <= 10^12 and MinorUnits <= 3 fit easily.
		return Money{}, fmt.Errorf("amount %q: %w", text, ErrAmountTooLarge)
	}
	return Money{minor: minor, scale: c.MinorUnits}, nil
}

// MoneyFromMinor returns minor units of currency c, e.g. 40000 USD is 400.00.
func MoneyFromMinor(minor int64, c Currency) Money {
	return Money{minor: minor, scale: c.MinorUnits}
}

// Minor returns the amount in minor units (cents for USD).
func (m Money) Minor() int64 { return m.minor }

// Scale returns the number of digits after the decimal point.
func (m Money) Scale() int32 { return m.scale }

// String formats m with exactly Scale decimals: "400.00" (USD), "400" (JPY),
// "1.500" (KWD), "-0.50".
func (m Money) String() string {
	neg := m.minor < 0
	u := uint64(m.minor)
	if neg {
		u = -u // two's complement: also right for math.MinInt64
	}
	s := strconv.FormatUint(u, 10)
	if sc := int(m.scale); sc > 0 {
		if len(s) <= sc {
			s = strings.Repeat("0", sc-len(s)+1) + s
		}
		s = s[:len(s)-sc] + "." + s[len(s)-sc:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// MarshalJSON encodes m as a JSON string, e.g. "400.00", as the API shows
// amounts.
func (m Money) MarshalJSON() ([]byte, error) {
	// The text is digits, '-' and '.': no escaping needed.
	return []byte(`"` + m.String() + `"`), nil
}

// UnmarshalJSON decodes a JSON string such as "400.00" (a bare JSON number in
// plain decimal form is accepted too). The scale is the number of digits after
// the point, so a round trip through MarshalJSON is exact. JSON null leaves m
// unchanged. Malformed text returns an error wrapping ErrInvalidAmount.
func (m *Money) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if unq, ok := unquoteSimple(b); ok {
			s = unq // the usual case: no escapes, no decoder needed
		} else if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("money %s: %w", b, ErrInvalidAmount)
		}
	}
	v, err := parsePlainDecimal(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// unquoteSimple returns the contents of a JSON string without escapes.
func unquoteSimple(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	inner := b[1 : len(b)-1]
	for _, c := range inner {
		if c == '\\' || c == '"' || c < 0x20 {
			return "", false
		}
	}
	return string(inner), true
}

// parsePlainDecimal parses [-]digits[.digits] exactly; the scale is the
// number of digits after the point.
func parsePlainDecimal(s string) (Money, error) {
	bad := func() (Money, error) { return Money{}, fmt.Errorf("money %q: %w", s, ErrInvalidAmount) }
	digits := strings.TrimPrefix(s, "-")
	intPart, frac, hasPoint := strings.Cut(digits, ".")
	if intPart == "" || (hasPoint && frac == "") || len(frac) > maxMoneyScale {
		return bad()
	}
	// Accumulate the digits of both parts with an overflow check.
	var minor int64
	for _, part := range [2]string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return bad()
			}
			if minor > (math.MaxInt64-int64(c-'0'))/10 {
				return bad()
			}
			minor = minor*10 + int64(c-'0')
		}
	}
	if len(digits) != len(s) {
		minor = -minor
	}
	return Money{minor: minor, scale: int32(len(frac))}, nil
}

// Add returns m + o. Both must have the same scale: mixing scales is a
// programming error and panics.
func (m Money) Add(o Money) Money {
	m.mustMatch(o)
	return Money{minor: m.minor + o.minor, scale: m.scale}
}

// Sub returns m - o. Both must have the same scale: mixing scales is a
// programming error and panics.
func (m Money) Sub(o Money) Money {
	m.mustMatch(o)
	return Money{minor: m.minor - o.minor, scale: m.scale}
}

// Cmp returns -1, 0 or +1 as m is less than, equal to or greater than o. The
// comparison is by value and exact even when the scales differ.
func (m Money) Cmp(o Money) int {
	if m.scale == o.scale {
		switch {
		case m.minor < o.minor:
			return -1
		case m.minor > o.minor:
			return 1
		}
		return 0
	}
	return apd.New(m.minor, -m.scale).Cmp(apd.New(o.minor, -o.scale))
}

// IsZero reports whether m is zero.
func (m Money) IsZero() bool { return m.minor == 0 }

func (m Money) mustMatch(o Money) {
	if m.scale != o.scale {
		panic(fmt.Sprintf("domain: money scale mismatch: %d vs %d", m.scale, o.scale))
	}
}
