package domain

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Installment and payment event types (Good Plan's webhook vocabulary).
const (
	// EventInstallmentPaid: a payment was reported by the customer or
	// recorded by the merchant.
	EventInstallmentPaid = "installment.paid"
	// EventInstallmentConfirmed: the merchant confirmed a payment; it is
	// applied to the ledger.
	EventInstallmentConfirmed        = "installment.confirmed"
	EventInstallmentExtensionGranted = "installment.extension_granted"
	EventInstallmentDeferred         = "installment.deferred"
	// EventPaymentRejected: the merchant says a reported payment never
	// arrived (goodplan's own event, not a webhook type).
	EventPaymentRejected = "payment.rejected"
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

// InstallmentStatus is where one installment stands.
type InstallmentStatus string

// Installment statuses. They are derived from the ledger: confirmed when
// paid in full; reported when a payment awaiting confirmation covers it;
// partially_paid when part of it is confirmed; pending otherwise.
const (
	InstallmentIsPending       InstallmentStatus = "pending"
	InstallmentIsReported      InstallmentStatus = "reported"
	InstallmentIsPartiallyPaid InstallmentStatus = "partially_paid"
	InstallmentIsConfirmed     InstallmentStatus = "confirmed"
)

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

// Open reports whether an installment in status s still waits for money
// (pending or partially paid).
func (s InstallmentStatus) Open() bool {
	return s == InstallmentIsPending || s == InstallmentIsPartiallyPaid
}

// Overdue reports whether installment in of p is overdue on today: the plan
// is active, in is due before today and not paid in full.
func (p *Plan) Overdue(in InstallmentState, today Date) bool {
	return p.status == StatusActive && in.DueDate.Before(today) && in.Status.Open()
}

// maxExtensionDays is how far past its current due date, in days, an
// installment may be extended.
const maxExtensionDays = 366

// Allocation is the part of a confirmed payment applied to one installment.
type Allocation struct {
	Installment int   `json:"installment"`
	Amount      Money `json:"amount"`
}

// DueDateChange is one installment's move to another due date.
type DueDateChange struct {
	Installment int  `json:"installment"`
	From        Date `json:"from"`
	To          Date `json:"to"`
}

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

// InstallmentExtensionGranted records a new due date for one installment
// and, with ShiftFollowing, the same shift for every later open one.
type InstallmentExtensionGranted struct {
	Installment    int             `json:"installment"`
	ShiftFollowing bool            `json:"shift_following"`
	Changes        []DueDateChange `json:"changes"`
	GrantedAt      time.Time       `json:"granted_at"`
}

// InstallmentDeferred records that one installment moved to the end of the
// schedule.
type InstallmentDeferred struct {
	Installment int       `json:"installment"`
	From        Date      `json:"from"`
	To          Date      `json:"to"`
	DeferredAt  time.Time `json:"deferred_at"`
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

// EventType returns EventInstallmentExtensionGranted.
func (InstallmentExtensionGranted) EventType() string { return EventInstallmentExtensionGranted }

// EventType returns EventInstallmentDeferred.
func (InstallmentDeferred) EventType() string { return EventInstallmentDeferred }

// installment is one scheduled payment of the active plan and what has been
// confirmed against it.
type installment struct {
	number int
	amount Money
	due    Date
	paid   Money
}

func (in installment) remaining() Money { return in.amount.Sub(in.paid) }

// InstallmentState is one installment as the API and portal show it.
type InstallmentState struct {
	Number      int               `json:"number"`
	DueDate     Date              `json:"due_date"`
	Amount      Money             `json:"amount"`
	Paid        Money             `json:"paid"`
	Outstanding Money             `json:"outstanding"`
	Status      InstallmentStatus `json:"status"`
}

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

// Installments returns the schedule in payment order (due date, then
// number) with each installment's derived status; nil before activation.
func (p *Plan) Installments() []InstallmentState {
	if len(p.installments) == 0 {
		return nil
	}
	reported := p.reportedTotal()
	out := make([]InstallmentState, 0, len(p.installments))
	for _, in := range p.ordered() {
		s := InstallmentState{Number: in.number, DueDate: in.due, Amount: in.amount, Paid: in.paid, Outstanding: in.remaining()}
		switch {
		case s.Outstanding.IsZero():
			s.Status = InstallmentIsConfirmed
		case reported.minor > 0:
			s.Status = InstallmentIsReported
			reported.minor = max(0, reported.minor-s.Outstanding.minor)
		case !in.paid.IsZero():
			s.Status = InstallmentIsPartiallyPaid
		default:
			s.Status = InstallmentIsPending
		}
		out = append(out, s)
	}
	return out
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

// ordered returns copies of the installments in payment order.
func (p *Plan) ordered() []installment {
	out := slices.Clone(p.installments)
	slices.SortStableFunc(out, func(a, b installment) int {
		if c := a.due.compare(b.due); c != 0 {
			return c
		}
		return a.number - b.number
	})
	return out
}

func (p *Plan) installmentIndex(number int) (int, error) {
	for i, in := range p.installments {
		if in.number == number {
			return i, nil
		}
	}
	return 0, &NotFoundError{Msg: "Installment " + strconv.Itoa(number) + " is not on this plan's schedule."}
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
	if err := p.require(action, StatusActive); err != nil {
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

// ConfirmPayment decides the merchant's confirmation of a reported payment,
// for amount ("" means the reported amount; a merchant who received less
// confirms what arrived). It adds plan.completed when nothing is left.
func (p *Plan) ConfirmPayment(paymentID int64, amount string, now time.Time) ([]Event, error) {
	if err := p.require("confirm a payment", StatusActive); err != nil {
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
	if err := p.require("reject a payment", StatusActive); err != nil {
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

// ExtendInstallment decides a later due date for installment number of an
// active plan; with shiftFollowing every later open installment moves by
// the same number of days.
func (p *Plan) ExtendInstallment(number int, dueDate string, shiftFollowing bool, now time.Time) ([]Event, error) {
	in, err := p.openInstallment(number, "extend an installment")
	if err != nil {
		return nil, err
	}
	var ve ValidationError
	to, err := ParseDate(strings.TrimSpace(dueDate))
	switch {
	case strings.TrimSpace(dueDate) == "":
		ve.Add("due_date", "The due_date field is required.")
	case err != nil:
		ve.Add("due_date", "The due_date must be a date in YYYY-MM-DD format.")
	case !to.After(in.due):
		ve.Add("due_date", "The due_date must be after the current due date "+in.due.String()+".")
	case to.After(in.due.AddDays(maxExtensionDays)):
		ve.Add("due_date", "The due_date may not be more than 366 days after the current due date.")
	case !to.InRange():
		ve.Add("due_date", "The due_date must be between "+MinDate.String()+" and "+MaxDate.String()+".")
	}
	if err := ve.OrNil(); err != nil {
		return nil, err
	}
	changes := []DueDateChange{{Installment: number, From: in.due, To: to}}
	if shiftFollowing {
		days := daysBetween(in.due, to)
		for _, o := range p.ordered() {
			later := o.due.After(in.due) || o.due == in.due && o.number > number
			if later && !o.remaining().IsZero() {
				c := DueDateChange{Installment: o.number, From: o.due, To: o.due.AddDays(days)}
				if !c.To.InRange() {
					ve.Add("due_date", "The due_date would move installment "+strconv.Itoa(o.number)+" past "+MaxDate.String()+".")
					return nil, &ve
				}
				changes = append(changes, c)
			}
		}
	}
	return []Event{InstallmentExtensionGranted{Installment: number, ShiftFollowing: shiftFollowing, Changes: changes,
		GrantedAt: now.UTC()}}, nil
}

// DeferInstallment decides moving installment number of an active plan to
// the end of the schedule: one interval after the last due date.
func (p *Plan) DeferInstallment(number int, now time.Time) ([]Event, error) {
	in, err := p.openInstallment(number, "defer an installment")
	if err != nil {
		return nil, err
	}
	last := in.due
	for _, o := range p.installments {
		if o.due.After(last) {
			last = o.due
		}
	}
	to := p.interval.DueDate(last, 1)
	if !to.InRange() {
		var ve ValidationError
		ve.Add("installment", "Installment "+strconv.Itoa(number)+" cannot be deferred: one interval after the last due date is past "+
			MaxDate.String()+".")
		return nil, &ve
	}
	return []Event{InstallmentDeferred{Installment: number, From: in.due, To: to, DeferredAt: now.UTC()}}, nil
}

// openInstallment returns installment number of an active plan if it is
// not paid in full.
func (p *Plan) openInstallment(number int, action string) (installment, error) {
	if err := p.require(action, StatusActive); err != nil {
		return installment{}, err
	}
	i, err := p.installmentIndex(number)
	if err != nil {
		return installment{}, err
	}
	in := p.installments[i]
	if in.remaining().IsZero() {
		return installment{}, &ConflictError{Msg: "Installment " + strconv.Itoa(number) + " is already paid in full."}
	}
	return in, nil
}

func daysBetween(a, b Date) int {
	return int(b.Time().Sub(a.Time()).Hours() / 24)
}

func (p *Plan) applyPaid(e InstallmentPaid) {
	p.payments = append(p.payments, Payment{ID: e.PaymentID, Status: PaymentReported, Amount: e.Amount, PaidOn: e.PaidOn,
		Method: e.Method, Reference: e.Reference, Source: e.Source, ReportedAt: e.ReportedAt})
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

func (p *Plan) applyRejected(e PaymentRejected) {
	if i := p.paymentIndex(e.PaymentID); i >= 0 {
		at := e.RejectedAt
		p.payments[i].Status, p.payments[i].RejectedAt, p.payments[i].RejectReason = PaymentIsRejected, &at, e.Reason
	}
}

func (p *Plan) applyDueDateChanges(changes []DueDateChange) {
	for _, c := range changes {
		if i, err := p.installmentIndex(c.Installment); err == nil {
			p.installments[i].due = c.To
		}
	}
}

// replaceSchedule makes s the plan's installment list, keeping what was
// confirmed against installments that keep their number.
func (p *Plan) replaceSchedule(s []Installment) {
	old := p.installments
	p.installments = make([]installment, len(s))
	for i, in := range s {
		p.installments[i] = installment{number: in.Number, amount: in.Amount, due: in.DueDate, paid: Money{scale: in.Amount.scale}}
		for _, o := range old {
			if o.number == in.Number {
				p.installments[i].paid = o.paid
			}
		}
	}
}

// cloneSchedule copies an option's schedule.
func cloneSchedule(s []Installment) []Installment { return slices.Clone(s) }
