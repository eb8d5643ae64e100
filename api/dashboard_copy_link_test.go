package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
)

// The plan page's copy-portal-link form: the current portal link shown
// once, to the user who asked, in that session; no event, one log line.

// copyLinkCookie returns the portal-link cookie res sets ("" for none).
func copyLinkCookie(res response) *http.Cookie {
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == portalLinkCookie {
			return c
		}
	}
	return nil
}

// withPortalLinkCookie is GET path in session with the portal-link
// cookie's value, as a browser that kept it would send it.
func (e *testEnv) withPortalLinkCookie(t *testing.T, path, session, value string) response {
	t.Helper()
	return e.dashDo(t, http.MethodGet, path, dashClient, "", nil, "Cookie", sessionCookie+"="+session+"; "+portalLinkCookie+"="+value)
}

// copyPortalLink submits plan id's copy-portal-link form as session's
// user and returns the 303 and its cookie's value, checking the cookie's
// flags and that it does not carry the link.
func (e *testEnv) copyPortalLink(t *testing.T, id int64, session string) (response, string) {
	t.Helper()
	path, form := pageCommandForm(t, e.planPage(t, id, session).body, "copy-portal-link")
	res := e.planFormPost(t, path, session, form)
	plan := fmt.Sprintf("/dashboard/plans/%d", id)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != plan+"?done=copy-portal-link" {
		t.Fatalf("copy-portal-link: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
	}
	c := copyLinkCookie(res)
	p, _, err := e.store.CurrentPlan(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	token := p.PortalToken()
	_, secret, _ := strings.Cut(token, ".")
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != plan ||
		c.MaxAge <= 0 || c.MaxAge > 60 || strings.Contains(c.Value, token) || (secret != "" && strings.Contains(c.Value, secret)) {
		t.Fatalf("copy-portal-link cookie %+v (token %s)", c, token)
	}
	return res, c.Value
}

// TestDashboardCopyPortalLink: the form is offered while the link works;
// it answers 303 and the page it leads to shows the link the API gives
// (customer_portal_url) with the copy button, once, with no-store;
// a member may do it; the cookie is worth nothing to another user, on
// another plan, after the link changed or after its minute; nothing is
// appended, and who revealed which plan's link is logged, never the link.
func TestDashboardCopyPortalLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	logs := &syncBuffer{}
	e.srv.log = newJSONLogger(logs) // before any request
	owner := e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	member := e.dashUser(t, e.acct, "member@example.com", eventstore.RoleMember)
	ownerS, memberS := e.signIn(t, "owner@example.com"), e.signIn(t, "member@example.com")
	id := e.createPlan(t).PlanID
	other := e.createPlan(t).PlanID
	plan := fmt.Sprintf("/dashboard/plans/%d", id)

	page := e.planPage(t, id, ownerS)
	requireHTML(t, "plan page", page, http.StatusOK, `data-action="copy-portal-link"`, "Show and copy the portal link",
		`action="`+plan+`/copy-portal-link"`)
	api := e.do(t, http.MethodGet, fmt.Sprintf("/api/v1/plans/%d", id), e.key, nil)
	link, _ := api.json(t)["customer_portal_url"].(string)
	if api.status != http.StatusOK || link == "" {
		t.Fatalf("GET plan: %d %s", api.status, api.body)
	}
	if strings.Contains(string(page.body), link) || strings.Contains(string(page.body), "data-portal-url") {
		t.Fatalf("the plan page shows the link on a visit:\n%s", page.body)
	}
	events := len(e.records(t, id))

	res, value := e.copyPortalLink(t, id, ownerS)
	shown := e.withPortalLinkCookie(t, res.header.Get("Location"), ownerS, value)
	requireHTML(t, "the page after copy-portal-link", shown, http.StatusOK, `data-notice="copy-portal-link"`,
		`data-copy="portal-url"`, `value="`+link+`" readonly data-portal-url`, "Current portal link")
	if shown.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("the page showing the link: Cache-Control %q", shown.header.Get("Cache-Control"))
	}
	if c := copyLinkCookie(shown); c == nil || c.MaxAge >= 0 {
		t.Fatalf("the page showing the link did not clear its cookie: %v", shown.header["Set-Cookie"])
	}
	if m := newPortalURLMark.FindSubmatch(shown.body); m == nil || string(m[1]) != link {
		t.Fatalf("the link shown is not the API's %s", link)
	}
	line := logs.String()
	if !strings.Contains(line, `"msg":"dashboard portal link revealed"`) || !strings.Contains(line, `"level":"INFO"`) ||
		!strings.Contains(line, fmt.Sprintf(`"user_id":%d`, owner.ID)) || !strings.Contains(line, fmt.Sprintf(`"plan_id":%d`, id)) ||
		strings.Contains(line, link[strings.LastIndex(link, "/")+1:]) {
		t.Fatalf("the log of the reveal:\n%s", line)
	}

	// Shown once: a reload (the browser dropped the cookie), the URL alone,
	// and none of these show it.
	for what, page := range map[string]response{
		"a reload":                      e.dashGet(t, plan, ownerS),
		"the URL alone":                 e.dashGet(t, res.header.Get("Location"), ownerS),
		"another user with the cookie":  e.withPortalLinkCookie(t, res.header.Get("Location"), memberS, value),
		"another session of the user":   e.withPortalLinkCookie(t, res.header.Get("Location"), e.signIn(t, "owner@example.com"), value),
		"another plan with the cookie":  e.withPortalLinkCookie(t, fmt.Sprintf("/dashboard/plans/%d", other), ownerS, value),
		"a forged cookie":               e.withPortalLinkCookie(t, plan, ownerS, "c.99999999999.AAAA"),
		"a cookie with its MAC changed": e.withPortalLinkCookie(t, plan, ownerS, value[:len(value)-4]+"AAAA"),
	} {
		if page.status != http.StatusOK || strings.Contains(string(page.body), link) || strings.Contains(string(page.body), "data-portal-url") {
			t.Fatalf("%s shows the link: %d\n%s", what, page.status, page.body)
		}
	}
	if n := len(e.records(t, id)); n != events {
		t.Fatalf("copy-portal-link appended %d events", n-events)
	}

	// A member may do it; the cookie lives a minute.
	res, value = e.copyPortalLink(t, id, memberS)
	if !strings.Contains(logs.String(), fmt.Sprintf(`"user_id":%d`, member.ID)) {
		t.Fatalf("the member's reveal is not logged:\n%s", logs.String())
	}
	e.clock.advance(revealShownFor + time.Second)
	if page := e.withPortalLinkCookie(t, res.header.Get("Location"), memberS, value); strings.Contains(string(page.body), link) {
		t.Fatalf("an expired cookie shows the link:\n%s", page.body)
	}
	// A link replaced since the reveal is not shown.
	res, value = e.copyPortalLink(t, id, memberS)
	newLink := e.postPlan(t, id, "/portal-link", "", http.StatusOK)
	if page := e.withPortalLinkCookie(t, res.header.Get("Location"), memberS, value); strings.Contains(string(page.body), "data-portal-url") ||
		strings.Contains(string(page.body), newLink.PortalURL) || strings.Contains(string(page.body), link) {
		t.Fatalf("a replaced link is shown:\n%s", page.body)
	}
	if n := len(e.records(t, id)); n != events+1 {
		t.Fatalf("events: %d, want %d (the API's portal-link only)", n, events+1)
	}
}

