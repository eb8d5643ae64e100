package domain_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"goodplan/domain"
)

// seedNow is the seed example's creation time: created 2025-11-27, first
// payment 2025-12-04.
var seedNow = time.Date(2025, 11, 27, 1, 15, 30, 0, time.UTC)

// ids returns MaxOptions option ids counting up from start.
func ids(start int64) []int64 {
	out := make([]int64, domain.MaxOptions)
	for i := range out {
		out[i] = start + int64(i)
	}
	return out
}

// minimalCmd is the seed's minimal request.
func minimalCmd() domain.CreatePlan {
	return domain.CreatePlan{
		PlanID: 42, AccountID: 1, CustomerID: 567, InvoiceID: 890,
		OptionIDs: ids(101), PortalToken: "abc123", Now: seedNow,
		CustomerName: "John Doe", CustomerEmail: "john@example.com",
		Amount:                "1200.00",
		SendIntroductionEmail: true,
	}
}

// with returns the minimal command changed by f.
func with(f func(*domain.CreatePlan)) domain.CreatePlan {
	c := minimalCmd()
	f(&c)
	return c
}

func money(text string, c domain.Currency) domain.Money {
	m, err := domain.ParseMoney(text, c)
	if err != nil {
		panic(err)
	}
	return m
}

// option builds an expected option; payment and final date are given
// explicitly so they are checked independently of the schedule.
func option(id int64, n int, iv domain.Interval, total domain.Money, payment domain.Money, first, final string) domain.Option {
	return domain.Option{
		ID: id, Installments: n, Interval: iv, PaymentAmount: payment,
		FirstPaymentDate: d(first), FinalPaymentDate: d(final),
		Schedule: domain.BuildSchedule(total, n, iv, d(first)),
	}
}

// created is the PlanCreated of the minimal command with the given options.
func created(opts ...domain.Option) domain.PlanCreated {
	return domain.PlanCreated{
		PlanID: 42, AccountID: 1, PortalToken: "abc123",
		Customer: domain.Customer{ID: 567, Name: "John Doe", Email: "john@example.com"},
		Invoice: domain.Invoice{
			ID: 890, Amount: money("1200.00", usd), Currency: "USD",
		},
		Options:               opts,
		SendIntroductionEmail: true,
		CreatedAt:             seedNow,
	}
}

func seedMonthly3() domain.Option {
	return domain.Option{
		ID: 101, Installments: 3, Interval: domain.Monthly,
		PaymentAmount:    money("400.00", usd),
		FirstPaymentDate: d("2025-12-04"), FinalPaymentDate: d("2026-02-04"),
		Schedule: []domain.Installment{
			{Number: 1, Amount: money("400.00", usd), DueDate: d("2025-12-04")},
			{Number: 2, Amount: money("400.00", usd), DueDate: d("2026-01-04")},
			{Number: 3, Amount: money("400.00", usd), DueDate: d("2026-02-04")},
		},
	}
}

