package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
	"goodplan/eventstore"
)

// quoteLine is one line of a quote; Tier is null for per_unit pricing.
type quoteLine struct {
	Tier     *int           `json:"tier"`
	Quantity domain.Decimal `json:"quantity"`
	UnitCost domain.Decimal `json:"unit_cost"`
	Amount   domain.Decimal `json:"amount"`
}

// quoteBody is POST /api/v1/catalog/plans/{id}/quote's answer: the total
// rounded once to the currency's minor units, the lines exact.
type quoteBody struct {
	Currency string         `json:"currency"`
	Quantity domain.Decimal `json:"quantity"`
	Total    domain.Money   `json:"total"`
	Lines    []quoteLine    `json:"lines"`
}

// errNoListPrice answers a quote of a plan with custom pricing.
var errNoListPrice = &apiError{Status: http.StatusUnprocessableEntity, Title: "No list price",
	Message: "The plan has custom pricing: it has no list price to quote."}

// quoteCatalogPlan is POST /api/v1/catalog/plans/{id}/quote with
// {"quantity": "101"} (a JSON number or a numeric string). It records
// nothing; an Idempotency-Key is checked for shape and otherwise has no
// effect. A deleted plan is a 404.
func (s *Server) quoteCatalogPlan(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	root, err := parseObject(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var c catalogPlanCommand
	if err := idempotent(r, accountFrom(ctx), nil, &c); err != nil {
		s.writeError(w, r, err)
		return
	}
	var f fieldReader
	text := f.amount(root, "quantity", "quantity")
	if text == "" && len(f.errs.Fields) == 0 {
		f.errs.Require("quantity")
	}
	var quantity domain.Decimal
	if text != "" && len(f.errs.Fields) == 0 {
		if quantity, err = domain.ParseDecimal(text); err != nil {
			f.errs.Add("quantity", "The quantity must be a decimal number.")
		}
	}
	if err := f.typeErrors(); err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.quoteCatalogPlanIn(ctx, accountFrom(ctx).ID, chi.URLParam(r, "id"), quantity)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// quoteCatalogPlanIn prices quantity of the plan pid names in account: a
// deleted plan, another account's or an unknown one is a 404, a plan with
// custom pricing errNoListPrice, a total over the largest amount a 422
// naming the quantity.
func (s *Server) quoteCatalogPlanIn(ctx context.Context, account int64, pid string, quantity domain.Decimal) (quoteBody, error) {
	id, err := s.catalogPlanIn(ctx, account, pid)
	if err != nil {
		return quoteBody{}, err
	}
	p, _, _, err := eventstore.CatalogPlanAggregate.Load(ctx, s.store, id)
	if err == nil && p.Deleted() {
		err = notFound("The catalog plan was deleted.")
	}
	if err != nil {
		return quoteBody{}, err
	}
	q, err := p.Quote(quantity)
	switch {
	case errors.Is(err, domain.ErrNoListPrice):
		err = errNoListPrice
	case errors.Is(err, domain.ErrAmountTooLarge):
		err = &apiError{Status: http.StatusUnprocessableEntity, Title: "Validation failed",
			Fields: map[string][]string{"quantity": {"The quantity prices above the largest amount goodplan handles."}}}
	}
	if err != nil {
		return quoteBody{}, err
	}
	out := quoteBody{Currency: q.Currency.Code, Quantity: q.Quantity, Total: q.Total, Lines: []quoteLine{}}
	for _, l := range q.Lines {
		ql := quoteLine{Quantity: l.Quantity, UnitCost: l.UnitCost, Amount: l.Amount}
		if l.Tier > 0 {
			tier := l.Tier
			ql.Tier = &tier
		}
		out.Lines = append(out.Lines, ql)
	}
	return out, nil
}
