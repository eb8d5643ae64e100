package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
)

// The 4Geeks dialect (seed 004): /v1/plans over the same catalog plans as
// the native API, authenticated by the X-Api-Key header (the gp_ key; the
// Bearer header is not read here), with the seed's bodies: a plan as
// {id, object, product_id, amount, currency, interval, active}, amount an
// integer in the currency's minor units, and errors as {"detail": ...}.

// geeksPlan is a plan in the seed's shape, keys in the seed's order.
type geeksPlan struct {
	ID        string `json:"id"`
	Object    string `json:"object"`
	ProductID string `json:"product_id"`
	// Amount is in minor units; null when the plan has no amount or one
	// finer than the currency's minor units (possible for plans made
	// through the native API).
	Amount   *int64 `json:"amount"`
	Currency string `json:"currency"`
	Interval string `json:"interval"`
	Active   bool   `json:"active"`
}

// geeksList is GET /v1/plans's body.
type geeksList struct {
	Items      []geeksPlan `json:"items"`
	TotalItems int         `json:"total_items"`
	Limit      int         `json:"limit"`
	Offset     int         `json:"offset"`
}

// geeksDetail is one entry of a 422 body's detail.
type geeksDetail struct {
	Loc  []string `json:"loc"`
	Msg  string   `json:"msg"`
	Type string   `json:"type"`
}

// geeksError is the dialect's error body: detail a message or a list of
// field problems.
type geeksError struct {
	Detail any `json:"detail"`
}

// geeksKeySource reads the gp_ key from X-Api-Key; a missing or unknown
// key is a 401 {"detail": ...}.
var geeksKeySource = keySource{
	key: func(r *http.Request) (string, bool) { return apiKeyShape(r.Header.Get("X-Api-Key")) },
	unauthorized: func(w http.ResponseWriter) {
		writeJSON(w, http.StatusUnauthorized, geeksError{Detail: "Invalid or missing API key: send it in the X-Api-Key header."})
	},
	body: func(e *apiError) any { return geeksError{Detail: e.Message} },
}

// geeksRoutes mounts the 4Geeks dialect at /v1.
func (s *Server) geeksRoutes(r chi.Router) {
	r.Route("/v1", func(r chi.Router) {
		r.Use(s.authenticateBy(geeksKeySource))
		r.Post("/plans", s.createGeeksPlan)
		r.Get("/plans", s.listGeeksPlans)
		r.Get("/plans/{id}", s.getGeeksPlan)
	})
}

// geeksPlanOf renders a catalog plan in the dialect's shape.
func geeksPlanOf(v projections.CatalogPlan) geeksPlan {
	g := geeksPlan{ID: v.ID, Object: "plan", ProductID: v.CatalogItem, Currency: v.Currency,
		Interval: string(v.Interval), Active: v.Active}
	if c, ok := domain.LookupCurrency(v.Currency); ok && v.Amount != nil {
		if m, err := domain.ParseMoney(v.Amount.String(), c); err == nil {
			minor := m.Minor()
			g.Amount = &minor
		}
	}
	return g
}

// createGeeksPlan is POST /v1/plans: 200 with the plan.
func (s *Server) createGeeksPlan(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	acct := accountFrom(ctx)
	body, err := readBody(w, r)
	if err != nil {
		s.writeGeeksError(w, r, err)
		return
	}
	cmd, typeErrs, err := decodeGeeksPlan(body)
	if err != nil {
		s.writeGeeksError(w, r, err)
		return
	}
	cmd.ID, cmd.AccountID, cmd.Now = newCatalogPlanID(), acct.ID, s.now()
	// Every problem at once, before an id is taken: the domain's checks
	// of the fields that decoded, with the type errors.
	if _, err := new(domain.CatalogPlan).Create(cmd); err != nil || typeErrs != nil {
		if err := mergeTypeErrors(typeErrs, err); err != nil {
			s.writeGeeksError(w, r, err)
			return
		}
	}
	out, err := s.startCatalogPlan(r, routeRequestHash(r, body), cmd, nil)
	if err != nil {
		s.writeGeeksError(w, r, err)
		return
	}
	markReplayed(w, out)
	writeJSON(w, http.StatusOK, geeksPlanOf(projections.CatalogPlanOf(out.State)))
}

// mergeTypeErrors merges the domain's error into the type errors, leaving out
// the domain's problems with a field that already has a type error (its
// value was not read). nil when there are none.
func mergeTypeErrors(typeErrs *domain.ValidationError, err error) error {
	var ve *domain.ValidationError
	if err != nil && !errors.As(err, &ve) {
		return err
	}
	all := &domain.ValidationError{}
	all.Merge(typeErrs)
	if ve != nil {
		for f, msgs := range ve.Fields {
			if typeErrs != nil && typeErrs.Fields[f] != nil {
				continue
			}
			for i, m := range msgs {
				pr := ve.Problem(f, i)
				if pr.Rule != "" {
					all.AddRule(f, pr.Code, pr.Rule)
				} else {
					all.Add(f, m)
				}
			}
		}
	}
	return all.OrNil()
}

// getGeeksPlan is GET /v1/plans/{id}; another account's plan, or a
// deleted one, is a 404.
func (s *Server) getGeeksPlan(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := s.catalogPlanOf(ctx, r)
	if err != nil {
		s.writeGeeksError(w, r, err)
		return
	}
	p, _, _, err := eventstore.CatalogPlanAggregate.Load(ctx, s.store, id)
	if err != nil {
		s.writeGeeksError(w, r, err)
		return
	}
	if !p.DeletedAt().IsZero() {
		s.writeGeeksError(w, r, notFound("deleted"))
		return
	}
	writeJSON(w, http.StatusOK, geeksPlanOf(projections.CatalogPlanOf(p)))
}

// listGeeksPlans is GET /v1/plans?limit=&offset=: plans not deleted,
// newest first, from the read model.
func (s *Server) listGeeksPlans(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	limit, offset := 10, 0
	var ve domain.ValidationError
	param := func(key string, def, lo, hi int) int {
		v := q.Get(key)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			ve.AddRule(key, codeTypeInteger, "must be an integer.")
			return def
		}
		if n < lo || n > hi {
			ve.Add(key, "ensure this value is between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi))
		}
		return n
	}
	limit = param("limit", limit, 1, maxPageSize)
	offset = param("offset", offset, 0, 1<<31-1)
	if len(ve.Fields) > 0 {
		d := geeksDetails(&ve)
		for i := range d {
			d[i].Loc[0] = "query"
		}
		writeJSON(w, http.StatusUnprocessableEntity, geeksError{Detail: d})
		return
	}
	items, total, err := s.catalogPlans.Page(ctx, accountFrom(ctx).ID, limit, offset)
	if err != nil {
		s.writeGeeksError(w, r, err)
		return
	}
	out := geeksList{Items: make([]geeksPlan, len(items)), TotalItems: total, Limit: limit, Offset: offset}
	for i, v := range items {
		out.Items[i] = geeksPlanOf(v)
	}
	writeJSON(w, http.StatusOK, out)
}
