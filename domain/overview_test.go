package domain

import (
	"testing"
	"time"
)

func TestBuildOverview(t *testing.T) {
	w1, w2, w3 := NewDate(2026, time.November, 2), NewDate(2026, time.November, 9), NewDate(2026, time.November, 16)
	weeks := []Date{w1, w2, w3}
	dec := func(s string) Decimal {
		d, err := ParseDecimal(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name  string
		facts OverviewFacts
		check func(t *testing.T, o Overview)
	}{
		{"empty", OverviewFacts{Weeks: weeks}, func(t *testing.T, o Overview) {
			if len(o.Cash) != 0 || len(o.Outstanding) != 0 || o.CurePercent != nil || o.MedianDaysToCompletion != nil || o.Plans != 0 {
				t.Errorf("empty overview = %+v", o)
			}
		}},
		{"weeks, sums and heights", OverviewFacts{Weeks: weeks, Cash: []OverviewCashFact{
			{Currency: "usd", Week: w1, Due: dec("100.00"), Collected: dec("50.00")},
			{Currency: "usd", Week: w1, Due: dec("200.005"), Collected: dec("0")}, // summed with the row above, rounded once
			{Currency: "usd", Week: w3, Due: dec("0"), Collected: dec("100.10")},
			{Currency: "usd", Week: NewDate(2026, time.October, 26), Due: dec("999")}, // not a week shown
			{Currency: "jpy", Week: w2, Due: dec("1000"), Collected: dec("333")},
		}}, func(t *testing.T, o Overview) {
			if len(o.Cash) != 2 || o.Cash[0].Currency != "jpy" || o.Cash[1].Currency != "usd" {
				t.Fatalf("currencies = %+v", o.Cash)
			}
			jpy, usd := o.Cash[0], o.Cash[1]
			want := []struct {
				got, want string
			}{
				{usd.Due.String(), "300.01"}, {usd.Collected.String(), "150.10"}, {usd.Max.String(), "300.01"},
				{usd.CollectedPercent.String(), "50.0"}, // 150.10 / 300.005 = 50.03...%
				{usd.Weeks[0].Due.String(), "300.01"}, {usd.Weeks[0].DueHeight.String(), "100.0"},
				{usd.Weeks[0].Collected.String(), "50.00"}, {usd.Weeks[0].CollectedHeight.String(), "16.7"},
				{usd.Weeks[1].Due.String(), "0.00"}, {usd.Weeks[1].DueHeight.String(), "0.0"},
				{usd.Weeks[2].Collected.String(), "100.10"}, {usd.Weeks[2].CollectedHeight.String(), "33.4"},
				{jpy.Due.String(), "1000"}, {jpy.Collected.String(), "333"}, {jpy.CollectedPercent.String(), "33.3"},
				{jpy.Weeks[0].Due.String(), "0"}, {jpy.Weeks[1].CollectedHeight.String(), "33.3"},
			}
			for i, w := range want {
				if w.got != w.want {
					t.Errorf("figure %d = %s, want %s", i, w.got, w.want)
				}
			}
			if len(usd.Weeks) != 3 || usd.Weeks[2].Week != w3 {
				t.Errorf("usd weeks = %+v", usd.Weeks)
			}
		}},
		{"statuses, cure rate and median", OverviewFacts{Weeks: weeks,
			Statuses: []OverviewStatusFact{
				{Status: StatusActive, Currency: "USD", Plans: 3, Outstanding: dec("900.50")},
				{Status: StatusPending, Currency: "USD", Plans: 1, Outstanding: dec("100")},
				{Status: StatusCompleted, Currency: "USD", Plans: 2, Outstanding: dec("0")},
				{Status: StatusCompleted, Currency: "EUR", Plans: 1, Outstanding: dec("0")},
				{Status: StatusCancelled, Currency: "USD", Plans: 2, Outstanding: dec("450.25")},
				{Status: StatusWrittenOff, Currency: "USD", Plans: 1, Outstanding: dec("300")},
			},
			CompletionDays: []OverviewDaysFact{{Days: 40, Plans: 1}, {Days: 10, Plans: 1}, {Days: 31, Plans: 1}},
		}, func(t *testing.T, o Overview) {
			if o.Plans != 10 || o.Completed != 3 || o.Closed != 6 || o.CurePercent.String() != "50.0" {
				t.Errorf("plans %d completed %d closed %d cure %v", o.Plans, o.Completed, o.Closed, o.CurePercent)
			}
			if o.MedianDaysToCompletion.String() != "31" {
				t.Errorf("median = %v, want 31", o.MedianDaysToCompletion)
			}
			if len(o.Outstanding) != 2 || o.Outstanding[1].Currency != "USD" {
				t.Fatalf("outstanding = %+v", o.Outstanding)
			}
			usd := o.Outstanding[1]
			if usd.Outstanding.String() != "1750.75" {
				t.Errorf("USD outstanding = %s", usd.Outstanding)
			}
			var got []string
			for _, r := range usd.Rows {
				got = append(got, string(r.Status)+" "+r.Outstanding.String()+" "+r.Width.String())
			}
			want := []string{"pending 100.00 11.1", "active 900.50 100.0", "completed 0.00 0.0", "cancelled 450.25 50.0", "written_off 300.00 33.3"}
			if len(got) != len(want) {
				t.Fatalf("rows = %q, want %q", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("row %d = %q, want %q", i, got[i], want[i])
				}
			}
		}},
		{"median of an even count", OverviewFacts{CompletionDays: []OverviewDaysFact{{Days: 10, Plans: 2}, {Days: 13, Plans: 1}, {Days: 20, Plans: 1}}},
			func(t *testing.T, o Overview) {
				if o.MedianDaysToCompletion.String() != "11.5" || o.CurePercent != nil {
					t.Errorf("median = %v cure = %v, want 11.5 and none", o.MedianDaysToCompletion, o.CurePercent)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := BuildOverview(tt.facts)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, o)
		})
	}
}
