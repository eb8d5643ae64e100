package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
	"goodplan/templates"
)

// A plan's page in the dashboard (GET /dashboard/plans/{id}) and its
// command forms (POST /dashboard/plans/{id}/{command}). Each form runs the
// lifecycle API's own decision (lifecycle.go) through the same command
// path, with the user as the actor (dashboardMetadata), once per form_id,
// and only on the version of the plan the page showed.

// planPageEvents is how many events of the history a plan page shows.
const planPageEvents = 50

// planPageWebhooks is how many webhook deliveries a plan page shows.
const planPageWebhooks = 50

// errPlanChanged: a form was posted for a version of the plan that is not
// the current one (someone or something acted meanwhile).
var errPlanChanged = errors.New("the plan changed since the form was shown")

// dashboardPlanRoutes registers the plan page and its forms (inside
// requireUser).
func (s *Server) dashboardPlanRoutes(r chi.Router) {
	r.Get("/plans/{id}", s.dashboardPlanPage)
	r.Post("/plans/{id}/copy-portal-link", s.dashboardCopyPortalLink)
	r.Post("/plans/{id}/{command}", s.dashboardPlanCommand)
}

// dashboardPlanPage is GET /dashboard/plans/{id}[?before=version][&done=command]:
// the plan as it is now, the events before version before (default: the
// newest), and the notice of the command just done. After a portal-link
// or a copy-portal-link form, the plan's link is shown this once (see
// portalLinkCookie).
func (s *Server) dashboardPlanPage(w http.ResponseWriter, r *http.Request) {
	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			s.dashboardMessage(w, r, http.StatusBadRequest, templates.DashboardBadRequest)
			return
		}
		before = n
	}
	v := templates.DashboardPlan{Notice: r.URL.Query().Get("done")}
	if _, known := dashboardPlanCommands[v.Notice]; !known || v.Notice == "portal-link" {
		// The notice names a command; nothing else from the URL is shown
		// (nor portal-link's, which goes with the new link only, nor
		// copy-portal-link's, with the current one).
		v.Notice = ""
	}
	var flash string
	if c, err := r.Cookie(portalLinkCookie); err == nil {
		flash = c.Value
		s.setPortalLinkCookie(w, r, "", -1) // shown once: this answer is the one
	}
	s.renderPlanPage(w, r, http.StatusOK, before, flash, v)
}

// portalLinkCookie carries, from a portal-link or copy-portal-link form's
// 303 to the plan's page, what lets that page show the plan's portal link
// once, never the link itself (a bearer secret of the customer's is never
// in a URL or a cookie):
//   - after portal-link, the version of the event that made the new link:
//     the page shows it while it is still the plan's, made by this user
//     within newLinkShownFor (see newPortalURL);
//   - after copy-portal-link, "c." + expiry + "." + a MAC binding the
//     user, the session, the plan, the expiry and a hash of the link it
//     revealed (see revealValue): the page shows the current link while
//     it is still that one and works, to that session, until the expiry.
//
// The page clears the cookie, so a reload shows the link no more.
const portalLinkCookie = "goodplan_new_portal_link"

// newLinkShownFor is how long after it was made a new portal link may be
// shown (the cookie's lifetime too).
const newLinkShownFor = 5 * time.Minute

// revealShownFor is how long after a copy-portal-link form its page may
// show the current link (the cookie's lifetime too): long enough for the
// 303 it answers with.
const revealShownFor = time.Minute

// dashboardRevealSecret names the installation-wide key of the
// copy-portal-link cookie's MAC.
const dashboardRevealSecret = "dashboard-portal-link-reveal"

// setPortalLinkCookie sets (maxAge > 0) or removes (maxAge < 0) the
// portal-link cookie of r's plan page: HttpOnly, SameSite=Lax, Secure as
// the session's, sent only to that plan's page.
func (s *Server) setPortalLinkCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	id, _ := planID(r)
	http.SetCookie(w, &http.Cookie{Name: portalLinkCookie, Value: value, MaxAge: maxAge,
		Path: s.dash.root + "/plans/" + strconv.FormatInt(id, 10), HttpOnly: true, Secure: s.dash.secureCookie,
		SameSite: http.SameSiteLaxMode})
}

