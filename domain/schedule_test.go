package domain_test

import (
	"reflect"
	"testing"

	"goodplan/domain"
)

func TestSplit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		total int64
		n     int
		want  []int64
	}{
		{120000, 3, []int64{40000, 40000, 40000}},
		{100, 3, []int64{34, 33, 33}},
		{101, 3, []int64{34, 34, 33}},
		{10, 4, []int64{3, 3, 2, 2}},
		{1000, 7, []int64{143, 143, 143, 143, 143, 143, 142}},
		{5, 5, []int64{1, 1, 1, 1, 1}},
		{7, 6, []int64{2, 1, 1, 1, 1, 1}},
		{11, 2, []int64{6, 5}},
		{9, 1, []int64{9}},
	}
	for _, tt := range tests {
		got := domain.Split(tt.total, tt.n)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Split(%d, %d) = %v, want %v", tt.total, tt.n, got, tt.want)
		}
		var sum int64
		for _, p := range got {
			sum += p
		}
		if sum != tt.total {
			t.Errorf("Split(%d, %d) sums to %d", tt.total, tt.n, sum)
		}
	}
	// 96 installments of an uneven amount: 99999 = 96*1041 + 63.
	got := domain.Split(99999, 96)
	for i, p := range got {
		want := int64(1041)
		if i < 63 {
			want = 1042
		}
		if p != want {
			t.Fatalf("Split(99999, 96)[%d] = %d, want %d", i, p, want)
		}
	}
}

func TestSplitPanics(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		total int64
		n     int
	}{{2, 3}, {0, 1}, {5, 0}, {5, -1}, {-3, 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Split(%d, %d) did not panic", c.total, c.n)
				}
			}()
			domain.Split(c.total, c.n)
		}()
	}
}

func TestParseInterval(t *testing.T) {
	t.Parallel()
	for _, iv := range []domain.Interval{domain.Weekly, domain.Biweekly, domain.Monthly} {
		if got, ok := domain.ParseInterval(string(iv)); !ok || got != iv {
			t.Errorf("ParseInterval(%q) = %q, %v", iv, got, ok)
		}
	}
	for _, s := range []string{"", "daily", "Monthly", "MONTHLY", " monthly", "fortnightly", "yearly"} {
		if got, ok := domain.ParseInterval(s); ok {
			t.Errorf("ParseInterval(%q) = %q, want not ok", s, got)
		}
	}
}

func dueDates(iv domain.Interval, first string, n int) []string {
	var out []string
	for _, in := range domain.BuildSchedule(domain.MoneyFromMinor(int64(n)*100, usd), n, iv, d(first)) {
		out = append(out, in.DueDate.String())
	}
	return out
}

func TestScheduleDueDates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		iv    domain.Interval
		first string
		n     int
		want  []string
	}{
		{"seed monthly", domain.Monthly, "2025-12-04", 3, []string{"2025-12-04", "2026-01-04", "2026-02-04"}},
		{"Jan 31 monthly", domain.Monthly, "2025-01-31", 4, []string{"2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30"}},
		{"Jan 31 monthly leap year", domain.Monthly, "2024-01-31", 4, []string{"2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"}},
		{"Feb 29 anchor", domain.Monthly, "2024-02-29", 4, []string{"2024-02-29", "2024-03-29", "2024-04-29", "2024-05-29"}},
		{"Dec 30 anchor through Feb", domain.Monthly, "2025-12-30", 4, []string{"2025-12-30", "2026-01-30", "2026-02-28", "2026-03-30"}},
		{"Dec to Jan year roll", domain.Monthly, "2025-11-15", 3, []string{"2025-11-15", "2025-12-15", "2026-01-15"}},
		{"weekly", domain.Weekly, "2025-12-04", 3, []string{"2025-12-04", "2025-12-11", "2025-12-18"}},
		{"weekly year roll", domain.Weekly, "2025-12-25", 3, []string{"2025-12-25", "2026-01-01", "2026-01-08"}},
		{"weekly leap day", domain.Weekly, "2024-02-22", 2, []string{"2024-02-22", "2024-02-29"}},
		{"biweekly", domain.Biweekly, "2025-12-04", 3, []string{"2025-12-04", "2025-12-18", "2026-01-01"}},
		{"biweekly Feb", domain.Biweekly, "2025-02-14", 2, []string{"2025-02-14", "2025-02-28"}},
	}
	for _, tt := range tests {
		if got := dueDates(tt.iv, tt.first, tt.n); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: due dates = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestBuildSchedule96Monthly(t *testing.T) {
	t.Parallel()
	total := domain.MoneyFromMinor(1_000_000, usd) // 10000.00 = 96*104.16 + 64 cents
	s := domain.BuildSchedule(total, 96, domain.Monthly, d("2024-01-31"))
	if len(s) != 96 {
		t.Fatalf("len = %d", len(s))
	}
	sum := domain.MoneyFromMinor(0, usd)
	for k, in := range s {
		if in.Number != k+1 {
			t.Errorf("installment %d has Number %d", k, in.Number)
		}
		want := int64(10416)
		if k < 64 {
			want = 10417
		}
		if in.Amount.Minor() != want || in.Amount.Scale() != 2 {
			t.Errorf("installment %d = %v, want %d minor", k+1, in.Amount, want)
		}
		sum = sum.Add(in.Amount)
	}
	if sum != total {
		t.Errorf("sum = %v, want %v", sum, total)
	}
	if got := s[95].DueDate.String(); got != "2031-12-31" {
		t.Errorf("96th due date = %s, want 2031-12-31", got)
	}
	if got := s[1].DueDate.String(); got != "2024-02-29" {
		t.Errorf("2nd due date = %s, want 2024-02-29", got)
	}
	if got := s[13].DueDate.String(); got != "2025-02-28" {
		t.Errorf("14th due date = %s, want 2025-02-28", got)
	}
	if got := s[2].DueDate.String(); got != "2024-03-31" {
		t.Errorf("3rd due date = %s, want 2024-03-31 (from the anchor, not the previous date)", got)
	}
}

func TestBuildScheduleJPYAndKWD(t *testing.T) {
	t.Parallel()
	s := domain.BuildSchedule(domain.MoneyFromMinor(1000, jpy), 3, domain.Weekly, d("2025-12-04"))
	want := []domain.Installment{
		{Number: 1, Amount: domain.MoneyFromMinor(334, jpy), DueDate: d("2025-12-04")},
		{Number: 2, Amount: domain.MoneyFromMinor(333, jpy), DueDate: d("2025-12-11")},
		{Number: 3, Amount: domain.MoneyFromMinor(333, jpy), DueDate: d("2025-12-18")},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("JPY schedule = %v, want %v", s, want)
	}
	s = domain.BuildSchedule(domain.MoneyFromMinor(10000, kwd), 3, domain.Biweekly, d("2025-12-04"))
	if s[0].Amount.String() != "3.334" || s[1].Amount.String() != "3.333" || s[2].Amount.String() != "3.333" {
		t.Errorf("KWD schedule amounts = %v %v %v", s[0].Amount, s[1].Amount, s[2].Amount)
	}
}

func TestDueDatePanicsOnUnknownInterval(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Errorf("DueDate with unknown interval did not panic")
		}
	}()
	domain.Interval("daily").DueDate(d("2025-12-04"), 1)
}
