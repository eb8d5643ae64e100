package api

import (
	"cmp"
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
	"goodplan/projections"
	"goodplan/templates"
)

// The dashboard's catalog plans: the list (filters and keyset paging in
// the query string, as GET /api/v1/catalog/plans), the create form, a
// plan's page with a quote and the edit form, and the delete with its
// confirmation step. Every change runs the API's own helpers
// (createCatalogPlanAs, catalogCommandAs) with the user as the caller.

// dashboardPageSize is the rows of a dashboard list page.
const dashboardPageSize = 25

// Rows of the create form: empty tier and metadata rows offered (no
// script adds rows), and the most rows read back.
const (
	formTierRows     = 5
	formMetadataRows = 3
	maxFormRows      = 100
)

var (
	catalogIntervals    = []string{string(domain.Day), string(domain.Week), string(domain.Month), string(domain.Year)}
	catalogPricingModes = []string{string(domain.PerUnit), string(domain.Volume), string(domain.Tiered), string(domain.Custom)}
)

// dashboardCatalogRoutes registers the catalog and plan group pages
// (inside requireUser).
func (s *Server) dashboardCatalogRoutes(r chi.Router) {
	r.Get("/catalog", s.dashboardCatalogList)
	r.Get("/catalog/new", s.dashboardCatalogNewPage)
	r.Post("/catalog/new", s.dashboardCatalogCreate)
	r.Get("/catalog/{id}", s.dashboardCatalogPlanPage)
	r.Post("/catalog/{id}/edit", s.dashboardCatalogUpdate)
	r.Get("/catalog/{id}/delete", s.dashboardCatalogDeletePage)
	r.Post("/catalog/{id}/delete", s.dashboardCatalogDelete)
	s.dashboardGroupRoutes(r)
}

// dashboardCaller is the caller of a command a dashboard user runs: the
// user's account and dashboardMetadata (the user as the actor, the
// form_id's command id).
func (s *Server) dashboardCaller(r *http.Request, u dashboardUser) caller {
	return caller{account: u.AccountID, meta: s.dashboardMetadata(r, u)}
}

// dashboardRefusal sorts out a command's error for a form page: a refusal
// the form can fix (a 4xx other than 404) gives its messages and true; a
// 404 or a failure on our side has been answered with its page, and gives
// false.
func (s *Server) dashboardRefusal(w http.ResponseWriter, r *http.Request, err error) ([]string, bool) {
	ae := s.apiErrorOf(r, err)
	switch {
	case ae.Status == http.StatusNotFound:
		s.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardNotFound)
		return nil, false
	case ae.Status >= http.StatusInternalServerError:
		s.dashboardMessage(w, r, http.StatusInternalServerError, templates.DashboardError)
		return nil, false
	}
	return problemMessages(ae), true
}

// problemMessages are ae's field messages, by field name, or its message.
func problemMessages(ae *apiError) []string {
	var out []string
	for _, f := range slices.Sorted(maps.Keys(ae.Fields)) {
		out = append(out, ae.Fields[f]...)
	}
	if len(out) == 0 {
		out = append(out, cmp.Or(ae.Message, ae.Title))
	}
	return out
}

// dashboardShellFor is the shell of a page of section (a path under the
// dashboard's root), or false having answered with the 500 page.
func (s *Server) dashboardShellFor(w http.ResponseWriter, r *http.Request, section string) (*templates.DashboardShell, bool) {
	shell, err := s.dashboardShell(r, s.dash.root+section)
	if err != nil {
		s.dashboardFail(w, r, err)
		return nil, false
	}
	return shell, true
}

// doneNotice is the notice of what r's query says was just done
// (done=kind), if texts (kind -> text) has the kind; nil otherwise.
func doneNotice(r *http.Request, texts map[string]string) *templates.DashboardNotice {
	kind := r.URL.Query().Get("done")
	if text, ok := texts[kind]; ok {
		return &templates.DashboardNotice{Kind: kind, Text: text}
	}
	return nil
}

// nextPage is the link to the page after the one shown at path with
// query q: q with starting_after set to last.
func nextPage(path string, q url.Values, last string) string {
	next := url.Values{}
	for k, v := range q {
		if k != "starting_after" && k != "done" {
			next[k] = v
		}
	}
	next.Set("starting_after", last)
	return path + "?" + next.Encode()
}

