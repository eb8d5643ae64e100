package domain

import (
	"fmt"
	"slices"
	"time"
)

// Customer is the person who owes the invoice.
type Customer struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone,omitempty"`
}

// Invoice is the overdue invoice a plan pays off. Currency is the ISO 4217
// code of Amount.
type Invoice struct {
	ID            int64  `json:"id"`
	Amount        Money  `json:"amount"`
	Currency      string `json:"currency"`
	InvoiceNumber string `json:"invoice_number,omitempty"`
	Description   string `json:"description,omitempty"`
}

// Option is one payment schedule offered to the customer.
type Option struct {
	ID           int64    `json:"id"`
	Installments int      `json:"installments"`
	Interval     Interval `json:"interval"`
	// PaymentAmount is the amount of the first installment, the largest one
	// under the split policy (see Split).
	PaymentAmount    Money         `json:"payment_amount"`
	FirstPaymentDate Date          `json:"first_payment_date"`
	FinalPaymentDate Date          `json:"final_payment_date"`
	Schedule         []Installment `json:"schedule"`
}

// Status is where a plan is in its life.
type Status string

// Plan statuses (Good Plan's lifecycle). A plan is pending until the
// customer chooses an option; the events that move a plan to the others come
// with the portal and lifecycle commands.
const (
	// StatusPending is a created plan waiting for the customer to choose an
	// option.
	StatusPending    Status = "pending"
	StatusActive     Status = "active"
	StatusCompleted  Status = "completed"
	StatusCancelled  Status = "cancelled"
	StatusWrittenOff Status = "written_off"
	StatusAbandoned  Status = "abandoned"
)

var statuses = []Status{StatusPending, StatusActive, StatusCompleted, StatusCancelled, StatusWrittenOff, StatusAbandoned}

// IsStatus reports whether s names a plan status.
func IsStatus(s string) bool {
	for _, st := range statuses {
		if string(st) == s {
			return true
		}
	}
	return false
}

// StatusNames lists every plan status, in lifecycle order.
func StatusNames() []string {
	out := make([]string, len(statuses))
	for i, st := range statuses {
		out[i] = string(st)
	}
	return out
}

// Plan is the payment plan aggregate. Its state is unexported and rebuilt by
// folding events with Apply; commands decide by returning new events without
// changing the plan. The zero value is a plan that does not exist yet
// (Version 0).
type Plan struct {
	version     int64
	id          int64
	accountID   int64
	status      Status
	customer    Customer
	invoice     Invoice
	options     []Option
	portalToken string
	sendIntro   bool
	createdAt   time.Time
	updatedAt   time.Time
	introEmail  IntroductionEmail

	// Lifecycle state, from plan.activated on.
	pendingSince   time.Time // creation, or reactivation back to pending
	selectedOption int64
	interval       Interval
	installments   []installment
	payments       []Payment
	proposals      []Proposal
	notices        []Notice
	emails         []PlanEmail // emails owed after an event (plan_email.*)
	consent        *Consent
	activatedAt    time.Time
	completedAt    time.Time
	closedAt       time.Time // cancelled, written off or abandoned
	closedReason   string

	// What a plan may accumulate is capped (see caps.go): these count
	// what the lists of the state do not.
	dueChanges int // extensions granted and installments deferred
	linkRegens int // portal links regenerated
}

// Apply folds e into the plan and increments its version. It is ApplyAt with
// no recorded time: UpdatedAt becomes the event's own time if it carries one
// (PlanCreated.CreatedAt) and stays as it was otherwise.
func (p *Plan) Apply(e Event) { p.ApplyAt(e, time.Time{}) }

// ApplyStored is ApplyAt for an event read back from the store: an event
// that contradicts the plan (stored before a rule that now refuses it, e.g.
// an amount in another scale than the plan's currency) is an error instead
// of a panic, so one bad event fails its own stream and never the reader.
func (p *Plan) ApplyStored(e Event, at time.Time) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%s cannot be applied to plan %d: %v", e.EventType(), p.id, v)
		}
	}()
	p.ApplyAt(e, at)
	_ = p.Ledger() // what every reader computes next: an amount of the wrong scale panics here
	return nil
}

// ApplyAt folds e into the plan, increments its version and, when at is not
// zero, records at (the event's recorded_at) as UpdatedAt. Event types the
// plan does not react to only advance the version.
func (p *Plan) ApplyAt(e Event, at time.Time) {
	p.version++
	switch e := e.(type) {
	case PlanCreated:
		p.applyCreated(e)
	case *PlanCreated:
		p.applyCreated(*e)
	case IntroductionEmailSent:
		p.applyEmailSent(e)
	case IntroductionEmailFailed:
		p.applyEmailFailed(e)
	case IntroductionEmailResendRequested:
		p.applyResendRequested(e)
	default:
		p.applyLifecycle(e)
	}
	if !at.IsZero() {
		p.updatedAt = at
	}
}

func (p *Plan) applyCreated(e PlanCreated) {
	p.id = e.PlanID
	p.accountID = e.AccountID
	p.status = StatusPending
	p.customer = e.Customer
	p.invoice = e.Invoice
	p.options = copyOptions(e.Options)
	p.portalToken = e.PortalToken
	p.sendIntro = e.SendIntroductionEmail
	p.createdAt = e.CreatedAt
	p.updatedAt = e.CreatedAt
	p.pendingSince = e.CreatedAt
	p.introEmail = IntroductionEmail{Status: EmailNotRequested}
	if e.SendIntroductionEmail {
		p.introEmail.Status = EmailPending
	}
}

