package api

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
	"goodplan/projections"
	"goodplan/templates"
)

// The dashboard's plan list (GET /dashboard/plans), its CSV exports
// (dashboard_export.go) and the create form (GET/POST /dashboard/plans/new).
// A plan's own page (/dashboard/plans/{id}) is another file's.

// dashboardPlansPageSize is how many plans a page of the list shows.
const dashboardPlansPageSize = 25

// maxPlanSearch bounds the search read (an email is at most 254).
const maxPlanSearch = 254

// dashboardPlanListRoutes registers the plan list, the exports and the create
// form (inside requireUser).
func (s *Server) dashboardPlanListRoutes(r chi.Router) {
	r.Get("/plans", s.dashboardPlans)
	r.Get("/plans/new", s.dashboardPlanNewPage)
	r.Post("/plans/new", s.dashboardPlanCreate)
	r.Get("/plans/export.csv", s.dashboardExportPlans)
	r.Get("/payments/export.csv", s.dashboardExportPayments)
}

// dashboardPlanPreviewRoutes registers the create form's live preview
// (outside requireUser: signed out, it too is a 303 to the sign-in page).
func (s *Server) dashboardPlanPreviewRoutes(r chi.Router) {
	r.With(s.requireUserOrSignIn).Post("/plans/new/preview", s.dashboardPlanPreview)
}

// planListFilter reads the list's filters from r's query string: status,
// attention (a kind of Needs attention: the plans it lists under it, as of
// now), q (the search), after and before (plan ids, keyset paging). A bad
// one is a message for the page.
func planListFilter(r *http.Request, accountID int64, now time.Time) (projections.PlanListQuery, string) {
	qs := r.URL.Query()
	q := projections.PlanListQuery{AccountID: accountID, Limit: dashboardPlansPageSize,
		Status: qs.Get("status"), Search: strings.TrimSpace(qs.Get("q")), Attention: qs.Get("attention"), Today: now}
	if len(q.Search) > maxPlanSearch {
		q.Search = q.Search[:maxPlanSearch]
	}
	if q.Status != "" && !domain.IsStatus(q.Status) {
		return q, "The status must be one of " + strings.Join(domain.StatusNames(), ", ") + "."
	}
	if q.Attention != "" && !projections.IsAttentionKind(q.Attention) {
		q.Attention = ""
		return q, "Needs attention must be one of " + strings.Join(projections.AttentionKinds, ", ") + "."
	}
	for _, k := range []struct {
		name string
		to   *int64
	}{{"after", &q.After}, {"before", &q.Before}} {
		if v := qs.Get(k.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return q, "The page link is not valid: start from the first page."
			}
			*k.to = n
		}
	}
	if q.After > 0 && q.Before > 0 {
		return q, "The page link is not valid: start from the first page."
	}
	return q, ""
}