// flashedPortalURL returns the portal link of plan p that the portal-link
// cookie's value flash lets user u's page show now, and the notice that
// goes with it ("portal-link" for a new link, "copy-portal-link" for the
// current one); "" and "" for none.
func (s *Server) flashedPortalURL(ctx context.Context, p *domain.Plan, u dashboardUser, flash string) (string, string, error) {
	if rest, ok := strings.CutPrefix(flash, "c."); ok {
		expires, _, _ := strings.Cut(rest, ".")
		exp, err := strconv.ParseInt(expires, 10, 64)
		if err != nil || !s.now().Before(time.Unix(exp, 0)) || !p.PortalLinkWorks(p.PortalToken(), s.now()) {
			return "", "", nil
		}
		want, err := s.revealValue(ctx, u, p.ID(), p.PortalToken(), exp)
		if err != nil || !hmac.Equal([]byte(flash), []byte(want)) {
			return "", "", err
		}
		return projections.PortalURL(s.publicURL, p.PortalToken()), "copy-portal-link", nil
	}
	version, err := strconv.ParseInt(flash, 10, 64)
	if err != nil {
		return "", "", nil
	}
	link, err := s.newPortalURL(ctx, p, u, version)
	if link == "" || err != nil {
		return "", "", err
	}
	return link, "portal-link", nil
}

// revealValue is the copy-portal-link cookie's value for user u (in the
// session of the request) revealing plan planID's link of token until
// expires (Unix seconds): "c.{expires}.{mac}", mac =
// base64url(HMAC-SHA256(key, user, session, plan, expires,
// SHA-256(token))). Only the service can make one, it is worth nothing in
// another session or on another plan, and it shows nothing once the link
// changed.
func (s *Server) revealValue(ctx context.Context, u dashboardUser, planID int64, token string, expires int64) (string, error) {
	key, err := s.instanceKey(ctx, dashboardRevealSecret)
	if err != nil {
		return "", err
	}
	tokenHash := sha256.Sum256([]byte(token))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("portal-link-reveal:" + strconv.FormatInt(u.ID, 10) + ":" + strconv.FormatInt(u.sessionID, 10) + ":" +
		strconv.FormatInt(planID, 10) + ":" + strconv.FormatInt(expires, 10) + ":"))
	mac.Write(tokenHash[:])
	e := strconv.FormatInt(expires, 10)
	return "c." + e + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

// copyPortalLinkAllowed reports whether plan p's page offers to show and
// copy its current portal link: the link opens the portal now
// (domain.Plan.PortalLinkWorks: not for a plan completed more than
// domain.PortalLinkLifetime ago).
func (s *Server) copyPortalLinkAllowed(p *domain.Plan) bool {
	return p.PortalLinkWorks(p.PortalToken(), s.now())
}

// dashboardCopyPortalLink is POST /dashboard/plans/{id}/copy-portal-link
// (csrf): not a domain command, so no event is appended, but logged (who
// revealed which plan's link, never the link). It answers 303 to the
// plan's page, which shows the current link this once (portalLinkCookie);
// another account's plan is the 404 page, a plan whose link no longer
// works (copyPortalLinkAllowed) the page again with a 409.
func (s *Server) dashboardCopyPortalLink(w http.ResponseWriter, r *http.Request) {
	u, ok := s.dashboardForm(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	id, valid := planID(r)
	if !valid {
		s.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardNotFound)
		return
	}
	p, _, err := s.store.CurrentPlan(ctx, id)
	if err == nil && p.AccountID() != u.AccountID {
		err = eventstore.ErrNotFound
	}
	switch {
	case errors.Is(err, eventstore.ErrNotFound):
		s.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardNotFound)
		return
	case err != nil:
		s.dashboardFail(w, r, err)
		return
	case !s.copyPortalLinkAllowed(p):
		s.renderPlanPage(w, r, http.StatusConflict, 0, "", templates.DashboardPlan{ProblemAction: "copy-portal-link",
			Problem: "The plan's portal link no longer works, so there is none to copy. Make a new portal link to give the customer one."})
		return
	}
	expires := s.now().Add(revealShownFor).Unix()
	value, err := s.revealValue(ctx, u, id, p.PortalToken(), expires)
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	s.log.InfoContext(ctx, "dashboard portal link revealed", "user_id", u.ID, "account_id", u.AccountID, "plan_id", id)
	s.setPortalLinkCookie(w, r, value, int(revealShownFor/time.Second))
	http.Redirect(w, r, s.dash.root+"/plans/"+strconv.FormatInt(id, 10)+"?done=copy-portal-link", http.StatusSeeOther)
}

