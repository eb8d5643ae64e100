package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
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
// just wrote. The plan groups dialect (dialect_plangroups.go) runs the
// same commands. A group's catalog plans are resolved when it is read: a
// deleted catalog plan leaves every group it was in.

// planGroupCommand is a command on a plan group.
type planGroupCommand = eventstore.Cmd[*domain.PlanGroup]

// groupOutcome is what a plan group command returns.
type groupOutcome = eventstore.Outcome[*domain.PlanGroup]

// planGroupRoutes mounts the plan groups API (under /api/v1).
func (s *Server) planGroupRoutes(r chi.Router) {
	r.Post("/plan-groups", s.createPlanGroup)
	r.Get("/plan-groups", s.listPlanGroups)
	r.Get("/plan-groups/{id}", s.getPlanGroup)
	r.Put("/plan-groups/{id}", s.replacePlanGroup)
	r.Delete("/plan-groups/{id}", s.deletePlanGroup)
	r.Get("/plan-groups/{id}/report", s.planGroupReport)
}

// planGroupOf returns the group the route names in the caller's account,
// deleted or not; another account's group is a 404 like an unknown one.
func (s *Server) planGroupOf(ctx context.Context, r *http.Request) (projections.PlanGroup, error) {
	return s.planGroupByID(ctx, accountFrom(ctx).ID, chi.URLParam(r, "id"))
}

// planGroupByID returns the group raw (its public id) names in account,
// deleted or not; a malformed id, an unknown group and another account's
// group are the same 404.
func (s *Server) planGroupByID(ctx context.Context, account int64, raw string) (projections.PlanGroup, error) {
	missing := groupNotFound(raw)
	id, err := uuid.Parse(raw)
	if err != nil {
		return projections.PlanGroup{}, missing
	}
	g, err := s.planGroups.Get(ctx, account, id)
	if errors.Is(err, eventstore.ErrNotFound) {
		return g, missing
	}
	return g, err
}

// groupNotFound is the 404 of the group raw.
func groupNotFound(raw string) *apiError {
	return notFound("Plan group " + strconv.Quote(raw) + " was not found.")
}

// groupRequest is a decoded create or replace body, with how its surface
// orders the members and names their problems.
type groupRequest struct {
	body     planGroupBody
	typeErrs *domain.ValidationError
	// arrange puts resolveMembers' inputs (catalog plans first, then
	// payment plans) in the order the body wrote them and renames the
	// problems found resolving them; nil keeps both (the native API).
	arrange func([]domain.MemberInput, *domain.ValidationError) ([]domain.MemberInput, *domain.ValidationError)
	// fields renames the domain's problems (plans.{k}.id over the members
	// as arranged); nil: groupFieldErrors (the native API's names).
	fields func(error) error
}

// members resolves req's members in account (see resolveMembers), adding
// their problems to req.typeErrs.
func (s *Server) members(ctx context.Context, account int64, req *groupRequest) ([]domain.MemberInput, error) {
	var ve *domain.ValidationError
	in, err := s.resolveMembers(ctx, account, req.body, &ve)
	if err != nil {
		return nil, err
	}
	if req.arrange != nil {
		in, ve = req.arrange(in, ve)
	}
	if ve != nil {
		if req.typeErrs == nil {
			req.typeErrs = &domain.ValidationError{}
		}
		_ = mergeValidation(req.typeErrs, ve)
	}
	return in, nil
}

// problems is the error a decide answers: the request's type and member
// problems merged with the domain's, renamed for the surface.
func (req *groupRequest) problems(err error) error {
	if req.fields != nil {
		err = req.fields(err)
	} else {
		err = groupFieldErrors(err, len(req.body.Plans))
	}
	return mergeValidation(req.typeErrs, err)
}

// runCreateGroup is createGroupAs for an API request, with its
// Idempotency-Key.
func (s *Server) runCreateGroup(r *http.Request, body []byte, req *groupRequest) (groupOutcome, error) {
	cl, err := s.apiCaller(r, routeRequestHash(r, body))
	if err != nil {
		return groupOutcome{}, err
	}
	return s.createGroupAs(r.Context(), cl, req)
}