// dashboardCatalogList is GET /dashboard/catalog?currency=&interval=
// &active=&starting_after=: the account's catalog plans not deleted,
// newest first, filtered and paged as GET /api/v1/catalog/plans.
func (s *Server) dashboardCatalogList(w http.ResponseWriter, r *http.Request) {
	shell, ok := s.dashboardShellFor(w, r, "/catalog")
	if !ok {
		return
	}
	q := r.URL.Query()
	v := templates.DashboardCatalogList{Shell: shell, Currency: q.Get("currency"), Interval: q.Get("interval"),
		Active: q.Get("active"), Intervals: catalogIntervals,
		Notice: doneNotice(r, map[string]string{"deleted": "The catalog plan was deleted."})}
	if q.Get("limit") == "" {
		q.Set("limit", strconv.Itoa(dashboardPageSize))
	}
	lq, err := catalogListQuery(shell.AccountID, q)
	var items []projections.CatalogPlan
	var more bool
	if err == nil {
		items, more, err = s.listCatalog(r.Context(), lq)
	}
	status := http.StatusOK
	if err != nil {
		msgs, ok := s.dashboardRefusal(w, r, err)
		if !ok {
			return
		}
		v.Error, status = strings.Join(msgs, " "), http.StatusUnprocessableEntity
	}
	for _, p := range items {
		v.Items = append(v.Items, templates.DashboardCatalogRow{ID: p.ID, Href: s.catalogHref(p.ID), Name: p.Name,
			Price: catalogPrice(p), Every: every(string(p.Interval), p.IntervalCount), PricingMode: string(p.PricingMode),
			Active: p.Active})
	}
	if more {
		v.Next = nextPage(s.dash.root+"/catalog", r.URL.Query(), items[len(items)-1].ID)
	}
	renderDashboard(s, w, r, status, templates.DashboardCatalogListPage, v)
}

func (s *Server) catalogHref(id string) string { return s.dash.root + "/catalog/" + url.PathEscape(id) }

// catalogPrice is a plan's list price as shown: the amount per unit, the
// tiers' count, or custom.
func catalogPrice(p projections.CatalogPlan) string {
	switch {
	case p.PricingMode == domain.Custom:
		return "Custom pricing"
	case len(p.Tiers) > 0:
		return p.Currency + ", " + strconv.Itoa(len(p.Tiers)) + " tiers"
	case p.Amount != nil:
		return p.Currency + " " + p.Amount.String()
	}
	return p.Currency
}

// every is a billing interval as shown: "every month", "every 3 weeks".
func every(interval string, count int) string {
	if count <= 1 {
		return "every " + interval
	}
	return "every " + strconv.Itoa(count) + " " + interval + "s"
}

// dashboardCatalogNewPage is GET /dashboard/catalog/new.
func (s *Server) dashboardCatalogNewPage(w http.ResponseWriter, r *http.Request) {
	s.renderCatalogNew(w, r, http.StatusOK, templates.DashboardCatalogForm{Active: true,
		PricingMode: string(domain.PerUnit), Interval: string(domain.Month), IntervalCount: "1"})
}

func (s *Server) renderCatalogNew(w http.ResponseWriter, r *http.Request, status int, v templates.DashboardCatalogForm) {
	shell, ok := s.dashboardShellFor(w, r, "/catalog")
	if !ok {
		return
	}
	v.Shell, v.FormID = shell, newFormID()
	v.PricingModes, v.Intervals = catalogPricingModes, catalogIntervals
	for len(v.Tiers) < formTierRows {
		v.Tiers = append(v.Tiers, templates.DashboardTierRow{})
	}
	v.Metadata = padMetadata(v.Metadata)
	renderDashboard(s, w, r, status, templates.DashboardCatalogNewPage, v)
}

// padMetadata is rows with formMetadataRows empty rows after them.
func padMetadata(rows []templates.DashboardMetaRow) []templates.DashboardMetaRow {
	return append(rows, make([]templates.DashboardMetaRow, formMetadataRows)...)
}

