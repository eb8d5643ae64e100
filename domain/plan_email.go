package domain

import (
	"errors"
	"slices"
	"time"
)

// Plan email event types: goodplan's own (not webhook) events. The email
// worker records on the plan's stream which emails one event of the plan
// owes (plan_email.requested: the customer's email after a merchant's
// decision, or the merchant's notification after a customer's action or the
// plan's abandonment), then the outcome for each address (sent or failed).
const (
	EventPlanEmailRequested = "plan_email.requested"
	EventPlanEmailSent      = "plan_email.sent"
	EventPlanEmailFailed    = "plan_email.failed"
)

// PlanEmailKind names an email owed after an event of the plan.
type PlanEmailKind string

// Customer emails after a merchant's decision; each can be switched off
// per account (EmailSettings.CustomerEmailsOff).
const (
	EmailPaymentConfirmed    PlanEmailKind = "payment_confirmed"    // installment.confirmed
	EmailPaymentRejected     PlanEmailKind = "payment_rejected"     // payment.rejected
	EmailExtensionGranted    PlanEmailKind = "extension_granted"    // installment.extension_granted
	EmailInstallmentDeferred PlanEmailKind = "installment_deferred" // installment.deferred
	EmailProposalCountered   PlanEmailKind = "proposal_countered"   // proposal.countered
	EmailProposalApproved    PlanEmailKind = "proposal_approved"    // proposal.approved
	EmailProposalDeclined    PlanEmailKind = "proposal_declined"    // proposal.declined
	EmailPortalLink          PlanEmailKind = "portal_link"          // portal_link.regenerated
)

// Merchant notifications, sent to each of the account's notification
// addresses (none: none sent).
const (
	NotifyPaymentReported   PlanEmailKind = "payment_reported"   // installment.paid by the customer
	NotifyProposalReceived  PlanEmailKind = "proposal_received"  // proposal.created
	NotifyCheckinUnanswered PlanEmailKind = "checkin_unanswered" // notification.requested of a checkin_reminder
	NotifyPlanAbandoned     PlanEmailKind = "plan_abandoned"     // plan.abandoned
)

// CustomerEmailKinds lists the customer emails, in settings order.
var CustomerEmailKinds = []PlanEmailKind{
	EmailPaymentConfirmed, EmailPaymentRejected, EmailExtensionGranted, EmailInstallmentDeferred,
	EmailProposalCountered, EmailProposalApproved, EmailProposalDeclined, EmailPortalLink,
}

// MerchantNotificationKinds lists the merchant notifications.
var MerchantNotificationKinds = []PlanEmailKind{
	NotifyPaymentReported, NotifyProposalReceived, NotifyCheckinUnanswered, NotifyPlanAbandoned,
}

// ToMerchant reports whether k is a merchant notification (else a
// customer email).
func (k PlanEmailKind) ToMerchant() bool { return slices.Contains(MerchantNotificationKinds, k) }

// ErrPlanEmailNotRequested is returned when recording the outcome of an
// email the plan never requested.
var ErrPlanEmailNotRequested = errors.New("plan email was not requested")

// PlanEmailKey identifies the emails one event of the plan owes: their
// kind and the version of that event in the plan's stream.
type PlanEmailKey struct {
	Kind         PlanEmailKind `json:"kind"`
	EventVersion int64         `json:"event_version"`
}

// PlanEmailRequested records that the event at EventVersion owes an email
// to each address in To: the customer's, or the merchant's notification
// addresses as they were when it was requested.
type PlanEmailRequested struct {
	PlanEmailKey
	To          []string  `json:"to"`
	RequestedAt time.Time `json:"requested_at"`
}

// PlanEmailSent records that the mail server accepted the email to To.
type PlanEmailSent struct {
	PlanEmailKey
	To        string    `json:"to"`
	MessageID string    `json:"message_id"`
	SentAt    time.Time `json:"sent_at"`
}

// PlanEmailFailed records that the email to To could not be delivered and
// will not be retried.
type PlanEmailFailed struct {
	PlanEmailKey
	To       string    `json:"to"`
	Reason   string    `json:"reason"`
	Attempts int       `json:"attempts"`
	FailedAt time.Time `json:"failed_at"`
}

// EventType returns EventPlanEmailRequested.
func (PlanEmailRequested) EventType() string { return EventPlanEmailRequested }

