package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// A snapshot is a plan's whole folded state as bytes, so the command path
// can restore a plan and fold only the events after it instead of its whole
// history (eventstore's snapshots are a cache of this, never the truth:
// replay and verify fold every event). The encoding is JSON of planState,
// a field-for-field copy of Plan with exported names; the amounts, dates and
// times in it round-trip exactly (Money keeps its scale, Date its day, time
// its instant).

// PlanSnapshotSchema versions the snapshot encoding and what the fold puts
// in a plan. Bump it whenever Plan gains, loses or reinterprets a field, or
// an Apply changes what an event does to the state: a stored snapshot of
// another schema is then ignored (the plan is folded from its events) and
// never misread. TestPlanSnapshotCoversEveryField fails until a new field
// is added here.
const PlanSnapshotSchema = 1

// ErrSnapshotSchema is returned by RestorePlan for a snapshot of another
// schema than PlanSnapshotSchema.
var ErrSnapshotSchema = errors.New("snapshot of another schema")

// planState is Plan with exported fields, for JSON.
type planState struct {
	Schema         int               `json:"schema"`
	Version        int64             `json:"version"`
	ID             int64             `json:"id"`
	AccountID      int64             `json:"account_id"`
	Status         Status            `json:"status"`
	Customer       Customer          `json:"customer"`
	Invoice        Invoice           `json:"invoice"`
	Options        []Option          `json:"options"`
	PortalToken    string            `json:"portal_token"`
	SendIntro      bool              `json:"send_intro"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
	IntroEmail     IntroductionEmail `json:"intro_email"`
	PendingSince   time.Time         `json:"pending_since"`
	SelectedOption int64             `json:"selected_option"`
	Interval       Interval          `json:"interval"`
	Installments   []installmentJSON `json:"installments"`
	Payments       []Payment         `json:"payments"`
	Proposals      []proposalJSON    `json:"proposals"`
	Notices        []Notice          `json:"notices"`
	Emails         []PlanEmail       `json:"emails"`
	Consent        *Consent          `json:"consent"`
	ActivatedAt    time.Time         `json:"activated_at"`
	CompletedAt    time.Time         `json:"completed_at"`
	ClosedAt       time.Time         `json:"closed_at"`
	ClosedReason   string            `json:"closed_reason"`
	DueChanges     int               `json:"due_changes"`
	LinkRegens     int               `json:"link_regens"`
}

type installmentJSON struct {
	Number int   `json:"n"`
	Amount Money `json:"amount"`
	Due    Date  `json:"due"`
	Paid   Money `json:"paid"`
}

type proposalJSON struct {
	Proposal
	GivenConsent *Consent `json:"given_consent,omitempty"`
}

// Snapshot encodes the plan's whole state (see RestorePlan). A plan that
// does not exist has no snapshot: an error.
func (p *Plan) Snapshot() ([]byte, error) {
	if !p.Exists() {
		return nil, ErrPlanNotFound
	}
	s := planState{Schema: PlanSnapshotSchema, Version: p.version, ID: p.id, AccountID: p.accountID, Status: p.status,
		Customer: p.customer, Invoice: p.invoice, Options: p.options, PortalToken: p.portalToken, SendIntro: p.sendIntro,
		CreatedAt: p.createdAt, UpdatedAt: p.updatedAt, IntroEmail: p.introEmail, PendingSince: p.pendingSince,
		SelectedOption: p.selectedOption, Interval: p.interval, Payments: p.payments, Notices: p.notices,
		Emails: p.emails, Consent: p.consent, ActivatedAt: p.activatedAt, CompletedAt: p.completedAt,
		ClosedAt: p.closedAt, ClosedReason: p.closedReason, DueChanges: p.dueChanges, LinkRegens: p.linkRegens}
	for _, in := range p.installments {
		s.Installments = append(s.Installments, installmentJSON{Number: in.number, Amount: in.amount, Due: in.due, Paid: in.paid})
	}
	for _, pr := range p.proposals {
		s.Proposals = append(s.Proposals, proposalJSON{Proposal: pr, GivenConsent: pr.consent})
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("snapshot plan %d: %w", p.id, err)
	}
	return b, nil
}

// RestorePlan decodes a snapshot made by Snapshot: the plan as it was, so
// folding the events after the snapshot's version gives the plan a fold of
// every event gives. A snapshot of another schema is ErrSnapshotSchema;
// bytes that do not decode are an error too (the caller folds from the
// events instead).
func RestorePlan(b []byte) (*Plan, error) {
	var s planState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("restore plan: %w", err)
	}
	if s.Schema != PlanSnapshotSchema {
		return nil, fmt.Errorf("restore plan: schema %d, want %d: %w", s.Schema, PlanSnapshotSchema, ErrSnapshotSchema)
	}
	if s.Version < 1 || s.ID < 1 {
		return nil, fmt.Errorf("restore plan: version %d, id %d: %w", s.Version, s.ID, ErrPlanNotFound)
	}
	p := &Plan{version: s.Version, id: s.ID, accountID: s.AccountID, status: s.Status, customer: s.Customer,
		invoice: s.Invoice, options: s.Options, portalToken: s.PortalToken, sendIntro: s.SendIntro,
		createdAt: s.CreatedAt, updatedAt: s.UpdatedAt, introEmail: s.IntroEmail, pendingSince: s.PendingSince,
		selectedOption: s.SelectedOption, interval: s.Interval, payments: s.Payments, notices: s.Notices,
		emails: s.Emails, consent: s.Consent, activatedAt: s.ActivatedAt, completedAt: s.CompletedAt,
		closedAt: s.ClosedAt, closedReason: s.ClosedReason, dueChanges: s.DueChanges, linkRegens: s.LinkRegens}
	for _, in := range s.Installments {
		p.installments = append(p.installments, installment{number: in.Number, amount: in.Amount, due: in.Due, paid: in.Paid})
	}
	for _, pr := range s.Proposals {
		pr.Proposal.consent = pr.GivenConsent
		p.proposals = append(p.proposals, pr.Proposal)
	}
	return p, nil
}