// dashboardCatalogCreate is POST /dashboard/catalog/new: the plan is
// created as POST /api/v1/catalog/plans creates it, with the user as the
// actor; 303 to its page. A refused form is the form again (422) with the
// problems, and nothing created. The same form posted twice creates once.
func (s *Server) dashboardCatalogCreate(w http.ResponseWriter, r *http.Request) {
	u, ok := s.dashboardForm(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	cmd, typeErrs := createCatalogPlanForm(f)
	out, err := s.createCatalogPlanAs(r.Context(), s.dashboardCaller(r, u), cmd, typeErrs)
	if err != nil {
		msgs, ok := s.dashboardRefusal(w, r, err)
		if ok {
			v := templates.DashboardCatalogForm{ID: f.Get("id"), Name: f.Get("name"), Description: f.Get("description"),
				InvoiceDisplayName: f.Get("invoice_display_name"), CatalogItem: f.Get("catalog_item"),
				Currency: f.Get("currency"), Amount: f.Get("amount"), PricingMode: f.Get("pricing_mode"),
				Interval: f.Get("interval"), IntervalCount: f.Get("interval_count"), Active: f.Get("active") == "true",
				Metadata: formMetaRows(f), Errors: msgs}
			for i := range formRows(f, "tier_min_qty", "tier_max_qty", "tier_unit_cost") {
				v.Tiers = append(v.Tiers, templates.DashboardTierRow{MinQty: f["tier_min_qty"][i],
					MaxQty: f["tier_max_qty"][i], UnitCost: f["tier_unit_cost"][i]})
			}
			s.renderCatalogNew(w, r, http.StatusUnprocessableEntity, v)
		}
		return
	}
	http.Redirect(w, r, s.catalogHref(out.State.PublicID())+"?done=created", http.StatusSeeOther)
}

// formRows is the number of rows of the repeated fields names (each row
// one value of each; a field with fewer values is padded with ""),
// at most maxFormRows.
func formRows(f url.Values, names ...string) int {
	n := 0
	for _, name := range names {
		n = max(n, len(f[name]))
	}
	n = min(n, maxFormRows)
	for _, name := range names {
		for len(f[name]) < n {
			f[name] = append(f[name], "")
		}
	}
	return n
}

// formMetaRows are the metadata rows of a form as posted, empty ones left
// out.
func formMetaRows(f url.Values) []templates.DashboardMetaRow {
	var rows []templates.DashboardMetaRow
	for i := range formRows(f, "meta_key", "meta_value") {
		if k, v := f["meta_key"][i], f["meta_value"][i]; k != "" || v != "" {
			rows = append(rows, templates.DashboardMetaRow{Key: k, Value: v})
		}
	}
	return rows
}

// formMetadata reads the metadata rows (meta_key, meta_value) of a form:
// empty rows are ignored, a value without a key or a key given twice is a
// problem in ve.
func formMetadata(f url.Values, ve *domain.ValidationError) map[string]string {
	m := map[string]string{}
	for _, row := range formMetaRows(f) {
		switch _, dup := m[row.Key]; {
		case row.Key == "":
			ve.Add("metadata", "Each metadata value needs a key.")
		case dup:
			ve.Add("metadata."+row.Key, "The metadata key "+strconv.Quote(row.Key)+" is given twice.")
		default:
			m[row.Key] = row.Value
		}
	}
	return m
}

// formInt reads the whole number of field value (nil for ""), a problem
// in ve otherwise.
func formInt(ve *domain.ValidationError, field, value string) *int64 {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		ve.Add(field, "The "+field+" must be a whole number.")
		return nil
	}
	return &n
}

// createCatalogPlanForm reads the create form into the command's raw
// fields, as decodeCreateCatalogPlan reads the API's body: the tier rows
// (tier_min_qty, tier_max_qty, tier_unit_cost; empty rows ignored) and
// metadata rows (meta_key, meta_value), active a checkbox. Type problems
// are returned to be merged with the domain's.
func createCatalogPlanForm(f url.Values) (domain.CreateCatalogPlan, *domain.ValidationError) {
	var ve domain.ValidationError
	active := f.Get("active") == "true"
	cmd := domain.CreateCatalogPlan{ID: strings.TrimSpace(f.Get("id")), Name: f.Get("name"), Description: f.Get("description"),
		InvoiceDisplayName: f.Get("invoice_display_name"), CatalogItem: f.Get("catalog_item"),
		Currency: f.Get("currency"), Amount: f.Get("amount"), PricingMode: f.Get("pricing_mode"),
		Interval: f.Get("interval"), IntervalCount: formInt(&ve, "interval_count", f.Get("interval_count")),
		Metadata: formMetadata(f, &ve), Active: &active}
	for i := range formRows(f, "tier_min_qty", "tier_max_qty", "tier_unit_cost") {
		minQ, maxQ, cost := f["tier_min_qty"][i], f["tier_max_qty"][i], strings.TrimSpace(f["tier_unit_cost"][i])
		if strings.TrimSpace(minQ+maxQ) == "" && cost == "" {
			continue
		}
		p := "tiers." + strconv.Itoa(len(cmd.Tiers)) + "."
		cmd.Tiers = append(cmd.Tiers, domain.TierInput{MinQty: formInt(&ve, p+"min_qty", minQ),
			MaxQty: formInt(&ve, p+"max_qty", maxQ), UnitCost: cost})
	}
	if len(ve.Fields) == 0 {
		return cmd, nil
	}
	return cmd, &ve
}

