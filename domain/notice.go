package domain

import (
	"errors"
	"time"
)

// Notification event types: goodplan's own (not webhook) events. The
// scheduler records that a notice is due; the email worker records the
// outcome of sending it.
const (
	EventNotificationRequested = "notification.requested"
	EventNotificationSent      = "notification.sent"
	EventNotificationFailed    = "notification.failed"
)

// CheckinReminderAfter is how long after a check-in with no answer its one
// reminder is sent.
const CheckinReminderAfter = 3 // days

// DefaultReminderDays is how many days before a due date the customer is
// reminded, unless the account says otherwise (0 turns the reminder off).
const DefaultReminderDays = 3

// NoticeKind names a scheduled customer email.
type NoticeKind string

// The scheduled customer emails.
const (
	// NoticeDueReminder: an installment falls due in a few days.
	NoticeDueReminder NoticeKind = "due_reminder"
	// NoticeCheckin: an installment is due today; did you pay?
	NoticeCheckin NoticeKind = "checkin"
	// NoticeCheckinReminder: the check-in got no answer in three days.
	NoticeCheckinReminder NoticeKind = "checkin_reminder"
)

// ErrNoticeNotRequested is returned when recording the outcome of a notice
// the plan never requested.
var ErrNoticeNotRequested = errors.New("notification was not requested")

// NoticeKey identifies one notice: its kind, installment and the due date
// it is about (an installment that moves gets new notices).
type NoticeKey struct {
	Kind        NoticeKind `json:"kind"`
	Installment int        `json:"installment"`
	DueDate     Date       `json:"due_date"`
}

// NotificationRequested records that a notice is due to be emailed.
type NotificationRequested struct {
	NoticeKey
	Amount      Money     `json:"amount"` // what is outstanding on the installment
	RequestedAt time.Time `json:"requested_at"`
}

// NotificationSent records that the mail server accepted a notice.
type NotificationSent struct {
	NoticeKey
	MessageID string    `json:"message_id"`
	To        string    `json:"to"`
	SentAt    time.Time `json:"sent_at"`
}

// NotificationFailed records that a notice could not be delivered and will
// not be retried.
type NotificationFailed struct {
	NoticeKey
	Reason   string    `json:"reason"`
	Attempts int       `json:"attempts"`
	FailedAt time.Time `json:"failed_at"`
}

// EventType returns EventNotificationRequested.
func (NotificationRequested) EventType() string { return EventNotificationRequested }

// EventType returns EventNotificationSent.
func (NotificationSent) EventType() string { return EventNotificationSent }

// EventType returns EventNotificationFailed.
func (NotificationFailed) EventType() string { return EventNotificationFailed }

// Notice is one requested notice and where its email stands.
type Notice struct {
	NoticeKey
	Status      EmailStatus `json:"status"` // pending, sent or failed
	RequestedAt time.Time   `json:"requested_at"`
}

// Notices returns every requested notice, oldest first.
func (p *Plan) Notices() []Notice {
	out := make([]Notice, len(p.notices))
	copy(out, p.notices)
	return out
}

// NoticeStatus returns the status of notice k and whether it was requested.
func (p *Plan) NoticeStatus(k NoticeKey) (EmailStatus, bool) {
	if i, ok := p.noticeIndex(k); ok {
		return p.notices[i].Status, true
	}
	return "", false
}

func (p *Plan) noticeIndex(k NoticeKey) (int, bool) {
	for i := len(p.notices) - 1; i >= 0; i-- {
		if p.notices[i].NoticeKey == k {
			return i, true
		}
	}
	return 0, false
}

// Tick decides what time alone makes due at now: plan.abandoned for a plan
// pending for AbandonAfter (see abandonAt); for an active plan, for
// each installment still open (pending or partly paid, nothing reported):
// a due reminder reminderDays before its due date (0: none), a check-in on
// its due date, and one check-in reminder CheckinReminderAfter days after a
// check-in that was sent. Each notice is requested once per installment and due date, so
// ticking again, or on another replica, decides nothing new.
func (p *Plan) Tick(now time.Time, reminderDays int) []Event {
	now = now.UTC()
	switch p.status {
	case StatusPending:
		if at, ok := p.abandonAt(); ok && !now.Before(at) {
			return []Event{PlanAbandoned{PendingSince: p.pendingSince, AbandonedAt: now}}
		}
	case StatusActive:
		return p.dueNotices(now, reminderDays)
	}
	return nil
}

