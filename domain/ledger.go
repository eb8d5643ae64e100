package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Allocation is the part of a confirmed payment applied to one installment.
type Allocation struct {
	Installment int   `json:"installment"`
	Amount      Money `json:"amount"`
}

// Ledger is the plan's money at a glance. Paid counts confirmed payments
// only; Reported is what customers reported and merchants have not
// confirmed yet; Outstanding is Total - Paid.
type Ledger struct {
	Total       Money `json:"total"`
	Paid        Money `json:"paid"`
	Reported    Money `json:"reported"`
	Outstanding Money `json:"outstanding"`
}

// Ledger returns the plan's totals.
func (p *Plan) Ledger() Ledger {
	total := p.invoice.Amount
	paid := Money{scale: total.scale}
	for _, in := range p.installments {
		paid = paid.Add(in.paid)
	}
	return Ledger{Total: total, Paid: paid, Reported: p.reportedTotal(), Outstanding: total.Sub(paid)}
}

func (p *Plan) reportedTotal() Money {
	sum := Money{scale: p.invoice.Amount.scale}
	for _, pay := range p.payments {
		if pay.Status == PaymentReported {
			sum = sum.Add(pay.Amount)
		}
	}
	return sum
}

// validateAmount parses text as a positive amount in the invoice's currency
// of at most limit, adding field's problems to ve.
func (p *Plan) validateAmount(ve *ValidationError, field, text string, limit Money) (Money, bool) {
	return p.validateAmountUpTo(ve, field, text, limit, "the outstanding balance of")
}

// validateAmountUpTo is validateAmount with the limit named by label in the
// message ("... may not be greater than {label} 100.00 USD.").
func (p *Plan) validateAmountUpTo(ve *ValidationError, field, text string, limit Money, label string) (Money, bool) {
	text = strings.TrimSpace(text)
	if text == "" {
		ve.Require(field)
		return Money{}, false
	}
	c, _ := LookupCurrency(p.invoice.Currency)
	m, err := ParseMoney(text, c)
	switch {
	case errors.Is(err, ErrTooManyDecimals):
		ve.AddRule(field, CodeInvalid, fmt.Sprintf("must have at most %d decimal places for %s.", c.MinorUnits, c.Code))
	case err != nil:
		ve.AddRule(field, CodeInvalid, "must be a number.")
	case m.minor <= 0:
		ve.AddRule(field, CodeInvalid, "must be greater than 0.")
	case m.Cmp(limit) > 0:
		ve.AddRule(field, CodeInvalid, "may not be greater than "+label+" "+limit.String()+" "+c.Code+".")
	default:
		return m, true
	}
	return Money{}, false
}

// confirm applies amount (at most the outstanding balance) to the open
// installments in payment order and completes the plan when it pays it off.
func (p *Plan) confirm(paymentID int64, amount Money, now time.Time) []Event {
	var allocs []Allocation
	left := amount
	for _, in := range p.ordered() {
		if left.IsZero() {
			break
		}
		rem := in.remaining()
		if rem.IsZero() {
			continue
		}
		take := rem
		if left.Cmp(rem) < 0 {
			take = left
		}
		allocs = append(allocs, Allocation{Installment: in.number, Amount: take})
		left = left.Sub(take)
	}
	events := []Event{InstallmentConfirmed{PaymentID: paymentID, Amount: amount, Allocations: allocs, ConfirmedAt: now.UTC()}}
	if amount.Cmp(p.Ledger().Outstanding) == 0 {
		events = append(events, PlanCompleted{CompletedAt: now.UTC()})
	}
	return events
}

func (p *Plan) applyConfirmed(e InstallmentConfirmed) {
	for _, a := range e.Allocations {
		if i, err := p.installmentIndex(a.Installment); err == nil {
			p.installments[i].paid = p.installments[i].paid.Add(a.Amount)
		}
	}
	if i := p.paymentIndex(e.PaymentID); i >= 0 {
		pay := &p.payments[i]
		amount, at := e.Amount, e.ConfirmedAt
		pay.Status, pay.ConfirmedAmount, pay.ConfirmedAt = PaymentConfirmed, &amount, &at
		pay.Allocations = slices.Clone(e.Allocations)
	}
}