// createGroupAs creates a group from req in cl's account, and brings its
// read model row up to date.
func (s *Server) createGroupAs(ctx context.Context, cl caller, req *groupRequest) (groupOutcome, error) {
	var out groupOutcome
	c := commandOf[*domain.PlanGroup](cl)
	c.Start = true
	members, err := s.members(ctx, cl.account, req)
	if err != nil {
		return out, err
	}
	ids, err := s.newIDs(ctx, 1)
	if err != nil {
		return out, err
	}
	cmd := domain.CreatePlanGroup{PlanGroupID: ids[0], AccountID: cl.account, ID: uuid.New(), Name: req.body.Name,
		Members: members, Now: s.now()}
	c.ID = cmd.PlanGroupID
	c.Decide = func(g *domain.PlanGroup) ([]domain.Event, error) {
		events, err := g.Create(cmd)
		return events, req.problems(err)
	}
	return s.runGroup(ctx, c)
}

// runGroup runs c and writes the group's read model row after it, so that
// a client reads what it just wrote (the consumer's later Apply of the same
// events is a no-op).
func (s *Server) runGroup(ctx context.Context, c planGroupCommand) (groupOutcome, error) {
	out, err := eventstore.PlanGroupAggregate.Run(ctx, s.store, c)
	if err != nil {
		return out, err
	}
	return out, s.planGroups.Put(ctx, out.State)
}

// groupCommandAs runs decide by cl on the group raw names (its public id)
// in cl's account: a group of another account, unknown or deleted is a
// 404.
func (s *Server) groupCommandAs(ctx context.Context, cl caller, raw string,
	decide func(*domain.PlanGroup) ([]domain.Event, error)) (groupOutcome, error) {
	var out groupOutcome
	g, err := s.planGroupByID(ctx, cl.account, raw)
	if err != nil {
		return out, err
	}
	c := commandOf[*domain.PlanGroup](cl)
	c.ID, c.Decide = g.ID, decide
	out, err = s.runGroup(ctx, c)
	var nf *domain.NotFoundError
	if errors.Is(err, domain.ErrPlanGroupNotFound) || errors.As(err, &nf) {
		err = groupNotFound(raw)
	}
	return out, err
}

// runReplaceGroup is replaceGroupAs for an API request, with its
// Idempotency-Key.
func (s *Server) runReplaceGroup(r *http.Request, body []byte, raw string, req *groupRequest) (groupOutcome, error) {
	cl, err := s.apiCaller(r, routeRequestHash(r, body))
	if err != nil {
		return groupOutcome{}, err
	}
	return s.replaceGroupAs(r.Context(), cl, raw, req)
}

// replaceGroupAs replaces the name and members of the group raw names in
// cl's account with req's. Another account's group is a 404 before its
// plans are looked up.
func (s *Server) replaceGroupAs(ctx context.Context, cl caller, raw string, req *groupRequest) (groupOutcome, error) {
	if _, err := s.planGroupByID(ctx, cl.account, raw); err != nil {
		return groupOutcome{}, err
	}
	members, err := s.members(ctx, cl.account, req)
	if err != nil {
		return groupOutcome{}, err
	}
	cmd := domain.UpdatePlanGroup{Name: req.body.Name, Members: members, Now: s.now()}
	return s.groupCommandAs(ctx, cl, raw, func(g *domain.PlanGroup) ([]domain.Event, error) {
		events, err := g.Update(cmd)
		return events, req.problems(err)
	})
}

// runDeleteGroup is deleteGroupAs for an API request, with its
// Idempotency-Key.
func (s *Server) runDeleteGroup(r *http.Request, body []byte, raw string) (groupOutcome, error) {
	cl, err := s.apiCaller(r, routeRequestHash(r, body))
	if err != nil {
		return groupOutcome{}, err
	}
	return s.deleteGroupAs(r.Context(), cl, raw)
}