// newPortalURL returns the portal link the event at version of plan p's
// stream made, if it is still p's link, was made by user u within
// newLinkShownFor; "" otherwise.
func (s *Server) newPortalURL(ctx context.Context, p *domain.Plan, u dashboardUser, version int64) (string, error) {
	if version < 1 || version > p.Version() {
		return "", nil
	}
	recs, err := s.store.LoadRange(ctx, eventstore.PlanStream(p.ID()), version, version)
	if err != nil || len(recs) != 1 || recs[0].Type != domain.EventPortalLinkRegenerated ||
		s.now().Sub(recs[0].RecordedAt) > newLinkShownFor {
		return "", err
	}
	var meta eventstore.Metadata
	var made domain.PortalLinkRegenerated
	if json.Unmarshal(recs[0].Metadata, &meta) != nil || meta.User == nil || meta.User.ID != u.ID ||
		json.Unmarshal(recs[0].Data, &made) != nil || made.PortalToken != p.PortalToken() {
		return "", nil
	}
	return projections.PortalURL(s.publicURL, made.PortalToken), nil
}

// renderPlanPage renders the plan of the route for its user with status,
// v's notice and problem, and the portal link the portal-link cookie's
// value flash lets it show (see flashedPortalURL; "" for none), or the 404
// page for a plan that is not the user's.
func (s *Server) renderPlanPage(w http.ResponseWriter, r *http.Request, status int, before int64, flash string, v templates.DashboardPlan) {
	ctx := r.Context()
	u := dashboardUserOf(r)
	id, ok := planID(r)
	if !ok {
		s.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardNotFound)
		return
	}
	stream := eventstore.PlanStream(id)
	// The plan as it is now, from the store (its snapshot and the events
	// after it), not the read model: the page's forms carry the version
	// they act on, so it must be the current one even right after a
	// command, and the emails the plan records are in the aggregate only.
	p, _, err := s.store.CurrentPlan(ctx, id)
	if err == nil && p.AccountID() != u.AccountID {
		err = eventstore.ErrNotFound
	}
	if errors.Is(err, eventstore.ErrNotFound) {
		s.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardNotFound)
		return
	}
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	recs, err := s.store.LoadPage(ctx, stream, before, planPageEvents)
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	deliveries, err := s.store.PlanDeliveries(ctx, u.AccountID, stream, planPageWebhooks)
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	shell, err := s.dashboardShell(r, s.dash.root+"/plans")
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	if flash != "" {
		link, notice, err := s.flashedPortalURL(ctx, p, u, flash)
		if err != nil {
			s.dashboardFail(w, r, err)
			return
		}
		if link != "" {
			v.PortalURL, v.Notice = link, notice
		}
	}
	d := projections.DetailOf(p, s.publicURL)
	fillPlanView(&v, d, s.now())
	v.Can.CopyPortalLink = s.copyPortalLinkAllowed(p)
	v.Emails = append(v.Emails, planDecisionEmails(p.PlanEmails())...)
	v.Shell, v.FormID = shell, newFormID()
	v.Action = s.dash.root + "/plans/" + strconv.FormatInt(id, 10)
	v.Timeline = s.timeline(ctx, u.AccountID, recs)
	if n := len(recs); n == planPageEvents && recs[n-1].Version > 1 {
		v.OlderEvents = v.Action + "?before=" + strconv.FormatInt(recs[n-1].Version, 10)
	}
	for _, dl := range deliveries {
		v.Webhooks = append(v.Webhooks, webhookRow(dl))
	}
	renderDashboard(s, w, r, status, templates.DashboardPlanPage, v)
}

