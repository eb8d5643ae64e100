package api

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
	"goodplan/projections"
	"goodplan/templates"
)

// The dashboard's plan groups: the list (keyset paging as GET
// /api/v1/plan-groups), create and edit (name, catalog plans as
// checkboxes, payment plans by id), delete with its confirmation step,
// and a group's page with the report of GET /api/v1/plan-groups/{id}/report
// (groupReport). Every change runs the API's helpers (createGroupAs,
// replaceGroupAs, deleteGroupAs) with the user as the caller.

// dashboardGroupRoutes registers the plan group pages.
func (s *Server) dashboardGroupRoutes(r chi.Router) {
	r.Get("/plan-groups", s.dashboardGroupList)
	r.Get("/plan-groups/new", s.dashboardGroupNewPage)
	r.Post("/plan-groups/new", s.dashboardGroupCreate)
	r.Get("/plan-groups/{id}", s.dashboardGroupPage)
	r.Get("/plan-groups/{id}/edit", s.dashboardGroupEditPage)
	r.Post("/plan-groups/{id}/edit", s.dashboardGroupUpdate)
	r.Get("/plan-groups/{id}/delete", s.dashboardGroupDeletePage)
	r.Post("/plan-groups/{id}/delete", s.dashboardGroupDelete)
}

func (s *Server) groupHref(id string) string { return s.dash.root + "/plan-groups/" + id }

