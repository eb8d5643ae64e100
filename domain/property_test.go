package domain_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"goodplan/domain"
)

var propertySeed = flag.Uint64("seed", 0, "seed of TestSchedulePropertiesRandom (0: random)")

// TestSchedulePropertiesRandom checks the split and due-date invariants on
// many random plans. The seed is printed on failure; replay with -seed=N.
func TestSchedulePropertiesRandom(t *testing.T) {
	t.Parallel()
	const cases = 6000
	seed := *propertySeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	currencies := []domain.Currency{usd, jpy, kwd}
	intervals := []domain.Interval{domain.Weekly, domain.Biweekly, domain.Monthly}
	for i := 0; i < cases; i++ {
		c := currencies[r.IntN(len(currencies))]
		iv := intervals[r.IntN(len(intervals))]
		n := domain.MinInstallments + r.IntN(domain.MaxInstallments-domain.MinInstallments+1)
		unit := pow10(c.MinorUnits)
		// 1 major unit up to 10^9 major units, at least n minor units.
		minor := max(unit+r.Int64N(1_000_000_000*unit-unit+1), int64(n))
		total := domain.MoneyFromMinor(minor, c)
		first := randomDate(r)
		desc := fmt.Sprintf("seed %d case %d: %s %s, %d %s from %s", seed, i, total, c.Code, n, iv, first)
		if err := checkSchedule(total, n, iv, first); err != nil {
			t.Fatalf("%s: %v", desc, err)
		}
		if err := checkCreatePlanOption(total, c, n, iv, first); err != nil {
			t.Fatalf("%s: %v", desc, err)
		}
	}
}

func pow10(n int32) int64 {
	p := int64(1)
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

// randomDate favours the end of the month (days 28..31) and leap years.
func randomDate(r *rand.Rand) domain.Date {
	y := 1999 + r.IntN(60)
	if r.IntN(4) == 0 {
		y = 2000 + 4*r.IntN(15) // leap years, 2000 included
	}
	m := time.Month(1 + r.IntN(12))
	dim := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	day := 1 + r.IntN(dim)
	if r.IntN(2) == 0 {
		day = min(28+r.IntN(4), dim)
	}
	return domain.NewDate(y, m, day)
}

func daysInMonth(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func checkSchedule(total domain.Money, n int, iv domain.Interval, first domain.Date) error {
	s := domain.BuildSchedule(total, n, iv, first)
	if len(s) != n {
		return fmt.Errorf("%d installments, want %d", len(s), n)
	}
	q, rem := total.Minor()/int64(n), total.Minor()%int64(n)
	sum := domain.MoneyFromMinor(0, domainCurrencyOf(total))
	lo, hi := s[0].Amount.Minor(), s[0].Amount.Minor()
	for k, in := range s {
		if in.Number != k+1 {
			return fmt.Errorf("installment %d numbered %d", k, in.Number)
		}
		if in.Amount.Scale() != total.Scale() {
			return fmt.Errorf("installment %d scale %d", k+1, in.Amount.Scale())
		}
		want := q
		if int64(k) < rem {
			want = q + 1
		}
		if in.Amount.Minor() != want {
			return fmt.Errorf("installment %d = %d minor, want %d (first r bigger)", k+1, in.Amount.Minor(), want)
		}
		lo, hi = min(lo, in.Amount.Minor()), max(hi, in.Amount.Minor())
		sum = sum.Add(in.Amount)
		if in.DueDate != iv.DueDate(first, k) {
			return fmt.Errorf("installment %d due %s, want DueDate(anchor, %d) = %s", k+1, in.DueDate, k, iv.DueDate(first, k))
		}
		if k > 0 && !s[k-1].DueDate.Before(in.DueDate) {
			return fmt.Errorf("due dates not increasing at %d: %s then %s", k+1, s[k-1].DueDate, in.DueDate)
		}
		if err := checkDue(iv, first, k, in.DueDate); err != nil {
			return err
		}
	}
	if sum != total {
		return fmt.Errorf("sum %s, want %s", sum, total)
	}
	if hi-lo > 1 {
		return fmt.Errorf("max-min = %d minor units", hi-lo)
	}
	return nil
}

// checkDue verifies due date k independently of the code under test.
func checkDue(iv domain.Interval, first domain.Date, k int, got domain.Date) error {
	var want domain.Date
	switch iv {
	case domain.Weekly, domain.Biweekly:
		step := 7
		if iv == domain.Biweekly {
			step = 14
		}
		want = domain.DateOf(first.Time().AddDate(0, 0, step*k))
	case domain.Monthly:
		months := int(first.Month()) - 1 + k
		y, m := first.Year()+months/12, time.Month(months%12+1)
		want = domain.NewDate(y, m, min(first.Day(), daysInMonth(y, m)))
	}
	if got != want {
		return fmt.Errorf("due date %d = %s, want %s", k, got, want)
	}
	return nil
}

// domainCurrencyOf returns a currency with total's scale, for sums.
func domainCurrencyOf(total domain.Money) domain.Currency {
	return domain.Currency{MinorUnits: total.Scale()}
}

// checkCreatePlanOption runs the whole command and checks the option's
// summary fields against its schedule.
func checkCreatePlanOption(total domain.Money, c domain.Currency, n int, iv domain.Interval, first domain.Date) error {
	now := first.Time().Add(13 * time.Hour)
	var p domain.Plan
	evs, err := p.CreatePlan(domain.CreatePlan{
		PlanID: 1, AccountID: 1, CustomerID: 1, InvoiceID: 1,
		OptionIDs: slices.Repeat([]int64{7}, domain.MaxOptions), PortalToken: "t", Now: now,
		CustomerName: "A", CustomerEmail: "a@example.com",
		Amount: total.String(), Currency: c.Code,
		Intervals: []string{string(iv)}, Durations: []int{n},
		FirstPaymentDate: first.String(),
	})
	if err != nil {
		return fmt.Errorf("CreatePlan: %v", err)
	}
	o := evs[0].(domain.PlanCreated).Options[0]
	if inv := evs[0].(domain.PlanCreated).Invoice; inv.Amount != total || inv.Currency != c.Code {
		return fmt.Errorf("invoice %s %s, want %s %s", inv.Amount, inv.Currency, total, c.Code)
	}
	last := o.Schedule[len(o.Schedule)-1]
	switch {
	case o.PaymentAmount != o.Schedule[0].Amount:
		return fmt.Errorf("payment_amount %s != first installment %s", o.PaymentAmount, o.Schedule[0].Amount)
	case o.FirstPaymentDate != first || o.Schedule[0].DueDate != first:
		return fmt.Errorf("first_payment_date %s, want %s", o.FirstPaymentDate, first)
	case o.FinalPaymentDate != last.DueDate:
		return fmt.Errorf("final_payment_date %s != last due date %s", o.FinalPaymentDate, last.DueDate)
	case o.Installments != n || len(o.Schedule) != n || o.Interval != iv:
		return fmt.Errorf("option %+v does not match %d %s", o, n, iv)
	}
	return nil
}
