package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"goodplan/eventstore"
)

// dashboardState is a fingerprint of everything a dashboard form could
// change: the events, and the rows of the tables the dashboard writes
// besides them (keys, endpoints, users and their links, accounts'
// settings, deliveries, sessions).
func (e *testEnv) dashboardState(t *testing.T) string {
	t.Helper()
	var state string
	err := e.store.Pool().QueryRow(context.Background(), `SELECT concat_ws('|',
		(SELECT count(*) FROM events),
		(SELECT md5(string_agg(k::text, ',' ORDER BY k.id)) FROM (SELECT id, revoked_at FROM api_keys) k),
		(SELECT md5(string_agg(w::text, ',' ORDER BY w.id)) FROM webhook_endpoints w),
		(SELECT count(*) FROM webhook_deliveries),
		(SELECT md5(string_agg(u::text, ',' ORDER BY u.id)) FROM users u),
		(SELECT count(*) FROM user_tokens),
		(SELECT count(*) FROM user_sessions),
		(SELECT md5(string_agg(a::text, ',' ORDER BY a.id)) FROM accounts a))`).Scan(&state)
	if err != nil {
		t.Fatal(err)
	}
	return state
}

// TestDashboardEveryFormRefusesCSRFAndCrossOrigin walks every POST route
// of the dashboard: each one of a signed-in user refuses a post without
// its csrf field, or with it but from another origin (Origin, or
// Sec-Fetch-Site), with the 403 page, and changes nothing; the forms
// posted without a session (sign-in, password links) refuse another
// origin. Each route is aimed at a real target of the user's account (a
// plan, key, endpoint, user, catalog plan and group), so a route that
// skipped the check would change something.
func TestDashboardEveryFormRefusesCSRFAndCrossOrigin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	member := e.dashUser(t, e.acct, "member@example.com", eventstore.RoleMember)
	cookie := e.signIn(t, "owner@example.com")
	csrf := e.csrfOf(t, cookie)
	plan := e.createPlan(t)
	e.selectFirst(t, plan)
	pid := e.report(t, plan.PlanID, "100.00")
	ep, err := e.store.CreateEndpoint(ctx, eventstore.NewWebhookEndpoint{AccountID: e.acct.ID, URL: "https://hooks.example.com/in"})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := e.store.APIKeys(ctx, e.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res := e.do(t, http.MethodPost, "/api/v1/catalog/plans", e.key, []byte(`{"id":"starter","name":"Starter","amount":"10.00"}`)); res.status != http.StatusCreated {
		t.Fatalf("catalog plan: %d %s", res.status, res.body)
	}
	res := e.do(t, http.MethodPost, "/api/v1/plan-groups", e.key, []byte(`{"name":"Group","plans":["starter"]}`))
	if res.status != http.StatusCreated {
		t.Fatalf("plan group: %d %s", res.status, res.body)
	}
	group := res.json(t)["id"].(string)
	// What a page's form would carry besides csrf: enough for each
	// command to do something if it were let through.
	fields := url.Values{"form_id": {newFormID()}, "version": {strconv.FormatInt(int64(len(e.records(t, plan.PlanID))), 10)},
		"payment_id": {strconv.FormatInt(pid, 10)}, "reason": {"refused"}, "name": {"Changed"}, "email": {"new@example.com"},
		"role": {"owner"}, "url": {"https://hooks.example.com/other"}, "password": {"a long new pass phrase"},
		"sender_name": {"Changed"}, "reminder_days": {"5"}, "amount": {"100.00"}, "method": {"cash"},
		"customer.name": {"Changed"}, "customer.email": {"new@example.com"}, "invoice.amount": {"100.00"},
		"options.durations": {"3"}, "options.intervals": {"monthly"}, "plans": {"starter"}}

	r := chi.NewRouter()
	e.srv.dashboardRoutes(r)
	var signedIn, signedOut []string
	err = chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method != http.MethodPost {
			return nil
		}
		path := strings.NewReplacer("/plans/{id}/", "/plans/"+strconv.FormatInt(plan.PlanID, 10)+"/",
			"/api-keys/{id}/", "/api-keys/"+strconv.FormatInt(keys[0].ID, 10)+"/",
			"/webhooks/{id}/", "/webhooks/"+strconv.FormatInt(ep.ID, 10)+"/", "{delivery_id}", "1",
			"/users/{id}/", "/users/"+strconv.FormatInt(member.ID, 10)+"/", "/catalog/{id}/", "/catalog/starter/",
			"/plan-groups/{id}/", "/plan-groups/"+group+"/", "{command}", "cancel",
			"{kind:reset|invite}/{token}", "reset/"+strings.Repeat("x", 43)).Replace(route)
		paths := []string{path}
		if strings.Contains(route, "{command}") { // every command of the plan page
			paths = nil
			for c := range dashboardPlanCommands {
				paths = append(paths, strings.Replace(path, "/cancel", "/"+c, 1))
			}
		}
		if strings.Contains(route, "{kind:") { // both kinds of one-time link
			paths = append(paths, strings.Replace(path, "/reset/", "/invite/", 1))
		}
		for _, path := range paths {
			switch {
			case strings.Contains(path, "{"):
				t.Errorf("route %s: no target for %s", route, path)
			case path == "/dashboard/login", path == "/dashboard/forgot", strings.Contains(route, "{token}"):
				signedOut = append(signedOut, path)
			default:
				signedIn = append(signedIn, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(signedIn) < 23+len(dashboardPlanCommands) || len(signedOut) != 4 {
		t.Fatalf("routes: %d signed in %q, %d signed out %q", len(signedIn), signedIn, len(signedOut), signedOut)
	}

	before := e.dashboardState(t)
	with := func(csrf string) url.Values {
		v := url.Values{}
		for k, vs := range fields {
			v[k] = vs
		}
		if csrf != "" {
			v.Set("csrf", csrf)
		}
		return v
	}
	refused := func(path string, form url.Values, headers ...string) {
		t.Helper()
		res := e.dashDo(t, http.MethodPost, path, dashClient, cookie, form, headers...)
		if res.status != http.StatusForbidden || !strings.Contains(string(res.body), `data-page="forbidden"`) {
			t.Errorf("POST %s %v: %d, want the 403 page\n%s", path, headers, res.status, res.body)
		}
		if after := e.dashboardState(t); after != before {
			t.Fatalf("POST %s %v changed something: %s, was %s", path, headers, after, before)
		}
	}
	for _, path := range signedIn {
		refused(path, with(""))
		refused(path, with("AAAA"+csrf[4:]))
		refused(path, with(csrf), "Origin", "https://evil.example")
		refused(path, with(csrf), "Origin", "null")
		refused(path, with(csrf), "Sec-Fetch-Site", "cross-site")
		refused(path, with(csrf), "Sec-Fetch-Site", "same-site")
	}
	for _, path := range signedOut {
		refused(path, with(""), "Origin", "https://evil.example")
		refused(path, with(""), "Sec-Fetch-Site", "cross-site")
	}
	// The session works still (no refused sign-out ended it).
	if res := e.dashGet(t, "/dashboard", cookie); res.status != http.StatusOK {
		t.Fatalf("after the refusals: %d", res.status)
	}
}

// TestDashboardEveryPageNeedsASession walks every GET route of the
// dashboard (and the list of addresses): without a session, or
// with one that is not live, each is a 303 to the sign-in page, but the
// pages made for the signed-out (sign-in, forgotten password, a one-time
// link's form).
func TestDashboardEveryPageNeedsASession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	paths := []string{"/dashboard", "/dashboard/plans", "/dashboard/plans/new", "/dashboard/plans/12", "/dashboard/catalog",
		"/dashboard/plan-groups", "/dashboard/developers", "/dashboard/settings"}
	r := chi.NewRouter()
	e.srv.dashboardRoutes(r)
	err := chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		switch {
		case method != http.MethodGet:
		case route == "/dashboard/login", route == "/dashboard/forgot", strings.Contains(route, "{token}"):
			if res := e.dashGet(t, strings.Replace(route, "{kind:reset|invite}/{token}", "reset/x", 1), ""); res.status == http.StatusSeeOther {
				t.Errorf("GET %s without a session: a redirect, want its page", route)
			}
		default:
			paths = append(paths, strings.NewReplacer("{id}", "12", "{delivery_id}", "1").Replace(route))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 8+20 {
		t.Fatalf("only %d GET routes: %q", len(paths), paths)
	}
	for _, path := range paths {
		for _, cookie := range []string{"", "not-a-session", strings.Repeat("A", sessionTokenLen)} {
			res := e.dashGet(t, path, cookie)
			if res.status != http.StatusSeeOther || res.header.Get("Location") != "/dashboard/login" {
				t.Errorf("GET %s with cookie %q: %d %s, want 303 to the sign-in page", path, cookie, res.status,
					res.header.Get("Location"))
			}
		}
	}
}
