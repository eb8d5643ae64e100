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

// introductionJob is the plan's introduction email, owed while its status
// is pending: the first one (resend 0, on plan.created) or the resend-th
// one the merchant asked for again (introduction_email.resend_requested),
// each owed only while it is the latest asked for, with its own claim,
// outcome command ids and Message-ID.
func (w *EmailWorker) introductionJob(resend int) *emailJob {
	key := ""
	if resend > 0 {
		key = "#resend-" + strconv.Itoa(resend)
	}
	return &emailJob{
		what: "introduction email",
		name: "introduction-email",
		key:  key,
		owed: func(p *domain.Plan) bool {
			e := p.IntroductionEmail()
			return e.Status == domain.EmailPending && e.Resends == resend
		},
		build: func(p *domain.Plan, acct eventstore.Account) (Email, error) {
			r, err := templates.Introduction(introductionData(p, acct, w.PublicURL))
			if err != nil {
				return Email{}, fmt.Errorf("introduction email for plan %d: %w", p.ID(), err)
			}
			id := IntroductionMessageID(p.ID(), w.PublicURL)
			if resend > 0 {
				id = messageID("plan-"+strconv.FormatInt(p.ID(), 10)+".introduction.resend-"+strconv.Itoa(resend), w.PublicURL)
			}
			return w.email(p, acct, id, r), nil
		},
		sent: func(p *domain.Plan, e Email, at time.Time) ([]domain.Event, error) {
			return p.RecordIntroductionEmailSent(e.MessageID, e.ToAddress, at)
		},
		failed: func(p *domain.Plan, reason string, attempts int, at time.Time) ([]domain.Event, error) {
			return p.RecordIntroductionEmailFailed(reason, attempts, at)
		},
	}
}

// introductionData is what the introduction email of plan shows.
func introductionData(plan *domain.Plan, acct eventstore.Account, publicURL string) templates.IntroductionData {
	c, inv := plan.Customer(), plan.Invoice()
	data := templates.IntroductionData{
		MerchantName:  acct.Name,
		CustomerName:  c.Name,
		Amount:        inv.Amount.String(),
		Currency:      inv.Currency,
		InvoiceNumber: inv.InvoiceNumber,
		PortalURL:     projections.PortalURL(publicURL, plan.PortalToken()),
	}
	for _, o := range plan.Options() {
		data.Options = append(data.Options, templates.IntroductionOption{
			Installments:     o.Installments,
			Interval:         string(o.Interval),
			PaymentAmount:    o.PaymentAmount.String(),
			FirstPaymentDate: o.FirstPaymentDate.String(),
			FinalPaymentDate: o.FinalPaymentDate.String(),
		})
	}
	return data
}

// IntroductionMessageID is the Message-ID of plan id's introduction email:
// "<plan-{id}.introduction@{host of publicURL}>" ("localhost" when
// publicURL has no plain ASCII host). The same plan always gets the same id, so a
// receiving system can recognise a duplicate.
func IntroductionMessageID(id int64, publicURL string) string {
	return messageID("plan-"+strconv.FormatInt(id, 10)+".introduction", publicURL)
}
