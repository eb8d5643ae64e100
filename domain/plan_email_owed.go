package domain

import (
	"slices"
	"time"
)

// PlanEmailMaxDelay is how old an event may be when the email worker gets
// to it and still owe an email: older news is not worth telling (and a
// worker first started on a bus holding days of history must not email
// about every decision in it).
const PlanEmailMaxDelay = 24 * time.Hour

// PlanEmailKindOf returns the kind of email event e owes, if any, and the
// time of e (the decision's own time).
func PlanEmailKindOf(e Event) (PlanEmailKind, time.Time, bool) {
	switch e := e.(type) {
	case InstallmentConfirmed:
		return EmailPaymentConfirmed, e.ConfirmedAt, true
	case PaymentRejected:
		return EmailPaymentRejected, e.RejectedAt, true
	case InstallmentExtensionGranted:
		return EmailExtensionGranted, e.GrantedAt, true
	case InstallmentDeferred:
		return EmailInstallmentDeferred, e.DeferredAt, true
	case ProposalCountered:
		return EmailProposalCountered, e.CounteredAt, true
	case ProposalApproved:
		return EmailProposalApproved, e.ApprovedAt, true
	case ProposalDeclined:
		return EmailProposalDeclined, e.DeclinedAt, true
	case PortalLinkRegenerated:
		return EmailPortalLink, e.RegeneratedAt, true
	case InstallmentPaid:
		return NotifyPaymentReported, e.ReportedAt, e.Source == SourceCustomer
	case ProposalCreated:
		return NotifyProposalReceived, e.CreatedAt, true
	case NotificationRequested:
		return NotifyCheckinUnanswered, e.RequestedAt, e.Kind == NoticeCheckinReminder
	case PlanAbandoned:
		return NotifyPlanAbandoned, e.AbandonedAt, true
	}
	return "", time.Time{}, false
}

// planEmailTriggers are the event types PlanEmailKindOf may answer for.
var planEmailTriggers = []string{
	EventInstallmentConfirmed, EventPaymentRejected, EventInstallmentExtensionGranted, EventInstallmentDeferred,
	EventProposalCountered, EventProposalApproved, EventProposalDeclined, EventPortalLinkRegenerated,
	EventInstallmentPaid, EventProposalCreated, EventNotificationRequested, EventPlanAbandoned,
}

// MayOwePlanEmail reports whether an event of type typ may owe an email, so
// a consumer can pass over every other event without decoding it.
func MayOwePlanEmail(typ string) bool { return slices.Contains(planEmailTriggers, typ) }

// RequestPlanEmails decides which emails event e, the plan's event at
// version, owes under the account's settings s at now: plan_email.requested
// to the customer's address for a merchant's decision, or to each of the
// merchant's notification addresses for a customer's action or the plan's
// abandonment. It decides nothing if e owes no email, if they were
// requested already, if e is older than PlanEmailMaxDelay, if e is no news
// any more (see PlanEmailOwed), if the customer email is switched off in s
// (not requested at all: nothing to send, nothing recorded), or if the
// account has no notification address.
func (p *Plan) RequestPlanEmails(e Event, version int64, s EmailSettings, now time.Time) []Event {
	kind, at, ok := PlanEmailKindOf(e)
	if !ok || !p.Exists() || now.Sub(at) > PlanEmailMaxDelay || !p.stillNews(e) {
		return nil
	}
	if slices.ContainsFunc(p.emails, func(m PlanEmail) bool { return m.EventVersion == version }) {
		return nil
	}
	var to []string
	switch {
	case kind.ToMerchant():
		to = slices.Clone(s.NotifyEmails)
	case s.CustomerEmailOn(kind):
		to = []string{p.customer.Email}
	}
	if len(to) == 0 {
		return nil
	}
	return []Event{PlanEmailRequested{PlanEmailKey: PlanEmailKey{Kind: kind, EventVersion: version}, To: to, RequestedAt: now.UTC()}}
}

// PlanEmailOwed reports whether email k to to is still to be sent: it was
// requested, no outcome is recorded, and e, the event at k.EventVersion, is
// still news: a reported payment not answered yet, a proposal still
// waiting, a counter-offer still open, an installment still due on the date
// told, the newest portal link, an abandoned plan still abandoned, a
// check-in still unanswered. An email made moot is never sent, and needs no
// record.
func (p *Plan) PlanEmailOwed(k PlanEmailKey, to string, e Event) bool {
	kind, _, ok := PlanEmailKindOf(e)
	if !ok || kind != k.Kind {
		return false
	}
	pending, err := p.planEmailPending(k, to)
	return err == nil && pending && p.stillNews(e)
}

// stillNews reports whether what e tells is still true of the plan.
func (p *Plan) stillNews(e Event) bool {
	switch e := e.(type) {
	case InstallmentExtensionGranted:
		for _, c := range e.Changes {
			if c.Installment == e.Installment {
				return p.openAndDueOn(c.Installment, c.To)
			}
		}
		return false
	case InstallmentDeferred:
		return p.openAndDueOn(e.Installment, e.To)
	case ProposalCountered:
		return p.proposalIs(e.ProposalID, ProposalIsCountered)
	case PortalLinkRegenerated:
		return p.portalToken == e.PortalToken
	case InstallmentPaid:
		i := p.paymentIndex(e.PaymentID)
		return i >= 0 && p.payments[i].Status == PaymentReported
	case ProposalCreated:
		return p.proposalIs(e.ProposalID, ProposalIsPending)
	case NotificationRequested:
		return p.status == StatusActive && p.openAndDueOn(e.Installment, e.DueDate)
	case PlanAbandoned:
		return p.status == StatusAbandoned
	}
	return true // a confirmation, rejection, approval or refusal stays true
}

// openAndDueOn reports whether installment n waits for money (nothing
// reported) and is due on d.
func (p *Plan) openAndDueOn(n int, d Date) bool {
	for _, s := range p.Installments() {
		if s.Number == n {
			return s.Status.Open() && s.DueDate == d
		}
	}
	return false
}

func (p *Plan) proposalIs(id int64, s ProposalStatus) bool {
	i := slices.IndexFunc(p.proposals, func(pr Proposal) bool { return pr.ID == id })
	return i >= 0 && p.proposals[i].Status == s
}
