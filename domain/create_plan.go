package domain

import (
	"errors"
	"time"
)

// Defaults of CreatePlan for options the request leaves out.
var (
	defaultIntervals = []Interval{Monthly}
	defaultDurations = []int{3, 6, 12}
)

// defaultFirstPaymentDelay is the days from the creation date to the first
// payment when the request names no date (seed: created 2025-11-27, first
// payment 2025-12-04).
const defaultFirstPaymentDelay = 7

// CreatePlan is the command to create a plan for an overdue invoice. It is
// plain data: raw values come from the HTTP layer already type-checked as
// strings and ints, ids and the time are allocated by the caller.
type CreatePlan struct {
	PlanID, AccountID, CustomerID, InvoiceID int64
	// OptionIDs are the ids of the options, in option order: at least
	// OptionCount() of them (the rest are not used).
	OptionIDs []int64
	// PortalToken is the secret of the customer's portal link.
	PortalToken string
	// Now is the decision time; the creation date is DateOf(Now).
	Now time.Time

	CustomerName, CustomerEmail, CustomerPhone string
	// Amount is the decimal text as sent (JSON number text or string); ""
	// means missing.
	Amount string
	// Currency is an ISO 4217 code in any letter case; "" means
	// DefaultCurrency.
	Currency                   string
	InvoiceNumber, Description string
	// Intervals nil means ["monthly"]; an empty non-nil list is invalid.
	Intervals []string
	// Durations nil means [3, 6, 12]; an empty non-nil list is invalid.
	Durations []int
	// FirstPaymentDate is YYYY-MM-DD; "" means DateOf(Now) + 7 days.
	FirstPaymentDate      string
	SendIntroductionEmail bool
}

// MaxOptions is the most options a plan may have: every interval times at
// most maxDurations durations.
const MaxOptions = 3 * maxDurations

// errTooFewOptionIDs reports a CreatePlan command built with fewer option
// ids than OptionCount.
var errTooFewOptionIDs = errors.New("create plan: fewer option ids than options")

// OptionCount is how many option ids the command needs (at most
// MaxOptions): every interval times every duration, or 0 for an invalid
// command, which needs none. The caller allocates them before deciding.
func (cmd CreatePlan) OptionCount() int {
	in, err := validateCreatePlan(cmd)
	if err != nil {
		return 0
	}
	return len(in.intervals) * len(in.durations)
}

// CreatePlan decides cmd against p. It returns ErrPlanExists if the plan
// already exists, a *ValidationError listing every field problem at once if
// the command is invalid, and otherwise a single PlanCreated event. The
// options are every interval times every duration (intervals outer, both in
// request order with duplicates removed), each with its full schedule.
func (p *Plan) CreatePlan(cmd CreatePlan) ([]Event, error) {
	if p.Exists() {
		return nil, ErrPlanExists
	}
	in, err := validateCreatePlan(cmd)
	if err != nil {
		return nil, err
	}
	if len(cmd.OptionIDs) < len(in.intervals)*len(in.durations) {
		return nil, errTooFewOptionIDs
	}
	options := make([]Option, 0, len(in.intervals)*len(in.durations))
	for _, iv := range in.intervals {
		for _, n := range in.durations {
			schedule := BuildSchedule(in.amount, n, iv, in.first)
			options = append(options, Option{
				ID:               cmd.OptionIDs[len(options)],
				Installments:     n,
				Interval:         iv,
				PaymentAmount:    schedule[0].Amount,
				FirstPaymentDate: schedule[0].DueDate,
				FinalPaymentDate: schedule[n-1].DueDate,
				Schedule:         schedule,
			})
		}
	}
	return []Event{PlanCreated{
		PlanID:      cmd.PlanID,
		AccountID:   cmd.AccountID,
		PortalToken: cmd.PortalToken,
		Customer: Customer{
			ID:    cmd.CustomerID,
			Name:  in.name,
			Email: in.email,
			Phone: in.phone,
		},
		Invoice: Invoice{
			ID:            cmd.InvoiceID,
			Amount:        in.amount,
			Currency:      in.currency.Code,
			InvoiceNumber: in.invoiceNumber,
			Description:   in.description,
		},
		Options:               options,
		SendIntroductionEmail: cmd.SendIntroductionEmail,
		CreatedAt:             cmd.Now.UTC(),
	}}, nil
}
