package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
)

// The native catalog plans API, /api/v1/catalog/plans: goodplan's own
// conventions over the catalog plan aggregate. Every command goes through
// eventstore.Aggregate.Run with the request's Idempotency-Key; the public
// id is reserved in the append's own statement (eventstore.WithCatalogPlanID),
// so two plans not deleted never share it. Writes answer from the command's
// outcome; reads come from the read model, folded from the store when the
// row is behind, so a client always reads what it just wrote. A deleted
// plan stays readable by its id (deleted_at set) until the id is reused,
// and leaves lists.

// catalogPlanCommand is a command on a catalog plan.
type catalogPlanCommand = eventstore.Cmd[*domain.CatalogPlan]

// catalogRoutes mounts the native catalog plan API (under /api/v1, so
// authenticated and rate limited per key like the plan routes).
func (s *Server) catalogRoutes(r chi.Router) {
	r.Post("/catalog/plans", s.createCatalogPlan)
	r.Get("/catalog/plans", s.listCatalogPlans)
	r.Get("/catalog/plans/{id}", s.getCatalogPlan)
	r.Patch("/catalog/plans/{id}", s.updateCatalogPlan)
	r.Delete("/catalog/plans/{id}", s.deleteCatalogPlan)
	r.Post("/catalog/plans/{id}/quote", s.quoteCatalogPlan)
}

// errCatalogIDTaken answers a create whose id a plan not deleted holds.
func errCatalogIDTaken(id string) *apiError {
	return &apiError{Status: http.StatusConflict, Title: "Conflict",
		Message: "A catalog plan with id " + strconv.Quote(id) + " already exists; delete it first or choose another id.",
		Fields:  map[string][]string{"id": {"The id is already used by another catalog plan."}}}
}