// dashboardGroupList is GET /dashboard/plan-groups?starting_after=: the
// account's groups, newest first.
func (s *Server) dashboardGroupList(w http.ResponseWriter, r *http.Request) {
	shell, ok := s.dashboardShellFor(w, r, "/plan-groups")
	if !ok {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	if q.Get("limit") == "" {
		q.Set("limit", strconv.Itoa(dashboardPageSize))
	}
	groups, more, err := s.listGroups(ctx, shell.AccountID, q)
	var views []projections.PlanGroupView
	if err == nil {
		views, err = s.renderGroups(ctx, shell.AccountID, groups)
	}
	if err != nil {
		if _, ok := s.dashboardRefusal(w, r, err); ok { // a bad starting_after: the first page
			http.Redirect(w, r, s.dash.root+"/plan-groups", http.StatusSeeOther)
		}
		return
	}
	v := templates.DashboardGroupList{Shell: shell, Notice: doneNotice(r, map[string]string{"deleted": "The plan group was deleted."})}
	for _, g := range views {
		v.Items = append(v.Items, templates.DashboardGroupRow{ID: g.ID, Href: s.groupHref(g.ID), Name: g.Name,
			Updated: g.UpdatedAt.Format("2006-01-02"), CatalogPlans: len(g.Plans), PaymentPlans: len(g.PaymentPlans)})
	}
	if more {
		v.Next = nextPage(s.dash.root+"/plan-groups", r.URL.Query(), views[len(views)-1].ID)
	}
	renderDashboard(s, w, r, http.StatusOK, templates.DashboardGroupListPage, v)
}

// dashboardGroup reads the live group the route names in the user's
// account, or answers with the 404 page (another account's, unknown or
// deleted) or the 500 page, and false.
func (s *Server) dashboardGroup(w http.ResponseWriter, r *http.Request) (projections.PlanGroup, projections.PlanGroupView, bool) {
	ctx := r.Context()
	account := dashboardUserOf(r).AccountID
	g, err := s.livePlanGroup(ctx, account, chi.URLParam(r, "id"))
	var views []projections.PlanGroupView
	if err == nil {
		views, err = s.renderGroups(ctx, account, []projections.PlanGroup{g})
	}
	if err != nil {
		s.dashboardRefusal(w, r, err) // a 404 or a failure: both answered
		return g, projections.PlanGroupView{}, false
	}
	return g, views[0], true
}

// dashboardGroupNewPage is GET /dashboard/plan-groups/new.
func (s *Server) dashboardGroupNewPage(w http.ResponseWriter, r *http.Request) {
	s.renderGroupForm(w, r, http.StatusOK, templates.DashboardGroupForm{}, nil)
}

// renderGroupForm writes the create form, or the edit form when v.ID is
// set, offering the account's newest catalog plans (up to maxPageSize)
// and those in chosen, which are checked.
func (s *Server) renderGroupForm(w http.ResponseWriter, r *http.Request, status int, v templates.DashboardGroupForm,
	chosen []string) {
	shell, ok := s.dashboardShellFor(w, r, "/plan-groups")
	if !ok {
		return
	}
	v.Shell, v.FormID, v.Editing = shell, newFormID(), v.ID != ""
	v.Action = s.dash.root + "/plan-groups/new"
	if v.Editing {
		v.Action = s.groupHref(v.ID) + "/edit"
	}
	plans, _, err := s.catalogPlans.List(r.Context(), projections.CatalogListQuery{AccountID: shell.AccountID, Limit: maxPageSize})
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	offered := map[string]bool{}
	for _, p := range plans {
		offered[p.ID] = true
		v.Choices = append(v.Choices, templates.DashboardGroupChoice{ID: p.ID, Name: p.Name,
			Detail: catalogPrice(p) + ", " + every(string(p.Interval), p.IntervalCount), Checked: slices.Contains(chosen, p.ID)})
	}
	for _, id := range chosen { // a member beyond the newest plans, or one typed in
		if !offered[id] {
			offered[id] = true
			v.Choices = append(v.Choices, templates.DashboardGroupChoice{ID: id, Detail: "chosen", Checked: true})
		}
	}
	renderDashboard(s, w, r, status, templates.DashboardGroupFormPage, v)
}

// groupForm reads a create or edit form (name, plans: the checked catalog
// plans' ids, payment_plans: ids separated by commas or white space) into
// the request the API's helpers run.
func groupForm(r *http.Request) *groupRequest {
	f := r.PostForm
	var ve domain.ValidationError
	b := planGroupBody{Name: f.Get("name"), Plans: f["plans"]}
	for i, tok := range strings.FieldsFunc(f.Get("payment_plans"), func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' }) {
		id, err := strconv.ParseInt(tok, 10, 64)
		if err != nil || id <= 0 {
			field := "payment_plans." + strconv.Itoa(i)
			ve.Add(field, "The "+field+" must be a payment plan id: "+strconv.Quote(tok)+" is not.")
		}
		b.PaymentPlans = append(b.PaymentPlans, id)
	}
	req := &groupRequest{body: b}
	if len(ve.Fields) > 0 {
		req.typeErrs = &ve
	}
	return req
}

// dashboardGroupCreate is POST /dashboard/plan-groups/new: the group is
// created as POST /api/v1/plan-groups creates it; 303 to its page. A
// refused form is the form again (422), nothing created.
func (s *Server) dashboardGroupCreate(w http.ResponseWriter, r *http.Request) {
	s.postGroupForm(w, r, "", "created", func(ctx context.Context, cl caller, req *groupRequest) (groupOutcome, error) {
		return s.createGroupAs(ctx, cl, req)
	})
}

// postGroupForm runs the create or edit form of group id ("" for a new
// one) with run; 303 to the group's page with the notice done, or the form
// again (422) with the problems, nothing changed.
func (s *Server) postGroupForm(w http.ResponseWriter, r *http.Request, id, done string,
	run func(context.Context, caller, *groupRequest) (groupOutcome, error)) {
	u, ok := s.dashboardForm(w, r)
	if !ok {
		return
	}
	out, err := run(r.Context(), s.dashboardCaller(r, u), groupForm(r))
	if err != nil {
		if msgs, ok := s.dashboardRefusal(w, r, err); ok {
			s.renderGroupForm(w, r, http.StatusUnprocessableEntity, templates.DashboardGroupForm{ID: id,
				Name: r.PostForm.Get("name"), PaymentPlans: r.PostForm.Get("payment_plans"), Errors: msgs}, r.PostForm["plans"])
		}
		return
	}
	http.Redirect(w, r, s.groupHref(out.State.PublicID().String())+"?done="+done, http.StatusSeeOther)
}

// dashboardGroupEditPage is GET /dashboard/plan-groups/{id}/edit.
func (s *Server) dashboardGroupEditPage(w http.ResponseWriter, r *http.Request) {
	_, g, ok := s.dashboardGroup(w, r)
	if !ok {
		return
	}
	chosen := make([]string, len(g.Plans))
	for i, p := range g.Plans {
		chosen[i] = p.ID
	}
	ids := make([]string, len(g.PaymentPlans))
	for i, id := range g.PaymentPlans {
		ids[i] = strconv.FormatInt(id, 10)
	}
	s.renderGroupForm(w, r, http.StatusOK, templates.DashboardGroupForm{ID: g.ID, Name: g.Name,
		PaymentPlans: strings.Join(ids, ", ")}, chosen)
}

// dashboardGroupUpdate is POST /dashboard/plan-groups/{id}/edit: name and
// members replaced as PUT /api/v1/plan-groups/{id} replaces them; 303 to
// the group's page. A refused form is the form again (422), nothing
// changed.
func (s *Server) dashboardGroupUpdate(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	s.postGroupForm(w, r, id, "updated", func(ctx context.Context, cl caller, req *groupRequest) (groupOutcome, error) {
		return s.replaceGroupAs(ctx, cl, id, req)
	})
}

// dashboardGroupDeletePage is GET /dashboard/plan-groups/{id}/delete: the
// confirmation step.
func (s *Server) dashboardGroupDeletePage(w http.ResponseWriter, r *http.Request) {
	_, g, ok := s.dashboardGroup(w, r)
	if !ok {
		return
	}
	s.renderConfirmDelete(w, r, "/plan-groups", templates.DashboardConfirmDelete{What: "plan group", Name: g.Name, ID: g.ID,
		Action: s.groupHref(g.ID) + "/delete", Command: "delete-plan-group", Back: s.groupHref(g.ID),
		Consequence: "Its catalog plans and payment plans are not changed."})
}

// dashboardGroupDelete is POST /dashboard/plan-groups/{id}/delete: the
// group is deleted as DELETE /api/v1/plan-groups/{id} deletes it; 303 to
// the list.
func (s *Server) dashboardGroupDelete(w http.ResponseWriter, r *http.Request) {
	u, ok := s.dashboardForm(w, r)
	if !ok {
		return
	}
	if _, err := s.deleteGroupAs(r.Context(), s.dashboardCaller(r, u), chi.URLParam(r, "id")); err != nil {
		if _, ok := s.dashboardRefusal(w, r, err); ok {
			s.dashboardMessage(w, r, http.StatusConflict, templates.DashboardBadRequest)
		}
		return
	}
	http.Redirect(w, r, s.dash.root+"/plan-groups?done=deleted", http.StatusSeeOther)
}

// dashboardGroupPage is GET /dashboard/plan-groups/{id}: the group's
// members and report (groupReport, as GET
// /api/v1/plan-groups/{id}/report).
func (s *Server) dashboardGroupPage(w http.ResponseWriter, r *http.Request) {
	g, view, ok := s.dashboardGroup(w, r)
	if !ok {
		return
	}
	rep, err := s.groupReport(r.Context(), g)
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	shell, ok := s.dashboardShellFor(w, r, "/plan-groups")
	if !ok {
		return
	}
	v := templates.DashboardGroupReport{Shell: shell, ID: view.ID, Name: view.Name,
		Notice: doneNotice(r, map[string]string{"created": "The plan group was created.", "updated": "The plan group was saved."}),
		Report: reportView(rep)}
	for _, id := range view.PaymentPlans {
		sid := strconv.FormatInt(id, 10)
		v.PaymentPlans = append(v.PaymentPlans, templates.DashboardPlanLink{ID: sid, Href: s.dash.root + "/plans/" + sid})
	}
	renderDashboard(s, w, r, http.StatusOK, templates.DashboardGroupReportPage, v)
}

// reportView is a group report's figures as text.
func reportView(rep domain.GroupReport) templates.DashboardReport {
	v := templates.DashboardReport{PaymentPlans: rep.PaymentPlans.Count, CatalogPlans: rep.CatalogPlans.Count,
		Custom: rep.CatalogPlans.Custom}
	opt := func(d *domain.Decimal) string {
		if d == nil {
			return ""
		}
		return d.String()
	}
	for _, c := range rep.PaymentPlans.ByCurrency {
		cv := templates.DashboardReportCurrency{Currency: c.Currency, Count: c.Count, AmountOwed: c.AmountOwed.String(),
			Confirmed: c.Confirmed.String(), Reported: c.Reported.String(), Outstanding: c.Outstanding.String(),
			WrittenOff: c.WrittenOff.String(), Completed: c.Completed, Closed: c.Closed, CureRate: opt(c.CureRate),
			MedianDays: opt(c.MedianDaysToCompletion), ExtendedOrProposed: c.ExtendedOrProposed,
			ExtendedOrProposedShare: c.ExtendedOrProposedShare.String()}
		for _, st := range slices.Sorted(maps.Keys(c.ByStatus)) {
			cv.ByStatus = append(cv.ByStatus, templates.DashboardCount{Label: string(st), N: c.ByStatus[st]})
		}
		v.ByCurrency = append(v.ByCurrency, cv)
	}
	for _, i := range rep.CatalogPlans.ByIntervalAndCurrency {
		v.ByInterval = append(v.ByInterval, templates.DashboardReportInterval{Interval: string(i.Interval), Currency: i.Currency,
			Count: i.Count, Custom: i.Custom, MonthlyListPrice: i.MonthlyListPrice.String()})
	}
	for _, p := range rep.CatalogPlans.Plans {
		v.Catalog = append(v.Catalog, templates.DashboardReportCatalog{ID: p.ID, Currency: p.Currency,
			PricingMode: string(p.PricingMode), Every: every(string(p.Interval), p.IntervalCount),
			ListPrice: opt(p.ListPrice), MonthlyListPrice: opt(p.MonthlyListPrice)})
	}
	return v
}
