package api

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"goodplan/domain"
	"goodplan/eventstore"
)

// The dashboard's plan page and its command forms against the real router
// and database.

// planCommandNames are the commands a plan page may offer, in the
// issue's words.
var planCommandNames = []string{"confirm-payment", "reject-payment", "record-payment", "extend", "defer",
	"approve-proposal", "counter-proposal", "decline-proposal", "cancel", "write-off", "reactivate", "portal-link", "resend-introduction",
	"copy-portal-link"}

// offered returns the commands the domain allows plan id now, by the
// names of its forms, and copy-portal-link when its link works (not a
// domain command).
func (e *testEnv) offered(t *testing.T, id int64) []string {
	t.Helper()
	p, _, _, err := e.store.LoadPlan(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	a := p.Allowed()
	var out []string
	for name, ok := range map[string]bool{
		"confirm-payment": len(a.ConfirmPayment) > 0, "reject-payment": len(a.RejectPayment) > 0,
		"record-payment": a.RecordPayment, "extend": len(a.Extend) > 0, "defer": len(a.Defer) > 0,
		"approve-proposal": len(a.ApproveProposal) > 0, "counter-proposal": len(a.CounterProposal) > 0,
		"decline-proposal": len(a.DeclineProposal) > 0, "cancel": a.Cancel, "write-off": a.WriteOff,
		"reactivate": a.Reactivate, "portal-link": a.PortalLink, "resend-introduction": a.ResendIntroduction,
		"copy-portal-link": p.PortalLinkWorks(p.PortalToken(), e.clock.now()),
	} {
		if ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

var (
	dataAction  = regexp.MustCompile(`data-action="([a-z-]+)"`)
	formBlock   = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)"[^>]*>(.*?)</form>`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
)

// actionsOn lists the data-action marks of a plan page (logout aside),
// sorted and without repeats.
func actionsOn(body []byte) []string {
	var out []string
	for _, m := range dataAction.FindAllSubmatch(body, -1) {
		if a := string(m[1]); a != "logout" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// planForm returns the path and the hidden fields of the first form of
// the page whose button is data-action command, plus fields ("name",
// "value", ...), as a browser submitting it would.
func pageCommandForm(t *testing.T, body []byte, command string, fields ...string) (string, url.Values) {
	t.Helper()
	for _, m := range formBlock.FindAllSubmatch(body, -1) {
		if !strings.Contains(string(m[2]), `data-action="`+command+`"`) {
			continue
		}
		v := url.Values{}
		for _, h := range hiddenInput.FindAllSubmatch(m[2], -1) {
			v.Set(string(h[1]), html.UnescapeString(string(h[2])))
		}
		for i := 0; i+1 < len(fields); i += 2 {
			v.Set(fields[i], fields[i+1])
		}
		return html.UnescapeString(string(m[1])), v
	}
	t.Fatalf("the page has no %s form\n%s", command, body)
	return "", nil
}

// planPage is GET /dashboard/plans/{id} as cookie's user.
func (e *testEnv) planPage(t *testing.T, id int64, cookie string) response {
	t.Helper()
	return e.dashGet(t, fmt.Sprintf("/dashboard/plans/%d", id), cookie)
}

// planFormPost posts form to path as cookie's user from the dashboard's own
// origin.
func (e *testEnv) planFormPost(t *testing.T, path, cookie string, form url.Values) response {
	t.Helper()
	return e.dashDo(t, http.MethodPost, path, dashClient, cookie, form, "Origin", "https://goodplan.test",
		"User-Agent", "dashboard test")
}

// planSections are the sections every plan page has (besides the schedule
// or the options).
var planSections = []string{"customer", "ledger", "portal", "payments", "proposals", "consent", "emails", "webhooks", "history"}

// TestDashboardPlanPageInEveryState renders a plan in each main state:
// every section is there, and the forms offered are exactly the commands
// the domain allows.
func TestDashboardPlanPageInEveryState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	cookie := e.signIn(t, "owner@example.com")

	pending := e.createPlan(t)
	active := e.createPlan(t)
	e.selectFirst(t, active)
	e.report(t, active.PlanID, "100.00")
	proposed := e.createPlan(t)
	e.propose(t, proposed.PlanID, "4", "monthly", "2025-12-15")
	cancelled := e.createPlan(t)
	e.postPlan(t, cancelled.PlanID, "/cancel", `{"reason":"Paid elsewhere <b>"}`, http.StatusOK)
	completed := e.createPlan(t)
	e.selectFirst(t, completed)
	e.postPlan(t, completed.PlanID, "/payments", `{"amount":"1200.00","method":"cash"}`, http.StatusCreated)

	for _, tc := range []struct {
		name   string
		id     int64
		status string
		want   []string // a subset of the commands offered, as a sanity check of the fixture
	}{
		{"pending", pending.PlanID, "pending", []string{"cancel", "portal-link", "write-off"}},
		{"active with a reported payment", active.PlanID, "active", []string{"confirm-payment", "defer", "extend", "record-payment", "reject-payment"}},
		{"pending with a proposal", proposed.PlanID, "pending", []string{"approve-proposal", "counter-proposal", "decline-proposal"}},
		{"cancelled", cancelled.PlanID, "cancelled", []string{"portal-link", "reactivate"}},
		{"completed", completed.PlanID, "completed", []string{"portal-link"}},
	} {
		page := e.planPage(t, tc.id, cookie)
		requireHTML(t, tc.name, page, http.StatusOK, `data-plan-id="`+strconv.FormatInt(tc.id, 10)+`"`,
			`data-plan-status="`+tc.status+`"`, "Jane Roe", "INV-7", `name="csrf"`)
		for _, s := range planSections {
			if !strings.Contains(string(page.body), `data-section="`+s+`"`) {
				t.Fatalf("%s: no %s section\n%s", tc.name, s, page.body)
			}
		}
		if tc.status == "pending" || tc.status == "cancelled" { // the cancelled plan never had a schedule
			requireHTML(t, tc.name, page, http.StatusOK, `data-section="options"`, `data-option-id="`)
		} else {
			requireHTML(t, tc.name, page, http.StatusOK, `data-section="schedule"`, `data-installment="1"`)
		}
		// Every visible control has its label, and ids are unique.
		labels := map[string]bool{}
		for _, m := range labelFor.FindAllSubmatch(page.body, -1) {
			labels[string(m[1])] = true
		}
		seen := map[string]bool{}
		for _, m := range controlIDs.FindAllSubmatch(page.body, -1) {
			if id := string(m[1]); !labels[id] || seen[id] {
				t.Fatalf("%s: control #%s has no <label for>, or its id is not unique", tc.name, id)
			}
			seen[string(m[1])] = true
		}
		got, want := actionsOn(page.body), e.offered(t, tc.id)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: forms %v, the domain allows %v", tc.name, got, want)
		}
		for _, c := range tc.want {
			if !slices.Contains(got, c) {
				t.Fatalf("%s: no %s form among %v", tc.name, c, got)
			}
		}
		for _, c := range got {
			if !slices.Contains(planCommandNames, c) {
				t.Fatalf("%s: unknown command %s", tc.name, c)
			}
		}
	}
	// What the customer and the merchant wrote is escaped.
	if page := e.planPage(t, cancelled.PlanID, cookie); !strings.Contains(string(page.body), "Paid elsewhere &lt;b&gt;") {
		t.Fatalf("the reason is not shown escaped\n%s", page.body)
	}
}

// TestDashboardPlanCommands submits every command's form once: a 303 to
// the plan's page with the command's notice (and, for portal-link, the new
// link on that page once), the command's event appended
// with the user as the actor, and the same form posted again applied
// once.
func TestDashboardPlanCommands(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	cookie := e.signIn(t, "owner@example.com")
	activeWithReport := func() int64 {
		d := e.createPlan(t)
		e.selectFirst(t, d)
		e.report(t, d.PlanID, "100.00")
		return d.PlanID
	}
	withProposal := func() int64 {
		d := e.createPlan(t)
		e.propose(t, d.PlanID, "4", "monthly", "2025-12-15")
		return d.PlanID
	}
	cancelled := func() int64 {
		d := e.createPlan(t)
		e.postPlan(t, d.PlanID, "/cancel", `{}`, http.StatusOK)
		return d.PlanID
	}
	for _, tc := range []struct {
		command string
		plan    func() int64
		fields  []string
		event   string
	}{
		{"confirm-payment", activeWithReport, nil, domain.EventInstallmentConfirmed},
		{"reject-payment", activeWithReport, []string{"reason", "Not on the statement"}, domain.EventPaymentRejected},
		{"record-payment", activeWithReport, []string{"amount", "50.00", "method", "cash", "paid_on", "2025-11-27"}, domain.EventInstallmentConfirmed},
		{"extend", activeWithReport, []string{"due_date", "2026-02-01", "shift_following", "true"}, domain.EventInstallmentExtensionGranted},
		{"defer", activeWithReport, nil, domain.EventInstallmentDeferred},
		{"approve-proposal", withProposal, nil, domain.EventPlanActivated},
		{"counter-proposal", withProposal, []string{"installments", "2", "interval", "monthly", "first_payment_date", "2025-12-20",
			"message", "Two payments?"}, domain.EventProposalCountered},
		{"decline-proposal", withProposal, []string{"reason", "No"}, domain.EventProposalDeclined},
		{"cancel", withProposal, []string{"reason", "Paid elsewhere"}, domain.EventPlanCancelled},
		{"write-off", activeWithReport, nil, domain.EventPlanWrittenOff},
		{"reactivate", cancelled, nil, domain.EventPlanReactivated},
		{"portal-link", cancelled, nil, domain.EventPortalLinkRegenerated},
		{"resend-introduction", withProposal, nil, domain.EventIntroductionEmailResendRequested},
	} {
		id := tc.plan()
		page := e.planPage(t, id, cookie)
		path, form := pageCommandForm(t, page.body, tc.command, tc.fields...)
		before := len(e.records(t, id))
		var links []string
		for range 2 { // a double submit
			res := e.planFormPost(t, path, cookie, form)
			if want := fmt.Sprintf("/dashboard/plans/%d?done=%s", id, tc.command); res.status != http.StatusSeeOther ||
				res.header.Get("Location") != want {
				t.Fatalf("%s: %d %q\n%s", tc.command, res.status, res.header.Get("Location"), res.body)
			}
			if tc.command == "portal-link" { // the page it leads to shows the new link, once
				links = append(links, e.newPortalLinkShown(t, res, cookie))
				if links[0] != links[len(links)-1] {
					t.Fatalf("the double submit showed another link: %v", links)
				}
			}
		}
		recs := e.records(t, id)
		if len(recs) == before || countType(recs[before:], tc.event) != 1 {
			t.Fatalf("%s appended %v, want one %s", tc.command, typesOf(recs[before:]), tc.event)
		}
		for _, rec := range recs[before:] {
			var meta eventstore.Metadata
			if err := json.Unmarshal(rec.Metadata, &meta); err != nil {
				t.Fatal(err)
			}
			if meta.Actor != domain.SourceMerchant || meta.User == nil || meta.User.ID != owner.ID ||
				!strings.HasPrefix(meta.CommandID, "dashboard:") {
				t.Fatalf("%s: metadata %s", tc.command, rec.Metadata)
			}
		}
		after := e.dashGet(t, fmt.Sprintf("/dashboard/plans/%d?done=%s", id, tc.command), cookie)
		if tc.command == "portal-link" {
			if requireHTML(t, "the plan page after a new link", after, http.StatusOK); strings.Contains(string(after.body), "data-portal-url") ||
				strings.Contains(string(after.body), links[0]) || strings.Contains(string(after.body), "data-notice") {
				t.Fatalf("the new portal link is shown again:\n%s", after.body)
			}
		} else {
			requireHTML(t, tc.command+" notice", after, http.StatusOK, `data-notice="`+tc.command+`"`)
		}
		if got, want := actionsOn(after.body), e.offered(t, id); !slices.Equal(got, want) {
			t.Fatalf("after %s: forms %v, the domain allows %v", tc.command, got, want)
		}
	}
}

// TestDashboardPlanCommandRefusals: a stale version is a 409 page, a
// field problem a 422 page with the message, a form without csrf a 403,
// another account's plan a 404: none of them appends anything.
func TestDashboardPlanCommandRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other, _ := e.account(t, eventstore.NewAccount{Name: "Globex"})
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	e.dashUser(t, other, "g@example.com", eventstore.RoleOwner)
	cookie := e.signIn(t, "owner@example.com")
	d := e.createPlan(t)
	e.selectFirst(t, d)
	id := d.PlanID
	page := e.planPage(t, id, cookie)
	cancelPath, cancelForm := pageCommandForm(t, page.body, "cancel", "reason", "stale")
	recordPath, badRecord := pageCommandForm(t, page.body, "record-payment", "amount", "-5", "method", "cash")
	before := len(e.records(t, id))
	unchanged := func(what string) {
		t.Helper()
		if n := len(e.records(t, id)); n != before {
			t.Fatalf("%s appended %d events", what, n-before)
		}
	}

	res := e.planFormPost(t, recordPath, cookie, badRecord)
	requireHTML(t, "bad amount", res, http.StatusUnprocessableEntity, `data-problem="record-payment"`, "amount")
	unchanged("a refused amount")

	noCSRF := url.Values{}
	for k, v := range cancelForm {
		if k != "csrf" {
			noCSRF[k] = v
		}
	}
	if res := e.planFormPost(t, cancelPath, cookie, noCSRF); res.status != http.StatusForbidden {
		t.Fatalf("without csrf: %d", res.status)
	}
	unchanged("a form without csrf")

	stranger := e.signIn(t, "g@example.com")
	if res := e.planPage(t, id, stranger); res.status != http.StatusNotFound {
		t.Fatalf("another account's plan page: %d", res.status)
	}
	strangerForm := url.Values{"csrf": {e.csrfOf(t, stranger)}, "version": cancelForm["version"], "form_id": {newFormID()}}
	if res := e.planFormPost(t, cancelPath, stranger, strangerForm); res.status != http.StatusNotFound {
		t.Fatalf("another account's plan command: %d\n%s", res.status, res.body)
	}
	unchanged("another account's user")

	// Something happens to the plan after the page was shown.
	e.report(t, id, "10.00")
	before++
	res = e.planFormPost(t, cancelPath, cookie, cancelForm)
	requireHTML(t, "stale version", res, http.StatusConflict, `data-problem="cancel"`, "The plan changed")
	unchanged("a stale form")
	// The 409 page carries the current version: its form works.
	path, fresh := pageCommandForm(t, res.body, "cancel", "reason", "now current")
	if res := e.planFormPost(t, path, cookie, fresh); res.status != http.StatusSeeOther {
		t.Fatalf("the form of the 409 page: %d\n%s", res.status, res.body)
	}
	// A command the plan no longer allows (a form kept from before) is a
	// 409 with the domain's words.
	res = e.planFormPost(t, cancelPath, cookie, url.Values{"csrf": cancelForm["csrf"], "form_id": {newFormID()},
		"version": {strconv.Itoa(before + 1)}})
	requireHTML(t, "cancelled twice", res, http.StatusConflict, "Cannot cancel the plan: the plan is cancelled.")
	if res := e.planFormPost(t, fmt.Sprintf("/dashboard/plans/%d/explode", id), cookie, fresh); res.status != http.StatusNotFound {
		t.Fatalf("unknown command: %d", res.status)
	}
}

// TestDashboardPlanTimelineShowsBothActors: the customer chooses in the
// portal, the merchant's user confirms a payment on the page; the history
// names both, newest first, and pages past planPageEvents.
func TestDashboardPlanTimelineShowsBothActors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	cookie := e.signIn(t, "owner@example.com")
	f := e.newPortalPlan(t, seedMinimal)
	e.choose(t, f, f.option(t, 3, "monthly"))
	pid := e.report(t, f.id, "100.00")
	page := e.planPage(t, f.id, cookie)
	path, form := pageCommandForm(t, page.body, "confirm-payment", "payment_id", strconv.FormatInt(pid, 10))
	if res := e.planFormPost(t, path, cookie, form); res.status != http.StatusSeeOther {
		t.Fatalf("confirm: %d\n%s", res.status, res.body)
	}
	page = e.planPage(t, f.id, cookie)
	body := string(page.body)
	confirmed := regexp.MustCompile(`data-event-type="installment.confirmed" data-actor="merchant"[^>]*>[^\n]*by Pat owner \(owner@example.com\)`)
	chose := regexp.MustCompile(`data-event-type="plan.activated" data-actor="customer"[^>]*>[^\n]*by customer`)
	if !confirmed.MatchString(body) || !chose.MatchString(body) {
		t.Fatalf("the history lacks an actor\n%s", body)
	}
	if strings.Index(body, `data-event-type="installment.confirmed"`) > strings.Index(body, `data-event-type="plan.activated"`) {
		t.Fatalf("the history is not newest first")
	}
	if strings.Contains(body, "data-more-events") {
		t.Fatalf("a short history links to more")
	}

	// A long history: the last planPageEvents events, and a link to the
	// ones before.
	for range planPageEvents {
		e.asMerchant(t, f.id, func(p *domain.Plan) ([]domain.Event, error) {
			return p.RegeneratePortalLink(portalToken(p.ID(), newPortalSecret()), e.clock.now())
		})
	}
	page = e.planPage(t, f.id, cookie)
	if n := strings.Count(string(page.body), "data-event-type="); n != planPageEvents {
		t.Fatalf("%d events shown, want %d", n, planPageEvents)
	}
	more := regexp.MustCompile(`href="([^"]+)" data-more-events`).FindSubmatch(page.body)
	if more == nil {
		t.Fatalf("no link to the older events")
	}
	older := e.dashGet(t, html.UnescapeString(string(more[1])), cookie)
	total := len(e.records(t, f.id))
	if n := strings.Count(string(older.body), "data-event-type="); older.status != http.StatusOK || n != total-planPageEvents {
		t.Fatalf("older events: %d, %d shown, want %d", older.status, n, total-planPageEvents)
	}
	if !strings.Contains(string(older.body), `data-version="1"`) || strings.Contains(string(older.body), "data-more-events") {
		t.Fatalf("the first page of the history is not the oldest")
	}
}