// createCatalogPlan is POST /api/v1/catalog/plans: 201 with the plan.
func (s *Server) createCatalogPlan(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cmd, typeErrs, err := decodeCreateCatalogPlan(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.runCreateCatalogPlan(r, cmd, typeErrs, routeRequestHash(r, body))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	markReplayed(w, out)
	w.Header().Set("Location", "/api/v1/catalog/plans/"+url.PathEscape(out.State.PublicID()))
	writeJSON(w, http.StatusCreated, projections.CatalogPlanOf(out.State))
}

// catalogPlanOutcome is what a command on a catalog plan did.
type catalogPlanOutcome = eventstore.Outcome[*domain.CatalogPlan]

// runCreateCatalogPlan is createCatalogPlanAs for an API request, with
// its Idempotency-Key checked against reqHash.
func (s *Server) runCreateCatalogPlan(r *http.Request, cmd domain.CreateCatalogPlan, typeErrs *domain.ValidationError,
	reqHash []byte) (catalogPlanOutcome, error) {
	cl, err := s.apiCaller(r, reqHash)
	if err != nil {
		return catalogPlanOutcome{}, err
	}
	return s.createCatalogPlanAs(r.Context(), cl, cmd, typeErrs)
}

// createCatalogPlanAs creates the plan cmd holds the raw fields of in cl's
// account, now: a missing id is generated (not when the id was refused by
// type: the error names it), the attached prices are looked up, and the
// creation is started (startCatalogPlanAs).
func (s *Server) createCatalogPlanAs(ctx context.Context, cl caller, cmd domain.CreateCatalogPlan,
	typeErrs *domain.ValidationError) (catalogPlanOutcome, error) {
	if cmd.ID == "" && (typeErrs == nil || typeErrs.Fields["id"] == nil) {
		cmd.ID = newCatalogPlanID()
	}
	cmd.AccountID, cmd.Now = cl.account, s.now()
	var err error
	if cmd.KnownPrices, err = s.knownPrices(ctx, cl.account, cmd.Prices); err != nil {
		return catalogPlanOutcome{}, err
	}
	return s.startCatalogPlanAs(ctx, cl, cmd, typeErrs)
}

// knownPrices returns account's prices among ids (as the domain reads
// them: trimmed), for the domain to tell the unknown ones. More ids than
// a plan may have are refused by the domain without a lookup.
func (s *Server) knownPrices(ctx context.Context, account int64, ids []string) (map[string]domain.Price, error) {
	if len(ids) == 0 || len(ids) > domain.MaxPrices {
		return nil, nil
	}
	trimmed := make([]string, len(ids))
	for i, id := range ids {
		trimmed[i] = strings.TrimSpace(id)
	}
	return s.store.CatalogPrices(ctx, account, trimmed)
}

// startCatalogPlan is startCatalogPlanAs for an API request, with its
// Idempotency-Key checked against reqHash.
func (s *Server) startCatalogPlan(r *http.Request, reqHash []byte, cmd domain.CreateCatalogPlan,
	typeErrs *domain.ValidationError) (catalogPlanOutcome, error) {
	cl, err := s.apiCaller(r, reqHash)
	if err != nil {
		return catalogPlanOutcome{}, err
	}
	return s.startCatalogPlanAs(r.Context(), cl, cmd, typeErrs)
}

// startCatalogPlanAs runs the creation of cmd (its account, public id,
// known prices and time set) by cl under a new internal id; the type
// errors of the request are merged with the domain's. The public id is
// reserved, and the standard price recorded, in the append's own
// statement; a public id a plan not deleted holds is a 409.
func (s *Server) startCatalogPlanAs(ctx context.Context, cl caller, cmd domain.CreateCatalogPlan,
	typeErrs *domain.ValidationError) (catalogPlanOutcome, error) {
	c := commandOf[*domain.CatalogPlan](cl)
	c.Start = true
	ids, err := s.newIDs(ctx, 1)
	if err != nil {
		return catalogPlanOutcome{}, err
	}
	cmd.CatalogPlanID = ids[0]
	c.ID = cmd.CatalogPlanID
	c.Options = []eventstore.AppendOption{eventstore.WithCatalogPlanID(cl.account, cmd.ID, cmd.CatalogPlanID)}
	// Decide is pure: the price it mints now is the one it mints in Run,
	// and the append records it.
	if evs, err := new(domain.CatalogPlan).Create(cmd); err == nil && typeErrs == nil {
		if sp := evs[0].(domain.CatalogPlanCreated).StandardPrice; sp != nil {
			c.Options = append(c.Options, eventstore.WithCatalogPrice(cl.account, cmd.CatalogPlanID, *sp))
		}
	}
	c.Decide = func(p *domain.CatalogPlan) ([]domain.Event, error) {
		events, err := p.Create(cmd)
		return events, mergeValidation(typeErrs, err)
	}
	out, err := eventstore.CatalogPlanAggregate.Run(ctx, s.store, c)
	if errors.Is(err, eventstore.ErrCatalogIDTaken) {
		err = errCatalogIDTaken(cmd.ID)
	}
	return out, err
}

// catalogPlanOf returns the internal id of the plan the route names in the
// caller's account. Another account's plan is a 404, like an unknown one.
func (s *Server) catalogPlanOf(ctx context.Context, r *http.Request) (int64, error) {
	return s.catalogPlanIn(ctx, accountFrom(ctx).ID, chi.URLParam(r, "id"))
}

// catalogPlanIn returns the internal id of the plan pid (its public id)
// names in account: the one not deleted, else the one deleted last.
// Another account's plan is a 404, like an unknown one.
func (s *Server) catalogPlanIn(ctx context.Context, account int64, pid string) (int64, error) {
	id, err := s.store.CatalogPlanIDOf(ctx, account, pid)
	if errors.Is(err, eventstore.ErrNotFound) {
		return 0, catalogNotFound(pid)
	}
	return id, err
}

// catalogNotFound is the 404 of the catalog plan pid.
func catalogNotFound(pid string) *apiError {
	return notFound("Catalog plan " + strconv.Quote(pid) + " was not found.")
}

// getCatalogPlan is GET /api/v1/catalog/plans/{id}.
func (s *Server) getCatalogPlan(w http.ResponseWriter, r *http.Request) {
	v, err := s.readCatalogPlan(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// readCatalogPlan returns the plan the route names in the caller's account
// (deleted or not) from the read model; a row that is missing or behind
// the stream is replaced by the plan folded from the store, so a client
// reads what it just wrote.
func (s *Server) readCatalogPlan(r *http.Request) (projections.CatalogPlan, error) {
	ctx := r.Context()
	return s.readCatalogPlanIn(ctx, accountFrom(ctx).ID, chi.URLParam(r, "id"))
}

// readCatalogPlanIn is readCatalogPlan of the plan pid names in account.
func (s *Server) readCatalogPlanIn(ctx context.Context, account int64, pid string) (projections.CatalogPlan, error) {
	id, err := s.catalogPlanIn(ctx, account, pid)
	if err != nil {
		return projections.CatalogPlan{}, err
	}
	v, err := s.catalogPlans.GetByID(ctx, account, id)
	behind := errors.Is(err, eventstore.ErrNotFound)
	if err == nil {
		var newer []eventstore.Record
		newer, _, err = s.store.LoadAfter(ctx, eventstore.CatalogPlanAggregate.Stream(id), v.Version)
		behind = len(newer) > 0
	}
	if behind {
		var p *domain.CatalogPlan
		if p, _, _, err = eventstore.CatalogPlanAggregate.Load(ctx, s.store, id); err == nil {
			v = projections.CatalogPlanOf(p)
		}
	}
	return v, err
}

// runCatalogCommand runs a command on the plan the route names, with the
// request's Idempotency-Key, and answers 200 with the plan after it.
func (s *Server) runCatalogCommand(w http.ResponseWriter, r *http.Request, body []byte, opts func(id int64) []eventstore.AppendOption,
	decide func(*domain.CatalogPlan) ([]domain.Event, error)) {
	out, err := s.catalogCommand(r, routeRequestHash(r, body), opts, decide)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	markReplayed(w, out)
	writeJSON(w, http.StatusOK, projections.CatalogPlanOf(out.State))
}

// catalogCommand runs a command on the plan the route names in the caller's
// account, with the request's Idempotency-Key checked against reqHash;
// opts, when set, gives the append options for the plan's internal id. A
// plan of another account, unknown or never created is a 404.
func (s *Server) catalogCommand(r *http.Request, reqHash []byte, opts func(id int64) []eventstore.AppendOption,
	decide func(*domain.CatalogPlan) ([]domain.Event, error)) (catalogPlanOutcome, error) {
	cl, err := s.apiCaller(r, reqHash)
	if err != nil {
		return catalogPlanOutcome{}, err
	}
	return s.catalogCommandAs(r.Context(), cl, chi.URLParam(r, "id"), opts, decide)
}

// catalogCommandAs runs a command by cl on the plan pid names in cl's
// account; opts, when set, gives the append options for the plan's
// internal id. A plan of another account, unknown or never created is a
// 404.
func (s *Server) catalogCommandAs(ctx context.Context, cl caller, pid string, opts func(id int64) []eventstore.AppendOption,
	decide func(*domain.CatalogPlan) ([]domain.Event, error)) (catalogPlanOutcome, error) {
	id, err := s.catalogPlanIn(ctx, cl.account, pid)
	if err != nil {
		return catalogPlanOutcome{}, err
	}
	c := commandOf[*domain.CatalogPlan](cl)
	c.ID, c.Decide = id, decide
	if opts != nil {
		c.Options = opts(id)
	}
	out, err := eventstore.CatalogPlanAggregate.Run(ctx, s.store, c)
	if errors.Is(err, domain.ErrCatalogPlanNotFound) {
		err = catalogNotFound(pid)
	}
	return out, err
}

// updateCatalogPlan is PATCH /api/v1/catalog/plans/{id}: name, description,
// invoice_display_name, metadata (replaced whole) and active.
func (s *Server) updateCatalogPlan(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cmd, typeErrs, err := decodeUpdateCatalogPlan(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cmd.Now = s.now()
	s.runCatalogCommand(w, r, body, nil, func(p *domain.CatalogPlan) ([]domain.Event, error) {
		events, err := p.Update(cmd)
		return events, mergeValidation(typeErrs, err)
	})
}

// deleteCatalogPlan is DELETE /api/v1/catalog/plans/{id}: a soft delete
// that releases the id; 200 with the plan, deleted_at set.
func (s *Server) deleteCatalogPlan(w http.ResponseWriter, r *http.Request) {
	s.runCatalogCommand(w, r, nil, releaseCatalogPlan, s.decideCatalogDelete())
}

// releaseCatalogPlan is the append option of a delete: the plan's public id
// is released in the append's own statement.
func releaseCatalogPlan(id int64) []eventstore.AppendOption {
	return []eventstore.AppendOption{eventstore.WithCatalogPlanRelease(id)}
}

// decideCatalogDelete decides a delete at the request's time.
func (s *Server) decideCatalogDelete() func(*domain.CatalogPlan) ([]domain.Event, error) {
	now := s.now()
	return func(p *domain.CatalogPlan) ([]domain.Event, error) {
		return p.Delete(domain.DeleteCatalogPlan{Now: now})
	}
}

// catalogList is GET /api/v1/catalog/plans's body.
type catalogList struct {
	Items   []projections.CatalogPlan `json:"items"`
	HasMore bool                      `json:"has_more"`
}

// listCatalogPlans is GET /api/v1/catalog/plans?limit=&starting_after=
// &updated_after=&currency=&interval=&active=: plans not deleted, newest
// first, from the read model.
func (s *Server) listCatalogPlans(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lq, err := catalogListQuery(accountFrom(ctx).ID, r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items, more, err := s.listCatalog(ctx, lq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, catalogList{Items: items, HasMore: more})
}

// catalogListQuery reads the list query of account's catalog plans from
// q (limit, starting_after, updated_after, currency, interval, active); a
// bad value is a validation error naming its parameter.
func catalogListQuery(account int64, q url.Values) (projections.CatalogListQuery, error) {
	lq := projections.CatalogListQuery{AccountID: account, Limit: defaultPageSize,
		StartingAfter: q.Get("starting_after"), Interval: q.Get("interval")}
	var ve domain.ValidationError
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			ve.Add("limit", "The limit must be an integer between 1 and "+strconv.Itoa(maxPageSize)+".")
		}
		lq.Limit = n
	}
	if v := q.Get("updated_after"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			ve.Add("updated_after", "The updated_after must be an RFC 3339 timestamp, e.g. 2025-11-27T01:15:30Z.")
		}
		lq.UpdatedAfter = t
	}
	if v := q.Get("currency"); v != "" {
		c, ok := domain.LookupCurrency(strings.ToUpper(v))
		if !ok {
			ve.Add("currency", "The currency must be an ISO 4217 code.")
		}
		lq.Currency = c.Code
	}
	switch lq.Interval {
	case "", "day", "week", "month", "year":
	default:
		ve.Add("interval", "The interval must be one of day, week, month, year.")
	}
	if v := q.Get("active"); v != "" {
		a, err := strconv.ParseBool(v)
		if err != nil || (v != "true" && v != "false") {
			ve.Add("active", "The active filter must be true or false.")
		}
		lq.Active = &a
	}
	return lq, ve.OrNil()
}

// listCatalog returns a page of catalog plans (see CatalogPlans.List); a
// starting_after that names no listed plan is a validation error.
func (s *Server) listCatalog(ctx context.Context, lq projections.CatalogListQuery) ([]projections.CatalogPlan, bool, error) {
	items, more, err := s.catalogPlans.List(ctx, lq)
	if errors.Is(err, projections.ErrUnknownCursor) {
		err = &apiError{Status: http.StatusUnprocessableEntity, Title: "Validation failed",
			Fields: map[string][]string{"starting_after": {"The starting_after must be the id of a listed catalog plan."}}}
	}
	return items, more, err
}
