package domain

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Proposal event types (Good Plan's webhook vocabulary).
const (
	EventProposalCreated         = "proposal.created"
	EventProposalApproved        = "proposal.approved"
	EventProposalCountered       = "proposal.countered"
	EventProposalDeclined        = "proposal.declined"
	EventProposalCounterAccepted = "proposal.counter_accepted"
)

// Bounds of a proposed schedule: a customer may propose paying in one go on
// a later date, or in up to MaxInstallments installments.
const (
	minProposalInstallments = 1
	// MaxProposalDays is how many days after today a proposed schedule may
	// start at the latest.
	MaxProposalDays = 365
)

// LatestFirstPaymentDate is the latest first payment date a proposal or a
// counter-offer made on today may have.
func LatestFirstPaymentDate(today Date) Date { return today.AddDays(MaxProposalDays) }

// CanProposeSchedule reports whether the customer may propose a schedule
// now, as far as the plan's state goes (ProposeSchedule decides): the plan
// is pending or active and no proposal waits for the merchant's answer (a
// counter-offer may be answered by proposing again).
func (p *Plan) CanProposeSchedule() bool {
	if p.status != StatusPending && p.status != StatusActive {
		return false
	}
	pr, open := p.OpenProposal()
	return !open || pr.Status != ProposalIsPending
}

// ProposalStatus is where a proposal stands.
type ProposalStatus string

// Proposal statuses. Pending and countered proposals are open: the plan has
// at most one open proposal.
const (
	ProposalIsPending         ProposalStatus = "pending"
	ProposalIsApproved        ProposalStatus = "approved"
	ProposalIsDeclined        ProposalStatus = "declined"
	ProposalIsCountered       ProposalStatus = "countered"
	ProposalIsCounterAccepted ProposalStatus = "counter_accepted"
	// ProposalIsSuperseded: the customer proposed again instead of
	// accepting a counter-offer.
	ProposalIsSuperseded ProposalStatus = "superseded"
)

// Proposal is a schedule the customer proposed, and the merchant's answer.
type Proposal struct {
	ID              int64          `json:"id"`
	Status          ProposalStatus `json:"status"`
	Terms           Terms          `json:"terms"`
	Amount          Money          `json:"amount"`   // outstanding when proposed
	Schedule        []Installment  `json:"schedule"` // the proposed schedule as previewed then
	Counter         *Terms         `json:"counter,omitempty"`
	CounterAmount   *Money         `json:"counter_amount,omitempty"` // outstanding when countered
	CounterSchedule []Installment  `json:"counter_schedule,omitempty"`
	Message         string         `json:"message,omitempty"` // the merchant's note with a counter or decline
	CreatedAt       time.Time      `json:"created_at"`
	AnsweredAt      *time.Time     `json:"answered_at,omitempty"`
	consent         *Consent
}

// Open reports whether the proposal awaits an answer (pending) or the
// customer's acceptance of a counter (countered).
func (pr Proposal) Open() bool {
	return pr.Status == ProposalIsPending || pr.Status == ProposalIsCountered
}

// ProposalCreated records a schedule the customer proposed.
type ProposalCreated struct {
	ProposalID int64         `json:"proposal_id"`
	Terms      Terms         `json:"terms"`
	Amount     Money         `json:"amount"`
	Schedule   []Installment `json:"schedule"`
	Consent    *Consent      `json:"consent,omitempty"`
	CreatedAt  time.Time     `json:"created_at"`
}

// ProposalApproved records the merchant's approval; Schedule is the plan's
// complete installment list from now on.
type ProposalApproved struct {
	ProposalID int64         `json:"proposal_id"`
	Interval   Interval      `json:"interval"`
	Schedule   []Installment `json:"schedule"`
	ApprovedAt time.Time     `json:"approved_at"`
}

// ProposalCountered records the merchant's counter-offer.
type ProposalCountered struct {
	ProposalID  int64         `json:"proposal_id"`
	Terms       Terms         `json:"terms"`
	Amount      Money         `json:"amount"`
	Schedule    []Installment `json:"schedule"`
	Message     string        `json:"message,omitempty"`
	CounteredAt time.Time     `json:"countered_at"`
}

// ProposalDeclined records the merchant's refusal.
type ProposalDeclined struct {
	ProposalID int64     `json:"proposal_id"`
	Reason     string    `json:"reason,omitempty"`
	DeclinedAt time.Time `json:"declined_at"`
}

// ProposalCounterAccepted records the customer's acceptance of a counter;
// Schedule is the plan's complete installment list from now on.
type ProposalCounterAccepted struct {
	ProposalID int64         `json:"proposal_id"`
	Interval   Interval      `json:"interval"`
	Schedule   []Installment `json:"schedule"`
	Consent    *Consent      `json:"consent,omitempty"`
	AcceptedAt time.Time     `json:"accepted_at"`
}

// EventType returns EventProposalCreated.
func (ProposalCreated) EventType() string { return EventProposalCreated }

// EventType returns EventProposalApproved.
func (ProposalApproved) EventType() string { return EventProposalApproved }

// EventType returns EventProposalCountered.
func (ProposalCountered) EventType() string { return EventProposalCountered }

// EventType returns EventProposalDeclined.
func (ProposalDeclined) EventType() string { return EventProposalDeclined }

// EventType returns EventProposalCounterAccepted.
func (ProposalCounterAccepted) EventType() string { return EventProposalCounterAccepted }

// Proposals returns every proposal, oldest first.
func (p *Plan) Proposals() []Proposal {
	out := make([]Proposal, len(p.proposals))
	for i, pr := range p.proposals {
		pr.Schedule, pr.CounterSchedule = slices.Clone(pr.Schedule), slices.Clone(pr.CounterSchedule)
		pr.Counter, pr.CounterAmount, pr.AnsweredAt = clonePtr(pr.Counter), clonePtr(pr.CounterAmount), clonePtr(pr.AnsweredAt)
		out[i] = pr
	}
	return out
}

// OpenProposal returns the plan's open proposal, if any.
func (p *Plan) OpenProposal() (Proposal, bool) {
	for _, pr := range p.Proposals() {
		if pr.Open() {
			return pr, true
		}
	}
	return Proposal{}, false
}

// ProposeSchedule decides the customer's proposal of another schedule for
// what is outstanding on a pending or active plan. Only one proposal may be
// open at a time.
func (p *Plan) ProposeSchedule(proposalID int64, in TermsInput, consent Consent) ([]Event, error) {
	if err := p.require("propose a schedule", StatusPending, StatusActive); err != nil {
		return nil, err
	}
	// A counter-offer the customer does not want is answered by proposing
	// again, which supersedes it; a proposal the merchant has not answered
	// yet blocks a new one.
	if pr, open := p.OpenProposal(); open && pr.Status == ProposalIsPending {
		return nil, &ConflictError{Msg: "A proposal is already waiting for an answer."}
	}
	if err := capReached(len(p.proposals), MaxProposals, "proposals"); err != nil {
		return nil, err
	}
	now := consent.At.UTC()
	terms, schedule, err := p.decideTerms(in, now)
	if err != nil {
		return nil, err
	}
	consent.At = now
	return []Event{ProposalCreated{ProposalID: proposalID, Terms: terms, Amount: p.Ledger().Outstanding,
		Schedule: schedule, Consent: &consent, CreatedAt: now}}, nil
}

// ApproveProposal decides the merchant's approval of a pending proposal:
// the outstanding balance is rescheduled on its terms, and a pending plan
// becomes active.
func (p *Plan) ApproveProposal(proposalID int64, now time.Time) ([]Event, error) {
	pr, err := p.answerable(proposalID, "approve a proposal", ProposalIsPending)
	if err != nil {
		return nil, err
	}
	if err := p.stillAgreeable(pr.Terms, pr.Amount, now, "Proposal "+strconv.FormatInt(pr.ID, 10),
		"counter it with the current terms instead"); err != nil {
		return nil, err
	}
	schedule, err := p.rescheduled(pr.Terms)
	if err != nil {
		return nil, err
	}
	events := []Event{ProposalApproved{ProposalID: pr.ID, Interval: pr.Terms.Interval, Schedule: schedule, ApprovedAt: now.UTC()}}
	return p.activateOnAgreement(events, pr, schedule, pr.consent, now), nil
}

// DeclineProposal decides the merchant's refusal of an open proposal (a
// counter not yet accepted can be withdrawn this way too).
func (p *Plan) DeclineProposal(proposalID int64, reason string, now time.Time) ([]Event, error) {
	pr, err := p.answerable(proposalID, "decline a proposal", ProposalIsPending, ProposalIsCountered)
	if err != nil {
		return nil, err
	}
	reason, err = cleanReason("reason", reason)
	if err != nil {
		return nil, err
	}
	return []Event{ProposalDeclined{ProposalID: pr.ID, Reason: reason, DeclinedAt: now.UTC()}}, nil
}

// CounterProposal decides the merchant's counter-offer to a pending
// proposal; the customer may accept it in the portal.
func (p *Plan) CounterProposal(proposalID int64, in TermsInput, message string, now time.Time) ([]Event, error) {
	pr, err := p.answerable(proposalID, "counter a proposal", ProposalIsPending)
	if err != nil {
		return nil, err
	}
	terms, schedule, err := p.decideTerms(in, now)
	message, msgErr := cleanReason("message", message)
	if err != nil || msgErr != nil {
		// Every field problem at once: the terms' and the message's.
		var ve ValidationError
		for _, e := range []error{err, msgErr} {
			if e, ok := e.(*ValidationError); ok {
				ve.Merge(e)
			}
		}
		return nil, ve.OrNil()
	}
	return []Event{ProposalCountered{ProposalID: pr.ID, Terms: terms, Amount: p.Ledger().Outstanding, Schedule: schedule,
		Message: message, CounteredAt: now.UTC()}}, nil
}

// AcceptCounter decides the customer's acceptance of the merchant's
// counter-offer: the outstanding balance is rescheduled on the counter's
// terms, and a pending plan becomes active.
func (p *Plan) AcceptCounter(proposalID int64, consent Consent) ([]Event, error) {
	pr, err := p.answerable(proposalID, "accept a counter-offer", ProposalIsCountered)
	if err != nil {
		return nil, err
	}
	amount := pr.Amount
	if pr.CounterAmount != nil {
		amount = *pr.CounterAmount
	}
	if err := p.stillAgreeable(*pr.Counter, amount, consent.At, "This offer", "please propose a new schedule"); err != nil {
		return nil, err
	}
	schedule, err := p.rescheduled(*pr.Counter)
	if err != nil {
		return nil, err
	}
	now := consent.At.UTC()
	consent.At = now
	events := []Event{ProposalCounterAccepted{ProposalID: pr.ID, Interval: pr.Counter.Interval, Schedule: schedule,
		Consent: &consent, AcceptedAt: now}}
	return p.activateOnAgreement(events, pr, schedule, &consent, now), nil
}

// stillAgreeable refuses to agree to terms that are no longer what the
// other side saw: a first payment date already past, or an amount to pay
// that changed since the terms were made (a payment confirmed meanwhile).
func (p *Plan) stillAgreeable(t Terms, amount Money, now time.Time, what, instead string) error {
	if t.FirstPaymentDate.Before(DateOf(now)) {
		return &ConflictError{Msg: what + "'s first payment date " + t.FirstPaymentDate.String() + " has passed; " + instead + "."}
	}
	if out := p.Ledger().Outstanding; out.Cmp(amount) != 0 {
		return &ConflictError{Msg: what + " was made for " + amount.String() + " and " + out.String() +
			" is outstanding now; " + instead + "."}
	}
	return nil
}

// activateOnAgreement adds plan.activated when an agreed proposal gives a
// pending plan its schedule.
func (p *Plan) activateOnAgreement(events []Event, pr Proposal, schedule []Installment, consent *Consent, now time.Time) []Event {
	if p.status != StatusPending {
		return events
	}
	iv := pr.Terms.Interval
	if pr.Counter != nil {
		iv = pr.Counter.Interval
	}
	return append(events, PlanActivated{ProposalID: pr.ID, Interval: iv, Schedule: schedule, Consent: consent, ActivatedAt: now.UTC()})
}

// answerable returns proposal id of a pending or active plan if its status
// is one of want.
func (p *Plan) answerable(id int64, action string, want ...ProposalStatus) (Proposal, error) {
	if err := p.require(action, openStatuses...); err != nil {
		return Proposal{}, err
	}
	for _, pr := range p.proposals {
		if pr.ID != id {
			continue
		}
		if !slices.Contains(want, pr.Status) {
			return Proposal{}, &ConflictError{Msg: "Proposal " + strconv.FormatInt(id, 10) + " is " +
				strings.ReplaceAll(string(pr.Status), "_", " ") + "; it cannot be " + pastTense(action) + "."}
		}
		return pr, nil
	}
	return Proposal{}, &NotFoundError{Msg: "Proposal " + strconv.FormatInt(id, 10) + " was not found on this plan."}
}

func pastTense(action string) string {
	switch {
	case strings.HasPrefix(action, "approve"):
		return "approved"
	case strings.HasPrefix(action, "decline"):
		return "declined"
	case strings.HasPrefix(action, "counter"):
		return "countered"
	}
	return "accepted"
}

func (p *Plan) proposal(id int64) *Proposal {
	for i := range p.proposals {
		if p.proposals[i].ID == id {
			return &p.proposals[i]
		}
	}
	return &Proposal{} // unreachable for events this package decided
}

func (p *Plan) applyProposalCreated(e ProposalCreated) {
	for i := range p.proposals {
		if p.proposals[i].Status == ProposalIsCountered {
			p.proposals[i].Status = ProposalIsSuperseded
		}
	}
	p.proposals = append(p.proposals, Proposal{ID: e.ProposalID, Status: ProposalIsPending, Terms: e.Terms, Amount: e.Amount,
		Schedule: slices.Clone(e.Schedule), CreatedAt: e.CreatedAt, consent: e.Consent})
}

func (p *Plan) answer(id int64, s ProposalStatus, at time.Time) *Proposal {
	pr := p.proposal(id)
	pr.Status, pr.AnsweredAt = s, &at
	return pr
}

func (p *Plan) applyProposalApproved(e ProposalApproved) {
	pr := p.answer(e.ProposalID, ProposalIsApproved, e.ApprovedAt)
	if pr.consent != nil { // the customer agreed to these terms when proposing
		c := *pr.consent
		p.consent = &c
	}
	p.interval = e.Interval
	p.replaceSchedule(e.Schedule)
}

func (p *Plan) applyProposalCountered(e ProposalCountered) {
	pr := p.answer(e.ProposalID, ProposalIsCountered, e.CounteredAt)
	t := e.Terms
	amount := e.Amount
	pr.Counter, pr.CounterAmount, pr.CounterSchedule, pr.Message = &t, &amount, slices.Clone(e.Schedule), e.Message
}

func (p *Plan) applyProposalDeclined(e ProposalDeclined) {
	p.answer(e.ProposalID, ProposalIsDeclined, e.DeclinedAt).Message = e.Reason
}

func (p *Plan) applyCounterAccepted(e ProposalCounterAccepted) {
	p.answer(e.ProposalID, ProposalIsCounterAccepted, e.AcceptedAt)
	if e.Consent != nil {
		c := *e.Consent
		p.consent = &c
	}
	p.interval = e.Interval
	p.replaceSchedule(e.Schedule)
}