// TestDashboardPlanWebhooksFired: the deliveries of the plan's events to
// the account's endpoints are listed, with the last attempt's answer;
// another plan's are not.
func TestDashboardPlanWebhooksFired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	cookie := e.signIn(t, "owner@example.com")
	d, other := e.createPlan(t), e.createPlan(t)
	ep, err := e.store.CreateEndpoint(ctx, eventstore.NewWebhookEndpoint{AccountID: e.acct.ID, URL: "https://hooks.example.com/in"})
	if err != nil {
		t.Fatal(err)
	}
	var ds []eventstore.NewDelivery
	for _, id := range []int64{d.PlanID, other.PlanID} {
		rec := e.records(t, id)[0]
		ds = append(ds, eventstore.NewDelivery{EndpointID: ep.ID, EventID: rec.EventID, EventType: rec.Type, Payload: []byte(`{}`)})
	}
	if _, err := e.store.EnqueueDeliveries(ctx, ds); err != nil {
		t.Fatal(err)
	}
	page := e.planPage(t, d.PlanID, cookie)
	requireHTML(t, "webhooks", page, http.StatusOK, "https://hooks.example.com/in", `data-webhook-state="pending"`)
	if n := strings.Count(string(page.body), "data-webhook-state="); n != 1 {
		t.Fatalf("%d deliveries shown, want the plan's 1", n)
	}
}