// stamp formats a time for the dashboard ("" for none).
func stamp(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// fillPlanView puts detail d into v, with the commands the domain allows
// the plan's state (domain.AllowedFor) marked where they apply.
func fillPlanView(v *templates.DashboardPlan, d projections.Detail, now time.Time) {
	allowed := domain.AllowedFor(domain.PlanState{Status: d.Status, Installments: d.Schedule, Payments: d.Payments,
		Proposals: d.Proposals, SendIntroduction: d.SendIntroductionEmail, Introduction: d.IntroductionEmail.Status})
	today := domain.DateOf(now)
	v.PlanID, v.Version, v.Status = d.PlanID, d.Version, string(d.Status)
	v.CustomerName, v.CustomerEmail, v.CustomerPhone = d.Customer.Name, d.Customer.Email, d.Customer.Phone
	v.InvoiceNumber, v.Description = d.Invoice.InvoiceNumber, d.Invoice.Description
	v.Amount, v.Currency = d.Invoice.Amount.String(), d.Invoice.Currency
	v.CreatedAt, v.UpdatedAt = stamp(&d.CreatedAt), stamp(&d.UpdatedAt)
	v.ActivatedAt, v.CompletedAt, v.ClosedAt = stamp(d.ActivatedAt), stamp(d.CompletedAt), stamp(d.ClosedAt)
	v.ClosedReason, v.Interval, v.Today = d.ClosedReason, string(d.Interval), today.String()
	v.Ledger = templates.DashboardLedger{Total: d.Ledger.Total.String(), Paid: d.Ledger.Paid.String(),
		Reported: d.Ledger.Reported.String(), Outstanding: d.Ledger.Outstanding.String()}
	v.Can = templates.DashboardPlanCan{RecordPayment: allowed.RecordPayment, Cancel: allowed.Cancel,
		WriteOff: allowed.WriteOff, Reactivate: allowed.Reactivate, PortalLink: allowed.PortalLink,
		ResendIntroduction: allowed.ResendIntroduction}
	for _, m := range domain.PaymentMethods {
		v.Methods = append(v.Methods, string(m))
	}
	v.Intervals = []string{string(domain.Monthly), string(domain.Biweekly), string(domain.Weekly)}
	for _, o := range d.PlanOptions {
		v.Options = append(v.Options, templates.DashboardPlanOption{ID: o.ID, Installments: o.Installments,
			Interval: string(o.Interval), PaymentAmount: o.PaymentAmount.String(), FirstDate: o.FirstPaymentDate.String(),
			FinalDate: o.FinalPaymentDate.String(), Chosen: d.SelectedOptionID != nil && *d.SelectedOptionID == o.ID})
	}
	for _, in := range d.Schedule {
		v.Schedule = append(v.Schedule, templates.DashboardInstallment{Number: in.Number, DueDate: in.DueDate.String(),
			Amount: in.Amount.String(), Paid: in.Paid.String(), Outstanding: in.Outstanding.String(), Status: string(in.Status),
			Overdue: d.Status == domain.StatusActive && in.DueDate.Before(today) && in.Status.Open(),
			Extend:  slices.Contains(allowed.Extend, in.Number), Defer: slices.Contains(allowed.Defer, in.Number),
			MinDueDate: in.DueDate.AddDays(1).String()})
	}
	for _, pay := range d.Payments {
		row := templates.DashboardPayment{ID: pay.ID, Status: string(pay.Status), Amount: pay.Amount.String(),
			PaidOn: pay.PaidOn.String(), Method: string(pay.Method), Reference: pay.Reference, Source: pay.Source,
			When: stamp(&pay.ReportedAt), RejectReason: pay.RejectReason,
			Confirm: slices.Contains(allowed.ConfirmPayment, pay.ID), Reject: slices.Contains(allowed.RejectPayment, pay.ID)}
		if pay.ConfirmedAmount != nil {
			row.Confirmed = pay.ConfirmedAmount.String() + " confirmed " + stamp(pay.ConfirmedAt)
		}
		v.Payments = append(v.Payments, row)
	}
	for _, pr := range d.Proposals {
		row := templates.DashboardProposal{ID: pr.ID, Status: strings.ReplaceAll(string(pr.Status), "_", " "),
			Terms: termsText(pr.Terms), Amount: pr.Amount.String(), When: stamp(&pr.CreatedAt), Message: pr.Message,
			Approve:      slices.Contains(allowed.ApproveProposal, pr.ID),
			CounterOffer: slices.Contains(allowed.CounterProposal, pr.ID),
			Decline:      slices.Contains(allowed.DeclineProposal, pr.ID)}
		if pr.Counter != nil {
			row.Counter = termsText(*pr.Counter)
		}
		v.Proposals = append(v.Proposals, row)
	}
	if c := d.Consent; c != nil {
		v.Consent = &templates.DashboardConsent{At: stamp(&c.At), IP: c.IP, UserAgent: c.UserAgent}
	}
	v.Emails = planEmails(d)
}

// termsText is terms in words: "4 monthly installments from 2025-12-15".
func termsText(t domain.Terms) string {
	return strconv.Itoa(t.Installments) + " " + string(t.Interval) + " installments from " + t.FirstPaymentDate.String()
}

// planEmails are the emails of plan d to its customer: the introduction
// and the scheduled notices (planDecisionEmails adds the others).
func planEmails(d projections.Detail) []templates.DashboardEmail {
	var out []templates.DashboardEmail
	if d.SendIntroductionEmail {
		e := d.IntroductionEmail
		row := templates.DashboardEmail{What: "Introduction", Status: string(e.Status), When: stamp(e.At), Detail: e.Reason}
		if e.Resends > 0 {
			row.What += " (asked for again " + strconv.Itoa(e.Resends) + "×)"
		}
		out = append(out, row)
	}
	for _, n := range d.Notifications {
		what := strings.ReplaceAll(string(n.Kind), "_", " ")
		if n.Installment > 0 {
			what += ", installment " + strconv.Itoa(n.Installment)
		}
		out = append(out, templates.DashboardEmail{What: strings.ToUpper(what[:1]) + what[1:], Status: string(n.Status),
			When: stamp(&n.RequestedAt)})
	}
	return out
}

// planDecisionEmails are the emails a plan's events owed (its recorded
// plan emails, oldest first): the customer's after each merchant decision
// and the merchant's notifications, one row per address.
func planDecisionEmails(emails []domain.PlanEmail) []templates.DashboardEmail {
	out := make([]templates.DashboardEmail, 0, len(emails))
	for _, m := range emails {
		what := strings.ReplaceAll(string(m.Kind), "_", " ")
		what = strings.ToUpper(what[:1]) + what[1:]
		if m.Kind.ToMerchant() {
			what = "Notification to you: " + strings.ToLower(what[:1]) + what[1:]
		}
		when := stamp(m.At)
		if when == "" {
			when = stamp(&m.RequestedAt)
		}
		out = append(out, templates.DashboardEmail{What: what, To: m.To, Status: string(m.Status), When: when,
			Detail: m.Reason})
	}
	return out
}

// webhookRow is one delivery of a plan's event.
func webhookRow(dl eventstore.PlanDelivery) templates.DashboardWebhook {
	row := templates.DashboardWebhook{EventType: dl.EventType, EndpointURL: dl.EndpointURL, State: dl.State,
		Attempts: dl.Attempts, When: stamp(&dl.CreatedAt)}
	if a := dl.Last; a != nil {
		row.LastStatus = "no response"
		if a.StatusCode != 0 {
			row.LastStatus = "HTTP " + strconv.Itoa(a.StatusCode)
		}
		row.Latency = a.Latency.Round(time.Millisecond).String()
		row.Excerpt = a.ResponseExcerpt
		if a.Error != "" {
			row.Excerpt = a.Error
		}
	}
	return row
}

// timeline is the history of recs (newest first): what happened, who did
// it (the dashboard user by name and email, the API key, the customer, the
// scheduler...) and when.
func (s *Server) timeline(ctx context.Context, accountID int64, recs []eventstore.Record) []templates.DashboardEvent {
	var names map[int64]string // the account's users, read once if an event names one
	out := make([]templates.DashboardEvent, 0, len(recs))
	for _, rec := range recs {
		var meta eventstore.Metadata
		_ = json.Unmarshal(rec.Metadata, &meta) // metadata the service wrote; a bad one names no actor
		e := templates.DashboardEvent{Version: rec.Version, Type: rec.Type, What: eventWords(rec.Type), Actor: meta.Actor,
			When: stamp(&rec.RecordedAt)}
		switch {
		case meta.User != nil:
			if names == nil {
				names = map[int64]string{}
				if users, err := s.store.AccountUsers(ctx, accountID); err == nil {
					for _, u := range users {
						names[u.ID] = u.Name
					}
				}
			}
			e.ActorName = meta.User.Email
			if n := names[meta.User.ID]; n != "" {
				e.ActorName = n + " (" + meta.User.Email + ")"
			}
		case meta.Actor == domain.SourceMerchant:
			e.ActorName = "API key"
		case meta.Actor == "":
			e.ActorName = "unknown"
		default:
			e.ActorName = strings.ReplaceAll(meta.Actor, "-", " ")
		}
		out = append(out, e)
	}
	return out
}

// eventWords is an event type in words ("installment.paid" ->
// "Installment paid").
func eventWords(typ string) string {
	w := strings.NewReplacer(".", " ", "_", " ").Replace(typ)
	if w == "" {
		return w
	}
	return strings.ToUpper(w[:1]) + w[1:]
}

// planForm is a dashboard command form read: the decision it asks for,
// or the field problems that refuse it.
type planForm func(r *http.Request, ids func() (int64, error)) (decision, *domain.ValidationError, error)

// formTargetID reads form field name as a positive integer id, adding a
// problem to ve when it is not one.
func formTargetID(r *http.Request, ve *domain.ValidationError, name string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get(name)), 10, 64)
	if err != nil || n < 1 {
		ve.Add(name, "The "+name+" must be a positive whole number.")
	}
	return n
}

