package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
	"goodplan/projections"
)

// The Invoiced dialect (seed 003): /plans over the same catalog plans as
// the native API, authenticated as Invoiced does (HTTP Basic, the gp_ key
// as the user name and an empty password: curl -u KEY:) or by a Bearer
// header, with the seed's plan object (amount a JSON number, currency in
// lower case, times in Unix seconds), request bodies as JSON or as form
// fields (dialect_invoiced_body.go), page-numbered lists with Link and
// X-Total-Count headers (dialect_invoiced_list.go) and errors as
// {"type","message","param"} (dialect_invoiced_errors.go).

// invoicedPlan is a plan in the seed's shape, keys in the seed's order.
type invoicedPlan struct {
	// Amount is the exact decimal as a JSON number; null when the plan
	// has none (custom pricing, or tiers that price).
	Amount json.RawMessage `json:"amount"`
	// CatalogItem is null when the plan belongs to no item.
	CatalogItem   *string           `json:"catalog_item"`
	CreatedAt     int64             `json:"created_at"`
	Currency      string            `json:"currency"`
	ID            string            `json:"id"`
	Interval      string            `json:"interval"`
	IntervalCount int               `json:"interval_count"`
	Metadata      map[string]string `json:"metadata"`
	Name          string            `json:"name"`
	Object        string            `json:"object"`
	PricingMode   string            `json:"pricing_mode"`
	QuantityType  string            `json:"quantity_type"`
	Tiers         []invoicedTier    `json:"tiers"`
	UpdatedAt     int64             `json:"updated_at"`
}

// invoicedTier is a tier as the seed writes it: min_qty left out of a
// first tier that did not give it, max_qty out of the last, unit_cost a
// JSON number.
type invoicedTier struct {
	MinQty   *int64          `json:"min_qty,omitempty"`
	MaxQty   *int64          `json:"max_qty,omitempty"`
	UnitCost json.RawMessage `json:"unit_cost"`
}

// invoicedKeySource reads the gp_ key from HTTP Basic (user name, empty
// password) or from a Bearer header.
var invoicedKeySource = keySource{
	key: invoicedKey,
	unauthorized: func(w http.ResponseWriter) {
		w.Header().Set("WWW-Authenticate", `Basic realm="goodplan"`)
		writeJSON(w, http.StatusUnauthorized, invoicedError{Type: invoicedInvalidRequest,
			Message: "Invalid or missing API key: send it as the HTTP Basic user name with an empty password (curl -u KEY:), or as a Bearer token."})
	},
	body: func(e *apiError) any { return invoicedErrorOf(e) },
}

// invoicedKey returns the key of a Basic header whose password is empty,
// else the key of a Bearer header.
func invoicedKey(r *http.Request) (string, bool) {
	if user, pass, ok := r.BasicAuth(); ok {
		if pass != "" {
			return "", false
		}
		return apiKeyShape(user)
	}
	return bearerKey(r.Header.Get("Authorization"))
}

// invoicedRoutes mounts the Invoiced dialect at /plans. Unknown paths and
// methods under it answer in the dialect's error shape too.
func (s *Server) invoicedRoutes(r chi.Router) {
	r.Route("/plans", func(r chi.Router) {
		r.Use(s.authenticateBy(invoicedKeySource))
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusNotFound, invoicedError{Type: invoicedInvalidRequest,
				Message: "No route for " + r.Method + " " + r.URL.Path + "."})
		})
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusMethodNotAllowed, invoicedError{Type: invoicedInvalidRequest,
				Message: r.Method + " is not allowed on " + r.URL.Path + "."})
		})
		r.Post("/", s.createInvoicedPlan)
		r.Get("/", s.listInvoicedPlans)
		r.Get("/{id}", s.getInvoicedPlan)
		r.Patch("/{id}", s.updateInvoicedPlan)
		r.Delete("/{id}", s.deleteInvoicedPlan)
	})
}