// TestDashboardPlanEmails: the page lists every email the plan records:
// the customer's after a merchant decision and the merchant's
// notifications, each with its address and outcome.
func TestDashboardPlanEmails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	cookie := e.signIn(t, "owner@example.com")
	d := e.createPlan(t)
	e.selectFirst(t, d)
	pid := e.report(t, d.PlanID, "100.00")
	reported := int64(len(e.records(t, d.PlanID)))
	e.postPlan(t, d.PlanID, fmt.Sprintf("/payments/%d/confirm", pid), ``, http.StatusOK)
	confirmed := int64(len(e.records(t, d.PlanID)))
	// What the email worker records (workers.HandlePlanEmail): the
	// merchant's notification of the report failed for one of two
	// addresses, the customer's confirmation was sent.
	notice := domain.PlanEmailKey{Kind: domain.NotifyPaymentReported, EventVersion: reported}
	confirm := domain.PlanEmailKey{Kind: domain.EmailPaymentConfirmed, EventVersion: confirmed}
	at := e.clock.now()
	e.asMerchant(t, d.PlanID, func(*domain.Plan) ([]domain.Event, error) {
		return []domain.Event{
			domain.PlanEmailRequested{PlanEmailKey: notice, To: []string{"ops@acme.example", "boss@acme.example"}, RequestedAt: at},
			domain.PlanEmailSent{PlanEmailKey: notice, To: "ops@acme.example", MessageID: "<n1@x>", SentAt: at},
			domain.PlanEmailFailed{PlanEmailKey: notice, To: "boss@acme.example", Reason: "550 no such user", Attempts: 1, FailedAt: at},
			domain.PlanEmailRequested{PlanEmailKey: confirm, To: []string{"jane@example.com"}, RequestedAt: at},
			domain.PlanEmailSent{PlanEmailKey: confirm, To: "jane@example.com", MessageID: "<c1@x>", SentAt: at},
		}, nil
	})
	page := e.planPage(t, d.PlanID, cookie)
	requireHTML(t, "plan emails", page, http.StatusOK,
		`<strong>Notification to you: payment reported</strong> to ops@acme.example: sent`,
		`<strong>Notification to you: payment reported</strong> to boss@acme.example: failed`, "(550 no such user)",
		`<strong>Payment confirmed</strong> to jane@example.com: sent`)
}

