package domain_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"goodplan/domain"
)

func d(s string) domain.Date {
	v, err := domain.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return v
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"2025-12-04", "2024-02-29", "2000-02-29", "0001-01-01", "9999-12-31", "2026-01-31"} {
		got, err := domain.ParseDate(s)
		if err != nil || got.String() != s {
			t.Errorf("ParseDate(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{
		"", "2025-1-04", "2025-12-4", "25-12-04", "2025/12/04", "2025-12-04T00:00:00Z",
		"2025-13-01", "2025-00-10", "2025-12-00", "2025-12-32", "2025-02-29", "1900-02-29",
		"2025-04-31", " 2025-12-04", "2025-12-04 ", "+025-12-04", "2025-1a-04", "２０２５-12-04",
	} {
		if got, err := domain.ParseDate(s); !errors.Is(err, domain.ErrInvalidDate) {
			t.Errorf("ParseDate(%q) = %v, %v; want ErrInvalidDate", s, got, err)
		}
	}
}

func TestDateBasics(t *testing.T) {
	t.Parallel()
	var zero domain.Date
	if !zero.IsZero() || d("2025-12-04").IsZero() || d("0001-01-01").IsZero() {
		t.Errorf("IsZero wrong")
	}
	if got := domain.NewDate(2025, time.December, 4); got != d("2025-12-04") {
		t.Errorf("NewDate = %v", got)
	}
	if got := domain.NewDate(2025, time.January, 32); got != d("2025-02-01") {
		t.Errorf("NewDate normalises Jan 32 to %v, want 2025-02-01", got)
	}
	if got := domain.NewDate(2025, 13, 1); got != d("2026-01-01") {
		t.Errorf("NewDate normalises month 13 to %v, want 2026-01-01", got)
	}
	// 23:30 at UTC-5 on Nov 26 is Nov 27 in UTC.
	ny := time.FixedZone("EST", -5*3600)
	if got := domain.DateOf(time.Date(2025, 11, 26, 23, 30, 0, 0, ny)); got != d("2025-11-27") {
		t.Errorf("DateOf = %v, want the UTC date 2025-11-27", got)
	}
	if got := d("2025-12-04").Time(); !got.Equal(time.Date(2025, 12, 4, 0, 0, 0, 0, time.UTC)) || got.Location() != time.UTC {
		t.Errorf("Time() = %v", got)
	}
	a, b := d("2025-12-04"), d("2026-01-01")
	if !a.Before(b) || a.After(b) || !b.After(a) || a.Before(a) || a.After(a) {
		t.Errorf("Before/After wrong")
	}
	if !d("2025-11-30").Before(d("2025-12-01")) || !d("2025-12-01").Before(d("2025-12-02")) {
		t.Errorf("Before across months/days wrong")
	}
}

func TestDateAddDays(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2025-11-27", 7, "2025-12-04"},
		{"2025-12-28", 7, "2026-01-04"},
		{"2024-02-28", 1, "2024-02-29"},
		{"2025-02-28", 1, "2025-03-01"},
		{"2025-11-27", 365, "2026-11-27"},
		{"2024-03-01", -1, "2024-02-29"},
		{"2025-03-30", 0, "2025-03-30"},
	}
	for _, tt := range tests {
		if got := d(tt.from).AddDays(tt.n); got.String() != tt.want {
			t.Errorf("%s AddDays(%d) = %v, want %s", tt.from, tt.n, got, tt.want)
		}
	}
}

func TestDateAddMonthsClamped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2025-01-31", 1, "2025-02-28"},
		{"2024-01-31", 1, "2024-02-29"},
		{"2025-01-31", 2, "2025-03-31"},
		{"2025-01-31", 3, "2025-04-30"},
		{"2024-02-29", 12, "2025-02-28"},
		{"2024-02-29", 48, "2028-02-29"},
		{"2024-02-29", 1, "2024-03-29"},
		{"2025-12-04", 1, "2026-01-04"},
		{"2025-12-31", 2, "2026-02-28"},
		{"2025-11-30", 3, "2026-02-28"},
		{"2025-03-31", -1, "2025-02-28"},
		{"2025-01-15", -1, "2024-12-15"},
		{"2025-08-31", 1, "2025-09-30"},
		{"2025-05-31", 0, "2025-05-31"},
		{"2025-01-31", 95, "2032-12-31"},
	}
	for _, tt := range tests {
		if got := d(tt.from).AddMonthsClamped(tt.n); got.String() != tt.want {
			t.Errorf("%s AddMonthsClamped(%d) = %v, want %s", tt.from, tt.n, got, tt.want)
		}
	}
}

func TestDateJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(d("2025-12-04"))
	if err != nil || string(b) != `"2025-12-04"` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back domain.Date
	if err := json.Unmarshal(b, &back); err != nil || back != d("2025-12-04") {
		t.Fatalf("Unmarshal(%s) = %v, %v", b, back, err)
	}
	if b, _ := json.Marshal(domain.Date{}); string(b) != "null" {
		t.Errorf("zero Date marshals to %s, want null", b)
	}
	for _, in := range []string{`null`, `""`} {
		v := d("2025-12-04")
		if err := json.Unmarshal([]byte(in), &v); err != nil || !v.IsZero() {
			t.Errorf("Unmarshal(%s) = %v, %v; want zero", in, v, err)
		}
	}
	for _, in := range []string{`"2025-02-30"`, `"12/04/2025"`, `20251204`, `"2025-12-04T00:00:00Z"`} {
		var v domain.Date
		if err := json.Unmarshal([]byte(in), &v); !errors.Is(err, domain.ErrInvalidDate) {
			t.Errorf("Unmarshal(%s) error = %v, want ErrInvalidDate", in, err)
		}
	}
}
