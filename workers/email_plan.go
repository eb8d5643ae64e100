package workers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
	"goodplan/templates"
)

// HandlePlanEmail is the Handler of a durable consumer of every event: it
// sends the emails an event of a plan owes (domain.PlanEmailKindOf): the
// customer's email after a merchant's decision, and the merchant's
// notification, to each of the account's notification addresses, after a
// customer's report or proposal, an unanswered check-in or an abandoned
// plan. Other events are acked at once.
//
// It first records on the plan's stream which emails the event owes
// (plan_email.requested, decided by domain.Plan.RequestPlanEmails under the
// account's settings, with the command id
// "plan-email-requested:plan-{id}:{version}"), then sends each as the
// introduction email is sent (see EmailWorker): claimed while it is sent,
// its outcome recorded under "plan-email-sent:plan-{id}:{version}:{n}" or
// "plan-email-failed:...", n being the address's place in the request. So
// a redelivered or replayed event never requests twice, and never sends
// again once an outcome is recorded; a crash between the request and the
// send loses nothing, since the event is redelivered until every email it
// owes is sent or given up. Its errors are EmailWorker.Handle's: one
// address's transient failure is retried (the others, sent, are not sent
// again) and the first error is returned.
func (w *EmailWorker) HandlePlanEmail(ctx context.Context, rec eventstore.Record) error {
	if !domain.MayOwePlanEmail(rec.Type) {
		return nil
	}
	e, err := domain.UnmarshalEvent(rec.Type, rec.Data)
	if err != nil {
		return Permanent(fmt.Errorf("plan email for %s %s: %w", rec.Type, rec.EventID, err))
	}
	if _, _, ok := domain.PlanEmailKindOf(e); !ok {
		return nil
	}
	id, ok := eventstore.PlanIDOf(rec.StreamID)
	if !ok {
		return Permanent(fmt.Errorf("stream %q is not a plan stream", rec.StreamID))
	}
	plan, _, err := w.Store.CurrentPlan(ctx, id)
	if errors.Is(err, eventstore.ErrNotFound) {
		return Permanent(fmt.Errorf("plan email: %w", err))
	}
	if err != nil {
		return fmt.Errorf("plan email: %w", err)
	}
	acct, err := w.Store.AccountByID(ctx, plan.AccountID())
	if errors.Is(err, eventstore.ErrNotFound) {
		return Permanent(fmt.Errorf("plan email for plan %d: %w", id, err))
	}
	if err != nil {
		return fmt.Errorf("plan email for plan %d: %w", id, err)
	}
	version := strconv.FormatInt(rec.Version, 10)
	now := w.now()
	if err := w.record(ctx, plan, "plan-email-requested:"+eventstore.PlanStream(id)+":"+version,
		func(p *domain.Plan) ([]domain.Event, error) {
			return p.RequestPlanEmails(e, rec.Version, acct.Emails, now), nil
		}); err != nil {
		return fmt.Errorf("request the emails of plan %d version %d: %w", id, rec.Version, err)
	}
	if plan, _, err = w.Store.CurrentPlan(ctx, id); err != nil {
		return fmt.Errorf("plan email: %w", err)
	}
	var first error
	for n, m := range plan.PlanEmailsAbout(rec.Version) {
		if m.Status != domain.EmailPending {
			continue
		}
		if err := w.deliver(ctx, id, w.planEmailJob(m.PlanEmailKey, n, m.To, e)); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// planEmailJob is email k to to, the n-th address of its request, about
// event e.
func (w *EmailWorker) planEmailJob(k domain.PlanEmailKey, n int, to string, e domain.Event) *emailJob {
	return &emailJob{
		what:  string(k.Kind) + " email",
		name:  "plan-email",
		key:   ":" + strconv.FormatInt(k.EventVersion, 10) + ":" + strconv.Itoa(n),
		attrs: []any{"email", string(k.Kind), "event_version", k.EventVersion, "recipient", n},
		owed:  func(p *domain.Plan) bool { return p.PlanEmailOwed(k, to, e) },
		build: func(p *domain.Plan, acct eventstore.Account) (Email, error) {
			id := PlanEmailMessageID(p.ID(), k, n, w.PublicURL)
			if !k.Kind.ToMerchant() {
				r, err := templates.Decision(decisionData(p, acct, e, w.PublicURL))
				if err != nil {
					return Email{}, fmt.Errorf("%s email for plan %d: %w", k.Kind, p.ID(), err)
				}
				return w.email(p, acct, id, r), nil
			}
			r, err := templates.MerchantNotice(merchantNoticeData(p, acct, e, w.PublicURL))
			if err != nil {
				return Email{}, fmt.Errorf("%s email for plan %d: %w", k.Kind, p.ID(), err)
			}
			return Email{MessageID: id, FromHeader: w.from(), ToAddress: to, Subject: r.Subject, Text: r.Text, HTML: r.HTML}, nil
		},
		sent: func(p *domain.Plan, m Email, at time.Time) ([]domain.Event, error) {
			return p.RecordPlanEmailSent(k, to, m.MessageID, at)
		},
		failed: func(p *domain.Plan, reason string, attempts int, at time.Time) ([]domain.Event, error) {
			return p.RecordPlanEmailFailed(k, to, reason, attempts, at)
		},
	}
}

// PlanEmailMessageID is the Message-ID of email k of plan id to the n-th
// address of its request (from 0): "<plan-{id}.{kind}.{event
// version}.{n+1}@{host of publicURL}>", the same for every copy of one
// email (see IntroductionMessageID).
func PlanEmailMessageID(id int64, k domain.PlanEmailKey, n int, publicURL string) string {
	return messageID(fmt.Sprintf("plan-%d.%s.%d.%d", id, k.Kind, k.EventVersion, n+1), publicURL)
}

// DashboardPlanURL is the page of plan id in the merchant dashboard.
func DashboardPlanURL(publicURL string, id int64) string {
	return strings.TrimRight(publicURL, "/") + "/dashboard/plans/" + strconv.FormatInt(id, 10)
}

// decisionData is what the customer's email about the merchant's decision
// e shows.
func decisionData(p *domain.Plan, acct eventstore.Account, e domain.Event, publicURL string) templates.DecisionData {
	kind, _, _ := domain.PlanEmailKindOf(e)
	inv := p.Invoice()
	d := templates.DecisionData{Kind: string(kind), MerchantName: acct.Name, CustomerName: p.Customer().Name,
		InvoiceNumber: inv.InvoiceNumber, Currency: inv.Currency, PortalURL: projections.PortalURL(publicURL, p.PortalToken())}
	moved := func(c domain.DueDateChange) {
		d.Installment, d.DueDate, d.PreviousDueDate = c.Installment, c.To.String(), c.From.String()
	}
	switch e := e.(type) {
	case domain.InstallmentConfirmed:
		d.Amount = e.Amount.String()
		if out := p.Ledger().Outstanding; !out.IsZero() {
			d.Outstanding = out.String()
		}
	case domain.PaymentRejected:
		for _, pay := range p.Payments() {
			if pay.ID == e.PaymentID {
				d.Amount, d.PaidOn = pay.Amount.String(), pay.PaidOn.String()
			}
		}
		d.Note = e.Reason
	case domain.InstallmentExtensionGranted:
		for _, c := range e.Changes {
			if c.Installment == e.Installment {
				moved(c)
			}
		}
	case domain.InstallmentDeferred:
		moved(domain.DueDateChange{Installment: e.Installment, From: e.From, To: e.To})
	case domain.ProposalCountered:
		d.Schedule, d.Note = scheduleLines(e.Schedule), e.Message
	case domain.ProposalApproved:
		d.Schedule = scheduleLines(e.Schedule)
	case domain.ProposalDeclined:
		d.Note = e.Reason
	}
	return d
}

func scheduleLines(s []domain.Installment) []templates.ScheduleLine {
	out := make([]templates.ScheduleLine, len(s))
	for i, in := range s {
		out[i] = templates.ScheduleLine{Amount: in.Amount.String(), DueDate: in.DueDate.String()}
	}
	return out
}

// merchantNoticeData is what the merchant's notification about e shows.
func merchantNoticeData(p *domain.Plan, acct eventstore.Account, e domain.Event, publicURL string) templates.MerchantNoticeData {
	kind, _, _ := domain.PlanEmailKindOf(e)
	c, inv := p.Customer(), p.Invoice()
	d := templates.MerchantNoticeData{Kind: string(kind), AccountName: acct.Name, Customer: c.Name, CustomerEmail: c.Email,
		PlanID: p.ID(), InvoiceNumber: inv.InvoiceNumber, Currency: inv.Currency, DashboardURL: DashboardPlanURL(publicURL, p.ID())}
	switch e := e.(type) {
	case domain.InstallmentPaid:
		d.Amount, d.PaidOn, d.Reference = e.Amount.String(), e.PaidOn.String(), e.Reference
		d.Method = strings.ReplaceAll(string(e.Method), "_", " ")
	case domain.ProposalCreated:
		d.Terms = fmt.Sprintf("%d %s payments from %s", e.Terms.Installments, e.Terms.Interval, e.Terms.FirstPaymentDate)
		if e.Terms.Installments == 1 {
			d.Terms = "1 payment on " + e.Terms.FirstPaymentDate.String()
		}
	case domain.NotificationRequested:
		d.Installment, d.DueDate, d.Amount = e.Installment, e.DueDate.String(), e.Amount.String()
	case domain.PlanAbandoned:
		d.PendingSince = domain.DateOf(e.PendingSince).String()
	}
	return d
}