var newPortalURLMark = regexp.MustCompile(`value="(https://goodplan.test/plan/[^"]+)" readonly data-portal-url`)

// newPortalLinkShown follows res, a portal-link form's 303, as a browser
// would (with the cookie it set) and returns the new link the page shows
// with its copy button; the page clears the cookie, and shows the link to
// nobody else.
func (e *testEnv) newPortalLinkShown(t *testing.T, res response, session string) string {
	t.Helper()
	var flash *http.Cookie
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == portalLinkCookie {
			flash = c
		}
	}
	loc := res.header.Get("Location")
	if flash == nil || !flash.HttpOnly || !flash.Secure || flash.MaxAge <= 0 || !strings.HasPrefix(loc, flash.Path+"?") ||
		strings.Contains(flash.Value, "plan") {
		t.Fatalf("portal-link: the new link's cookie %+v for %s", flash, loc)
	}
	cookies := sessionCookie + "=" + session + "; " + portalLinkCookie + "=" + flash.Value
	page := e.dashDo(t, http.MethodGet, loc, dashClient, "", nil, "Cookie", cookies)
	m := newPortalURLMark.FindSubmatch(page.body)
	if page.status != http.StatusOK || m == nil || !strings.Contains(string(page.body), `data-copy="portal-url"`) ||
		!strings.Contains(string(page.body), `data-notice="portal-link"`) {
		t.Fatalf("the page after a new link: %d\n%s", page.status, page.body)
	}
	if cleared := (&http.Response{Header: page.header}).Cookies(); len(cleared) != 1 || cleared[0].Name != portalLinkCookie ||
		cleared[0].MaxAge >= 0 {
		t.Fatalf("the page showing the new link did not clear its cookie: %v", page.header["Set-Cookie"])
	}
	return string(m[1])
}

