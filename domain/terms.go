package domain

import (
	"strconv"
	"strings"
	"time"
)

// Terms are the shape of a proposed schedule; the amount is what is
// outstanding when it is agreed.
type Terms struct {
	Installments     int      `json:"installments"`
	Interval         Interval `json:"interval"`
	FirstPaymentDate Date     `json:"first_payment_date"`
}

// TermsInput is a proposed schedule as raw form or JSON values.
type TermsInput struct {
	Installments     string // decimal integer text
	Interval         string
	FirstPaymentDate string // YYYY-MM-DD
}

// decideTerms validates a proposed schedule for what is outstanding and
// previews it.
func (p *Plan) decideTerms(in TermsInput, now time.Time) (Terms, []Installment, error) {
	var ve ValidationError
	var t Terms
	outstanding := p.Ledger().Outstanding
	n, err := strconv.Atoi(strings.TrimSpace(in.Installments))
	switch {
	case strings.TrimSpace(in.Installments) == "":
		ve.Require("installments")
	case err != nil:
		ve.AddRule("installments", CodeInvalid, "must be an integer.")
	case n < minProposalInstallments || n > MaxInstallments:
		ve.AddRule("installments", CodeInvalid, "must be between 1 and 96.")
	case int64(n) > outstanding.minor:
		ve.AddRule("installments", CodeTooMany, "may not be more than the outstanding balance in minor units.")
	}
	iv, ok := ParseInterval(strings.TrimSpace(in.Interval))
	if !ok {
		ve.AddRule("interval", CodeNotOneOf, "must be weekly, biweekly or monthly.")
	}
	today := DateOf(now)
	first, err := ParseDate(strings.TrimSpace(in.FirstPaymentDate))
	switch {
	case strings.TrimSpace(in.FirstPaymentDate) == "":
		ve.Require("first_payment_date")
	case err != nil:
		ve.AddRule("first_payment_date", CodeInvalid, "must be a date in YYYY-MM-DD format.")
	case first.Before(today):
		ve.AddRule("first_payment_date", CodeInvalid, "must be today or later.")
	case first.After(LatestFirstPaymentDate(today)):
		ve.AddRule("first_payment_date", CodeInvalid, "must be within "+strconv.Itoa(MaxProposalDays)+" days.")
	}
	if err := ve.OrNil(); err != nil {
		return Terms{}, nil, err
	}
	if !first.InRange() || !iv.DueDate(first, n-1).InRange() {
		ve.AddRule("first_payment_date", CodeInvalid, "is too late: the schedule would end after "+MaxDate.String()+".")
		return Terms{}, nil, &ve
	}
	t = Terms{Installments: n, Interval: iv, FirstPaymentDate: first}
	return t, BuildSchedule(outstanding, n, iv, first), nil
}

// rescheduled is the plan's installment list after agreeing to terms:
// installments with confirmed payments stay (one paid in part shrinks to
// what was paid), and what is outstanding now is split on the terms into
// new installments numbered after them.
func (p *Plan) rescheduled(t Terms) ([]Installment, error) {
	outstanding := p.Ledger().Outstanding
	if int64(t.Installments) > outstanding.minor || outstanding.minor <= 0 {
		return nil, &ConflictError{Msg: "The outstanding balance of " + outstanding.String() + " cannot be split into " +
			strconv.Itoa(t.Installments) + " installments."}
	}
	var out []Installment
	last := 0
	for _, in := range p.ordered() {
		if in.paid.IsZero() {
			continue
		}
		out = append(out, Installment{Number: in.number, Amount: in.paid, DueDate: in.due})
		last = max(last, in.number)
	}
	for _, in := range BuildSchedule(outstanding, t.Installments, t.Interval, t.FirstPaymentDate) {
		in.Number += last
		out = append(out, in)
	}
	return out, nil
}