// EventType returns EventPlanEmailSent.
func (PlanEmailSent) EventType() string { return EventPlanEmailSent }

// EventType returns EventPlanEmailFailed.
func (PlanEmailFailed) EventType() string { return EventPlanEmailFailed }

// PlanEmail is one requested email to one address and where it stands.
type PlanEmail struct {
	PlanEmailKey
	To          string      `json:"to"`
	Status      EmailStatus `json:"status"` // pending, sent or failed
	MessageID   string      `json:"message_id,omitempty"`
	RequestedAt time.Time   `json:"requested_at"`
	At          *time.Time  `json:"at,omitempty"` // when it was sent or given up
	Reason      string      `json:"reason,omitempty"`
}

// PlanEmails returns every requested email, one per address, in the order
// requested.
func (p *Plan) PlanEmails() []PlanEmail {
	out := make([]PlanEmail, len(p.emails))
	for i, m := range p.emails {
		m.At = clonePtr(m.At)
		out[i] = m
	}
	return out
}

// PlanEmailsAbout returns the emails requested for the event at version,
// in the order of their addresses in the request.
func (p *Plan) PlanEmailsAbout(version int64) []PlanEmail {
	var out []PlanEmail
	for _, m := range p.PlanEmails() {
		if m.EventVersion == version {
			out = append(out, m)
		}
	}
	return out
}

// RecordPlanEmailSent decides that email k to to was sent. It returns no
// events if its outcome is already recorded.
func (p *Plan) RecordPlanEmailSent(k PlanEmailKey, to, messageID string, at time.Time) ([]Event, error) {
	if pending, err := p.planEmailPending(k, to); !pending || err != nil {
		return nil, err
	}
	return []Event{PlanEmailSent{PlanEmailKey: k, To: to, MessageID: messageID, SentAt: at.UTC()}}, nil
}

// RecordPlanEmailFailed decides that email k to to failed for good. It
// returns no events if its outcome is already recorded. The reason is
// scrubbed as RecordIntroductionEmailFailed's.
func (p *Plan) RecordPlanEmailFailed(k PlanEmailKey, to, reason string, attempts int, at time.Time) ([]Event, error) {
	if pending, err := p.planEmailPending(k, to); !pending || err != nil {
		return nil, err
	}
	return []Event{PlanEmailFailed{PlanEmailKey: k, To: to, Reason: scrubText(reason, MultiLine, MaxReasonLen),
		Attempts: attempts, FailedAt: at.UTC()}}, nil
}

func (p *Plan) planEmailPending(k PlanEmailKey, to string) (bool, error) {
	if !p.Exists() {
		return false, ErrPlanNotFound
	}
	i, ok := p.planEmailIndex(k, to)
	if !ok {
		return false, ErrPlanEmailNotRequested
	}
	return p.emails[i].Status == EmailPending, nil
}

func (p *Plan) planEmailIndex(k PlanEmailKey, to string) (int, bool) {
	i := slices.IndexFunc(p.emails, func(m PlanEmail) bool { return m.PlanEmailKey == k && m.To == to })
	return i, i >= 0
}

func (p *Plan) applyPlanEmailRequested(e PlanEmailRequested) {
	for _, to := range e.To {
		p.emails = append(p.emails, PlanEmail{PlanEmailKey: e.PlanEmailKey, To: to, Status: EmailPending, RequestedAt: e.RequestedAt})
	}
}

func (p *Plan) applyPlanEmailOutcome(k PlanEmailKey, to string, apply func(*PlanEmail)) {
	if i, ok := p.planEmailIndex(k, to); ok {
		apply(&p.emails[i])
	}
}

func (p *Plan) applyPlanEmailSent(e PlanEmailSent) {
	p.applyPlanEmailOutcome(e.PlanEmailKey, e.To, func(m *PlanEmail) {
		at := e.SentAt
		m.Status, m.MessageID, m.At = EmailSent, e.MessageID, &at
	})
}

func (p *Plan) applyPlanEmailFailed(e PlanEmailFailed) {
	p.applyPlanEmailOutcome(e.PlanEmailKey, e.To, func(m *PlanEmail) {
		at := e.FailedAt
		m.Status, m.Reason, m.At = EmailFailed, e.Reason, &at
	})
}