// dashboardCatalogPlan reads the plan the route names in the user's
// account, or answers with the 404 page (another account's, unknown or
// deleted) or the 500 page, and false.
func (s *Server) dashboardCatalogPlan(w http.ResponseWriter, r *http.Request) (projections.CatalogPlan, bool) {
	p, err := s.readCatalogPlanIn(r.Context(), dashboardUserOf(r).AccountID, chi.URLParam(r, "id"))
	if err == nil && p.DeletedAt != nil {
		err = catalogNotFound(p.ID)
	}
	if err != nil {
		s.dashboardRefusal(w, r, err) // a 404 or a failure: both answered
		return p, false
	}
	return p, true
}

// dashboardCatalogPlanPage is GET /dashboard/catalog/{id}?quantity=: the
// plan, with the quote of quantity when one is asked for (as POST
// /api/v1/catalog/plans/{id}/quote computes it).
func (s *Server) dashboardCatalogPlanPage(w http.ResponseWriter, r *http.Request) {
	p, ok := s.dashboardCatalogPlan(w, r)
	if !ok {
		return
	}
	v := templates.DashboardCatalogPlan{Notice: doneNotice(r, map[string]string{"created": "The catalog plan was created.",
		"updated": "The catalog plan was saved."}), Edit: templates.DashboardCatalogEdit{
		Name: p.Name, Description: p.Description, InvoiceDisplayName: p.InvoiceDisplayName, Active: p.Active}}
	v.Edit.Metadata = metadataRows(p.Metadata)
	status := http.StatusOK
	if v.Quantity = r.URL.Query().Get("quantity"); v.Quantity != "" {
		q, err := s.dashboardQuote(r.Context(), dashboardUserOf(r).AccountID, p.ID, v.Quantity)
		if err != nil {
			msgs, ok := s.dashboardRefusal(w, r, err)
			if !ok {
				return
			}
			v.QuoteError, status = strings.Join(msgs, " "), http.StatusUnprocessableEntity
		}
		v.Quote = q
	}
	s.renderCatalogPlan(w, r, status, p, v)
}

// dashboardQuote prices quantity (text) of the plan pid of account.
func (s *Server) dashboardQuote(ctx context.Context, account int64, pid, quantity string) (*templates.DashboardQuote, error) {
	n, err := domain.ParseDecimal(strings.TrimSpace(quantity))
	if err != nil {
		return nil, &apiError{Status: http.StatusUnprocessableEntity, Title: "Validation failed",
			Message: "The quantity must be a decimal number."}
	}
	q, err := s.quoteCatalogPlanIn(ctx, account, pid, n)
	if err != nil {
		return nil, err
	}
	v := &templates.DashboardQuote{Quantity: q.Quantity.String(), Currency: q.Currency, Total: q.Total.String()}
	for _, l := range q.Lines {
		line := templates.DashboardQuoteLine{Quantity: l.Quantity.String(), UnitCost: l.UnitCost.String(), Amount: l.Amount.String()}
		if l.Tier != nil {
			line.Tier = strconv.Itoa(*l.Tier)
		}
		v.Lines = append(v.Lines, line)
	}
	return v, nil
}

// metadataRows are m's entries by key.
func metadataRows(m map[string]string) []templates.DashboardMetaRow {
	var rows []templates.DashboardMetaRow
	for _, k := range slices.Sorted(maps.Keys(m)) {
		rows = append(rows, templates.DashboardMetaRow{Key: k, Value: m[k]})
	}
	return rows
}

// renderCatalogPlan writes p's page with v's quote, edit form and notice.
func (s *Server) renderCatalogPlan(w http.ResponseWriter, r *http.Request, status int, p projections.CatalogPlan,
	v templates.DashboardCatalogPlan) {
	shell, ok := s.dashboardShellFor(w, r, "/catalog")
	if !ok {
		return
	}
	v.Shell, v.FormID = shell, newFormID()
	v.Edit.Metadata = padMetadata(v.Edit.Metadata)
	d := templates.DashboardCatalogDetail{ID: p.ID, Href: s.catalogHref(p.ID), Name: p.Name, Description: p.Description,
		InvoiceDisplayName: p.InvoiceDisplayName, CatalogItem: p.CatalogItem, Currency: p.Currency, Price: catalogPrice(p),
		PricingMode: string(p.PricingMode), QuantityType: string(p.QuantityType), Every: every(string(p.Interval), p.IntervalCount),
		Active: p.Active, Created: p.CreatedAt.Format("2006-01-02"), Updated: p.UpdatedAt.Format("2006-01-02"),
		Quotable: p.PricingMode != domain.Custom}
	for _, t := range p.Tiers {
		row := templates.DashboardTierRow{UnitCost: t.UnitCost.String()}
		if t.MinQty != nil {
			row.MinQty = strconv.FormatInt(*t.MinQty, 10)
		}
		if t.MaxQty != nil {
			row.MaxQty = strconv.FormatInt(*t.MaxQty, 10)
		}
		d.Tiers = append(d.Tiers, row)
	}
	d.Metadata = metadataRows(p.Metadata)
	v.Plan = d
	renderDashboard(s, w, r, status, templates.DashboardCatalogPlanPage, v)
}