// invoicedPlanOf renders a catalog plan in the dialect's shape.
func invoicedPlanOf(v projections.CatalogPlan) invoicedPlan {
	p := invoicedPlan{CreatedAt: v.CreatedAt.Unix(), Currency: strings.ToLower(v.Currency), ID: v.ID,
		Interval: string(v.Interval), IntervalCount: v.IntervalCount, Metadata: v.Metadata, Name: v.Name,
		Object: "plan", PricingMode: string(v.PricingMode), QuantityType: string(v.QuantityType),
		UpdatedAt: v.UpdatedAt.Unix()}
	if v.Amount != nil {
		p.Amount = decimalNumber(*v.Amount)
	}
	if v.CatalogItem != "" {
		item := v.CatalogItem
		p.CatalogItem = &item
	}
	if p.Metadata == nil {
		p.Metadata = map[string]string{}
	}
	for _, t := range v.Tiers {
		p.Tiers = append(p.Tiers, invoicedTier{MinQty: t.MinQty, MaxQty: t.MaxQty, UnitCost: decimalNumber(t.UnitCost)})
	}
	return p
}

// decimalNumber writes d as a JSON number from its exact text (never
// through a float: 0.1 stays 0.1, 49.00 stays 49.00).
func decimalNumber(d domain.Decimal) json.RawMessage { return json.RawMessage(d.String()) }

// createInvoicedPlan is POST /plans: 201 with the plan.
func (s *Server) createInvoicedPlan(w http.ResponseWriter, r *http.Request) {
	root, err := readInvoicedBody(w, r, invoicedCreateFields)
	if err != nil {
		s.writeInvoicedError(w, r, err)
		return
	}
	cmd, typeErrs := createCatalogPlanOf(root)
	out, err := s.runCreateCatalogPlan(r, cmd, typeErrs, invoicedRequestHash(r, cmd))
	s.writeInvoicedOutcome(w, r, http.StatusCreated, out, err)
}

// writeInvoicedOutcome answers a command on a plan: err in the dialect's
// shape, or status with the plan after the command (no body for a 204).
func (s *Server) writeInvoicedOutcome(w http.ResponseWriter, r *http.Request, status int, out catalogPlanOutcome, err error) {
	if err != nil {
		s.writeInvoicedError(w, r, err)
		return
	}
	markReplayed(w, out)
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, invoicedPlanOf(projections.CatalogPlanOf(out.State)))
}

// getInvoicedPlan is GET /plans/{id}; another account's plan, or a deleted
// one, is a 404.
func (s *Server) getInvoicedPlan(w http.ResponseWriter, r *http.Request) {
	v, err := s.readCatalogPlan(r)
	if err == nil && v.DeletedAt != nil {
		err = errInvoicedNotFound
	}
	if err != nil {
		s.writeInvoicedError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, invoicedPlanOf(v))
}

// updateInvoicedPlan is PATCH /plans/{id}: name and metadata (replaced
// whole), as the seed documents; 200 with the plan.
func (s *Server) updateInvoicedPlan(w http.ResponseWriter, r *http.Request) {
	root, err := readInvoicedBody(w, r, invoicedUpdateFields)
	if err != nil {
		s.writeInvoicedError(w, r, err)
		return
	}
	var f fieldReader
	cmd := updateCatalogPlanOf(&f, root)
	reqHash := invoicedRequestHash(r, cmd)
	cmd.Now = s.now()
	out, err := s.catalogCommand(r, reqHash, nil, func(p *domain.CatalogPlan) ([]domain.Event, error) {
		events, err := p.Update(cmd)
		return events, mergeValidation(f.typeErrors(), err)
	})
	s.writeInvoicedOutcome(w, r, http.StatusOK, out, err)
}

// deleteInvoicedPlan is DELETE /plans/{id}: a soft delete that releases
// the id; 204 without a body.
func (s *Server) deleteInvoicedPlan(w http.ResponseWriter, r *http.Request) {
	out, err := s.catalogCommand(r, routeRequestHash(r, nil), releaseCatalogPlan, s.decideCatalogDelete())
	s.writeInvoicedOutcome(w, r, http.StatusNoContent, out, err)
}
