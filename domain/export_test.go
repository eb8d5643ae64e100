package domain

import (
	"reflect"
	"slices"
	"time"
)

// planFields is the number of fields SameState compares. A new field of
// Plan makes SameState panic until it is compared too.
const planFields = 27

// SameState reports whether p and o hold the same state, comparing every
// field of Plan (a nil slice equals an empty one). The ledger property test
// compares plans thousands of times; reflect.DeepEqual is too slow for that
// under -race.
func SameState(p, o *Plan) bool {
	if reflect.TypeFor[Plan]().NumField() != planFields ||
		reflect.TypeFor[Option]().NumField() != 7 || reflect.TypeFor[Payment]().NumField() != 13 ||
		reflect.TypeFor[Proposal]().NumField() != 12 || reflect.TypeFor[PlanEmail]().NumField() != 7 {
		panic("SameState: Plan has fields it does not compare")
	}
	return p.version == o.version && p.id == o.id && p.accountID == o.accountID && p.status == o.status &&
		p.customer == o.customer && p.invoice == o.invoice &&
		slices.EqualFunc(p.options, o.options, sameOption) &&
		p.portalToken == o.portalToken && p.sendIntro == o.sendIntro &&
		p.createdAt == o.createdAt && p.updatedAt == o.updatedAt &&
		p.introEmail.Status == o.introEmail.Status && p.introEmail.MessageID == o.introEmail.MessageID &&
		p.introEmail.Reason == o.introEmail.Reason && sameTime(p.introEmail.At, o.introEmail.At) &&
		p.pendingSince == o.pendingSince && p.selectedOption == o.selectedOption && p.interval == o.interval &&
		slices.Equal(p.installments, o.installments) &&
		slices.EqualFunc(p.payments, o.payments, samePayment) &&
		slices.EqualFunc(p.proposals, o.proposals, sameProposal) &&
		slices.Equal(p.notices, o.notices) && slices.EqualFunc(p.emails, o.emails, samePlanEmail) &&
		samePtr(p.consent, o.consent) &&
		p.activatedAt == o.activatedAt && p.completedAt == o.completedAt &&
		p.closedAt == o.closedAt && p.closedReason == o.closedReason &&
		p.introEmail.Resends == o.introEmail.Resends && p.dueChanges == o.dueChanges && p.linkRegens == o.linkRegens
}

func sameOption(a, b Option) bool {
	return a.ID == b.ID && a.Installments == b.Installments && a.Interval == b.Interval &&
		a.PaymentAmount == b.PaymentAmount && a.FirstPaymentDate == b.FirstPaymentDate &&
		a.FinalPaymentDate == b.FinalPaymentDate && slices.Equal(a.Schedule, b.Schedule)
}

func samePayment(a, b Payment) bool {
	return a.ID == b.ID && a.Status == b.Status && a.Amount == b.Amount && a.PaidOn == b.PaidOn && a.Method == b.Method &&
		a.Reference == b.Reference && a.Source == b.Source && a.ReportedAt == b.ReportedAt &&
		samePtr(a.ConfirmedAmount, b.ConfirmedAmount) && sameTime(a.ConfirmedAt, b.ConfirmedAt) &&
		slices.Equal(a.Allocations, b.Allocations) && sameTime(a.RejectedAt, b.RejectedAt) && a.RejectReason == b.RejectReason
}

func sameProposal(a, b Proposal) bool {
	return a.ID == b.ID && a.Status == b.Status && a.Terms == b.Terms && a.Amount == b.Amount &&
		slices.Equal(a.Schedule, b.Schedule) && samePtr(a.Counter, b.Counter) && samePtr(a.CounterAmount, b.CounterAmount) &&
		slices.Equal(a.CounterSchedule, b.CounterSchedule) && a.Message == b.Message && a.CreatedAt == b.CreatedAt &&
		sameTime(a.AnsweredAt, b.AnsweredAt) && samePtr(a.consent, b.consent)
}

func samePlanEmail(a, b PlanEmail) bool {
	return a.PlanEmailKey == b.PlanEmailKey && a.To == b.To && a.Status == b.Status && a.MessageID == b.MessageID &&
		a.RequestedAt == b.RequestedAt && sameTime(a.At, b.At) && a.Reason == b.Reason
}

func sameTime(a, b *time.Time) bool { return samePtr(a, b) }

func samePtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