func (p *Plan) dueNotices(now time.Time, reminderDays int) []Event {
	today := DateOf(now)
	var events []Event
	for _, s := range p.Installments() {
		if s.Status != InstallmentIsPending && s.Status != InstallmentIsPartiallyPaid {
			continue
		}
		request := func(kind NoticeKind) {
			k := NoticeKey{Kind: kind, Installment: s.Number, DueDate: s.DueDate}
			if _, done := p.noticeIndex(k); !done {
				events = append(events, NotificationRequested{NoticeKey: k, Amount: s.Outstanding, RequestedAt: now})
			}
		}
		checkin, checkedIn := p.noticeIndex(NoticeKey{Kind: NoticeCheckin, Installment: s.Number, DueDate: s.DueDate})
		switch {
		case checkedIn:
			// Only a check-in that went out can go unanswered: one still
			// being sent, or skipped as moot, gets no reminder.
			if p.notices[checkin].Status == EmailSent &&
				!today.Before(DateOf(p.notices[checkin].RequestedAt).AddDays(CheckinReminderAfter)) {
				request(NoticeCheckinReminder)
			}
		case !today.Before(s.DueDate):
			request(NoticeCheckin)
		case reminderDays > 0 && !today.Before(s.DueDate.AddDays(-reminderDays)):
			request(NoticeDueReminder)
		}
	}
	return events
}

// Wake tells a scheduler when Tick may next decide something, so it can
// skip the plan until then: wakeAt is the earliest time that does not
// depend on the account's reminder lead (zero: none), and dueReminderOn the
// earliest due date that may still get a due reminder, lead days before it
// (zero: none).
func (p *Plan) Wake() (wakeAt time.Time, dueReminderOn Date) {
	earliest := func(t time.Time) {
		if wakeAt.IsZero() || t.Before(wakeAt) {
			wakeAt = t
		}
	}
	switch p.status {
	case StatusPending:
		if at, ok := p.abandonAt(); ok {
			earliest(at)
		}
	case StatusActive:
		for _, s := range p.Installments() {
			if s.Status != InstallmentIsPending && s.Status != InstallmentIsPartiallyPaid {
				continue
			}
			k := NoticeKey{Kind: NoticeCheckin, Installment: s.Number, DueDate: s.DueDate}
			checkin, checkedIn := p.noticeIndex(k)
			k.Kind = NoticeCheckinReminder
			_, reminded := p.noticeIndex(k)
			k.Kind = NoticeDueReminder
			_, dueReminded := p.noticeIndex(k)
			switch {
			case !checkedIn:
				earliest(s.DueDate.Time())
				if !dueReminded && (dueReminderOn.IsZero() || s.DueDate.Before(dueReminderOn)) {
					dueReminderOn = s.DueDate
				}
			case !reminded && p.notices[checkin].Status == EmailSent:
				earliest(DateOf(p.notices[checkin].RequestedAt).AddDays(CheckinReminderAfter).Time())
			}
		}
	}
	return wakeAt, dueReminderOn
}

// abandonAt is when a pending plan is abandoned: AbandonAfter after it
// became pending, or after the merchant's counter-offer that the customer
// has not answered; never while a proposal awaits the merchant.
func (p *Plan) abandonAt() (time.Time, bool) {
	from := p.pendingSince
	if pr, open := p.OpenProposal(); open {
		if pr.Status == ProposalIsPending || pr.AnsweredAt == nil {
			return time.Time{}, false
		}
		if pr.AnsweredAt.After(from) {
			from = *pr.AnsweredAt
		}
	}
	return from.Add(AbandonAfter), true
}

// RecordNotificationSent decides that notice k's email was sent. It returns
// no events if its outcome is already recorded.
func (p *Plan) RecordNotificationSent(k NoticeKey, messageID, to string, at time.Time) ([]Event, error) {
	if pending, err := p.noticePending(k); !pending || err != nil {
		return nil, err
	}
	return []Event{NotificationSent{NoticeKey: k, MessageID: messageID, To: to, SentAt: at.UTC()}}, nil
}

// RecordNotificationFailed decides that notice k's email failed for good. It
// returns no events if its outcome is already recorded. The reason is
// scrubbed as RecordIntroductionEmailFailed's.
func (p *Plan) RecordNotificationFailed(k NoticeKey, reason string, attempts int, at time.Time) ([]Event, error) {
	if pending, err := p.noticePending(k); !pending || err != nil {
		return nil, err
	}
	return []Event{NotificationFailed{NoticeKey: k, Reason: scrubText(reason, MultiLine, MaxReasonLen), Attempts: attempts,
		FailedAt: at.UTC()}}, nil
}

func (p *Plan) noticePending(k NoticeKey) (bool, error) {
	if !p.Exists() {
		return false, ErrPlanNotFound
	}
	i, ok := p.noticeIndex(k)
	if !ok {
		return false, ErrNoticeNotRequested
	}
	return p.notices[i].Status == EmailPending, nil
}

func (p *Plan) applyNotice(k NoticeKey, s EmailStatus, at time.Time) {
	if i, ok := p.noticeIndex(k); ok {
		p.notices[i].Status = s
		return
	}
	p.notices = append(p.notices, Notice{NoticeKey: k, Status: s, RequestedAt: at})
}