// TestDashboardNewPortalLinkShownOnce: the link a portal-link form made is
// shown on the page its 303 leads to, to the user who made it, while it is
// the plan's link; never again, never to another user, never after
// another link replaced it, and never from the URL alone.
func TestDashboardNewPortalLinkShownOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	e.dashUser(t, e.acct, "member@example.com", eventstore.RoleMember)
	owner, member := e.signIn(t, "owner@example.com"), e.signIn(t, "member@example.com")
	id := e.createPlan(t).PlanID
	makeLink := func(session string) response {
		t.Helper()
		path, form := pageCommandForm(t, e.planPage(t, id, session).body, "portal-link")
		res := e.planFormPost(t, path, session, form)
		if res.status != http.StatusSeeOther {
			t.Fatalf("portal-link: %d\n%s", res.status, res.body)
		}
		return res
	}
	withFlash := func(session string, res response) response {
		t.Helper()
		var value string
		for _, c := range (&http.Response{Header: res.header}).Cookies() {
			if c.Name == portalLinkCookie {
				value = c.Value
			}
		}
		return e.dashDo(t, http.MethodGet, res.header.Get("Location"), dashClient, "", nil,
			"Cookie", sessionCookie+"="+session+"; "+portalLinkCookie+"="+value)
	}
	first := makeLink(owner)
	link := e.newPortalLinkShown(t, first, owner)
	if p, _, err := e.store.CurrentPlan(context.Background(), id); err != nil || !strings.HasSuffix(link, p.PortalToken()) {
		t.Fatalf("the link shown %s is not the plan's (%v)", link, err)
	}
	for what, page := range map[string]response{
		"the URL alone":                e.dashGet(t, first.header.Get("Location"), owner),
		"another user with the cookie": withFlash(member, first),
		"another plan's page":          e.dashDo(t, http.MethodGet, "/dashboard/plans/1", dashClient, "", nil, "Cookie", sessionCookie+"="+owner+"; "+portalLinkCookie+"=1"),
		"a forged version":             e.dashDo(t, http.MethodGet, first.header.Get("Location"), dashClient, "", nil, "Cookie", sessionCookie+"="+owner+"; "+portalLinkCookie+"=1"),
	} {
		if strings.Contains(string(page.body), "data-portal-url") || strings.Contains(string(page.body), link) {
			t.Fatalf("%s shows the new link:\n%s", what, page.body)
		}
	}
	// Replaced by the member's link: the owner's cookie shows nothing.
	e.newPortalLinkShown(t, makeLink(member), member)
	if page := withFlash(owner, first); strings.Contains(string(page.body), "data-portal-url") {
		t.Fatalf("a replaced link is shown:\n%s", page.body)
	}
}
