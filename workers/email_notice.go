package workers

import (
	"fmt"
	"strconv"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
	"goodplan/templates"
)

// noticeJob is the scheduled notice k: owed while it is pending and still
// about an open installment of an active plan (see noticeOwed).
func (w *EmailWorker) noticeJob(k domain.NoticeKey) *emailJob {
	return &emailJob{
		what:  string(k.Kind) + " notice",
		name:  "notification",
		key:   ":" + string(k.Kind) + ":" + strconv.Itoa(k.Installment) + ":" + k.DueDate.String(),
		attrs: []any{"notice", string(k.Kind), "installment", k.Installment, "due_date", k.DueDate.String()},
		owed:  func(p *domain.Plan) bool { _, ok := noticeOwed(p, k); return ok },
		build: func(p *domain.Plan, acct eventstore.Account) (Email, error) {
			s, _ := noticeOwed(p, k)
			inv := p.Invoice()
			r, err := templates.Notice(templates.NoticeData{
				Kind:             string(k.Kind),
				MerchantName:     acct.Name,
				CustomerName:     p.Customer().Name,
				InvoiceNumber:    inv.InvoiceNumber,
				Installment:      s.Number,
				InstallmentCount: len(p.Installments()),
				Amount:           s.Outstanding.String(),
				Currency:         inv.Currency,
				DueDate:          s.DueDate.String(),
				PortalURL:        projections.PortalURL(w.PublicURL, p.PortalToken()),
			})
			if err != nil {
				return Email{}, fmt.Errorf("%s notice for plan %d: %w", k.Kind, p.ID(), err)
			}
			return w.email(p, acct, NoticeMessageID(p.ID(), k, w.PublicURL), r), nil
		},
		sent: func(p *domain.Plan, e Email, at time.Time) ([]domain.Event, error) {
			return p.RecordNotificationSent(k, e.MessageID, e.ToAddress, at)
		},
		failed: func(p *domain.Plan, reason string, attempts int, at time.Time) ([]domain.Event, error) {
			return p.RecordNotificationFailed(k, reason, attempts, at)
		},
	}
}

// noticeOwed returns the installment notice k is about if its email is
// still to be sent: the notice is pending (requested, no outcome recorded),
// the plan is active, and the installment is still open (pending or partly
// paid, nothing reported) and due on k.DueDate. A notice made moot since it
// was requested is never sent, and needs no record: the scheduler requests
// new notices for an installment that moved.
func noticeOwed(p *domain.Plan, k domain.NoticeKey) (domain.InstallmentState, bool) {
	if st, ok := p.NoticeStatus(k); !ok || st != domain.EmailPending || p.Status() != domain.StatusActive {
		return domain.InstallmentState{}, false
	}
	for _, s := range p.Installments() {
		if s.Number == k.Installment {
			open := s.Status == domain.InstallmentIsPending || s.Status == domain.InstallmentIsPartiallyPaid
			return s, open && s.DueDate == k.DueDate
		}
	}
	return domain.InstallmentState{}, false
}

// NoticeMessageID is the Message-ID of plan id's notice k:
// "<plan-{id}.{kind}.{installment}.{due date}@{host of publicURL}>", the
// same for every copy of one notice (see IntroductionMessageID).
func NoticeMessageID(id int64, k domain.NoticeKey, publicURL string) string {
	return messageID(fmt.Sprintf("plan-%d.%s.%d.%s", id, k.Kind, k.Installment, k.DueDate), publicURL)
}
