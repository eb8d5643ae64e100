package domain

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cockroachdb/apd/v3"
)

// MaxDecimalPlaces is the most digits after the decimal point of a catalog
// plan's amount, a tier's unit cost or a quoted quantity.
const MaxDecimalPlaces = 10

// maxDecimalText bounds the text UnmarshalJSON parses, as parseAmount does.
const maxDecimalText = 64

// ErrTooManyDecimalPlaces is returned by ParseDecimal for a value with a
// nonzero digit beyond MaxDecimalPlaces decimals.
var ErrTooManyDecimalPlaces = errors.New("too many decimal places")

// Decimal is an exact decimal number that is not tied to a currency's minor
// units (a unit cost may be 0.0015 USD). It is kept as its canonical text:
// no exponent, no plus sign, no negative zero, trailing zeros as given
// ("49.00" stays "49.00"). The zero value is 0. It is comparable, and it
// never goes through float64. Its JSON form is a string ("49.00").
type Decimal struct {
	// text is the canonical form; "" stands for "0".
	text string
}

// ParseDecimal parses text (JSON number text or a numeric string such as
// "49", "0.0015", "1.2e3") exactly. It returns an error wrapping
// ErrInvalidAmount if text is not a finite decimal, ErrAmountTooLarge if
// its absolute value is above MaxAmountMajor, and ErrTooManyDecimalPlaces if
// a nonzero digit lies beyond MaxDecimalPlaces decimals. Negative values
// parse; refusing them is validation's job.
func ParseDecimal(text string) (Decimal, error) {
	d, err := parseAmount(text)
	if err != nil {
		return Decimal{}, err
	}
	var r apd.Decimal
	r.Reduce(d)
	if r.Exponent < -MaxDecimalPlaces {
		return Decimal{}, fmt.Errorf("decimal %q: %w", text, ErrTooManyDecimalPlaces)
	}
	if d.Exponent < -MaxDecimalPlaces {
		d = &r // "1.00000000000000" keeps no more zeros than it may have digits
	}
	return decimalOf(d), nil
}

// NewDecimal returns coeff x 10^exp, e.g. NewDecimal(15, -4) is 0.0015.
func NewDecimal(coeff int64, exp int32) Decimal { return decimalOf(apd.New(coeff, exp)) }

// decimalOf returns the canonical Decimal of a finite d.
func decimalOf(d *apd.Decimal) Decimal {
	var c apd.Decimal
	c.Set(d)
	if c.IsZero() {
		c.Negative = false
	}
	if c.Exponent > 0 {
		// 5E+3 prints as "5000"; store it as that integer so that the
		// text parses back to the same coefficient and exponent.
		_, _ = apd.BaseContext.WithPrecision(1000).Quantize(&c, &c, 0)
	}
	s := c.Text('f')
	if s == "0" {
		s = ""
	}
	return Decimal{text: s}
}

// String returns the canonical text, "0" for the zero value.
func (d Decimal) String() string {
	if d.text == "" {
		return "0"
	}
	return d.text
}

// apd returns d as an apd decimal.
func (d Decimal) apd() *apd.Decimal {
	v, _, err := apd.NewFromString(d.String())
	if err != nil {
		panic("domain: decimal " + d.text + " is not canonical") // unreachable: every Decimal is built from a finite apd value
	}
	return v
}

// Sign returns -1, 0 or 1.
func (d Decimal) Sign() int { return d.apd().Sign() }

// Cmp compares d and o by value (1.0 equals 1.00).
func (d Decimal) Cmp(o Decimal) int { return d.apd().Cmp(o.apd()) }

// IsInteger reports whether d has no nonzero fractional digit.
func (d Decimal) IsInteger() bool {
	var r apd.Decimal
	r.Reduce(d.apd())
	return r.Exponent >= 0
}

// MarshalJSON writes the canonical text as a JSON string.
func (d Decimal) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a JSON string or number holding a finite decimal of at
// most 64 characters. It does not apply ParseDecimal's bounds: a stored
// event is read back as it was written.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else {
		s = string(b)
	}
	if s == "" || len(s) > maxDecimalText {
		return fmt.Errorf("decimal %q: %w", s, ErrInvalidAmount)
	}
	v, _, err := apd.NewFromString(s)
	if err != nil || v.Form != apd.Finite || v.Exponent > maxDecimalText || v.Exponent < -maxDecimalText {
		return fmt.Errorf("decimal %q: %w", s, ErrInvalidAmount)
	}
	*d = decimalOf(v)
	return nil
}
