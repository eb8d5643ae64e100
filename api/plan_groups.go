package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
)

// The native plan groups API, /api/v1/plan-groups: named sets of catalog
// plans and payment plans of one account. Every command goes through
// eventstore.Aggregate.Run with the request's Idempotency-Key; after it
// the API writes the group's read model row itself (PlanGroups.Put, a
// version-guarded no-op for the consumer later), so a client reads what it
// just wrote. A group's catalog plans are resolved when it is read: a
// deleted catalog plan leaves every group it was in.

// planGroupCommand is a command on a plan group.
type planGroupCommand = eventstore.Cmd[*domain.PlanGroup]

// planGroupRoutes mounts the plan groups API (under /api/v1).
func (s *Server) planGroupRoutes(r chi.Router) {
	r.Post("/plan-groups", s.createPlanGroup)
	r.Get("/plan-groups", s.listPlanGroups)
	r.Get("/plan-groups/{id}", s.getPlanGroup)
	r.Put("/plan-groups/{id}", s.replacePlanGroup)
	r.Delete("/plan-groups/{id}", s.deletePlanGroup)
}

// planGroupOf returns the group the route names in the caller's account,
// deleted or not; another account's group is a 404 like an unknown one.
func (s *Server) planGroupOf(ctx context.Context, r *http.Request) (projections.PlanGroup, error) {
	raw := chi.URLParam(r, "id")
	missing := notFound("Plan group " + strconv.Quote(raw) + " was not found.")
	id, err := uuid.Parse(raw)
	if err != nil {
		return projections.PlanGroup{}, missing
	}
	g, err := s.planGroups.Get(ctx, accountFrom(ctx).ID, id)
	if errors.Is(err, eventstore.ErrNotFound) {
		return g, missing
	}
	return g, err
}

// answerGroup writes the group after a command (status) and brings its
// read model row up to date.
func (s *Server) answerGroup(w http.ResponseWriter, r *http.Request, status int, out eventstore.Outcome[*domain.PlanGroup]) {
	ctx := r.Context()
	if err := s.planGroups.Put(ctx, out.State); err != nil {
		s.writeError(w, r, err)
		return
	}
	markReplayed(w, out)
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	v, err := s.renderGroups(ctx, out.State.AccountID(), []projections.PlanGroup{projections.PlanGroupOf(out.State)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if status == http.StatusCreated {
		w.Header().Set("Location", "/api/v1/plan-groups/"+v[0].ID)
	}
	writeJSON(w, status, v[0])
}

// createPlanGroup is POST /api/v1/plan-groups: 201 with the group; its id
// is a UUID the server generates.
func (s *Server) createPlanGroup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	acct := accountFrom(ctx)
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, typeErrs, err := decodePlanGroup(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c := planGroupCommand{Start: true, Meta: s.metadata(r, acct)}
	if err := idempotent(r, acct, routeRequestHash(r, body), &c); err != nil {
		s.writeError(w, r, err)
		return
	}
	members, err := s.resolveMembers(ctx, acct.ID, b, &typeErrs)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ids, err := s.newIDs(ctx, 1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cmd := domain.CreatePlanGroup{PlanGroupID: ids[0], AccountID: acct.ID, ID: uuid.New(), Name: b.Name,
		Members: members, Now: s.now()}
	c.ID = cmd.PlanGroupID
	c.Decide = func(g *domain.PlanGroup) ([]domain.Event, error) {
		events, err := g.Create(cmd)
		return events, mergeValidation(typeErrs, groupFieldErrors(err, len(b.Plans)))
	}
	out, err := eventstore.PlanGroupAggregate.Run(ctx, s.store, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.answerGroup(w, r, http.StatusCreated, out)
}

// getPlanGroup is GET /api/v1/plan-groups/{id}; a deleted group is a 404.
func (s *Server) getPlanGroup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	g, err := s.planGroupOf(ctx, r)
	if err == nil && g.DeletedAt != nil {
		err = notFound("Plan group " + strconv.Quote(chi.URLParam(r, "id")) + " was not found.")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.renderGroups(ctx, g.AccountID, []projections.PlanGroup{g})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v[0])
}

// runPlanGroupCommand runs decide on the group the route names, with the
// request's Idempotency-Key, and answers status with the group after it.
func (s *Server) runPlanGroupCommand(w http.ResponseWriter, r *http.Request, body []byte, status int,
	decide func(*domain.PlanGroup) ([]domain.Event, error)) {
	ctx := r.Context()
	acct := accountFrom(ctx)
	g, err := s.planGroupOf(ctx, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c := planGroupCommand{ID: g.ID, Meta: s.metadata(r, acct), Decide: decide}
	if err := idempotent(r, acct, routeRequestHash(r, body), &c); err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := eventstore.PlanGroupAggregate.Run(ctx, s.store, c)
	var nf *domain.NotFoundError
	if errors.Is(err, domain.ErrPlanGroupNotFound) || errors.As(err, &nf) {
		err = notFound("Plan group " + strconv.Quote(chi.URLParam(r, "id")) + " was not found.")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.answerGroup(w, r, status, out)
}

// replacePlanGroup is PUT /api/v1/plan-groups/{id}: name and members are
// replaced whole; 200 with the group.
func (s *Server) replacePlanGroup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, typeErrs, err := decodePlanGroup(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.planGroupOf(ctx, r); err != nil {
		s.writeError(w, r, err) // another account's group: 404 before its plans are looked up
		return
	}
	members, err := s.resolveMembers(ctx, accountFrom(ctx).ID, b, &typeErrs)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cmd := domain.UpdatePlanGroup{Name: b.Name, Members: members, Now: s.now()}
	s.runPlanGroupCommand(w, r, body, http.StatusOK, func(g *domain.PlanGroup) ([]domain.Event, error) {
		events, err := g.Update(cmd)
		return events, mergeValidation(typeErrs, groupFieldErrors(err, len(b.Plans)))
	})
}

// deletePlanGroup is DELETE /api/v1/plan-groups/{id}: 204; the group's
// plans are untouched.
func (s *Server) deletePlanGroup(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	s.runPlanGroupCommand(w, r, nil, http.StatusNoContent, func(g *domain.PlanGroup) ([]domain.Event, error) {
		return g.Delete(domain.DeletePlanGroup{Now: now})
	})
}

// planGroupList is GET /api/v1/plan-groups's body.
type planGroupList struct {
	Items   []planGroupJSON `json:"items"`
	HasMore bool            `json:"has_more"`
}

// listPlanGroups is GET /api/v1/plan-groups?limit=&starting_after=: groups
// not deleted, newest first.
func (s *Server) listPlanGroups(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	acct := accountFrom(ctx).ID
	q := r.URL.Query()
	limit := defaultPageSize
	var after uuid.UUID
	var ve domain.ValidationError
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			ve.Add("limit", "The limit must be an integer between 1 and "+strconv.Itoa(maxPageSize)+".")
		}
		limit = n
	}
	if v := q.Get("starting_after"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			ve.Add("starting_after", "The starting_after must be the id of a listed plan group.")
		}
		after = id
	}
	if err := ve.OrNil(); err != nil {
		s.writeError(w, r, err)
		return
	}
	groups, more, err := s.planGroups.List(ctx, acct, limit, after)
	if errors.Is(err, projections.ErrUnknownGroupCursor) {
		err = &apiError{Status: http.StatusUnprocessableEntity, Title: "Validation failed",
			Fields: map[string][]string{"starting_after": {"The starting_after must be the id of a listed plan group."}}}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items, err := s.renderGroups(ctx, acct, groups)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, planGroupList{Items: items, HasMore: more})
}
