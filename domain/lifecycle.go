package domain

import (
	"crypto/subtle"
	"strconv"
	"time"
)

// Lifecycle event types (Good Plan's webhook vocabulary) and goodplan's own
// portal_link.regenerated.
const (
	EventPlanActivated         = "plan.activated"
	EventPlanCompleted         = "plan.completed"
	EventPlanAbandoned         = "plan.abandoned"
	EventPlanCancelled         = "plan.cancelled"
	EventPlanWrittenOff        = "plan.written_off"
	EventPlanReactivated       = "plan.reactivated"
	EventPortalLinkRegenerated = "portal_link.regenerated"
)

// AbandonAfter is how long a plan may stay pending (no option chosen, no
// open proposal) before the scheduler abandons it.
const AbandonAfter = 30 * 24 * time.Hour

// PortalLinkLifetime is how long a portal link keeps working after the plan
// completed.
const PortalLinkLifetime = 90 * 24 * time.Hour

// Consent is the customer's agreement to a schedule: when, and from where.
type Consent struct {
	At        time.Time `json:"at"`
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
}

// PlanActivated records that the plan got its schedule: the customer chose
// an option (OptionID) or a proposal was agreed (ProposalID). Schedule is
// the plan's complete installment list from now on.
type PlanActivated struct {
	OptionID    int64         `json:"option_id,omitempty"`
	ProposalID  int64         `json:"proposal_id,omitempty"`
	Interval    Interval      `json:"interval"`
	Schedule    []Installment `json:"schedule"`
	Consent     *Consent      `json:"consent,omitempty"`
	ActivatedAt time.Time     `json:"activated_at"`
}

// PlanCompleted records that nothing is outstanding any more.
type PlanCompleted struct {
	CompletedAt time.Time `json:"completed_at"`
}

// PlanAbandoned records that the customer chose no option in time.
type PlanAbandoned struct {
	PendingSince time.Time `json:"pending_since"`
	AbandonedAt  time.Time `json:"abandoned_at"`
}

// PlanCancelled records that the merchant cancelled the plan.
type PlanCancelled struct {
	Reason      string    `json:"reason,omitempty"`
	Outstanding Money     `json:"outstanding"`
	CancelledAt time.Time `json:"cancelled_at"`
}

// PlanWrittenOff records that the merchant wrote off what is outstanding.
type PlanWrittenOff struct {
	Reason       string    `json:"reason,omitempty"`
	Outstanding  Money     `json:"outstanding"`
	WrittenOffAt time.Time `json:"written_off_at"`
}

// PlanReactivated records that a cancelled, written-off or abandoned plan
// was reopened; Status is where it went back to (active if it has a
// schedule, pending otherwise).
type PlanReactivated struct {
	Status        Status    `json:"status"`
	ReactivatedAt time.Time `json:"reactivated_at"`
}

// PortalLinkRegenerated records a new portal token; the old one stops
// working at once.
type PortalLinkRegenerated struct {
	PortalToken   string    `json:"portal_token"`
	RegeneratedAt time.Time `json:"regenerated_at"`
}

// EventType returns EventPlanActivated.
func (PlanActivated) EventType() string { return EventPlanActivated }

// EventType returns EventPlanCompleted.
func (PlanCompleted) EventType() string { return EventPlanCompleted }

// EventType returns EventPlanAbandoned.
func (PlanAbandoned) EventType() string { return EventPlanAbandoned }

// EventType returns EventPlanCancelled.
func (PlanCancelled) EventType() string { return EventPlanCancelled }

// EventType returns EventPlanWrittenOff.
func (PlanWrittenOff) EventType() string { return EventPlanWrittenOff }

// EventType returns EventPlanReactivated.
func (PlanReactivated) EventType() string { return EventPlanReactivated }

// EventType returns EventPortalLinkRegenerated.
func (PortalLinkRegenerated) EventType() string { return EventPortalLinkRegenerated }

// SelectOption is the customer's choice of one of the offered options.
type SelectOption struct {
	OptionID int64
	Consent  Consent // Consent.At is the decision time
}

// SelectOption decides the customer's choice: a pending plan becomes active
// with the option's schedule. An active plan returns a *ConflictError (the
// loser of two racing choices), an unknown option a *NotFoundError, any
// other status a *StateError.
func (p *Plan) SelectOption(cmd SelectOption) ([]Event, error) {
	if err := p.require("choose an option", StatusPending); err != nil {
		if p.status == StatusActive {
			return nil, &ConflictError{Msg: "A schedule was already chosen for this plan."}
		}
		return nil, err
	}
	for _, o := range p.options {
		if o.ID == cmd.OptionID {
			c := cmd.Consent
			c.At = c.At.UTC()
			return []Event{PlanActivated{OptionID: o.ID, Interval: o.Interval, Schedule: cloneSchedule(o.Schedule),
				Consent: &c, ActivatedAt: c.At}}, nil
		}
	}
	return nil, &NotFoundError{Msg: "Option " + strconv.FormatInt(cmd.OptionID, 10) + " is not offered on this plan."}
}

