package domain

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// PaymentMethod is how a payment was made.
type PaymentMethod string

// The payment methods a customer or merchant can give.
const (
	MethodETransfer    PaymentMethod = "e_transfer"
	MethodCheck        PaymentMethod = "check"
	MethodCash         PaymentMethod = "cash"
	MethodBankTransfer PaymentMethod = "bank_transfer"
	MethodOther        PaymentMethod = "other"
)

// PaymentMethods lists every payment method, in display order.
var PaymentMethods = []PaymentMethod{MethodETransfer, MethodCheck, MethodCash, MethodBankTransfer, MethodOther}

// PaymentStatus is where one payment stands.
type PaymentStatus string

// Payment statuses: reported by the customer and awaiting the merchant,
// confirmed (applied to the ledger), or rejected (the merchant never got
// it; it counts nowhere).
const (
	PaymentReported   PaymentStatus = "reported"
	PaymentConfirmed  PaymentStatus = "confirmed"
	PaymentIsRejected PaymentStatus = "rejected"
)

// Who reported or recorded a payment.
const (
	SourceCustomer = "customer"
	SourceMerchant = "merchant"
)

// paymentGraceDays is how far after today (UTC) a payment's date may be:
// a day of grace for time zones ahead of UTC.
const paymentGraceDays = 1

// LatestPaidOn is the latest date a payment reported or recorded on today
// may have been paid on.
func LatestPaidOn(today Date) Date { return today.AddDays(paymentGraceDays) }

// InstallmentPaid records a payment: reported by the customer (to be
// confirmed) or recorded by the merchant (confirmed by the event that
// follows). Installment is the first open installment when it was made.
type InstallmentPaid struct {
	PaymentID   int64         `json:"payment_id"`
	Installment int           `json:"installment"`
	Amount      Money         `json:"amount"`
	PaidOn      Date          `json:"paid_on"`
	Method      PaymentMethod `json:"method"`
	Reference   string        `json:"reference,omitempty"`
	Source      string        `json:"source"`
	ReportedAt  time.Time     `json:"reported_at"`
}

// InstallmentConfirmed records that a payment was confirmed and applied to
// the installments in Allocations (earliest due first; an overpayment runs
// on to the next ones).
type InstallmentConfirmed struct {
	PaymentID   int64        `json:"payment_id"`
	Amount      Money        `json:"amount"`
	Allocations []Allocation `json:"allocations"`
	ConfirmedAt time.Time    `json:"confirmed_at"`
}

// PaymentRejected records that the merchant did not receive a payment the
// customer reported.
type PaymentRejected struct {
	PaymentID  int64     `json:"payment_id"`
	Reason     string    `json:"reason,omitempty"`
	RejectedAt time.Time `json:"rejected_at"`
}

// EventType returns EventPaymentRejected.
func (PaymentRejected) EventType() string { return EventPaymentRejected }

// EventType returns EventInstallmentPaid.
func (InstallmentPaid) EventType() string { return EventInstallmentPaid }

// EventType returns EventInstallmentConfirmed.
func (InstallmentConfirmed) EventType() string { return EventInstallmentConfirmed }

// Payment is one reported or recorded payment.
type Payment struct {
	ID              int64         `json:"id"`
	Status          PaymentStatus `json:"status"`
	Amount          Money         `json:"amount"`
	PaidOn          Date          `json:"paid_on"`
	Method          PaymentMethod `json:"method"`
	Reference       string        `json:"reference,omitempty"`
	Source          string        `json:"source"`
	ReportedAt      time.Time     `json:"reported_at"`
	ConfirmedAmount *Money        `json:"confirmed_amount,omitempty"`
	ConfirmedAt     *time.Time    `json:"confirmed_at,omitempty"`
	Allocations     []Allocation  `json:"allocations,omitempty"`
	RejectedAt      *time.Time    `json:"rejected_at,omitempty"`
	RejectReason    string        `json:"reject_reason,omitempty"`
}

// Payments returns every payment in the order it was made.
func (p *Plan) Payments() []Payment {
	out := make([]Payment, len(p.payments))
	for i, pay := range p.payments {
		pay.Allocations = slices.Clone(pay.Allocations)
		pay.ConfirmedAmount, pay.ConfirmedAt = clonePtr(pay.ConfirmedAmount), clonePtr(pay.ConfirmedAt)
		pay.RejectedAt = clonePtr(pay.RejectedAt)
		out[i] = pay
	}
	return out
}

// clonePtr returns a pointer to a copy of *v (nil for nil), so a getter's
// result does not alias the plan's state.
func clonePtr[T any](v *T) *T {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}

// PaymentInput is a payment as a customer reports it or a merchant records
// it: raw text from the form or JSON body, checked by the command.
type PaymentInput struct {
	PaymentID int64     // allocated by the caller
	Amount    string    // decimal text in the invoice's currency; "" is missing
	PaidOn    string    // YYYY-MM-DD; "" means the decision date
	Method    string    // one of PaymentMethods
	Reference string    // optional, e.g. a check number
	Now       time.Time // the decision time
}

// ReportPayment decides a customer's report of a payment on an active plan:
// installment.paid, awaiting the merchant's confirmation.
func (p *Plan) ReportPayment(in PaymentInput) ([]Event, error) {
	e, err := p.newPayment(in, SourceCustomer, "report a payment")
	if err != nil {
		return nil, err
	}
	return []Event{e}, nil
}

// RecordPayment decides a payment the merchant received directly:
// installment.paid and installment.confirmed at once, plus plan.completed
// when it pays off the plan.
func (p *Plan) RecordPayment(in PaymentInput) ([]Event, error) {
	e, err := p.newPayment(in, SourceMerchant, "record a payment")
	if err != nil {
		return nil, err
	}
	return append([]Event{e}, p.confirm(e.PaymentID, e.Amount, in.Now)...), nil
}