// deleteGroupAs deletes the group raw names in cl's account; its plans are
// untouched.
func (s *Server) deleteGroupAs(ctx context.Context, cl caller, raw string) (groupOutcome, error) {
	now := s.now()
	return s.groupCommandAs(ctx, cl, raw, func(g *domain.PlanGroup) ([]domain.Event, error) {
		return g.Delete(domain.DeletePlanGroup{Now: now})
	})
}

// answerGroup writes the group after a command (status), or err.
func (s *Server) answerGroup(w http.ResponseWriter, r *http.Request, status int, out groupOutcome, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	markReplayed(w, out)
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	v, err := s.renderGroups(r.Context(), out.State.AccountID(), []projections.PlanGroup{projections.PlanGroupOf(out.State)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if status == http.StatusCreated {
		w.Header().Set("Location", "/api/v1/plan-groups/"+v[0].ID)
	}
	writeJSON(w, status, v[0])
}

// decodeGroupRequest reads a native create or replace body.
func decodeGroupRequest(w http.ResponseWriter, r *http.Request) ([]byte, *groupRequest, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, nil, err
	}
	b, typeErrs, err := decodePlanGroup(body)
	if err != nil {
		return nil, nil, err
	}
	return body, &groupRequest{body: b, typeErrs: typeErrs}, nil
}

// createPlanGroup is POST /api/v1/plan-groups: 201 with the group; its id
// is a UUID the server generates.
func (s *Server) createPlanGroup(w http.ResponseWriter, r *http.Request) {
	body, req, err := decodeGroupRequest(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.runCreateGroup(r, body, req)
	s.answerGroup(w, r, http.StatusCreated, out, err)
}

// getPlanGroup is GET /api/v1/plan-groups/{id}; a deleted group is a 404.
func (s *Server) getPlanGroup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	g, err := s.livePlanGroup(ctx, accountFrom(ctx).ID, chi.URLParam(r, "id"))
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

// livePlanGroup is planGroupByID with a deleted group a 404 too.
func (s *Server) livePlanGroup(ctx context.Context, account int64, raw string) (projections.PlanGroup, error) {
	g, err := s.planGroupByID(ctx, account, raw)
	if err == nil && g.DeletedAt != nil {
		err = groupNotFound(raw)
	}
	return g, err
}

// replacePlanGroup is PUT /api/v1/plan-groups/{id}: name and members are
// replaced whole; 200 with the group.
func (s *Server) replacePlanGroup(w http.ResponseWriter, r *http.Request) {
	body, req, err := decodeGroupRequest(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.runReplaceGroup(r, body, chi.URLParam(r, "id"), req)
	s.answerGroup(w, r, http.StatusOK, out, err)
}

// deletePlanGroup is DELETE /api/v1/plan-groups/{id}: 204; the group's
// plans are untouched.
func (s *Server) deletePlanGroup(w http.ResponseWriter, r *http.Request) {
	out, err := s.runDeleteGroup(r, nil, chi.URLParam(r, "id"))
	s.answerGroup(w, r, http.StatusNoContent, out, err)
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
	groups, more, err := s.listGroups(ctx, acct, r.URL.Query())
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

// listGroups returns the page of account's groups q asks for (limit,
// starting_after) and whether more follow; a bad parameter is a
// validation error naming it.
func (s *Server) listGroups(ctx context.Context, account int64, q url.Values) ([]projections.PlanGroup, bool, error) {
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
		return nil, false, err
	}
	groups, more, err := s.planGroups.List(ctx, account, limit, after)
	if errors.Is(err, projections.ErrUnknownGroupCursor) {
		err = &apiError{Status: http.StatusUnprocessableEntity, Title: "Validation failed",
			Fields: map[string][]string{"starting_after": {"The starting_after must be the id of a listed plan group."}}}
	}
	return groups, more, err
}