func TestCreatePlan(t *testing.T) {
	t.Parallel()
	total := money("1200", usd)
	tests := []struct {
		name    string
		given   []domain.Event
		when    domain.CreatePlan
		want    []domain.Event
		wantErr error
	}{
		{
			name: "seed minimal: monthly x 3, 6, 12 from 2025-12-04",
			when: minimalCmd(),
			want: []domain.Event{created(
				seedMonthly3(),
				option(102, 6, domain.Monthly, total, money("200", usd), "2025-12-04", "2026-05-04"),
				option(103, 12, domain.Monthly, total, money("100", usd), "2025-12-04", "2026-11-04"),
			)},
		},
		{
			name: "seed full: weekly and monthly x 3, 6, 12",
			when: with(func(c *domain.CreatePlan) {
				c.CustomerPhone = "+1-555-123-4567"
				c.InvoiceNumber = "INV-2024-001"
				c.Description = "Past due consulting services"
				c.Intervals = []string{"weekly", "monthly"}
				c.Durations = []int{3, 6, 12}
			}),
			want: []domain.Event{func() domain.PlanCreated {
				e := created(
					option(101, 3, domain.Weekly, total, money("400", usd), "2025-12-04", "2025-12-18"),
					option(102, 6, domain.Weekly, total, money("200", usd), "2025-12-04", "2026-01-08"),
					option(103, 12, domain.Weekly, total, money("100", usd), "2025-12-04", "2026-02-19"),
					option(104, 3, domain.Monthly, total, money("400", usd), "2025-12-04", "2026-02-04"),
					option(105, 6, domain.Monthly, total, money("200", usd), "2025-12-04", "2026-05-04"),
					option(106, 12, domain.Monthly, total, money("100", usd), "2025-12-04", "2026-11-04"),
				)
				e.Customer.Phone = "+1-555-123-4567"
				e.Invoice.InvoiceNumber = "INV-2024-001"
				e.Invoice.Description = "Past due consulting services"
				return e
			}()},
		},
		{
			name: "seed example numbers: 1200.00 USD in 3 monthly payments of 400.00",
			when: with(func(c *domain.CreatePlan) { c.Durations = []int{3} }),
			want: []domain.Event{created(seedMonthly3())},
		},
		{
			name: "amount in exponent form and trailing zeros, trimmed text fields",
			when: with(func(c *domain.CreatePlan) {
				c.Amount = "1.2000e3"
				c.CustomerName = "  John Doe "
				c.CustomerEmail = " john@example.com\n"
				c.Durations = []int{3}
				c.SendIntroductionEmail = true
			}),
			want: []domain.Event{created(seedMonthly3())},
		},
		{
			name: "uneven split: the first installments carry the extra cent",
			when: with(func(c *domain.CreatePlan) {
				c.Amount = "100"
				c.Durations = []int{3}
				c.SendIntroductionEmail = false
			}),
			want: []domain.Event{func() domain.PlanCreated {
				e := created(option(101, 3, domain.Monthly, money("100", usd), money("33.34", usd), "2025-12-04", "2026-02-04"))
				e.Invoice.Amount = money("100", usd)
				e.SendIntroductionEmail = false
				return e
			}()},
		},
		{
			name: "JPY, lower-case currency, biweekly",
			when: with(func(c *domain.CreatePlan) {
				c.Amount, c.Currency = "1000", "jpy"
				c.Intervals, c.Durations = []string{"biweekly"}, []int{3}
			}),
			want: []domain.Event{func() domain.PlanCreated {
				e := created(option(101, 3, domain.Biweekly, money("1000", jpy), money("334", jpy), "2025-12-04", "2026-01-01"))
				e.Invoice.Amount, e.Invoice.Currency = money("1000", jpy), "JPY"
				return e
			}()},
		},
		{
			name: "KWD three decimals",
			when: with(func(c *domain.CreatePlan) {
				c.Amount, c.Currency = "10", "KWD"
				c.Durations = []int{3}
			}),
			want: []domain.Event{func() domain.PlanCreated {
				e := created(option(101, 3, domain.Monthly, money("10", kwd), money("3.334", kwd), "2025-12-04", "2026-02-04"))
				e.Invoice.Amount, e.Invoice.Currency = money("10.000", kwd), "KWD"
				return e
			}()},
		},
		{
			name: "duplicates removed keeping first occurrence, intervals outer",
			when: with(func(c *domain.CreatePlan) {
				c.Intervals = []string{"monthly", "weekly", "monthly"}
				c.Durations = []int{6, 3, 6}
			}),
			want: []domain.Event{created(
				option(101, 6, domain.Monthly, total, money("200", usd), "2025-12-04", "2026-05-04"),
				option(102, 3, domain.Monthly, total, money("400", usd), "2025-12-04", "2026-02-04"),
				option(103, 6, domain.Weekly, total, money("200", usd), "2025-12-04", "2026-01-08"),
				option(104, 3, domain.Weekly, total, money("400", usd), "2025-12-04", "2025-12-18"),
			)},
		},
		{
			name: "first payment date today, Jan 31 anchor clamps",
			when: with(func(c *domain.CreatePlan) {
				c.Now = time.Date(2028, 1, 31, 23, 59, 59, 0, time.UTC)
				c.FirstPaymentDate = "2028-01-31"
				c.Durations = []int{3}
			}),
			want: []domain.Event{func() domain.PlanCreated {
				e := created(option(101, 3, domain.Monthly, total, money("400", usd), "2028-01-31", "2028-03-31"))
				e.CreatedAt = time.Date(2028, 1, 31, 23, 59, 59, 0, time.UTC)
				if got := e.Options[0].Schedule[1].DueDate; got != d("2028-02-29") {
					panic("unexpected " + got.String())
				}
				return e
			}()},
		},
		{
			name: "first payment date 365 days ahead, Now in another zone stored as UTC",
			when: with(func(c *domain.CreatePlan) {
				c.Now = seedNow.In(time.FixedZone("X", -3*3600)) // still 2025-11-27 in UTC
				c.FirstPaymentDate = "2026-11-27"
				c.Durations = []int{2}
				c.Intervals = []string{"weekly"}
			}),
			want: []domain.Event{created(
				option(101, 2, domain.Weekly, total, money("600", usd), "2026-11-27", "2026-12-04"),
			)},
		},
		{
			name: "minimum amount 1.00 in 96 payments",
			when: with(func(c *domain.CreatePlan) {
				c.Amount = "1"
				c.Durations = []int{96}
			}),
			want: []domain.Event{func() domain.PlanCreated {
				e := created(option(101, 96, domain.Monthly, money("1", usd), money("0.02", usd), "2025-12-04", "2033-11-04"))
				e.Invoice.Amount = money("1", usd)
				return e
			}()},
		},
		{
			name:    "duplicate create",
			given:   []domain.Event{created(seedMonthly3())},
			when:    minimalCmd(),
			wantErr: domain.ErrPlanExists,
		},
		{
			name:    "duplicate create wins over validation",
			given:   []domain.Event{created(seedMonthly3())},
			when:    with(func(c *domain.CreatePlan) { c.Amount = "" }),
			wantErr: domain.ErrPlanExists,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var p domain.Plan
			for _, e := range tt.given {
				p.Apply(e)
			}
			got, err := p.CreatePlan(tt.when)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("CreatePlan error = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CreatePlan events =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestCreatePlanDoesNotChangePlan(t *testing.T) {
	t.Parallel()
	var p domain.Plan
	if _, err := p.CreatePlan(minimalCmd()); err != nil {
		t.Fatal(err)
	}
	if p.Exists() || p.Version() != 0 {
		t.Errorf("deciding changed the plan: version %d", p.Version())
	}
}

func TestCreatePlanTooFewOptionIDs(t *testing.T) {
	t.Parallel()
	var p domain.Plan
	_, err := p.CreatePlan(with(func(c *domain.CreatePlan) { c.OptionIDs = c.OptionIDs[:2] }))
	var ve *domain.ValidationError
	if err == nil || errors.As(err, &ve) {
		t.Errorf("CreatePlan with too few option ids error = %v, want a programming error", err)
	}
}

func TestCreatePlanIDsOnlyOnSuccess(t *testing.T) {
	t.Parallel()
	cmd := with(func(c *domain.CreatePlan) { c.Amount = "0" })
	calls := cmd.OptionCount() // the ids a caller allocates before deciding
	var p domain.Plan
	_, err := p.CreatePlan(cmd)
	if err == nil || calls != 0 {
		t.Errorf("invalid command allocated %d ids (err %v)", calls, err)
	}
	if n := minimalCmd().OptionCount(); n != 3 {
		t.Errorf("the seed's minimal command needs %d option ids, want 3", n)
	}
}
