package domain

import "slices"

// The statuses in which each merchant command may run: the commands check
// them (require) and Allowed reports them, from one list each.
var (
	// activeOnly: payments (record, confirm, reject) and installments
	// (extend, defer) need a schedule being paid.
	activeOnly = []Status{StatusActive}
	// openStatuses: cancel, write off, and answering a proposal.
	openStatuses = []Status{StatusPending, StatusActive}
	// reopenable: reactivate.
	reopenable = []Status{StatusCancelled, StatusWrittenOff, StatusAbandoned}
)

// PlanState is what decides which merchant commands a plan allows: its
// status, its installments (Plan.Installments), payments and proposals.
// A read model's copy of a plan carries it as well as the aggregate.
type PlanState struct {
	Status       Status
	Installments []InstallmentState
	Payments     []Payment
	Proposals    []Proposal
	// SendIntroduction and Introduction: whether the plan asked for its
	// introduction email and where it stands.
	SendIntroduction bool
	Introduction     EmailStatus
}

// Allowed is what the merchant may do to a plan now, command by command:
// what the plan's state allows, as its commands decide it. A command
// absent here is refused by the plan; one present may still be refused
// for its input (an amount too large, a date in the past) or for a
// condition of the moment (a proposal whose first payment date passed).
type Allowed struct {
	// ConfirmPayment and RejectPayment: the reported payments awaiting
	// the merchant's answer (ids).
	ConfirmPayment []int64
	RejectPayment  []int64
	// RecordPayment: a payment received may be recorded.
	RecordPayment bool
	// Extend and Defer: the installments not paid in full (numbers).
	Extend []int
	Defer  []int
	// ApproveProposal and CounterProposal: the pending proposal (ids);
	// DeclineProposal: the pending or countered one.
	ApproveProposal []int64
	CounterProposal []int64
	DeclineProposal []int64
	// Cancel, WriteOff, Reactivate: the plan's status allows them.
	Cancel     bool
	WriteOff   bool
	Reactivate bool
	// PortalLink: a new portal link may be made (always, for a plan that
	// exists).
	PortalLink bool
	// ResendIntroduction: the introduction email may be sent again.
	ResendIntroduction bool
}

// Any reports whether at least one command is allowed.
func (a Allowed) Any() bool {
	return len(a.ConfirmPayment)+len(a.RejectPayment)+len(a.Extend)+len(a.Defer)+len(a.ApproveProposal)+
		len(a.CounterProposal)+len(a.DeclineProposal) > 0 ||
		a.RecordPayment || a.Cancel || a.WriteOff || a.Reactivate || a.PortalLink || a.ResendIntroduction
}

// Allowed returns the merchant commands the plan allows now (see
// AllowedFor).
func (p *Plan) Allowed() Allowed {
	if !p.Exists() {
		return Allowed{}
	}
	return AllowedFor(p.State())
}

// State returns the part of the plan that decides its commands.
func (p *Plan) State() PlanState {
	return PlanState{Status: p.status, Installments: p.Installments(), Payments: p.Payments(), Proposals: p.Proposals(),
		SendIntroduction: p.sendIntro, Introduction: p.introEmail.Status}
}

// AllowedFor returns the merchant commands a plan in state s allows: the
// rules of ConfirmPayment, RejectPayment, RecordPayment,
// ExtendInstallment, DeferInstallment, ApproveProposal, CounterProposal,
// DeclineProposal, Cancel, WriteOff, Reactivate, RegeneratePortalLink and
// ResendIntroduction about the plan's state.
func AllowedFor(s PlanState) Allowed {
	a := Allowed{
		Cancel:     slices.Contains(openStatuses, s.Status),
		WriteOff:   slices.Contains(openStatuses, s.Status),
		Reactivate: slices.Contains(reopenable, s.Status),
		PortalLink: true,
		ResendIntroduction: slices.Contains(openStatuses, s.Status) &&
			!(s.SendIntroduction && s.Introduction == EmailPending),
	}
	if slices.Contains(activeOnly, s.Status) {
		a.RecordPayment = true
		for _, pay := range s.Payments {
			if pay.Status == PaymentReported {
				a.ConfirmPayment = append(a.ConfirmPayment, pay.ID)
				a.RejectPayment = append(a.RejectPayment, pay.ID)
			}
		}
		for _, in := range s.Installments {
			if !in.Outstanding.IsZero() {
				a.Extend = append(a.Extend, in.Number)
				a.Defer = append(a.Defer, in.Number)
			}
		}
	}
	if slices.Contains(openStatuses, s.Status) {
		for _, pr := range s.Proposals {
			switch pr.Status {
			case ProposalIsPending:
				a.ApproveProposal = append(a.ApproveProposal, pr.ID)
				a.CounterProposal = append(a.CounterProposal, pr.ID)
				a.DeclineProposal = append(a.DeclineProposal, pr.ID)
			case ProposalIsCountered:
				a.DeclineProposal = append(a.DeclineProposal, pr.ID)
			}
		}
	}
	return a
}