func (p *Plan) newPayment(in PaymentInput, source, action string) (InstallmentPaid, error) {
	if err := p.require(action, activeOnly...); err != nil {
		return InstallmentPaid{}, err
	}
	if err := capReached(len(p.payments), MaxPayments, "payments"); err != nil {
		return InstallmentPaid{}, err
	}
	var ve ValidationError
	// A customer's reports together may not exceed what is outstanding: a
	// report counts against the balance until the merchant confirms it.
	ledger := p.Ledger()
	limit, label := ledger.Outstanding, "the outstanding balance of"
	if source == SourceCustomer && !ledger.Reported.IsZero() {
		limit, label = ledger.Outstanding.Sub(ledger.Reported), "what is left after the payments awaiting confirmation,"
		limit.minor = max(limit.minor, 0)
	}
	amount, _ := p.validateAmountUpTo(&ve, "amount", in.Amount, limit, label)
	today := DateOf(in.Now)
	paidOn := today
	if s := strings.TrimSpace(in.PaidOn); s != "" {
		d, err := ParseDate(s)
		switch {
		case err != nil:
			ve.AddRule("paid_on", CodeInvalid, "must be a date in YYYY-MM-DD format.")
		case d.After(LatestPaidOn(today)):
			ve.AddRule("paid_on", CodeInvalid, "may not be in the future.")
		case d.Before(MinDate):
			ve.AddRule("paid_on", CodeInvalid, "may not be before "+MinDate.String()+".")
		}
		paidOn = d
	}
	method := PaymentMethod(strings.TrimSpace(in.Method))
	if method == "" {
		ve.Require("method")
	} else if !slices.Contains(PaymentMethods, method) {
		ve.AddRule("method", CodeNotOneOf, "must be one of e_transfer, check, cash, bank_transfer, other.")
	}
	ref := CheckText(&ve, "reference", in.Reference, SingleLine, MaxReferenceLen)
	if err := ve.OrNil(); err != nil {
		return InstallmentPaid{}, err
	}
	first := 0
	for _, s := range p.Installments() {
		if !s.Outstanding.IsZero() {
			first = s.Number
			break
		}
	}
	return InstallmentPaid{PaymentID: in.PaymentID, Installment: first, Amount: amount, PaidOn: paidOn, Method: method,
		Reference: ref, Source: source, ReportedAt: in.Now.UTC()}, nil
}

// ConfirmPayment decides the merchant's confirmation of a reported payment,
// for amount ("" means the reported amount; a merchant who received less
// confirms what arrived). It adds plan.completed when nothing is left.
func (p *Plan) ConfirmPayment(paymentID int64, amount string, now time.Time) ([]Event, error) {
	if err := p.require("confirm a payment", activeOnly...); err != nil {
		return nil, err
	}
	pay, err := p.reportedPayment(paymentID)
	if err != nil {
		return nil, err
	}
	outstanding := p.Ledger().Outstanding
	m := pay.Amount
	if strings.TrimSpace(amount) != "" {
		var ve ValidationError
		if m, _ = p.validateAmount(&ve, "amount", amount, outstanding); ve.OrNil() != nil {
			return nil, &ve
		}
	} else if m.Cmp(outstanding) > 0 {
		return nil, &ConflictError{Msg: "Payment " + strconv.FormatInt(paymentID, 10) + " of " + m.String() +
			" is more than the outstanding balance of " + outstanding.String() + "; confirm it with the amount to apply."}
	}
	return p.confirm(paymentID, m, now), nil
}

// RejectPayment decides that a payment the customer reported never arrived:
// it stops counting as reported, and the installments it covered are open
// again (check-ins and reminders resume).
func (p *Plan) RejectPayment(paymentID int64, reason string, now time.Time) ([]Event, error) {
	if err := p.require("reject a payment", activeOnly...); err != nil {
		return nil, err
	}
	if _, err := p.reportedPayment(paymentID); err != nil {
		return nil, err
	}
	reason, err := cleanReason("reason", reason)
	if err != nil {
		return nil, err
	}
	return []Event{PaymentRejected{PaymentID: paymentID, Reason: reason, RejectedAt: now.UTC()}}, nil
}

// paymentIndex is the index of payment id in p.payments, or -1.
func (p *Plan) paymentIndex(id int64) int {
	return slices.IndexFunc(p.payments, func(pay Payment) bool { return pay.ID == id })
}

// reportedPayment returns payment id if it awaits the merchant's answer.
func (p *Plan) reportedPayment(id int64) (Payment, error) {
	i := p.paymentIndex(id)
	if i < 0 {
		return Payment{}, &NotFoundError{Msg: "Payment " + strconv.FormatInt(id, 10) + " was not found on this plan."}
	}
	if pay := p.payments[i]; pay.Status != PaymentReported {
		return Payment{}, &ConflictError{Msg: "Payment " + strconv.FormatInt(id, 10) + " is already " + string(pay.Status) + "."}
	}
	return p.payments[i], nil
}

func (p *Plan) applyPaid(e InstallmentPaid) {
	p.payments = append(p.payments, Payment{ID: e.PaymentID, Status: PaymentReported, Amount: e.Amount, PaidOn: e.PaidOn,
		Method: e.Method, Reference: e.Reference, Source: e.Source, ReportedAt: e.ReportedAt})
}

func (p *Plan) applyRejected(e PaymentRejected) {
	if i := p.paymentIndex(e.PaymentID); i >= 0 {
		at := e.RejectedAt
		p.payments[i].Status, p.payments[i].RejectedAt, p.payments[i].RejectReason = PaymentIsRejected, &at, e.Reason
	}
}