// listHref is the path under the dashboard with q's filters (and extra
// query parameters, name then value).
func (s *Server) listHref(path string, q projections.PlanListQuery, extra ...string) string {
	v := url.Values{}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	if q.Attention != "" {
		v.Set("attention", q.Attention)
	}
	if q.Search != "" {
		v.Set("q", q.Search)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	if len(v) == 0 {
		return s.dash.root + path
	}
	return s.dash.root + path + "?" + v.Encode()
}

// dashboardPlans is GET /dashboard/plans?status=&attention=&q=&after=|before=:
// the account's plans, newest first, a page at a time. Needs attention's
// "All N" links lead here with attention set, for the rows past its first.
func (s *Server) dashboardPlans(w http.ResponseWriter, r *http.Request) {
	shell, err := s.dashboardShell(r, s.dash.root+"/plans")
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	q, bad := planListFilter(r, shell.AccountID, s.now())
	v := templates.DashboardPlans{Shell: shell, Status: q.Status, Search: q.Search, Statuses: domain.StatusNames(),
		Attention: q.Attention, Attentions: attentionChoices(), Filtered: q.Status != "" || q.Search != "" || q.Attention != "", Error: bad,
		ExportPlansHref: s.listHref("/plans/export.csv", q), ExportPaymentsHref: s.listHref("/payments/export.csv", q)}
	if bad != "" {
		renderDashboard(s, w, r, http.StatusBadRequest, templates.DashboardPlansPage, v)
		return
	}
	page, err := s.plans.ListPage(r.Context(), q)
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	for _, row := range page.Rows {
		v.Rows = append(v.Rows, templates.DashboardPlanRow{ID: row.PlanID, CustomerName: row.CustomerName,
			CustomerEmail: row.CustomerEmail, InvoiceNumber: row.InvoiceNumber, Status: row.Status,
			Amount: templates.Money(row.Amount, row.Currency), Outstanding: templates.Money(row.Outstanding, row.Currency),
			Created: row.CreatedAt.UTC().Format("2006-01-02")})
	}
	if n := len(page.Rows); n > 0 {
		if page.Older {
			v.OlderHref = s.listHref("/plans", q, "after", strconv.FormatInt(page.Rows[n-1].PlanID, 10))
		}
		if page.Newer {
			v.NewerHref = s.listHref("/plans", q, "before", strconv.FormatInt(page.Rows[0].PlanID, 10))
		}
	} else if q.After > 0 || q.Before > 0 {
		v.NewerHref = s.listHref("/plans", q) // past the end: back to the first page
	}
	renderDashboard(s, w, r, http.StatusOK, templates.DashboardPlansPage, v)
}

// attentionChoices are the list's attention filter's options, in Needs
// attention's order and words.
func attentionChoices() []templates.DashboardChoice {
	out := make([]templates.DashboardChoice, len(projections.AttentionKinds))
	for i, k := range projections.AttentionKinds {
		out[i] = templates.DashboardChoice{Value: k, Label: attentionText[k].title}
	}
	return out
}

// planIntervals are the intervals the create form offers.
var planIntervals = []string{string(domain.Weekly), string(domain.Biweekly), string(domain.Monthly)}

// dashboardPlanNewPage is GET /dashboard/plans/new: the create form with
// the API's defaults (monthly, 3, 6 and 12 payments, the introduction
// email sent).
func (s *Server) dashboardPlanNewPage(w http.ResponseWriter, r *http.Request) {
	s.renderPlanNew(w, r, http.StatusOK, templates.DashboardPlanNew{FormID: newFormID(),
		Form: templates.DashboardPlanForm{Currency: domain.DefaultCurrency, Intervals: []string{string(domain.Monthly)},
			Durations: "3, 6, 12", SendIntroductionEmail: true}})
}

func (s *Server) renderPlanNew(w http.ResponseWriter, r *http.Request, status int, v templates.DashboardPlanNew) {
	shell, err := s.dashboardShell(r, s.dash.root+"/plans")
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	v.Shell, v.Intervals = shell, planIntervals
	renderDashboard(s, w, r, status, templates.DashboardPlanNewPage, v)
}

// planFormOf reads the create form: its values as typed (to show again)
// and the create command they make, with the type errors of the fields
// the form parses itself (the durations), as decodeCreatePlan's.
func planFormOf(f url.Values) (templates.DashboardPlanForm, domain.CreatePlan, *domain.ValidationError) {
	form := templates.DashboardPlanForm{CustomerName: f.Get("customer.name"), CustomerEmail: f.Get("customer.email"),
		CustomerPhone: f.Get("customer.phone"), Amount: f.Get("invoice.amount"), Currency: f.Get("invoice.currency"),
		InvoiceNumber: f.Get("invoice.invoice_number"), Description: f.Get("invoice.description"),
		Intervals: f["options.intervals"], Durations: f.Get("options.durations"),
		FirstPaymentDate: f.Get("options.first_payment_date"), SendIntroductionEmail: f.Get("send_introduction_email") == "true"}
	cmd := domain.CreatePlan{CustomerName: form.CustomerName, CustomerEmail: form.CustomerEmail,
		CustomerPhone: form.CustomerPhone, Amount: strings.TrimSpace(form.Amount), Currency: strings.TrimSpace(form.Currency),
		InvoiceNumber: form.InvoiceNumber, Description: form.Description, FirstPaymentDate: strings.TrimSpace(form.FirstPaymentDate),
		SendIntroductionEmail: form.SendIntroductionEmail, Intervals: []string{}}
	// No interval ticked is an empty list (refused), not the API's default.
	cmd.Intervals = append(cmd.Intervals, form.Intervals...)
	var typeErrs domain.ValidationError
	if d := strings.TrimSpace(form.Durations); d != "" {
		for _, part := range strings.Split(d, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil || n < -1e6 || n > 1e6 {
				typeErrs.Add("options.durations", "The numbers of payments must be whole numbers separated by commas, e.g. 3, 6, 12.")
				cmd.Durations = nil
				break
			}
			cmd.Durations = append(cmd.Durations, n)
		}
	}
	if len(typeErrs.Fields) > 0 {
		return form, cmd, &typeErrs
	}
	return form, cmd, nil
}

// dashboardPlanCreate is POST /dashboard/plans/new: with the preview
// button, the form again with the options the plan would offer (the create
// run dry, as POST /api/v1/plans/quote: nothing recorded); otherwise the
// create command of POST /api/v1/plans, with the user as the actor, and a
// 303 to the new plan's page. The introduction email goes out as for the
// API (send_introduction_email). A form posted twice (its form_id) creates
// one plan. Refused: the form with the messages (422), nothing recorded.
func (s *Server) dashboardPlanCreate(w http.ResponseWriter, r *http.Request) {
	u, ok := s.dashboardForm(w, r)
	if !ok {
		return
	}
	preview := r.PostForm.Get("preview") != ""
	v, created, status := s.runPlanForm(r, u, preview)
	switch {
	case status >= http.StatusInternalServerError:
		s.dashboardMessage(w, r, http.StatusInternalServerError, templates.DashboardError)
	case status != http.StatusOK || preview:
		s.renderPlanNew(w, r, status, v)
	default:
		http.Redirect(w, r, s.dash.root+"/plans/"+strconv.FormatInt(created.PlanID, 10), http.StatusSeeOther)
	}
}

// dashboardPlanPreview is POST /dashboard/plans/new/preview, the create
// form's live preview (templates/dashboard/preview.js posts the form as it
// is typed): the preview button's dry run (runPlanForm, the path of POST
// /api/v1/plans/quote: nothing recorded, no email, no idempotency record),
// answered 200 with the preview card's contents only: the options, or the
// field errors the form would get. A form without the csrf field or from
// another origin is the 403 page, as every dashboard form; without a
// session, a 303 to the sign-in page.
func (s *Server) dashboardPlanPreview(w http.ResponseWriter, r *http.Request) {
	u, ok := s.dashboardForm(w, r)
	if !ok {
		return
	}
	v, _, status := s.runPlanForm(r, u, true)
	if status >= http.StatusInternalServerError {
		s.dashboardMessage(w, r, http.StatusInternalServerError, templates.DashboardError)
		return
	}
	v.Live = true
	s.writePage(w, r, http.StatusOK, "dashboard plan preview", func(w io.Writer) error {
		return templates.DashboardPlanNewPage.RenderPart(w, "plan-preview", v)
	})
}

// runPlanForm runs the create form r posted (user u's, admitted by
// dashboardForm) through the API's create path (runCreate), dry (a
// preview) or not: the one path of the form's two buttons and of its live
// preview. It returns the form's page values (the form as typed, its
// form_id, and the options of a dry run or the refusal's messages), the
// plan.created decided, and the status of the answer: 200, or the
// refusal's 4xx (v.Errors then says why), or 500 and up for an error on
// our side (logged by apiErrorOf).
func (s *Server) runPlanForm(r *http.Request, u dashboardUser, dry bool) (templates.DashboardPlanNew, domain.PlanCreated, int) {
	ctx := r.Context()
	form, cmd, typeErrs := planFormOf(r.PostForm)
	v := templates.DashboardPlanNew{FormID: r.PostForm.Get("form_id"), Form: form, Previewed: dry}
	if !validFormID(v.FormID) {
		v.FormID = newFormID()
	}
	acct, err := s.store.AccountByID(ctx, u.AccountID)
	var created domain.PlanCreated
	if err == nil {
		_, created, err = s.runCreate(ctx, acct, cmd, typeErrs, planCommand{DryRun: dry, Meta: s.dashboardMetadata(r, u)})
	}
	if err != nil {
		ae := s.apiErrorOf(r, err)
		if ae.Status < http.StatusInternalServerError {
			v.Errors = ae.Fields
			if len(v.Errors) == 0 {
				v.Errors = map[string][]string{"plan": {ae.Message}}
			}
		}
		return v, domain.PlanCreated{}, ae.Status
	}
	if dry {
		currency := created.Invoice.Currency
		for _, o := range created.Options {
			v.Options = append(v.Options, templates.DashboardPreviewOption{Installments: o.Installments,
				Interval: string(o.Interval), PaymentAmount: o.PaymentAmount.String() + " " + currency,
				FirstPaymentDate: o.FirstPaymentDate.String(), FinalPaymentDate: o.FinalPaymentDate.String()})
		}
	}
	return v, created, http.StatusOK
}
