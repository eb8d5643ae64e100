package api

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
	"goodplan/projections"
)

// The Paygentic dialect (seed 002): /v0/plans over the same catalog plans
// as the native API, authenticated by Authorization: Bearer (the gp_ key),
// with the seed's camelCase bodies. A plan belongs to its merchant,
// "org_" + the account id (merchantId); its prices are the catalog's
// prices (domain.Price): the standard price minted from the request's
// price, then the attached ones. A deleted plan (deletedAt set) stays
// readable by id and leaves the list.

// paygenticPlan is a plan in the seed's shape, keys in the seed's order.
type paygenticPlan struct {
	ID                 string                  `json:"id"`
	Object             string                  `json:"object"`
	Name               string                  `json:"name"`
	PaymentOptions     paygenticPaymentOptions `json:"paymentOptions"`
	InvoiceDisplayName string                  `json:"invoiceDisplayName"`
	Description        string                  `json:"description"`
	BillingInterval    string                  `json:"billingInterval"`
	Currency           string                  `json:"currency"`
	MerchantID         string                  `json:"merchantId"`
	ProductID          string                  `json:"productId"`
	// WalletNamespaceID is always null: goodplan has no wallets.
	WalletNamespaceID *string          `json:"walletNamespaceId"`
	Tax               json.RawMessage  `json:"tax"`
	Prices            []paygenticPrice `json:"prices"`
	CreatedAt         string           `json:"createdAt"`
	UpdatedAt         string           `json:"updatedAt"`
	DeletedAt         *string          `json:"deletedAt"`
}

// paygenticPaymentOptions are a plan's payment options, as the seed
// spells them.
type paygenticPaymentOptions struct {
	OutOfBand  bool   `json:"outOfBand"`
	PayAsYouGo bool   `json:"payAsYouGo"`
	PrePaid    bool   `json:"prePaid"`
	PostPaid   bool   `json:"postPaid"`
	Credits    string `json:"credits"`
}

// paygenticPrice is a price in the seed's shape. goodplan's prices are
// standard (a unit amount) and unmetered, with no name, description or
// properties of their own: those keys are null or {}.
type paygenticPrice struct {
	ID                 string   `json:"id"`
	Object             string   `json:"object"`
	BillableMetricID   *string  `json:"billableMetricId"`
	Model              string   `json:"model"`
	InvoiceDisplayName *string  `json:"invoiceDisplayName"`
	Properties         struct{} `json:"properties"`
	Description        *string  `json:"description"`
	UnitAmount         string   `json:"unitAmount"`
	Currency           string   `json:"currency"`
	CreatedAt          string   `json:"createdAt"`
	UpdatedAt          string   `json:"updatedAt"`
}

// paygenticList is GET /v0/plans's body.
type paygenticList struct {
	Data       []paygenticPlan     `json:"data"`
	Pagination paygenticPagination `json:"pagination"`
}

// paygenticPagination is a list's position.
type paygenticPagination struct {
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
	Total  int `json:"total"`
}

// paygenticDefaultLimit is GET /v0/plans's page size when none is asked.
const paygenticDefaultLimit = 20

// paygenticRoutes mounts the Paygentic dialect at /v0.
func (s *Server) paygenticRoutes(r chi.Router) {
	r.Route("/v0", func(r chi.Router) {
		r.Use(s.authenticateBy(paygenticKeySource))
		r.Post("/plans", s.createPaygenticPlan)
		r.Get("/plans", s.listPaygenticPlans)
		r.Get("/plans/{id}", s.getPaygenticPlan)
		r.Delete("/plans/{id}", s.deletePaygenticPlan)
	})
}

// rfc3339 writes a time as the seed does (UTC, whole seconds).
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// paygenticPlanOf renders a catalog plan of account; prices holds the
// account's prices by id (a price id without one, possible only on a plan
// attached by the native API before prices were checked, is left out).
func paygenticPlanOf(v projections.CatalogPlan, account int64, prices map[string]domain.Price) paygenticPlan {
	po := v.PaymentOptions
	p := paygenticPlan{ID: v.ID, Object: "plan", Name: v.Name,
		PaymentOptions: paygenticPaymentOptions{OutOfBand: po.OutOfBand, PayAsYouGo: po.PayAsYouGo, PrePaid: po.PrePaid,
			PostPaid: po.PostPaid, Credits: po.Credits},
		InvoiceDisplayName: v.InvoiceDisplayName, Description: v.Description,
		BillingInterval: billingIntervalOf(v.Interval, v.IntervalCount), Currency: v.Currency,
		MerchantID: merchantIDOf(account), ProductID: v.CatalogItem, Tax: v.Tax, Prices: []paygenticPrice{},
		CreatedAt: rfc3339(v.CreatedAt), UpdatedAt: rfc3339(v.UpdatedAt)}
	if len(p.Tax) == 0 {
		p.Tax = json.RawMessage(`{}`)
	}
	for _, id := range v.Prices {
		if pr, ok := prices[id]; ok {
			at := rfc3339(pr.CreatedAt)
			p.Prices = append(p.Prices, paygenticPrice{ID: pr.ID, Object: "price", Model: "standard",
				UnitAmount: pr.UnitAmount.String(), Currency: pr.Currency, CreatedAt: at, UpdatedAt: at})
		}
	}
	if v.DeletedAt != nil {
		d := rfc3339(*v.DeletedAt)
		p.DeletedAt = &d
	}
	return p
}

