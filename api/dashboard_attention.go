package api

import (
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

// The dashboard's summary pages: Needs attention (GET /dashboard, the
// landing page) and Overview (GET /dashboard/overview). Both only read the
// plan read model (projections/attention.go, overview.go: index scans on
// the account, see migration 015).

// attentionLimit is how many rows each Needs attention list shows.
const attentionLimit = 50

// webhookFailingWindow is how far back a failed delivery makes its
// endpoint "failing".
const webhookFailingWindow = 7 * 24 * time.Hour

// attentionText is what each kind's section says.
var attentionText = map[string]struct{ title, since, empty string }{
	projections.AttentionPaymentReported: {"Reported payments to confirm", "Reported on",
		"No payment waits for your confirmation."},
	projections.AttentionProposalPending: {"Proposals to answer", "Proposed on", "No proposal waits for your answer."},
	projections.AttentionInstallmentOverdue: {"Overdue installments", "Due on",
		"No installment is overdue."},
	projections.AttentionCheckinUnanswered: {"Check-ins left unanswered", "Reminded on",
		"Every check-in was answered (or its installment is paid)."},
	projections.AttentionWebhookFailing: {"Failing webhook endpoints", "Last failure",
		"Every webhook endpoint delivers."},
}

// dashboardSummaryRoutes registers the summary pages (inside the
// requireUser group).
func (s *Server) dashboardSummaryRoutes(r chi.Router) {
	r.Get("/", s.dashboardHome)
	r.Get("/overview", s.dashboardOverview)
}

// dashboardHome is GET /dashboard, the landing page: Needs attention.
func (s *Server) dashboardHome(w http.ResponseWriter, r *http.Request) {
	shell, err := s.dashboardShell(r, s.dash.root)
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	u := dashboardUserOf(r)
	now := s.now().UTC()
	lists, err := s.plans.Attention(r.Context(), u.AccountID, now, attentionLimit)
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	v := templates.DashboardHome{Shell: shell, Today: now.Format(time.DateOnly)}
	for _, l := range lists {
		v.Lists = append(v.Lists, s.attentionList(l))
	}
	if u.owner() { // a member cannot manage webhooks: not theirs to attend to
		eps, total, err := s.plans.FailingEndpoints(r.Context(), u.AccountID, now.Add(-webhookFailingWindow), attentionLimit)
		if err != nil {
			s.dashboardFail(w, r, err)
			return
		}
		v.Endpoints = s.failingEndpointsList(eps, total)
	}
	renderDashboard(s, w, r, http.StatusOK, templates.DashboardHomePage, v)
}

// attentionSection is the head of a kind's section: its texts, count and
// the link to all of it when the rows are not all.
func (s *Server) attentionSection(kind string, total int64, shown int, more string) templates.DashboardAttentionList {
	t := attentionText[kind]
	l := templates.DashboardAttentionList{Kind: kind, Title: t.title, SinceHeader: t.since, Empty: t.empty,
		Total: strconv.FormatInt(total, 10), Rows: []templates.DashboardAttentionRow{}}
	if total >= projections.AttentionCountCap {
		l.Total += " or more"
	}
	if total > int64(shown) {
		l.More = more
	}
	return l
}

// attentionList is one kind's list of plans; More is the plans list
// filtered to the kind (/dashboard/plans?attention=kind).
func (s *Server) attentionList(l projections.AttentionList) templates.DashboardAttentionList {
	v := s.attentionSection(l.Kind, l.Total, len(l.Items), s.dash.root+"/plans?"+url.Values{"attention": {l.Kind}}.Encode())
	for _, it := range l.Items {
		id := strconv.FormatInt(it.PlanID, 10)
		v.Rows = append(v.Rows, templates.DashboardAttentionRow{PlanID: it.PlanID, Href: s.dash.root + "/plans/" + id,
			Label: "Plan " + id, Customer: it.CustomerName, Email: it.CustomerEmail, Invoice: it.InvoiceNumber,
			Amount: templates.Money(it.Amount, strings.ToUpper(it.Currency)), Since: it.Since.Format(time.DateOnly)})
	}
	return v
}

// failingEndpointsList is the failing webhook endpoints' list: each row
// links to the endpoint's delivery log on the Developers pages and, when
// the latest failed delivery carried a payment plan's event, to that plan
// (data-plan-id on the row, like every other kind's).
func (s *Server) failingEndpointsList(eps []projections.FailingEndpoint, total int64) *templates.DashboardAttentionList {
	v := s.attentionSection(projections.AttentionWebhookFailing, total, len(eps), s.dash.root+"/developers")
	for _, e := range eps {
		id := strconv.FormatInt(e.EndpointID, 10)
		failures := strconv.FormatInt(e.Failures, 10)
		if e.Failures >= projections.FailingEndpointCap {
			failures += " or more"
		}
		if e.Disabled {
			failures += " (disabled)"
		}
		row := templates.DashboardAttentionRow{EndpointID: e.EndpointID,
			Href: s.dash.root + "/developers/webhooks/" + id, Label: e.URL, Amount: failures,
			Since: e.LastFailure.Format(time.DateOnly)}
		if e.LastPlanID > 0 {
			row.PlanID = e.LastPlanID
			row.PlanHref = s.dash.root + "/plans/" + strconv.FormatInt(e.LastPlanID, 10)
		}
		v.Rows = append(v.Rows, row)
	}
	return &v
}

// dashboardOverview is GET /dashboard/overview.
func (s *Server) dashboardOverview(w http.ResponseWriter, r *http.Request) {
	shell, err := s.dashboardShell(r, s.dash.root+"/overview")
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	facts, err := s.plans.OverviewFacts(r.Context(), dashboardUserOf(r).AccountID, s.now())
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	o, err := domain.BuildOverview(facts)
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	renderDashboard(s, w, r, http.StatusOK, templates.DashboardOverviewPage, overviewView(shell, facts.Weeks, o))
}

// overviewView lays out o for the page: labels and the charts' positions.
func overviewView(shell *templates.DashboardShell, weeks []domain.Date, o domain.Overview) templates.DashboardOverview {
	v := templates.DashboardOverview{Shell: shell, FirstWeek: weeks[0].String(),
		LastWeek: weeks[len(weeks)-1].AddDays(6).String(), Plans: o.Plans, Completed: o.Completed, Closed: o.Closed}
	if o.CurePercent != nil {
		v.CurePercent = o.CurePercent.String()
	}
	if o.MedianDaysToCompletion != nil {
		v.MedianDays = o.MedianDaysToCompletion.String()
	}
	for i, c := range o.Cash {
		chart := templates.DashboardCashChart{ID: "cash-" + strconv.Itoa(i), Currency: strings.ToUpper(c.Currency),
			Width: len(c.Weeks) * templates.DashboardCashWeekWidth, Due: c.Due.String(), Collected: c.Collected.String(),
			Max: c.Max.String()}
		if c.CollectedPercent != nil {
			chart.CollectedPercent = c.CollectedPercent.String()
		}
		for j, wk := range c.Weeks {
			x := j*templates.DashboardCashWeekWidth + 2
			chart.Weeks = append(chart.Weeks, templates.DashboardCashWeek{Week: wk.Week.String(), X: x,
				CollectedX: x + templates.DashboardCashBarWidth, Due: wk.Due.String(), Collected: wk.Collected.String(),
				DueHeight: wk.DueHeight.String(), CollectedHeight: wk.CollectedHeight.String()})
		}
		v.Cash = append(v.Cash, chart)
	}
	for i, c := range o.Outstanding {
		chart := templates.DashboardStatusChart{ID: "status-" + strconv.Itoa(i), Currency: strings.ToUpper(c.Currency),
			Height: len(c.Rows) * templates.DashboardStatusRowStep, Outstanding: c.Outstanding.String()}
		for j, row := range c.Rows {
			chart.Rows = append(chart.Rows, templates.DashboardStatusRow{Status: string(row.Status),
				Label: strings.ReplaceAll(string(row.Status), "_", " "), Y: j * templates.DashboardStatusRowStep,
				Plans: row.Plans, Outstanding: row.Outstanding.String(), Width: row.Width.String()})
		}
		v.Outstanding = append(v.Outstanding, chart)
	}
	return v
}
