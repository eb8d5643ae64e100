// Package projections builds goodplan's read models from the event stream
// (fed by a durable JetStream consumer, rebuilt by replay) and renders plans
// in the shapes the API and webhooks share.
package projections

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
)

// PortalURL is a plan's customer portal link under publicURL.
func PortalURL(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + "/plan/" + token
}

// Summary is the seed's 201 body for POST /api/v1/plans, field for field; it
// is also the "data" of every webhook.
type Summary struct {
	PlanID            int64         `json:"plan_id"`
	CustomerPortalURL string        `json:"customer_portal_url"`
	PlanOptions       []OptionBrief `json:"plan_options"`
	Customer          CustomerBrief `json:"customer"`
	Invoice           InvoiceBrief  `json:"invoice"`
}

// OptionBrief is an option as the seed shows it (no schedule).
type OptionBrief struct {
	ID               int64           `json:"id"`
	Installments     int             `json:"installments"`
	Interval         domain.Interval `json:"interval"`
	PaymentAmount    domain.Money    `json:"payment_amount"`
	FirstPaymentDate domain.Date     `json:"first_payment_date"`
	FinalPaymentDate domain.Date     `json:"final_payment_date"`
}

// CustomerBrief is the customer as the seed shows it.
type CustomerBrief struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// InvoiceBrief is the invoice as the seed shows it; invoice_number is null
// when the request had none.
type InvoiceBrief struct {
	ID            int64        `json:"id"`
	Amount        domain.Money `json:"amount"`
	InvoiceNumber *string      `json:"invoice_number"`
}

// Summarize renders a plan as the seed's 201 body.
func Summarize(p *domain.Plan, publicURL string) Summary {
	c, inv, opts := p.Customer(), p.Invoice(), p.Options()
	v := Summary{
		PlanID:            p.ID(),
		CustomerPortalURL: PortalURL(publicURL, p.PortalToken()),
		PlanOptions:       make([]OptionBrief, len(opts)),
		Customer:          CustomerBrief{ID: c.ID, Name: c.Name, Email: c.Email},
		Invoice:           InvoiceBrief{ID: inv.ID, Amount: inv.Amount},
	}
	if inv.InvoiceNumber != "" {
		v.Invoice.InvoiceNumber = &inv.InvoiceNumber
	}
	for i, o := range opts {
		v.PlanOptions[i] = OptionBrief{ID: o.ID, Installments: o.Installments, Interval: o.Interval,
			PaymentAmount: o.PaymentAmount, FirstPaymentDate: o.FirstPaymentDate, FinalPaymentDate: o.FinalPaymentDate}
	}
	return v
}

// Detail is GET /api/v1/plans/{id}: everything the plan holds, each option
// with its full schedule and its lifecycle. Its history (every event) is
// not in it: that grows with the plan's age, and is read a page at a time
// from GET /api/v1/plans/{id}/events.
type Detail struct {
	PlanID                int64                    `json:"plan_id"`
	Status                domain.Status            `json:"status"`
	CustomerPortalURL     string                   `json:"customer_portal_url"`
	Customer              domain.Customer          `json:"customer"`
	Invoice               domain.Invoice           `json:"invoice"`
	PlanOptions           []domain.Option          `json:"plan_options"`
	SelectedOptionID      *int64                   `json:"selected_option_id"`
	SendIntroductionEmail bool                     `json:"send_introduction_email"`
	IntroductionEmail     domain.IntroductionEmail `json:"introduction_email"`
	Lifecycle
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// Lifecycle is what happened to a plan after it was created: its schedule
// with each installment's status, the ledger, payments, proposals, the
// customer's consent, scheduled notices and when it changed state. Lists
// are empty, never null.
type Lifecycle struct {
	Interval      domain.Interval           `json:"interval,omitempty"`
	Schedule      []domain.InstallmentState `json:"schedule"`
	Ledger        domain.Ledger             `json:"ledger"`
	Payments      []domain.Payment          `json:"payments"`
	Proposals     []domain.Proposal         `json:"proposals"`
	Consent       *domain.Consent           `json:"consent"`
	Notifications []domain.Notice           `json:"notifications"`
	ActivatedAt   *time.Time                `json:"activated_at"`
	CompletedAt   *time.Time                `json:"completed_at"`
	ClosedAt      *time.Time                `json:"closed_at"` // cancelled, written off or abandoned
	ClosedReason  string                    `json:"closed_reason,omitempty"`
}

// LifecycleOf renders a plan's lifecycle.
func LifecycleOf(p *domain.Plan) Lifecycle {
	l := Lifecycle{
		Interval:      p.Interval(),
		Schedule:      nonNil(p.Installments()),
		Ledger:        p.Ledger(),
		Payments:      nonNil(p.Payments()),
		Proposals:     nonNil(p.Proposals()),
		Notifications: nonNil(p.Notices()),
		ActivatedAt:   timePtr(p.ActivatedAt()),
		CompletedAt:   timePtr(p.CompletedAt()),
	}
	if c, ok := p.Consent(); ok {
		l.Consent = &c
	}
	at, reason := p.Closed()
	l.ClosedAt, l.ClosedReason = timePtr(at), reason
	return l
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// DetailOf renders a plan.
func DetailOf(p *domain.Plan, publicURL string) Detail {
	d := Detail{
		PlanID:                p.ID(),
		Status:                p.Status(),
		CustomerPortalURL:     PortalURL(publicURL, p.PortalToken()),
		Customer:              p.Customer(),
		Invoice:               p.Invoice(),
		PlanOptions:           p.Options(),
		SendIntroductionEmail: p.SendIntroductionEmail(),
		IntroductionEmail:     p.IntroductionEmail(),
		Lifecycle:             LifecycleOf(p),
		CreatedAt:             p.CreatedAt(),
		UpdatedAt:             p.UpdatedAt(),
		Version:               p.Version(),
	}
	if id := p.SelectedOptionID(); id != 0 {
		d.SelectedOptionID = &id
	}
	return d
}

// EventsView is a page of GET /api/v1/plans/{id}/events: events in
// version order, and whether more follow the last one.
type EventsView struct {
	PlanID  int64       `json:"plan_id"`
	Items   []EventView `json:"items"`
	HasMore bool        `json:"has_more"`
}

// EventView is one stored event; data and metadata are the exact stored
// bytes, so a client can recompute the hash chain (eventstore.ChainHash).
type EventView struct {
	EventID    string          `json:"event_id"`
	Version    int64           `json:"version"`
	Position   int64           `json:"position"`
	Type       string          `json:"type"`
	RecordedAt time.Time       `json:"recorded_at"`
	Data       json.RawMessage `json:"data"`
	Metadata   json.RawMessage `json:"metadata"`
	Hash       string          `json:"hash"`
}

// EventViews renders stored records.
func EventViews(recs []eventstore.Record) []EventView {
	out := make([]EventView, len(recs))
	for i, r := range recs {
		out[i] = EventView{EventID: r.EventID.String(), Version: r.Version, Position: r.Position, Type: r.Type,
			RecordedAt: r.RecordedAt.UTC(), Data: r.Data, Metadata: r.Metadata, Hash: hex.EncodeToString(r.Hash)}
	}
	return out
}