// withTarget reads the form's target (a payment, installment or proposal
// field) and returns the decision made from it.
func withTarget(name string, decide func(r *http.Request, target int64) decision) planForm {
	return func(r *http.Request, _ func() (int64, error)) (decision, *domain.ValidationError, error) {
		var ve domain.ValidationError
		n := formTargetID(r, &ve, name)
		if len(ve.Fields) > 0 {
			return nil, &ve, nil
		}
		return decide(r, n), nil, nil
	}
}

// plainForm is a form whose decision needs no target.
func plainForm(decide func(r *http.Request) decision) planForm {
	return func(r *http.Request, _ func() (int64, error)) (decision, *domain.ValidationError, error) {
		return decide(r), nil, nil
	}
}

// dashboardPlanCommands are the plan page's forms by command name, each
// read into the lifecycle API's decision (lifecycle.go).
var dashboardPlanCommands = map[string]planForm{
	"record-payment": func(r *http.Request, ids func() (int64, error)) (decision, *domain.ValidationError, error) {
		id, err := ids()
		if err != nil {
			return nil, nil, err
		}
		return recordPaymentDecision(domain.PaymentInput{PaymentID: id, Amount: r.PostForm.Get("amount"),
			PaidOn: r.PostForm.Get("paid_on"), Method: r.PostForm.Get("method"), Reference: r.PostForm.Get("reference")}), nil, nil
	},
	"confirm-payment": withTarget("payment_id", func(r *http.Request, id int64) decision {
		return confirmPaymentDecision(id, r.PostForm.Get("amount"))
	}),
	"reject-payment": withTarget("payment_id", func(r *http.Request, id int64) decision {
		return rejectPaymentDecision(id, r.PostForm.Get("reason"))
	}),
	"extend": withTarget("installment", func(r *http.Request, n int64) decision {
		return extendDecision(n, r.PostForm.Get("due_date"), r.PostForm.Get("shift_following") == "true")
	}),
	"defer": withTarget("installment", func(_ *http.Request, n int64) decision { return deferDecision(n) }),
	"approve-proposal": withTarget("proposal_id", func(_ *http.Request, id int64) decision {
		return approveDecision(id)
	}),
	"counter-proposal": withTarget("proposal_id", func(r *http.Request, id int64) decision {
		return counterDecision(id, domain.TermsInput{Installments: r.PostForm.Get("installments"),
			Interval: r.PostForm.Get("interval"), FirstPaymentDate: r.PostForm.Get("first_payment_date")},
			r.PostForm.Get("message"))
	}),
	"decline-proposal": withTarget("proposal_id", func(r *http.Request, id int64) decision {
		return declineDecision(id, r.PostForm.Get("reason"))
	}),
	"cancel":              plainForm(func(r *http.Request) decision { return cancelDecision(r.PostForm.Get("reason")) }),
	"write-off":           plainForm(func(r *http.Request) decision { return writeOffDecision(r.PostForm.Get("reason")) }),
	"reactivate":          plainForm(func(*http.Request) decision { return reactivateDecision() }),
	"portal-link":         plainForm(func(*http.Request) decision { return portalLinkDecision() }),
	"resend-introduction": plainForm(func(*http.Request) decision { return resendIntroductionDecision() }),
}

