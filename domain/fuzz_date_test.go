package domain_test

import (
	"errors"
	"testing"
	"time"

	"goodplan/domain"
)

// FuzzParseDate: ParseDate never panics, fails only with ErrInvalidDate,
// agrees with time.Parse("2006-01-02") on what is a date, and an accepted
// date prints as exactly its input and survives a JSON round trip.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2025-12-04", "2024-02-29", "2025-02-29", "2025-01-31", "2025-04-31", "0000-01-01",
		"0001-01-01", "9999-12-31", "2025-13-01", "2025-00-10", "2025-12-00", "2025-1-04", "+025-12-04",
		"2025-12-04T00:00:00Z", "2025/12/04", "２０２５-12-04", "", "2025-12-0\x00", "1900-02-29", "2000-02-29"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := domain.ParseDate(s)
		_, terr := time.Parse(time.DateOnly, s)
		if (err == nil) != (terr == nil) {
			t.Fatalf("ParseDate(%q) error %v, time.Parse error %v: they disagree", s, err, terr)
		}
		if err != nil {
			if !errors.Is(err, domain.ErrInvalidDate) {
				t.Fatalf("ParseDate(%q): undocumented error %v", s, err)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("ParseDate(%q).String() = %q", s, d.String())
		}
		if d.Year() < 0 || d.Year() > 9999 {
			t.Fatalf("ParseDate(%q) year %d", s, d.Year())
		}
		if d.Time().Format(time.DateOnly) != s {
			t.Fatalf("ParseDate(%q).Time() = %s", s, d.Time())
		}
		b, err := d.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back domain.Date
		if err := back.UnmarshalJSON(b); err != nil || back != d {
			t.Fatalf("JSON round trip of %q through %s = %v, %v", s, b, back, err)
		}
	})
}

// FuzzDateJSON: Date.UnmarshalJSON never panics, fails only with
// ErrInvalidDate, and what it accepts encodes and decodes back equal.
func FuzzDateJSON(f *testing.F) {
	for _, s := range []string{`"2025-12-04"`, `null`, `""`, `"2025-02-29"`, `"2025-12-0\u0034"`, `"2025-12-04`,
		`2025`, `"\u0000025-12-04"`, `"2025-12-04" `, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d domain.Date
		if err := d.UnmarshalJSON(b); err != nil {
			if !errors.Is(err, domain.ErrInvalidDate) {
				t.Fatalf("UnmarshalJSON(%q): undocumented error %v", b, err)
			}
			return
		}
		enc, err := d.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back domain.Date
		if err := back.UnmarshalJSON(enc); err != nil || back != d {
			t.Fatalf("round trip of %q through %s = %v, %v", b, enc, back, err)
		}
	})
}

// FuzzDateArithmetic: adding days or months to a real date gives a real
// date that prints and parses back, and AddDays(n) then AddDays(-n) returns
// to the start.
func FuzzDateArithmetic(f *testing.F) {
	f.Add(int16(2025), uint8(1), uint8(31), int32(1), int16(1))
	f.Add(int16(2024), uint8(2), uint8(29), int32(365), int16(12))
	f.Add(int16(9999), uint8(12), uint8(31), int32(-1), int16(-1))
	f.Add(int16(1), uint8(1), uint8(1), int32(31), int16(95))
	f.Fuzz(func(t *testing.T, y int16, m, day uint8, days int32, months int16) {
		start := domain.NewDate(int(y)%10000, time.Month(m%12+1), int(day%31+1))
		for _, d := range []domain.Date{start.AddDays(int(days % 4000)), start.AddMonthsClamped(int(months % 1200))} {
			if d.Year() < 1 || d.Year() > 9999 {
				continue // outside the four-digit years ParseDate reads
			}
			if back, err := domain.ParseDate(d.String()); err != nil || back != d {
				t.Fatalf("from %s: %s does not parse back: %v, %v", start, d, back, err)
			}
		}
		n := int(days % 4000)
		if back := start.AddDays(n).AddDays(-n); back != start {
			t.Fatalf("%s + %d - %d days = %s", start, n, n, back)
		}
		if am := start.AddMonthsClamped(int(months % 1200)); am.Day() > start.Day() {
			t.Fatalf("%s + %d months = %s: the day grew", start, months%1200, am)
		}
	})
}
