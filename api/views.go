package api

import (
	"encoding/hex"
	"encoding/json"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
)

// createdView is the seed's 201 body for POST /api/v1/plans, field for field.
type createdView struct {
	PlanID            int64         `json:"plan_id"`
	CustomerPortalURL string        `json:"customer_portal_url"`
	PlanOptions       []optionView  `json:"plan_options"`
	Customer          customerBrief `json:"customer"`
	Invoice           invoiceBrief  `json:"invoice"`
}

type optionView struct {
	ID               int64           `json:"id"`
	Installments     int             `json:"installments"`
	Interval         domain.Interval `json:"interval"`
	PaymentAmount    domain.Money    `json:"payment_amount"`
	FirstPaymentDate domain.Date     `json:"first_payment_date"`
	FinalPaymentDate domain.Date     `json:"final_payment_date"`
}

type customerBrief struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type invoiceBrief struct {
	ID            int64        `json:"id"`
	Amount        domain.Money `json:"amount"`
	InvoiceNumber *string      `json:"invoice_number"`
}

func (s *Server) createdView(e domain.PlanCreated) createdView {
	v := createdView{
		PlanID:            e.PlanID,
		CustomerPortalURL: s.portalURL(e.PortalToken),
		PlanOptions:       make([]optionView, len(e.Options)),
		Customer:          customerBrief{ID: e.Customer.ID, Name: e.Customer.Name, Email: e.Customer.Email},
		Invoice:           invoiceBrief{ID: e.Invoice.ID, Amount: e.Invoice.Amount},
	}
	if e.Invoice.InvoiceNumber != "" {
		v.Invoice.InvoiceNumber = &e.Invoice.InvoiceNumber
	}
	for i, o := range e.Options {
		v.PlanOptions[i] = optionView{ID: o.ID, Installments: o.Installments, Interval: o.Interval,
			PaymentAmount: o.PaymentAmount, FirstPaymentDate: o.FirstPaymentDate, FinalPaymentDate: o.FinalPaymentDate}
	}
	return v
}

// planView is GET /api/v1/plans/{id}: everything the plan holds, each option
// with its full schedule.
type planView struct {
	PlanID                int64           `json:"plan_id"`
	Status                domain.Status   `json:"status"`
	CustomerPortalURL     string          `json:"customer_portal_url"`
	Customer              domain.Customer `json:"customer"`
	Invoice               domain.Invoice  `json:"invoice"`
	PlanOptions           []domain.Option `json:"plan_options"`
	SendIntroductionEmail bool            `json:"send_introduction_email"`
	CreatedAt             time.Time       `json:"created_at"`
	UpdatedAt             time.Time       `json:"updated_at"`
	Version               int64           `json:"version"`
}

func (s *Server) planView(p *domain.Plan) planView {
	return planView{
		PlanID:                p.ID(),
		Status:                p.Status(),
		CustomerPortalURL:     s.portalURL(p.PortalToken()),
		Customer:              p.Customer(),
		Invoice:               p.Invoice(),
		PlanOptions:           p.Options(),
		SendIntroductionEmail: p.SendIntroductionEmail(),
		CreatedAt:             p.CreatedAt(),
		UpdatedAt:             p.UpdatedAt(),
		Version:               p.Version(),
	}
}

type eventsView struct {
	PlanID int64       `json:"plan_id"`
	Items  []eventView `json:"items"`
}

// eventView is one stored event; data and metadata are the exact stored
// bytes, so a client can recompute the hash chain (eventstore.ChainHash).
type eventView struct {
	EventID    string          `json:"event_id"`
	Version    int64           `json:"version"`
	Position   int64           `json:"position"`
	Type       string          `json:"type"`
	RecordedAt time.Time       `json:"recorded_at"`
	Data       json.RawMessage `json:"data"`
	Metadata   json.RawMessage `json:"metadata"`
	Hash       string          `json:"hash"`
}

func eventViews(recs []eventstore.Record) []eventView {
	out := make([]eventView, len(recs))
	for i, r := range recs {
		out[i] = eventView{EventID: r.EventID.String(), Version: r.Version, Position: r.Position, Type: r.Type,
			RecordedAt: r.RecordedAt.UTC(), Data: r.Data, Metadata: r.Metadata, Hash: hex.EncodeToString(r.Hash)}
	}
	return out
}