// copyOptions returns a deep copy of opts (schedules included), so callers
// cannot alias the plan's state.
func copyOptions(opts []Option) []Option {
	if opts == nil {
		return nil
	}
	out := make([]Option, len(opts))
	for i, o := range opts {
		o.Schedule = slices.Clone(o.Schedule)
		out[i] = o
	}
	return out
}

// Version returns the number of events folded into the plan (0: the plan
// does not exist). It is the expected version for the next append.
func (p *Plan) Version() int64 { return p.version }

// Exists reports whether the plan has been created.
func (p *Plan) Exists() bool { return p.version > 0 }

// ID returns the plan id.
func (p *Plan) ID() int64 { return p.id }

// AccountID returns the id of the merchant account that owns the plan.
func (p *Plan) AccountID() int64 { return p.accountID }

// Status returns the plan's status ("" if it does not exist).
func (p *Plan) Status() Status { return p.status }

// Customer returns the customer who owes the invoice.
func (p *Plan) Customer() Customer { return p.customer }

// Invoice returns the invoice the plan pays off.
func (p *Plan) Invoice() Invoice { return p.invoice }

// Options returns a copy of the schedule options offered, in offer order.
func (p *Plan) Options() []Option { return copyOptions(p.options) }

// PortalToken returns the secret token of the customer's portal link.
func (p *Plan) PortalToken() string { return p.portalToken }

// SendIntroductionEmail reports whether the customer is to be emailed the
// portal link.
func (p *Plan) SendIntroductionEmail() bool { return p.sendIntro }

// CreatedAt returns when the plan was created (UTC).
func (p *Plan) CreatedAt() time.Time { return p.createdAt }

// UpdatedAt returns the time of the last event folded in (its recorded_at
// when given to ApplyAt, else the event's own time).
func (p *Plan) UpdatedAt() time.Time { return p.updatedAt }

// applyLifecycle folds the events that come after plan.created.
func (p *Plan) applyLifecycle(e Event) {
	switch e := e.(type) {
	case PlanActivated:
		p.applyActivated(e)
	case PlanCompleted:
		p.status, p.completedAt = StatusCompleted, e.CompletedAt
	case PlanAbandoned:
		p.close(StatusAbandoned, e.AbandonedAt, "")
	case PlanCancelled:
		p.close(StatusCancelled, e.CancelledAt, e.Reason)
	case PlanWrittenOff:
		p.close(StatusWrittenOff, e.WrittenOffAt, e.Reason)
	case PlanReactivated:
		p.applyReactivated(e)
	case PortalLinkRegenerated:
		p.portalToken = e.PortalToken
		p.linkRegens++
	case InstallmentPaid:
		p.applyPaid(e)
	case InstallmentConfirmed:
		p.applyConfirmed(e)
	case PaymentRejected:
		p.applyRejected(e)
	case InstallmentExtensionGranted:
		p.applyDueDateChanges(e.Changes)
		p.dueChanges++
	case InstallmentDeferred:
		p.applyDueDateChanges([]DueDateChange{{Installment: e.Installment, From: e.From, To: e.To}})
		p.dueChanges++
	case ProposalCreated:
		p.applyProposalCreated(e)
	case ProposalApproved:
		p.applyProposalApproved(e)
	case ProposalCountered:
		p.applyProposalCountered(e)
	case ProposalDeclined:
		p.applyProposalDeclined(e)
	case ProposalCounterAccepted:
		p.applyCounterAccepted(e)
	case NotificationRequested:
		p.applyNotice(e.NoticeKey, EmailPending, e.RequestedAt)
	case NotificationSent:
		p.applyNotice(e.NoticeKey, EmailSent, e.SentAt)
	case NotificationFailed:
		p.applyNotice(e.NoticeKey, EmailFailed, e.FailedAt)
	case PlanEmailRequested:
		p.applyPlanEmailRequested(e)
	case PlanEmailSent:
		p.applyPlanEmailSent(e)
	case PlanEmailFailed:
		p.applyPlanEmailFailed(e)
	}
}

// SelectedOptionID returns the option the customer chose (0: none; a plan
// activated by an agreed proposal has none).
func (p *Plan) SelectedOptionID() int64 { return p.selectedOption }

// Interval returns the interval of the plan's schedule ("" before
// activation).
func (p *Plan) Interval() Interval { return p.interval }

// Consent returns the customer's consent to the schedule in force (the
// option chosen, or the proposal or counter-offer agreed last), if recorded.
func (p *Plan) Consent() (Consent, bool) {
	if p.consent == nil {
		return Consent{}, false
	}
	return *p.consent, true
}

// ActivatedAt returns when the plan got its schedule (zero: not yet).
func (p *Plan) ActivatedAt() time.Time { return p.activatedAt }

// CompletedAt returns when the plan was paid off (zero: not completed).
func (p *Plan) CompletedAt() time.Time { return p.completedAt }

// Closed returns when and why the plan was cancelled, written off or
// abandoned (zero time: it is not).
func (p *Plan) Closed() (at time.Time, reason string) { return p.closedAt, p.closedReason }

// PendingSince returns when the plan last became pending, from which its
// abandonment is counted.
func (p *Plan) PendingSince() time.Time { return p.pendingSince }

// Extended reports whether an installment's due date was ever moved (an
// extension granted or an installment deferred).
func (p *Plan) Extended() bool { return p.dueChanges > 0 }
