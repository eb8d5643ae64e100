package projections

import (
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"goodplan/domain"
)

// attentionColumns are what the dashboard's Needs attention and Overview
// pages read of a plan (migration 015). Each is a function of the plan's
// events alone (never of the clock), so replay rebuilds them exactly; the
// pages compare them with today (an open due date before today is
// overdue).
type attentionColumns struct {
	ReportedSince *time.Time  // earliest report of a payment awaiting confirmation
	ProposalSince *time.Time  // the proposal awaiting the merchant's answer
	OpenDueOn     *time.Time  // earliest due date still waiting for money (a date)
	CheckinSince  *time.Time  // the reminder of a check-in left unanswered
	DueOn         []time.Time // the schedule's due dates (dates) ...
	DueAmount     []pgtype.Numeric
	PaidOn        []time.Time // ... and the confirmed payments' dates
	PaidAmount    []pgtype.Numeric
	CashFrom      *time.Time // earliest of DueOn and PaidOn (a date)
	CashTo        *time.Time // latest of them
}

// attentionColumnsOf computes p's attention columns.
func attentionColumnsOf(p *domain.Plan) attentionColumns {
	a := attentionColumns{DueOn: []time.Time{}, DueAmount: []pgtype.Numeric{},
		PaidOn: []time.Time{}, PaidAmount: []pgtype.Numeric{}}
	status := p.Status()
	active := status == domain.StatusActive
	earliest := func(cur **time.Time, t time.Time) {
		if *cur == nil || t.Before(**cur) {
			t = t.UTC()
			*cur = &t
		}
	}
	latest := func(cur **time.Time, t time.Time) {
		if *cur == nil || t.After(**cur) {
			*cur = &t
		}
	}
	schedule := p.Installments()
	open := map[domain.NoticeKey]bool{} // check-in reminders of installments still open, by key
	for _, in := range schedule {
		t := in.DueDate.Time()
		a.DueOn, a.DueAmount = append(a.DueOn, t), append(a.DueAmount, numericOf(in.Amount))
		earliest(&a.CashFrom, t)
		latest(&a.CashTo, t)
		if active && in.Status.Open() {
			earliest(&a.OpenDueOn, t)
			open[domain.NoticeKey{Kind: domain.NoticeCheckinReminder, Installment: in.Number, DueDate: in.DueDate}] = true
		}
	}
	for _, pay := range p.Payments() {
		switch {
		case pay.Status == domain.PaymentReported && active:
			earliest(&a.ReportedSince, pay.ReportedAt)
		case pay.Status == domain.PaymentConfirmed && pay.ConfirmedAmount != nil:
			t := pay.PaidOn.Time()
			a.PaidOn, a.PaidAmount = append(a.PaidOn, t), append(a.PaidAmount, numericOf(*pay.ConfirmedAmount))
			earliest(&a.CashFrom, t)
			latest(&a.CashTo, t)
		}
	}
	if pr, ok := p.OpenProposal(); ok && pr.Status == domain.ProposalIsPending &&
		(active || status == domain.StatusPending) {
		earliest(&a.ProposalSince, pr.CreatedAt)
	}
	for _, n := range p.Notices() {
		if n.Kind != domain.NoticeCheckinReminder {
			continue
		}
		if open[n.NoticeKey] {
			earliest(&a.CheckinSince, n.RequestedAt)
		}
	}
	return a
}