// Cancel decides the merchant's cancellation of a pending or active plan.
func (p *Plan) Cancel(reason string, now time.Time) ([]Event, error) {
	if err := p.require("cancel the plan", openStatuses...); err != nil {
		return nil, err
	}
	reason, err := cleanReason("reason", reason)
	if err != nil {
		return nil, err
	}
	return []Event{PlanCancelled{Reason: reason, Outstanding: p.Ledger().Outstanding, CancelledAt: now.UTC()}}, nil
}

// WriteOff decides that the merchant gives up what is outstanding on a
// pending or active plan.
func (p *Plan) WriteOff(reason string, now time.Time) ([]Event, error) {
	if err := p.require("write off the plan", openStatuses...); err != nil {
		return nil, err
	}
	reason, err := cleanReason("reason", reason)
	if err != nil {
		return nil, err
	}
	return []Event{PlanWrittenOff{Reason: reason, Outstanding: p.Ledger().Outstanding, WrittenOffAt: now.UTC()}}, nil
}

// Reactivate reopens a cancelled, written-off or abandoned plan: active
// again if it has a schedule, pending (with a fresh abandonment clock)
// otherwise.
func (p *Plan) Reactivate(now time.Time) ([]Event, error) {
	if err := p.require("reactivate the plan", reopenable...); err != nil {
		return nil, err
	}
	to := StatusPending
	if len(p.installments) > 0 {
		to = StatusActive
	}
	return []Event{PlanReactivated{Status: to, ReactivatedAt: now.UTC()}}, nil
}

// RegeneratePortalLink decides a new portal token for an existing plan, in
// any status.
func (p *Plan) RegeneratePortalLink(token string, now time.Time) ([]Event, error) {
	if !p.Exists() {
		return nil, ErrPlanNotFound
	}
	if token == "" || token == p.portalToken {
		return nil, &ConflictError{Msg: "The new portal token must differ from the current one."}
	}
	if err := capReached(p.linkRegens, MaxPortalLinks, "portal links regenerated"); err != nil {
		return nil, err
	}
	return []Event{PortalLinkRegenerated{PortalToken: token, RegeneratedAt: now.UTC()}}, nil
}

// PortalLinkWorks reports whether token opens the plan's portal at now: it
// is the current token and the plan did not complete more than
// PortalLinkLifetime ago.
func (p *Plan) PortalLinkWorks(token string, now time.Time) bool {
	// Constant time: the plan id in front of a token is no secret, the rest is.
	if !p.Exists() || token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(p.portalToken)) != 1 {
		return false
	}
	return p.status != StatusCompleted || now.Before(p.completedAt.Add(PortalLinkLifetime))
}

// require returns ErrPlanNotFound for a plan that does not exist and a
// *StateError unless the plan is in one of allowed.
func (p *Plan) require(action string, allowed ...Status) error {
	if !p.Exists() {
		return ErrPlanNotFound
	}
	for _, s := range allowed {
		if p.status == s {
			return nil
		}
	}
	return &StateError{Action: action, Status: p.status}
}

// cleanReason checks a free-text reason (or a counter's message, given as
// field) with CheckText as MultiLine text of at most MaxReasonLen
// characters, and returns it cleaned.
func cleanReason(field, s string) (string, error) {
	var ve ValidationError
	s = CheckText(&ve, field, s, MultiLine, MaxReasonLen)
	return s, ve.OrNil()
}

func (p *Plan) applyActivated(e PlanActivated) {
	p.status = StatusActive
	p.selectedOption = e.OptionID
	p.interval = e.Interval
	p.replaceSchedule(e.Schedule)
	if e.Consent != nil {
		c := *e.Consent
		p.consent = &c
	}
	p.activatedAt = e.ActivatedAt
}

func (p *Plan) close(s Status, at time.Time, reason string) {
	p.status = s
	p.closedAt = at
	p.closedReason = reason
}

func (p *Plan) applyReactivated(e PlanReactivated) {
	p.status = e.Status
	p.closedAt, p.closedReason = time.Time{}, ""
	if e.Status == StatusPending {
		p.pendingSince = e.ReactivatedAt
	}
}