// TestDashboardCopyPortalLinkRefusals: without csrf, from another origin,
// on another account's plan, or on a plan whose link no longer works (a
// plan completed more than domain.PortalLinkLifetime ago, whose page does
// not offer the form; a cancelled plan's link still opens its portal),
// the form sets no cookie, shows no link, logs no reveal and appends
// nothing.
func TestDashboardCopyPortalLinkRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	logs := &syncBuffer{}
	e.srv.log = newJSONLogger(logs) // before any request
	otherAcct, _ := e.account(t, eventstore.NewAccount{Name: "Globex"})
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	e.dashUser(t, otherAcct, "g@example.com", eventstore.RoleOwner)
	owner := e.signIn(t, "owner@example.com")
	d := e.createPlan(t)
	id := d.PlanID
	stranger := e.signIn(t, "g@example.com")
	path, form := pageCommandForm(t, e.planPage(t, id, owner).body, "copy-portal-link")
	before := e.dashboardState(t)
	refused := func(what string, res response, status int) {
		t.Helper()
		if res.status != status || copyLinkCookie(res) != nil || strings.Contains(string(res.body), "data-portal-url") ||
			strings.Contains(string(res.body), d.PortalURL) {
			t.Fatalf("%s: %d, cookie %v, want %d and nothing shown\n%s", what, res.status, copyLinkCookie(res), status, res.body)
		}
		if strings.Contains(logs.String(), "portal link revealed") {
			t.Fatalf("%s logged a reveal:\n%s", what, logs.String())
		}
		if after := e.dashboardState(t); after != before {
			t.Fatalf("%s changed something", what)
		}
	}
	without := url.Values{}
	for k, v := range form {
		if k != "csrf" {
			without[k] = v
		}
	}
	refused("without csrf", e.planFormPost(t, path, owner, without), http.StatusForbidden)
	refused("another origin", e.dashDo(t, http.MethodPost, path, dashClient, owner, form, "Origin", "https://evil.example"),
		http.StatusForbidden)
	refused("cross-site", e.dashDo(t, http.MethodPost, path, dashClient, owner, form, "Sec-Fetch-Site", "cross-site"),
		http.StatusForbidden)
	refused("another account's plan", e.planFormPost(t, path, stranger, url.Values{"csrf": {e.csrfOf(t, stranger)},
		"version": form["version"], "form_id": {newFormID()}}), http.StatusNotFound)
	refused("an unknown plan", e.planFormPost(t, "/dashboard/plans/999999999/copy-portal-link", owner, form), http.StatusNotFound)

	// A cancelled plan's link still opens its portal: offered.
	cancelled := e.createPlan(t).PlanID
	e.postPlan(t, cancelled, "/cancel", `{"reason":"moved"}`, http.StatusOK)
	requireHTML(t, "cancelled plan", e.planPage(t, cancelled, owner), http.StatusOK, `data-action="copy-portal-link"`)
	// A plan completed more than PortalLinkLifetime ago: its link no
	// longer works, the form is not offered, and posted anyway it is a 409.
	completed := e.createPlan(t)
	e.selectFirst(t, completed)
	e.postPlan(t, completed.PlanID, "/payments", `{"amount":"1200.00","method":"cash"}`, http.StatusCreated)
	completedPath := fmt.Sprintf("/dashboard/plans/%d", completed.PlanID)
	requireHTML(t, "completed plan", e.planPage(t, completed.PlanID, owner), http.StatusOK, `data-plan-status="completed"`,
		`data-action="copy-portal-link"`)
	e.clock.advance(domain.PortalLinkLifetime + time.Hour)
	owner = e.signIn(t, "owner@example.com") // the first session is long dead
	page := e.planPage(t, completed.PlanID, owner)
	if requireHTML(t, "completed long ago", page, http.StatusOK, `data-action="portal-link"`); slices.Contains(actionsOn(page.body), "copy-portal-link") {
		t.Fatalf("a link that no longer works is offered:\n%s", page.body)
	}
	before = e.dashboardState(t)
	_, form = pageCommandForm(t, page.body, "portal-link")
	d.PortalURL = completed.PortalURL
	res := e.planFormPost(t, completedPath+"/copy-portal-link", owner, form)
	refused("a link that no longer works", res, http.StatusConflict)
	requireHTML(t, "a link that no longer works", res, http.StatusConflict, `data-problem="copy-portal-link"`, "no longer works")
}
