package domain

import (
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

// DueDateChange is one installment's move to another due date.
type DueDateChange struct {
	Installment int  `json:"installment"`
	From        Date `json:"from"`
	To          Date `json:"to"`
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

// ExtendInstallment decides a later due date for installment number of an
// active plan; with shiftFollowing every later open installment moves by
// the same number of days.
func (p *Plan) ExtendInstallment(number int, dueDate string, shiftFollowing bool, now time.Time) ([]Event, error) {
	in, err := p.openInstallment(number, "extend an installment")
	if err != nil {
		return nil, err
	}
	if err := capReached(p.dueChanges, MaxDueDateChanges, "due dates moved"); err != nil {
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
	if err := capReached(p.dueChanges, MaxDueDateChanges, "due dates moved"); err != nil {
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
	if err := p.require(action, activeOnly...); err != nil {
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