// dashboardPlanCommand is POST /dashboard/plans/{id}/{command} (csrf,
// form_id, version and the command's fields): the command runs as the
// API's does, with the user as the actor, on the version the page showed;
// 303 to the plan's page with the command's notice (portal-link: and the
// new link, shown there once; see flashNewPortalLink). A refused form
// re-renders the page with the problem and appends nothing: field problems
// are a 422, a plan that changed since the page was shown, or a command
// its state no longer allows, a 409. Another account's plan, or an unknown
// command, is the 404 page.
func (s *Server) dashboardPlanCommand(w http.ResponseWriter, r *http.Request) {
	u, ok := s.dashboardForm(w, r)
	if !ok {
		return
	}
	command := chi.URLParam(r, "command")
	form, known := dashboardPlanCommands[command]
	id, valid := planID(r)
	if !known || !valid {
		s.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardNotFound)
		return
	}
	version, err := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	if err != nil || version < 1 {
		s.dashboardMessage(w, r, http.StatusBadRequest, templates.DashboardBadRequest)
		return
	}
	refused := templates.DashboardPlan{ProblemAction: command}
	decide, ve, err := form(r, func() (int64, error) {
		ids, err := s.newIDs(r.Context(), 1)
		if err != nil {
			return 0, err
		}
		return ids[0], nil
	})
	var out planOutcome
	if err == nil && ve == nil {
		now := s.now()
		out, err = s.runPlan(r.Context(), planCommand{ID: id, Meta: s.dashboardMetadata(r, u),
			Decide: func(p *domain.Plan) ([]domain.Event, error) {
				switch {
				case p.AccountID() != u.AccountID:
					return nil, eventstore.ErrNotFound
				case p.Version() != version:
					return nil, errPlanChanged
				}
				return decide(p, now)
			}})
		errors.As(err, &ve)
	}
	switch {
	case ve != nil:
		refused.Problem = "The form was not accepted; nothing was changed."
		for _, f := range slices.Sorted(maps.Keys(ve.Fields)) {
			refused.Problems = append(refused.Problems, ve.Fields[f]...)
		}
		s.renderPlanPage(w, r, http.StatusUnprocessableEntity, 0, "", refused)
	case errors.Is(err, errPlanChanged):
		refused.Problem = "The plan changed since you opened this page, so nothing was done. Here it is as it is now: reload it or check it and try again."
		s.renderPlanPage(w, r, http.StatusConflict, 0, "", refused)
	case errors.Is(err, eventstore.ErrNotFound):
		s.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardNotFound)
	case err != nil:
		ae := s.apiErrorOf(r, err)
		if ae.Status >= http.StatusInternalServerError {
			s.dashboardMessage(w, r, http.StatusInternalServerError, templates.DashboardError)
			return
		}
		refused.Problem = ae.Message + " Nothing was changed."
		s.renderPlanPage(w, r, ae.Status, 0, "", refused)
	case command == "portal-link":
		s.flashNewPortalLink(w, r, out)
		fallthrough
	default:
		http.Redirect(w, r, s.dash.root+"/plans/"+strconv.FormatInt(id, 10)+"?done="+command, http.StatusSeeOther)
	}
}

// flashNewPortalLink answers a portal-link form that succeeded (before its
// 303, as every command's): the plan page it leads to shows the new link
// this once (portalLinkCookie), like a new API key: a bearer secret of the
// customer's, never in a URL nor on a later visit. The same form sent
// again (a double click: its command id replays the first outcome) shows
// the same link while it is still the plan's; once another link replaced
// it, the page shows none.
func (s *Server) flashNewPortalLink(w http.ResponseWriter, r *http.Request, out planOutcome) {
	for i, e := range out.Events {
		if made, ok := e.(domain.PortalLinkRegenerated); ok && made.PortalToken == out.State.PortalToken() && i < len(out.Records) {
			s.setPortalLinkCookie(w, r, strconv.FormatInt(out.Records[i].Version, 10), int(newLinkShownFor/time.Second))
		}
	}
}
