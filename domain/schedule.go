package domain

import "fmt"

// Bounds on the number of installments of one option (the seed's "2-96").
const (
	// MinInstallments is the fewest installments an option may have.
	MinInstallments = 2
	// MaxInstallments is the most installments an option may have.
	MaxInstallments = 96
)

// Interval is how often installments fall due.
type Interval string

// The intervals a plan option can use.
const (
	// Weekly installments are 7 days apart.
	Weekly Interval = "weekly"
	// Biweekly installments are 14 days apart.
	Biweekly Interval = "biweekly"
	// Monthly installments are one calendar month apart, clamped to the
	// month's last day.
	Monthly Interval = "monthly"
)

// ParseInterval returns the Interval named s ("weekly", "biweekly" or
// "monthly", exactly) and whether s names one.
func ParseInterval(s string) (Interval, bool) {
	switch iv := Interval(s); iv {
	case Weekly, Biweekly, Monthly:
		return iv, true
	}
	return "", false
}

// DueDate returns the k-th due date of a schedule anchored at anchor (k = 0
// is the anchor itself). It is always computed from the anchor, never from
// the previous due date, so monthly clamping does not drift: anchored on
// Jan 31 the dates are Jan 31, Feb 28 (29), Mar 31, Apr 30. It panics on an
// unknown interval (a programming error: intervals are validated on input).
func (i Interval) DueDate(anchor Date, k int) Date {
	switch i {
	case Weekly:
		return anchor.AddDays(7 * k)
	case Biweekly:
		return anchor.AddDays(14 * k)
	case Monthly:
		return anchor.AddMonthsClamped(k)
	}
	panic(fmt.Sprintf("domain: unknown interval %q", string(i)))
}

// Split divides total minor units into n parts that sum to total exactly:
// with q = total/n and r = total%n, the first r parts are q+1 and the rest q,
// so no two parts differ by more than one minor unit and the larger ones come
// first. It panics unless total >= n >= 1 (every part must be at least one
// minor unit; callers validate this first).
func Split(total int64, n int) []int64 {
	if n < 1 || total < int64(n) {
		panic(fmt.Sprintf("domain: cannot split %d into %d parts", total, n))
	}
	q, r := total/int64(n), total%int64(n)
	parts := make([]int64, n)
	for i := range parts {
		parts[i] = q
		if int64(i) < r {
			parts[i]++
		}
	}
	return parts
}

// Installment is one scheduled payment of an option.
type Installment struct {
	Number  int   `json:"number"` // 1-based
	Amount  Money `json:"amount"`
	DueDate Date  `json:"due_date"`
}

// BuildSchedule returns the n installments that pay total at interval iv,
// the first due on first. Amounts follow Split (same scale as total) and due
// date k follows iv.DueDate(first, k). It panics unless total.Minor() >= n >= 1.
func BuildSchedule(total Money, n int, iv Interval, first Date) []Installment {
	parts := Split(total.Minor(), n)
	out := make([]Installment, n)
	for k, minor := range parts {
		out[k] = Installment{
			Number:  k + 1,
			Amount:  Money{minor: minor, scale: total.scale},
			DueDate: iv.DueDate(first, k),
		}
	}
	return out
}