// dashboardCatalogUpdate is POST /dashboard/catalog/{id}/edit (name,
// description, invoice_display_name, the metadata rows, active): the
// update PATCH /api/v1/catalog/plans/{id} runs, with every field given
// (the metadata replaced whole); 303 to the plan's page. A refused form is
// the page again (422) with the problems, nothing changed.
func (s *Server) dashboardCatalogUpdate(w http.ResponseWriter, r *http.Request) {
	u, ok := s.dashboardForm(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	var ve domain.ValidationError
	name, desc, display, active := f.Get("name"), f.Get("description"), f.Get("invoice_display_name"), f.Get("active") == "true"
	meta := formMetadata(f, &ve)
	cmd := domain.UpdateCatalogPlan{Name: &name, Description: &desc, InvoiceDisplayName: &display, Metadata: &meta,
		Active: &active, Now: s.now()}
	typeErrs := &ve
	if len(ve.Fields) == 0 {
		typeErrs = nil
	}
	pid := chi.URLParam(r, "id")
	_, err := s.catalogCommandAs(r.Context(), s.dashboardCaller(r, u), pid, nil,
		func(p *domain.CatalogPlan) ([]domain.Event, error) {
			events, err := p.Update(cmd)
			return events, mergeValidation(typeErrs, err)
		})
	if err != nil {
		msgs, ok := s.dashboardRefusal(w, r, err)
		if !ok {
			return
		}
		p, ok := s.dashboardCatalogPlan(w, r)
		if !ok {
			return
		}
		s.renderCatalogPlan(w, r, http.StatusUnprocessableEntity, p, templates.DashboardCatalogPlan{EditErrors: msgs,
			Edit: templates.DashboardCatalogEdit{Name: name, Description: desc, InvoiceDisplayName: display,
				Metadata: formMetaRows(f), Active: active}})
		return
	}
	http.Redirect(w, r, s.catalogHref(pid)+"?done=updated", http.StatusSeeOther)
}

// dashboardCatalogDeletePage is GET /dashboard/catalog/{id}/delete: the
// confirmation step.
func (s *Server) dashboardCatalogDeletePage(w http.ResponseWriter, r *http.Request) {
	p, ok := s.dashboardCatalogPlan(w, r)
	if !ok {
		return
	}
	s.renderConfirmDelete(w, r, "/catalog", templates.DashboardConfirmDelete{What: "catalog plan", Name: cmp.Or(p.Name, p.ID),
		ID: p.ID, Action: s.catalogHref(p.ID) + "/delete", Command: "delete-catalog-plan", Back: s.catalogHref(p.ID),
		Consequence: "It leaves the catalog and every plan group it is in, and its id can be used again. Payment plans are not changed."})
}

func (s *Server) renderConfirmDelete(w http.ResponseWriter, r *http.Request, section string, v templates.DashboardConfirmDelete) {
	shell, ok := s.dashboardShellFor(w, r, section)
	if !ok {
		return
	}
	v.Shell, v.FormID = shell, newFormID()
	renderDashboard(s, w, r, http.StatusOK, templates.DashboardConfirmDeletePage, v)
}

// dashboardCatalogDelete is POST /dashboard/catalog/{id}/delete: the
// delete DELETE /api/v1/catalog/plans/{id} runs; 303 to the list.
func (s *Server) dashboardCatalogDelete(w http.ResponseWriter, r *http.Request) {
	u, ok := s.dashboardForm(w, r)
	if !ok {
		return
	}
	_, err := s.catalogCommandAs(r.Context(), s.dashboardCaller(r, u), chi.URLParam(r, "id"), releaseCatalogPlan,
		s.decideCatalogDelete())
	if err != nil {
		if msgs, ok := s.dashboardRefusal(w, r, err); ok {
			s.log.WarnContext(r.Context(), "dashboard delete refused", "messages", msgs)
			s.dashboardMessage(w, r, http.StatusConflict, templates.DashboardBadRequest)
		}
		return
	}
	http.Redirect(w, r, s.dash.root+"/catalog?done=deleted", http.StatusSeeOther)
}
