package domain

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Date is a calendar date with no time zone, such as 2025-12-04. Dates are
// comparable with ==; the zero value is not a real date and reports IsZero.
type Date struct {
	year  int32
	month uint8 // 1..12; 0 only in the zero value
	day   uint8 // 1..31
}

// MinDate and MaxDate bound every date a command may record: dates it
// takes in (a payment date, a new due date, a first payment date) and
// dates it computes (a schedule, an extension that shifts the following
// installments, a deferral one interval after the last due date). A command
// that would leave the range is refused with a *ValidationError.
var (
	MinDate = Date{year: 1970, month: 1, day: 1}
	MaxDate = Date{year: 9999, month: 12, day: 31}
)

// InRange reports whether d is within MinDate..MaxDate.
func (d Date) InRange() bool { return !d.Before(MinDate) && !d.After(MaxDate) }

// NewDate returns the date y-m-d, normalising out-of-range months and days
// the way time.Date does (e.g. January 32 is February 1).
func NewDate(y int, m time.Month, d int) Date {
	return DateOf(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// DateOf returns the UTC calendar date of t.
func DateOf(t time.Time) Date {
	y, m, d := t.UTC().Date()
	return Date{year: int32(y), month: uint8(m), day: uint8(d)}
}

// ParseDate parses a date in strict YYYY-MM-DD form (four-digit year,
// two-digit month and day, a day that exists in that month). Anything else
// returns an error wrapping ErrInvalidDate.
func ParseDate(s string) (Date, error) {
	bad := func() (Date, error) { return Date{}, fmt.Errorf("date %q: %w", s, ErrInvalidDate) }
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return bad()
	}
	for i := 0; i < len(s); i++ {
		if i != 4 && i != 7 && (s[i] < '0' || s[i] > '9') {
			return bad()
		}
	}
	num := func(from, to int) int {
		n := 0
		for i := from; i < to; i++ {
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	y, m, d := num(0, 4), num(5, 7), num(8, 10)
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, time.Month(m)) {
		return bad()
	}
	return Date{year: int32(y), month: uint8(m), day: uint8(d)}, nil
}

// Year returns the year of d.
func (d Date) Year() int { return int(d.year) }

// Month returns the month of d.
func (d Date) Month() time.Month { return time.Month(d.month) }

// Day returns the day of the month of d.
func (d Date) Day() int { return int(d.day) }

// String formats d as YYYY-MM-DD, e.g. "2025-12-04".
func (d Date) String() string {
	return string(d.appendTo(make([]byte, 0, 10)))
}

// appendTo appends YYYY-MM-DD (years 0-9999; others as strconv prints them,
// which only String does: MarshalJSON refuses them).
func (d Date) appendTo(b []byte) []byte {
	if d.year >= 0 && d.year <= 9999 {
		y := int(d.year)
		b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	} else {
		b = strconv.AppendInt(b, int64(d.year), 10)
	}
	return append(b, '-', byte('0'+d.month/10), byte('0'+d.month%10), '-', byte('0'+d.day/10), byte('0'+d.day%10))
}

// AddDays returns d plus n days (n may be negative).
func (d Date) AddDays(n int) Date {
	return NewDate(int(d.year), time.Month(d.month), int(d.day)+n)
}

// AddMonthsClamped returns d plus n calendar months, with the day clamped to
// the last day of the target month: Jan 31 + 1 month is Feb 28 (Feb 29 in a
// leap year), Jan 31 + 2 months is Mar 31.
func (d Date) AddMonthsClamped(n int) Date {
	first := NewDate(int(d.year), time.Month(d.month)+time.Month(n), 1)
	day := min(int(d.day), daysIn(int(first.year), time.Month(first.month)))
	return Date{year: first.year, month: first.month, day: uint8(day)}
}

// daysIn returns the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Before reports whether d is earlier than o.
func (d Date) Before(o Date) bool { return d.compare(o) < 0 }

// After reports whether d is later than o.
func (d Date) After(o Date) bool { return d.compare(o) > 0 }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Time returns midnight UTC at the start of d.
func (d Date) Time() time.Time {
	return time.Date(int(d.year), time.Month(d.month), int(d.day), 0, 0, 0, 0, time.UTC)
}

// compare orders dates chronologically: -1, 0 or +1.
func (d Date) compare(o Date) int {
	if c := cmp.Compare(d.year, o.year); c != 0 {
		return c
	}
	if c := cmp.Compare(d.month, o.month); c != 0 {
		return c
	}
	return cmp.Compare(d.day, o.day)
}

// MarshalJSON encodes d as a JSON string "YYYY-MM-DD"; the zero Date is
// encoded as null. A date ParseDate could not read back (a year outside
// 0000..9999) is an error wrapping ErrDateOutOfRange, so it is never
// written.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	if d.year < 0 || d.year > 9999 {
		return nil, fmt.Errorf("date %s: %w", d, ErrDateOutOfRange)
	}
	b := append(make([]byte, 0, 12), '"')
	return append(d.appendTo(b), '"'), nil
}

// UnmarshalJSON decodes a JSON string "YYYY-MM-DD" strictly (see ParseDate).
// JSON null and "" decode to the zero Date.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if len(b) == 12 && b[0] == '"' && b[11] == '"' {
		s = string(b[1:11]) // the usual case: "YYYY-MM-DD", no decoder needed
	} else if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date %s: %w", b, ErrInvalidDate)
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