// paygenticPlans renders plans of the caller's account, their prices
// read in one query.
func (s *Server) paygenticPlans(ctx context.Context, views ...projections.CatalogPlan) ([]paygenticPlan, error) {
	account := accountFrom(ctx).ID
	var ids []string
	for _, v := range views {
		ids = append(ids, v.Prices...)
	}
	prices, err := s.store.CatalogPrices(ctx, account, ids)
	if err != nil {
		return nil, err
	}
	out := make([]paygenticPlan, len(views))
	for i, v := range views {
		out[i] = paygenticPlanOf(v, account, prices)
	}
	return out, nil
}

// writePaygenticPlan answers one plan with status.
func (s *Server) writePaygenticPlan(w http.ResponseWriter, r *http.Request, status int, v projections.CatalogPlan) {
	out, err := s.paygenticPlans(r.Context(), v)
	if err != nil {
		s.writePaygenticError(w, r, err)
		return
	}
	writeJSON(w, status, out[0])
}

// createPaygenticPlan is POST /v0/plans: 201 with the plan. A merchantId
// of another merchant is a 403 before any field is checked; then every
// field problem at once is a 422, before an id is taken.
func (s *Server) createPaygenticPlan(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	acct := accountFrom(ctx)
	body, err := readBody(w, r)
	if err != nil {
		s.writePaygenticError(w, r, err)
		return
	}
	in, typeErrs, err := decodePaygenticPlan(body)
	if err != nil {
		s.writePaygenticError(w, r, err)
		return
	}
	if own := merchantIDOf(acct.ID); merchantIDPattern.MatchString(in.merchantID) && in.merchantID != own {
		writeJSON(w, http.StatusForbidden, paygenticErrorOf(http.StatusForbidden, "The merchantId "+
			strconv.Quote(in.merchantID)+" is not yours: this API key creates plans for "+own+" only."))
		return
	}
	cmd := in.cmd
	cmd.ID, cmd.AccountID, cmd.Now = newCatalogPlanID(), acct.ID, s.now()
	if in.price {
		cmd.StandardPriceID = newPriceID()
	}
	if cmd.KnownPrices, err = s.knownPrices(ctx, accountFrom(ctx).ID, cmd.Prices); err != nil {
		s.writePaygenticError(w, r, err)
		return
	}
	if _, err := new(domain.CatalogPlan).Create(cmd); err != nil || typeErrs != nil {
		if err := mergeTypeErrors(typeErrs, paygenticFields(err)); err != nil {
			s.writePaygenticError(w, r, err)
			return
		}
	}
	out, err := s.startCatalogPlan(r, routeRequestHash(r, body), cmd, nil)
	if err != nil {
		s.writePaygenticError(w, r, paygenticFields(err))
		return
	}
	markReplayed(w, out)
	s.writePaygenticPlan(w, r, http.StatusCreated, projections.CatalogPlanOf(out.State))
}

// getPaygenticPlan is GET /v0/plans/{id}: a deleted plan too, with
// deletedAt; another account's plan is a 404.
func (s *Server) getPaygenticPlan(w http.ResponseWriter, r *http.Request) {
	v, err := s.readCatalogPlan(r)
	if err != nil {
		s.writePaygenticError(w, r, err)
		return
	}
	s.writePaygenticPlan(w, r, http.StatusOK, v)
}

// deletePaygenticPlan is DELETE /v0/plans/{id}: a soft delete (the public
// id is released); 200 with the plan, deletedAt set. A plan already
// deleted is a 404.
func (s *Server) deletePaygenticPlan(w http.ResponseWriter, r *http.Request) {
	out, err := s.catalogCommand(r, routeRequestHash(r, nil), releaseCatalogPlan, s.decideCatalogDelete())
	if err != nil {
		s.writePaygenticError(w, r, err)
		return
	}
	markReplayed(w, out)
	s.writePaygenticPlan(w, r, http.StatusOK, projections.CatalogPlanOf(out.State))
}

// listPaygenticPlans is GET /v0/plans?limit=&offset=: plans not deleted,
// newest first, from the read model; limit 1..100 (default 20), offset
// >= 0 (default 0).
func (s *Server) listPaygenticPlans(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	page := paygenticPagination{Limit: paygenticDefaultLimit}
	var ve domain.ValidationError
	for _, p := range []struct {
		key    string
		dst    *int
		lo, hi int
	}{{"limit", &page.Limit, 1, maxPageSize}, {"offset", &page.Offset, 0, math.MaxInt32}} {
		v := q.Get(p.key)
		if v == "" {
			continue
		}
		if n, err := strconv.Atoi(v); err == nil && n >= p.lo && n <= p.hi {
			*p.dst = n
			continue
		}
		ve.AddRule(p.key, domain.CodeInvalid, "must be a whole number from "+strconv.Itoa(p.lo)+" to "+strconv.Itoa(p.hi)+".")
	}
	if err := ve.OrNil(); err != nil {
		s.writePaygenticError(w, r, err)
		return
	}
	items, total, err := s.catalogPlans.Page(ctx, accountFrom(ctx).ID, page.Limit, page.Offset)
	if err != nil {
		s.writePaygenticError(w, r, err)
		return
	}
	page.Total = total
	data, err := s.paygenticPlans(ctx, items...)
	if err != nil {
		s.writePaygenticError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, paygenticList{Data: data, Pagination: page})
}
