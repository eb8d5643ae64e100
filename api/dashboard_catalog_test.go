package api

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"goodplan/domain"
	"goodplan/eventstore"
)

// The dashboard's catalog plan and plan group pages against the real
// router and database.

// dashPost posts form to path as cookie's user, with its csrf field
// unless the form has one (an empty csrf value is left out).
func (e *testEnv) dashPost(t *testing.T, path, cookie string, form url.Values) response {
	t.Helper()
	if _, set := form["csrf"]; !set {
		form.Set("csrf", e.csrfOf(t, cookie))
	} else if form.Get("csrf") == "" {
		form.Del("csrf")
	}
	return e.dashDo(t, http.MethodPost, path, dashClient, cookie, form)
}

// requireActor checks that rec was recorded with user as the actor.
func requireActor(t *testing.T, what string, rec eventstore.Record, user eventstore.User) {
	t.Helper()
	var meta eventstore.Metadata
	if err := json.Unmarshal(rec.Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Actor != domain.SourceMerchant || meta.AccountID != user.AccountID || meta.User == nil ||
		*meta.User != (eventstore.ActorUser{ID: user.ID, Email: user.Email}) || !strings.HasPrefix(meta.CommandID, "dashboard:") {
		t.Fatalf("%s: metadata %s", what, rec.Metadata)
	}
}

// catalogRecords are the events of the catalog plan pid of account.
func (e *testEnv) catalogRecords(t *testing.T, account int64, pid string) []eventstore.Record {
	t.Helper()
	ctx := context.Background()
	id, err := e.store.CatalogPlanIDOf(ctx, account, pid)
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := e.store.Load(ctx, eventstore.CatalogPlanAggregate.Stream(id))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// refused checks a form refused with status (and the page marks want)
// appended nothing.
func (e *testEnv) refused(t *testing.T, what string, res response, status int, before int64, want ...string) {
	t.Helper()
	requireHTML(t, what, res, status, want...)
	if n := e.eventCount(t); n != before {
		t.Fatalf("%s appended %d events", what, n-before)
	}
}

var nextLink = regexp.MustCompile(`href="([^"]+)" rel="next"`)

func TestDashboardCatalogPlans(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	cookie := e.signIn(t, "owner@example.com")

	requireHTML(t, "empty list", e.dashGet(t, "/dashboard/catalog", cookie), http.StatusOK, `data-page="catalog"`,
		"No catalog plans match.", `href="/dashboard/catalog" aria-current="page"`)
	page := e.dashGet(t, "/dashboard/catalog/new", cookie)
	requireHTML(t, "create form", page, http.StatusOK, `data-action="create-catalog-plan"`, `name="csrf"`, `name="form_id"`,
		`<label for="c-name">`, `name="pricing_mode"`, `name="meta_key"`)
	if n := strings.Count(string(page.body), `name="tier_unit_cost"`); n != formTierRows {
		t.Fatalf("create form has %d tier rows", n)
	}

	form := func() url.Values {
		return url.Values{"form_id": {newFormID()}, "id": {"fortnightly"}, "name": {"Fortnightly"}, "currency": {"usd"},
			"pricing_mode": {"tiered"}, "interval": {"week"}, "interval_count": {"2"}, "active": {"true"},
			"tier_min_qty": {"", "11", "", "", ""}, "tier_max_qty": {"10", "", "", "", ""},
			"tier_unit_cost": {"0.0015", "0.001", "", "", ""},
			"meta_key":       {"team", "", ""}, "meta_value": {"growth", "", ""}}
	}
	before := e.eventCount(t)
	noCSRF := form()
	noCSRF.Set("csrf", "")
	e.refused(t, "create without csrf", e.dashPost(t, "/dashboard/catalog/new", cookie, noCSRF), http.StatusForbidden, before,
		`data-page="forbidden"`)
	bad := form()
	bad.Set("tier_unit_cost", "abc")
	bad.Set("interval_count", "two")
	bad["meta_key"], bad["meta_value"] = []string{"", "k", "k"}, []string{"orphan", "1", "2"}
	e.refused(t, "bad create", e.dashPost(t, "/dashboard/catalog/new", cookie, bad), http.StatusUnprocessableEntity, before,
		"Nothing was saved:", "The interval_count must be a whole number.", "Each metadata value needs a key.",
		"is given twice", "tiers.0.unit_cost", `value="Fortnightly"`, `value="two"`)

	// Created once, however many times the same form is posted.
	good := form()
	for range 2 {
		res := e.dashPost(t, "/dashboard/catalog/new", cookie, good)
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/dashboard/catalog/fortnightly?done=created" {
			t.Fatalf("create: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
		}
	}
	recs := e.catalogRecords(t, e.acct.ID, "fortnightly")
	if len(recs) != 1 || recs[0].Type != domain.EventCatalogPlanCreated {
		t.Fatalf("create events %v", typesOf(recs))
	}
	requireActor(t, "create", recs[0], owner)
	before = e.eventCount(t)
	e.refused(t, "an id taken", e.dashPost(t, "/dashboard/catalog/new", cookie, form()), http.StatusUnprocessableEntity, before,
		"The id is already used by another catalog plan.")
	api := e.do(t, "GET", "/api/v1/catalog/plans/fortnightly", e.key, nil).json(t)
	if api["interval_count"] != float64(2) || api["currency"] != "USD" || len(api["tiers"].([]any)) != 2 ||
		api["metadata"].(map[string]any)["team"] != "growth" || api["active"] != true {
		t.Fatalf("created plan %v", api)
	}
	// One without id, price per unit, inactive: a generated id.
	res := e.dashPost(t, "/dashboard/catalog/new", cookie, url.Values{"name": {"Starter"}, "amount": {"49.00"},
		"pricing_mode": {"per_unit"}, "interval": {"month"}, "interval_count": {"1"}})
	loc := res.header.Get("Location")
	if res.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/dashboard/catalog/plan_") {
		t.Fatalf("create without id: %d %s\n%s", res.status, loc, res.body)
	}
	starter := strings.TrimSuffix(strings.TrimPrefix(loc, "/dashboard/catalog/"), "?done=created")

	// The plan's page, and a quote equal to the API's.
	requireHTML(t, "plan page", e.dashGet(t, loc, cookie), http.StatusOK, `data-notice="created"`, "Starter",
		`data-action="update-catalog-plan"`, `data-action="quote-catalog-plan"`, `href="/dashboard/catalog/`+starter+`/delete"`)
	quote := e.dashGet(t, "/dashboard/catalog/fortnightly?quantity=15", cookie)
	apiQuote := e.do(t, "POST", "/api/v1/catalog/plans/fortnightly/quote", e.key, []byte(`{"quantity":15}`)).json(t)
	requireHTML(t, "quote", quote, http.StatusOK, `data-quote-total="`+apiQuote["total"].(string)+`"`)
	if n := strings.Count(string(quote.body), "data-quote-line"); n != len(apiQuote["lines"].([]any)) {
		t.Fatalf("quote lines %d, API %v", n, apiQuote["lines"])
	}
	requireHTML(t, "bad quantity", e.dashGet(t, "/dashboard/catalog/fortnightly?quantity=lots", cookie),
		http.StatusUnprocessableEntity, "The quantity must be a decimal number.")

	// The list (from the read model): rows marked and linked, filters and
	// pages in the URL.
	e.projectCatalog(t)
	list := e.dashGet(t, "/dashboard/catalog", cookie)
	requireHTML(t, "list", list, http.StatusOK, `data-plan-id="fortnightly"`, `data-plan-id="`+starter+`"`,
		`href="/dashboard/catalog/fortnightly"`)
	weekly := e.dashGet(t, "/dashboard/catalog?interval=week", cookie)
	if requireHTML(t, "week filter", weekly, http.StatusOK, `data-plan-id="fortnightly"`); strings.Contains(string(weekly.body), starter) {
		t.Fatal("the week filter shows a monthly plan")
	}
	inactive := e.dashGet(t, "/dashboard/catalog?active=false", cookie)
	if requireHTML(t, "inactive filter", inactive, http.StatusOK, `data-plan-id="`+starter+`"`); strings.Contains(string(inactive.body), `data-plan-id="fortnightly"`) {
		t.Fatal("the inactive filter shows an active plan")
	}
	requireHTML(t, "bad filter", e.dashGet(t, "/dashboard/catalog?currency=zzz", cookie), http.StatusUnprocessableEntity,
		"The currency must be an ISO 4217 code.")
	first := e.dashGet(t, "/dashboard/catalog?limit=1&currency=USD", cookie)
	m := nextLink.FindSubmatch(first.body)
	if first.status != http.StatusOK || m == nil || !strings.Contains(string(first.body), `data-plan-id="`+starter+`"`) {
		t.Fatalf("first page:\n%s", first.body)
	}
	second := e.dashGet(t, html.UnescapeString(string(m[1])), cookie)
	if requireHTML(t, "second page", second, http.StatusOK, `data-plan-id="fortnightly"`); nextLink.Match(second.body) ||
		strings.Contains(string(second.body), starter) {
		t.Fatalf("second page:\n%s", second.body)
	}

	// Edit: the update command, with the user as the actor; a refused
	// edit changes nothing.
	before = e.eventCount(t)
	e.refused(t, "bad edit", e.dashPost(t, "/dashboard/catalog/fortnightly/edit", cookie, url.Values{
		"name": {strings.Repeat("n", 300)}}), http.StatusUnprocessableEntity, before, "Nothing was saved:",
		"The name ")
	res = e.dashPost(t, "/dashboard/catalog/fortnightly/edit", cookie, url.Values{"form_id": {newFormID()},
		"name": {"Fortnightly plus"}, "description": {"Two weeks"}, "invoice_display_name": {"FN"},
		"meta_key": {"team", "tier", ""}, "meta_value": {"growth", "gold", ""}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/dashboard/catalog/fortnightly?done=updated" {
		t.Fatalf("edit: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
	}
	recs = e.catalogRecords(t, e.acct.ID, "fortnightly")
	if len(recs) != 2 || recs[1].Type != domain.EventCatalogPlanUpdated {
		t.Fatalf("edit events %v", typesOf(recs))
	}
	requireActor(t, "edit", recs[1], owner)
	api = e.do(t, "GET", "/api/v1/catalog/plans/fortnightly", e.key, nil).json(t)
	if api["name"] != "Fortnightly plus" || api["active"] != false || api["metadata"].(map[string]any)["tier"] != "gold" {
		t.Fatalf("edited plan %v", api)
	}

	// Another account's plan is not found, and nothing is done to it.
	other, otherKey := e.account(t, eventstore.NewAccount{Name: "Globex"})
	if res := e.do(t, "POST", "/api/v1/catalog/plans", otherKey, []byte(`{"id":"theirs","amount":"5"}`)); res.status != http.StatusCreated {
		t.Fatalf("other account's plan: %d", res.status)
	}
	before = e.eventCount(t)
	requireHTML(t, "another account's plan", e.dashGet(t, "/dashboard/catalog/theirs", cookie), http.StatusNotFound, `data-page="not_found"`)
	requireHTML(t, "another account's delete page", e.dashGet(t, "/dashboard/catalog/theirs/delete", cookie), http.StatusNotFound)
	e.refused(t, "another account's edit", e.dashPost(t, "/dashboard/catalog/theirs/edit", cookie, url.Values{"name": {"mine"}}),
		http.StatusNotFound, before)
	e.refused(t, "another account's delete", e.dashPost(t, "/dashboard/catalog/theirs/delete", cookie, url.Values{}),
		http.StatusNotFound, before)
	if n := len(e.catalogRecords(t, other.ID, "theirs")); n != 1 {
		t.Fatalf("another account's plan has %d events", n)
	}

	// Delete: a confirmation step, then the delete command.
	requireHTML(t, "delete page", e.dashGet(t, "/dashboard/catalog/fortnightly/delete", cookie), http.StatusOK,
		`data-action="delete-catalog-plan"`, `action="/dashboard/catalog/fortnightly/delete"`, `name="csrf"`)
	e.refused(t, "delete without csrf", e.dashPost(t, "/dashboard/catalog/fortnightly/delete", cookie, url.Values{"csrf": {""}}),
		http.StatusForbidden, before)
	res = e.dashPost(t, "/dashboard/catalog/fortnightly/delete", cookie, url.Values{"form_id": {newFormID()}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/dashboard/catalog?done=deleted" {
		t.Fatalf("delete: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
	}
	recs = e.catalogRecords(t, e.acct.ID, "fortnightly")
	if recs[len(recs)-1].Type != domain.EventCatalogPlanDeleted {
		t.Fatalf("delete events %v", typesOf(recs))
	}
	requireActor(t, "delete", recs[len(recs)-1], owner)
	requireHTML(t, "deleted plan", e.dashGet(t, "/dashboard/catalog/fortnightly", cookie), http.StatusNotFound)
	e.projectCatalog(t)
	if list := e.dashGet(t, "/dashboard/catalog?done=deleted", cookie); !strings.Contains(string(list.body), `data-notice="deleted"`) ||
		strings.Contains(string(list.body), `data-plan-id="fortnightly"`) {
		t.Fatalf("list after delete:\n%s", list.body)
	}
}

// reportField reads the figure data-field=field of the report's table of
// currency.
func reportField(t *testing.T, page []byte, currency, field string) string {
	t.Helper()
	body := string(page)
	start := strings.Index(body, `data-report-currency="`+currency+`"`)
	if start < 0 {
		t.Fatalf("no %s table in the report:\n%s", currency, body)
	}
	m := regexp.MustCompile(`data-field="` + field + `">([^<]*)<`).FindStringSubmatch(body[start:])
	if m == nil {
		t.Fatalf("no %s in the %s table", field, currency)
	}
	return m[1]
}

func TestDashboardPlanGroups(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	cookie := e.signIn(t, "owner@example.com")
	e.catalogPlan(t, `{"id":"starter","name":"Starter","amount":"49.00"}`, http.StatusCreated)
	e.catalogPlan(t, `{"id":"pro","name":"Pro","amount":"99","currency":"eur","interval":"year"}`, http.StatusCreated)
	paid, open := e.createPlan(t), e.createPlan(t)
	e.selectFirst(t, paid)
	e.postPlan(t, paid.PlanID, "/payments", `{"amount":"200.00","method":"cash"}`, http.StatusCreated)
	pp := strconv.FormatInt(paid.PlanID, 10) + ", " + strconv.FormatInt(open.PlanID, 10)
	e.projectCatalog(t) // the form offers the plans of the read model

	requireHTML(t, "empty list", e.dashGet(t, "/dashboard/plan-groups", cookie), http.StatusOK, `data-page="plan-groups"`,
		"No plan groups yet.")
	requireHTML(t, "create form", e.dashGet(t, "/dashboard/plan-groups/new", cookie), http.StatusOK,
		`data-action="create-plan-group"`, `name="plans" value="starter"`, `name="plans" value="pro"`, `name="payment_plans"`,
		`name="csrf"`)

	before := e.eventCount(t)
	e.refused(t, "create without csrf", e.dashPost(t, "/dashboard/plan-groups/new", cookie, url.Values{"csrf": {""},
		"name": {"Collections"}}), http.StatusForbidden, before)
	e.refused(t, "bad create", e.dashPost(t, "/dashboard/plan-groups/new", cookie, url.Values{"name": {"Collections"},
		"plans": {"starter", "nope"}, "payment_plans": {"12x, " + strconv.FormatInt(open.PlanID, 10)}}),
		http.StatusUnprocessableEntity, before, "Nothing was saved:", `names no catalog plan: &#34;nope&#34;`,
		"The payment_plans.0 must be a payment plan id", `value="Collections"`, `name="plans" value="starter" checked`)

	form := url.Values{"form_id": {newFormID()}, "name": {"Collections"}, "plans": {"starter", "pro"}, "payment_plans": {pp}}
	var loc string
	for range 2 {
		res := e.dashPost(t, "/dashboard/plan-groups/new", cookie, form)
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/dashboard/plan-groups/") ||
			(loc != "" && res.header.Get("Location") != loc) {
			t.Fatalf("create: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
		}
		loc = res.header.Get("Location")
	}
	if n := e.groupEvents(t); n != 1 {
		t.Fatalf("the form posted twice appended %d group events", n)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(loc, "/dashboard/plan-groups/"), "?done=created")
	g, err := e.srv.planGroupByID(context.Background(), e.acct.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := e.store.Load(context.Background(), eventstore.PlanGroupAggregate.Stream(g.ID))
	if err != nil {
		t.Fatal(err)
	}
	requireActor(t, "create", recs[0], owner)

	// The group's page: the report's numbers are the API's.
	page := e.dashGet(t, loc, cookie)
	requireHTML(t, "group page", page, http.StatusOK, `data-notice="created"`, "Collections",
		`data-plan-id="`+strconv.FormatInt(paid.PlanID, 10)+`"`, `href="/dashboard/plans/`+strconv.FormatInt(open.PlanID, 10)+`"`,
		`href="/dashboard/plan-groups/`+id+`/edit"`, `href="/dashboard/plan-groups/`+id+`/delete"`)
	rep := e.group(t, "GET", "/api/v1/plan-groups/"+id+"/report", "", http.StatusOK).json(t)
	usd := rep["payment_plans"].(map[string]any)["by_currency"].([]any)[0].(map[string]any)
	for _, f := range []string{"amount_owed", "confirmed", "reported", "outstanding", "written_off", "extended_or_proposed_share"} {
		if got := reportField(t, page.body, "USD", f); got != usd[f] {
			t.Errorf("report %s: page %q, API %v", f, got, usd[f])
		}
	}
	for _, f := range []string{"count", "completed", "closed", "extended_or_proposed"} {
		if got := reportField(t, page.body, "USD", f); got != strconv.Itoa(int(usd[f].(float64))) {
			t.Errorf("report %s: page %q, API %v", f, got, usd[f])
		}
	}
	if usd["confirmed"] != "200.00" {
		t.Fatalf("API report %v", usd)
	}
	for _, ic := range rep["catalog_plans"].(map[string]any)["by_interval_and_currency"].([]any) {
		row := ic.(map[string]any)
		mark := `data-report-interval="` + row["interval"].(string) + `" data-report-currency="` + row["currency"].(string) + `"`
		want := mark + `><td>` + row["interval"].(string) + `</td><td>` + row["currency"].(string) + `</td><td data-field="count">` +
			strconv.Itoa(int(row["count"].(float64))) + `</td><td data-field="custom">` + strconv.Itoa(int(row["custom"].(float64))) +
			`</td><td data-field="monthly_list_price">` + row["monthly_list_price"].(string) + `<`
		if !strings.Contains(string(page.body), want) {
			t.Errorf("report row %v not on the page:\n%s", row, page.body)
		}
	}

	// Edit: the members replaced, with the user as the actor.
	requireHTML(t, "edit form", e.dashGet(t, "/dashboard/plan-groups/"+id+"/edit", cookie), http.StatusOK,
		`data-action="update-plan-group"`, `name="plans" value="starter" checked`, `name="plans" value="pro" checked`, pp)
	before = e.eventCount(t)
	e.refused(t, "bad edit", e.dashPost(t, "/dashboard/plan-groups/"+id+"/edit", cookie, url.Values{"name": {"Collections"},
		"plans": {"nope"}}), http.StatusUnprocessableEntity, before, "names no catalog plan")
	res := e.dashPost(t, "/dashboard/plan-groups/"+id+"/edit", cookie, url.Values{"form_id": {newFormID()},
		"name": {"Starters"}, "plans": {"starter"}, "payment_plans": {strconv.FormatInt(open.PlanID, 10)}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/dashboard/plan-groups/"+id+"?done=updated" {
		t.Fatalf("edit: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
	}
	api := e.group(t, "GET", "/api/v1/plan-groups/"+id, "", http.StatusOK).json(t)
	if api["name"] != "Starters" || len(api["plans"].([]any)) != 1 || len(api["payment_plans"].([]any)) != 1 {
		t.Fatalf("edited group %v", api)
	}
	recs, _, _ = e.store.Load(context.Background(), eventstore.PlanGroupAggregate.Stream(g.ID))
	requireActor(t, "edit", recs[len(recs)-1], owner)
	requireHTML(t, "list", e.dashGet(t, "/dashboard/plan-groups", cookie), http.StatusOK, `data-group-id="`+id+`"`,
		`href="/dashboard/plan-groups/`+id+`"`)

	// Another account's group is not found, and nothing is done to it.
	_, otherKey := e.account(t, eventstore.NewAccount{Name: "Globex"})
	theirs := e.do(t, "POST", "/api/v1/plan-groups", otherKey, []byte(`{"name":"Theirs"}`)).json(t)["id"].(string)
	before = e.eventCount(t)
	for _, p := range []string{"", "/edit", "/delete"} {
		requireHTML(t, "another account's group"+p, e.dashGet(t, "/dashboard/plan-groups/"+theirs+p, cookie),
			http.StatusNotFound, `data-page="not_found"`)
	}
	e.refused(t, "another account's edit", e.dashPost(t, "/dashboard/plan-groups/"+theirs+"/edit", cookie,
		url.Values{"name": {"Mine"}}), http.StatusNotFound, before)
	e.refused(t, "another account's delete", e.dashPost(t, "/dashboard/plan-groups/"+theirs+"/delete", cookie, url.Values{}),
		http.StatusNotFound, before)
	requireHTML(t, "not a group id", e.dashGet(t, "/dashboard/plan-groups/not-a-uuid", cookie), http.StatusNotFound)

	// Delete: a confirmation step, then the delete command.
	requireHTML(t, "delete page", e.dashGet(t, "/dashboard/plan-groups/"+id+"/delete", cookie), http.StatusOK,
		`data-action="delete-plan-group"`, `name="csrf"`)
	e.refused(t, "delete without csrf", e.dashPost(t, "/dashboard/plan-groups/"+id+"/delete", cookie, url.Values{"csrf": {""}}),
		http.StatusForbidden, before)
	res = e.dashPost(t, "/dashboard/plan-groups/"+id+"/delete", cookie, url.Values{"form_id": {newFormID()}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/dashboard/plan-groups?done=deleted" {
		t.Fatalf("delete: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
	}
	e.group(t, "GET", "/api/v1/plan-groups/"+id, "", http.StatusNotFound)
	recs, _, _ = e.store.Load(context.Background(), eventstore.PlanGroupAggregate.Stream(g.ID))
	requireActor(t, "delete", recs[len(recs)-1], owner)
	requireHTML(t, "deleted group", e.dashGet(t, "/dashboard/plan-groups/"+id, cookie), http.StatusNotFound)
}
