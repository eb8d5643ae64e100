package domain

import (
	"errors"
	"time"
)

// Introduction email event types. They are goodplan's own (not webhook)
// events: the outcome of the email worker, recorded on the plan.
const (
	EventIntroductionEmailSent   = "introduction_email.sent"
	EventIntroductionEmailFailed = "introduction_email.failed"
	// EventIntroductionEmailResendRequested: the merchant asked for the
	// introduction email again (the email worker sends it).
	EventIntroductionEmailResendRequested = "introduction_email.resend_requested"
)

// ErrNoIntroductionEmail: the plan was created with send_introduction_email
// false, so there is no introduction email to record.
var ErrNoIntroductionEmail = errors.New("plan has no introduction email to send")

// IntroductionEmailSent records that the mail server accepted the customer's
// introduction email.
type IntroductionEmailSent struct {
	MessageID string    `json:"message_id"`
	To        string    `json:"to"`
	SentAt    time.Time `json:"sent_at"`
}

// EventType returns EventIntroductionEmailSent.
func (IntroductionEmailSent) EventType() string { return EventIntroductionEmailSent }

// IntroductionEmailFailed records that the introduction email could not be
// delivered and will not be retried: the server refused it permanently (5xx)
// or every retry failed.
type IntroductionEmailFailed struct {
	Reason   string    `json:"reason"`
	Attempts int       `json:"attempts"`
	FailedAt time.Time `json:"failed_at"`
}

// EventType returns EventIntroductionEmailFailed.
func (IntroductionEmailFailed) EventType() string { return EventIntroductionEmailFailed }

// IntroductionEmailResendRequested records the merchant's request to send
// the introduction email again: the Resend-th time it was asked for again
// (1 for the first). The plan owes the email until its outcome is
// recorded.
type IntroductionEmailResendRequested struct {
	Resend      int       `json:"resend"`
	RequestedAt time.Time `json:"requested_at"`
}

// EventType returns EventIntroductionEmailResendRequested.
func (IntroductionEmailResendRequested) EventType() string {
	return EventIntroductionEmailResendRequested
}

// EmailStatus is where the introduction email stands.
type EmailStatus string

// Introduction email statuses.
const (
	EmailNotRequested EmailStatus = "not_requested" // send_introduction_email was false
	EmailPending      EmailStatus = "pending"       // to be sent
	EmailSent         EmailStatus = "sent"
	EmailFailed       EmailStatus = "failed"
)

// IntroductionEmail is the state of a plan's introduction email.
type IntroductionEmail struct {
	Status    EmailStatus `json:"status"`
	MessageID string      `json:"message_id,omitempty"`
	At        *time.Time  `json:"at,omitempty"` // when it was sent or given up
	Reason    string      `json:"reason,omitempty"`
	// Resends is how many times the merchant asked for it again.
	Resends int `json:"resends,omitempty"`
}

// IntroductionEmail returns the state of the plan's introduction email.
func (p *Plan) IntroductionEmail() IntroductionEmail {
	e := p.introEmail
	e.At = clonePtr(e.At)
	return e
}

// RecordIntroductionEmailSent decides that the introduction email was sent.
// It returns no events if the outcome is already recorded (a redelivered
// message), and ErrNoIntroductionEmail if the plan asked for none.
func (p *Plan) RecordIntroductionEmailSent(messageID, to string, at time.Time) ([]Event, error) {
	if err := p.canRecordEmail(); err != nil || p.introEmail.Status != EmailPending {
		return nil, err
	}
	return []Event{IntroductionEmailSent{MessageID: messageID, To: to, SentAt: at.UTC()}}, nil
}

// RecordIntroductionEmailFailed decides that the introduction email failed
// for good. It returns no events if the outcome is already recorded. The
// reason (a mail server's words) is recorded without control characters or
// invalid UTF-8 and cut to MaxReasonLen characters.
func (p *Plan) RecordIntroductionEmailFailed(reason string, attempts int, at time.Time) ([]Event, error) {
	if err := p.canRecordEmail(); err != nil || p.introEmail.Status != EmailPending {
		return nil, err
	}
	return []Event{IntroductionEmailFailed{Reason: scrubText(reason, MultiLine, MaxReasonLen), Attempts: attempts,
		FailedAt: at.UTC()}}, nil
}

// ResendIntroduction decides the merchant's request to send the
// introduction email again (or for the first time, for a plan created
// without it), with the current options and portal link, to a pending or
// active plan's customer. An email still being sent is a *ConflictError.
func (p *Plan) ResendIntroduction(now time.Time) ([]Event, error) {
	if err := p.require("resend the introduction email", openStatuses...); err != nil {
		return nil, err
	}
	if p.sendIntro && p.introEmail.Status == EmailPending {
		return nil, &ConflictError{Msg: "The introduction email is being sent; it cannot be sent again until it is."}
	}
	if err := capReached(p.introEmail.Resends, MaxIntroductionResends, "introduction emails sent again"); err != nil {
		return nil, err
	}
	return []Event{IntroductionEmailResendRequested{Resend: p.introEmail.Resends + 1, RequestedAt: now.UTC()}}, nil
}

func (p *Plan) canRecordEmail() error {
	if !p.Exists() {
		return ErrPlanNotFound
	}
	if !p.sendIntro {
		return ErrNoIntroductionEmail
	}
	return nil
}

func (p *Plan) applyEmailSent(e IntroductionEmailSent) {
	at := e.SentAt
	p.introEmail = IntroductionEmail{Status: EmailSent, MessageID: e.MessageID, At: &at, Resends: p.introEmail.Resends}
}

func (p *Plan) applyEmailFailed(e IntroductionEmailFailed) {
	at := e.FailedAt
	p.introEmail = IntroductionEmail{Status: EmailFailed, At: &at, Reason: e.Reason, Resends: p.introEmail.Resends}
}

func (p *Plan) applyResendRequested(e IntroductionEmailResendRequested) {
	p.sendIntro = true
	p.introEmail = IntroductionEmail{Status: EmailPending, Resends: e.Resend}
}
