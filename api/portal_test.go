package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
)

// The portal's tests drive the real router over httptest against the real
// PostgreSQL, the way a browser without JavaScript would: read the page,
// post its forms, follow the redirect.

// portalUA is the browser the tests claim to be; httptest requests come
// from 192.0.2.1.
const (
	portalUA = "Mozilla/5.0 (PortalTest) goodplan"
	portalIP = "192.0.2.1"
)

// portalFixture is a plan in the read model, ready to open in the portal.
type portalFixture struct {
	id      int64
	token   string
	path    string // "/plan/<token>"
	options []projections.OptionBrief
}

// newPortalPlan creates a plan through the API and applies its events to
// the read model, which is how the portal finds a token.
func (e *testEnv) newPortalPlan(t *testing.T, body string) portalFixture {
	t.Helper()
	res := e.do(t, "POST", "/api/v1/plans", e.key, []byte(body))
	if res.status != http.StatusCreated {
		t.Fatalf("create plan: %d %s", res.status, res.body)
	}
	var s projections.Summary
	if err := json.Unmarshal(res.body, &s); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimPrefix(s.CustomerPortalURL, "https://goodplan.test/plan/")
	e.project(t, s.PlanID)
	return portalFixture{id: s.PlanID, token: token, path: "/plan/" + token, options: s.PlanOptions}
}

// project applies every event of plan id to the read model.
func (e *testEnv) project(t *testing.T, id int64) {
	t.Helper()
	ctx := context.Background()
	recs, _, err := e.store.Load(ctx, eventstore.PlanStream(id))
	if err != nil {
		t.Fatal(err)
	}
	plans := projections.NewPlans(e.store)
	for _, r := range recs {
		if err := plans.Apply(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
}

func (f portalFixture) option(t *testing.T, n int, interval string) projections.OptionBrief {
	t.Helper()
	for _, o := range f.options {
		if o.Installments == n && string(o.Interval) == interval {
			return o
		}
	}
	t.Fatalf("plan %d has no %d %s option", f.id, n, interval)
	return projections.OptionBrief{}
}

func (e *testEnv) portalGet(t *testing.T, path string) response {
	t.Helper()
	return e.do(t, "GET", path, "", nil, "User-Agent", portalUA)
}

func (e *testEnv) portalPost(t *testing.T, path string, form url.Values, headers ...string) response {
	t.Helper()
	h := append([]string{"Content-Type", "application/x-www-form-urlencoded", "User-Agent", portalUA}, headers...)
	return e.do(t, "POST", path, "", []byte(form.Encode()), h...)
}

var (
	csrfField   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	formIDField = regexp.MustCompile(`name="form_id" value="([^"]+)"`)
)

// pageForm reads the hidden fields of the page at path and adds fields
// ("name", "value", ...), as a browser submitting one of its forms would.
func (e *testEnv) pageForm(t *testing.T, path string, fields ...string) url.Values {
	t.Helper()
	page := e.portalGet(t, path)
	if page.status != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, page.status, page.body)
	}
	csrf, fid := csrfField.FindSubmatch(page.body), formIDField.FindSubmatch(page.body)
	if csrf == nil || fid == nil {
		t.Fatalf("page has no csrf or form_id field:\n%s", page.body)
	}
	v := url.Values{"csrf": {string(csrf[1])}, "form_id": {string(fid[1])}}
	for i := 0; i+1 < len(fields); i += 2 {
		v.Set(fields[i], fields[i+1])
	}
	return v
}

// records returns plan id's stored events.
func (e *testEnv) records(t *testing.T, id int64) []eventstore.Record {
	t.Helper()
	recs, _, err := e.store.Load(context.Background(), eventstore.PlanStream(id))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func typesOf(recs []eventstore.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Type
	}
	return out
}

func countType(recs []eventstore.Record, typ string) int {
	n := 0
	for _, r := range recs {
		if r.Type == typ {
			n++
		}
	}
	return n
}

// lastOf decodes the data of the last event of type typ into v and returns
// its record.
func lastOf(t *testing.T, recs []eventstore.Record, typ string, v any) eventstore.Record {
	t.Helper()
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Type == typ {
			if err := json.Unmarshal(recs[i].Data, v); err != nil {
				t.Fatal(err)
			}
			return recs[i]
		}
	}
	t.Fatalf("no %s among %v", typ, typesOf(recs))
	return eventstore.Record{}
}

// asMerchant runs a merchant's command on plan id through the store.
func (e *testEnv) asMerchant(t *testing.T, id int64, decide func(*domain.Plan) ([]domain.Event, error)) {
	t.Helper()
	meta := eventstore.Metadata{AccountID: e.acct.ID, Actor: "merchant"}
	if _, err := eventstore.PlanAggregate.Run(context.Background(), e.store, eventstore.Cmd[*domain.Plan]{ID: id, Meta: meta, Decide: decide}); err != nil {
		t.Fatalf("merchant command: %v", err)
	}
}

// choose selects option o in the portal and checks the redirect.
func (e *testEnv) choose(t *testing.T, f portalFixture, o projections.OptionBrief) {
	t.Helper()
	res := e.portalPost(t, f.path+"/select", e.pageForm(t, f.path, "option_id", strconv.FormatInt(o.ID, 10)))
	if res.status != http.StatusSeeOther {
		t.Fatalf("select: %d\n%s", res.status, res.body)
	}
}

func installmentsShown(body []byte) int { return strings.Count(string(body), "data-installment=\"") }

func requireHTML(t *testing.T, what string, res response, status int, contains ...string) {
	t.Helper()
	if res.status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, res.status, status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("%s: Content-Type %q", what, ct)
	}
	for _, s := range contains {
		if !strings.Contains(string(res.body), s) {
			t.Fatalf("%s: page lacks %q\n%s", what, s, res.body)
		}
	}
}

var (
	labelFor   = regexp.MustCompile(`<label for="([^"]+)"`)
	controlIDs = regexp.MustCompile(`<(?:input|select|textarea)\b[^>]*\bid="([^"]+)"`)
)

func TestPortalPageShowsPlanAndGetNeverChangesState(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.newPortalPlan(t, seedFull)
	res := env.portalGet(t, f.path)
	requireHTML(t, "page", res, http.StatusOK, `<html lang="en"`, `name="viewport"`, "Acme", "John Doe",
		"1,200.00 USD", "INV-2024-001", "Past due consulting services", "Choose your payment plan")
	for _, o := range f.options {
		if !strings.Contains(string(res.body), fmt.Sprintf(`data-option-id="%d"`, o.ID)) {
			t.Errorf("no button with data-option-id=%d", o.ID)
		}
	}
	if n := installmentsShown(res.body); n != 0 {
		t.Errorf("a pending plan shows %d data-installment elements", n)
	}
	if strings.Contains(strings.ToLower(string(res.body)), "<script") {
		t.Error("the page has a script")
	}
	// Every visible control has a label.
	labels := map[string]bool{}
	for _, m := range labelFor.FindAllSubmatch(res.body, -1) {
		labels[string(m[1])] = true
	}
	ids := controlIDs.FindAllSubmatch(res.body, -1)
	if len(ids) < 3 {
		t.Fatalf("found %d labelled controls; the propose form has 3", len(ids))
	}
	for _, m := range ids {
		if !labels[string(m[1])] {
			t.Errorf("control #%s has no <label for>", m[1])
		}
	}
	for name, want := range map[string]string{
		"Cache-Control":   "no-store",
		"Referrer-Policy": "no-referrer",
		"X-Frame-Options": "DENY",
	} {
		if got := res.header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") ||
		!strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy %q", csp)
	}

	// Mail scanners, reloads, form addresses opened by GET: nothing changes.
	before := env.records(t, f.id)
	for i := range 20 {
		paths := []string{f.path, f.path + "?done=selected", f.path + "/select", f.path + "/payments",
			f.path + "/proposals", f.path + "/proposals/1/accept"}
		res := env.portalGet(t, paths[i%len(paths)])
		if res.status != http.StatusOK && res.status != http.StatusSeeOther {
			t.Fatalf("GET %s: %d", paths[i%len(paths)], res.status)
		}
		if res.status == http.StatusSeeOther && res.header.Get("Location") != f.path {
			t.Fatalf("GET %s redirects to %q", paths[i%len(paths)], res.header.Get("Location"))
		}
	}
	if res := env.do(t, "HEAD", f.path, "", nil); res.status != http.StatusOK {
		t.Fatalf("HEAD: %d", res.status)
	}
	p, _, _, err := env.store.LoadPlan(context.Background(), f.id)
	if err != nil {
		t.Fatal(err)
	}
	if after := env.records(t, f.id); len(after) != len(before) || p.Version() != int64(len(before)) || p.Status() != domain.StatusPending {
		t.Fatalf("GETs changed the plan: %v -> %v", typesOf(before), typesOf(after))
	}
}

func TestPortalSelectActivatesWithConsent(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.newPortalPlan(t, seedFull)
	o := f.option(t, 3, "monthly")
	form := env.pageForm(t, f.path, "option_id", strconv.FormatInt(o.ID, 10))
	res := env.portalPost(t, f.path+"/select", form, "X-Request-Id", "req-42")
	if res.status != http.StatusSeeOther || res.header.Get("Location") != f.path+"?done=selected" {
		t.Fatalf("select: %d Location %q\n%s", res.status, res.header.Get("Location"), res.body)
	}
	recs := env.records(t, f.id)
	var act domain.PlanActivated
	rec := lastOf(t, recs, domain.EventPlanActivated, &act)
	if act.OptionID != o.ID || act.Consent == nil || act.Consent.IP != portalIP || act.Consent.UserAgent != portalUA ||
		!act.Consent.At.Equal(seedNow) || len(act.Schedule) != 3 {
		t.Fatalf("plan.activated: %s", rec.Data)
	}
	var meta eventstore.Metadata
	if err := json.Unmarshal(rec.Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Actor != "customer" || meta.IP != portalIP || meta.UserAgent != portalUA || meta.CorrelationID != "req-42" ||
		meta.AccountID != env.acct.ID {
		t.Fatalf("metadata: %s", rec.Metadata)
	}

	page := env.portalGet(t, res.header.Get("Location"))
	requireHTML(t, "after select", page, http.StatusOK, `data-notice="selected"`, "Your payment plan is set up.",
		"Your first payment of 400.00 USD is due on Dec 4, 2025.", `data-installment="1"`, `data-installment="3"`, "Report a payment")
	if n := installmentsShown(page.body); n != o.Installments {
		t.Fatalf("%d installments shown, want %d", n, o.Installments)
	}
	if strings.Contains(string(page.body), "data-option-id") {
		t.Fatal("an active plan still offers options")
	}

	// The same form again (a double click, a retried request): applied once.
	if res := env.portalPost(t, f.path+"/select", form); res.status != http.StatusSeeOther {
		t.Fatalf("the same form again: %d\n%s", res.status, res.body)
	}
	// Another choice from a fresh page: refused, the plan as it is.
	other := f.option(t, 6, "weekly")
	res = env.portalPost(t, f.path+"/select", env.pageForm(t, f.path, "option_id", strconv.FormatInt(other.ID, 10)))
	requireHTML(t, "second choice", res, http.StatusConflict, "A schedule was already chosen for this plan.", `data-installment="3"`)
	if n := countType(env.records(t, f.id), domain.EventPlanActivated); n != 1 {
		t.Fatalf("%d plan.activated events, want 1", n)
	}
}

func TestPortalCSRFRequired(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.newPortalPlan(t, seedFull)
	g := env.newPortalPlan(t, seedMinimal)
	good := env.pageForm(t, f.path, "option_id", strconv.FormatInt(f.options[0].ID, 10))
	otherPlans := env.pageForm(t, g.path)
	with := func(csrf string) url.Values {
		v := url.Values{"form_id": good["form_id"], "option_id": good["option_id"]}
		if csrf != "-" {
			v.Set("csrf", csrf)
		}
		return v
	}
	cases := map[string]url.Values{
		"missing":          with("-"),
		"empty":            with(""),
		"wrong":            with("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		"another plan's":   with(otherPlans.Get("csrf")),
		"truncated":        with(good.Get("csrf")[:20]),
		"in the URL query": with("-"),
	}
	for name, form := range cases {
		path := f.path + "/select"
		if name == "in the URL query" {
			path += "?csrf=" + url.QueryEscape(good.Get("csrf"))
		}
		res := env.portalPost(t, path, form)
		requireHTML(t, name, res, http.StatusForbidden, `data-page="forbidden"`, "Nothing was changed.")
	}
	// A JSON body carries no form fields at all.
	res := env.do(t, "POST", f.path+"/select", "", []byte(`{"csrf":"`+good.Get("csrf")+`","option_id":1}`),
		"Content-Type", "application/json")
	requireHTML(t, "JSON body", res, http.StatusForbidden)
	for _, id := range []int64{f.id, g.id} {
		if recs := env.records(t, id); len(recs) != 1 {
			t.Fatalf("plan %d: refused forms appended %v", id, typesOf(recs))
		}
	}
	// The control: the page's own form goes through.
	if res := env.portalPost(t, f.path+"/select", good); res.status != http.StatusSeeOther {
		t.Fatalf("good csrf: %d\n%s", res.status, res.body)
	}
}

func TestPortalCrossOriginPostRejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.newPortalPlan(t, seedFull)
	form := env.pageForm(t, f.path, "option_id", strconv.FormatInt(f.options[0].ID, 10))
	for name, h := range map[string][]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site", "cross-site"},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site", "same-site"},
		"foreign Origin":            {"Origin", "https://evil.example"},
	} {
		res := env.portalPost(t, f.path+"/select", form, h...)
		requireHTML(t, name, res, http.StatusForbidden, `data-page="forbidden"`)
		if res.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: the 403 page may be cached", name)
		}
	}
	if recs := env.records(t, f.id); len(recs) != 1 {
		t.Fatalf("cross-origin posts appended %v", typesOf(recs))
	}
	// What a browser sends for the page's own form is accepted.
	res := env.portalPost(t, f.path+"/select", form, "Sec-Fetch-Site", "same-origin", "Origin", "http://example.com")
	if res.status != http.StatusSeeOther {
		t.Fatalf("same-origin post: %d\n%s", res.status, res.body)
	}
}

func TestPortalUnknownTokenIsFriendly404(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.newPortalPlan(t, seedMinimal)
	for _, path := range []string{"/plan/", "/plan", "/plan/no-such-token", "/plan/" + strings.Repeat("x", 300), f.path + "/nope",
		"/plan/" + f.token[:20]} {
		res := env.portalGet(t, path)
		requireHTML(t, path, res, http.StatusNotFound, `data-page="not_found"`, "This link doesn't work",
			"contact the business")
		if res.header.Get("Cache-Control") != "no-store" || res.header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", path, res.header)
		}
	}
	// A well-formed form for a token that opens nothing: 404, nothing stored.
	csrf, err := env.srv.portalCSRF(context.Background(), "no-such-token")
	if err != nil {
		t.Fatal(err)
	}
	res := env.portalPost(t, "/plan/no-such-token/select", url.Values{"csrf": {csrf}, "option_id": {"1"}})
	requireHTML(t, "POST to unknown token", res, http.StatusNotFound, `data-page="not_found"`)
	var n int64
	if err := env.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d events stored, want the one plan.created (%v)", n, err)
	}
}

func TestPortalRegeneratedTokenStopsAtOnce(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.newPortalPlan(t, seedFull)
	form := env.pageForm(t, f.path, "option_id", strconv.FormatInt(f.options[0].ID, 10))
	fresh := portalToken(f.id, newPortalSecret())
	env.asMerchant(t, f.id, func(p *domain.Plan) ([]domain.Event, error) {
		return p.RegeneratePortalLink(fresh, env.clock.now())
	})
	// The read model still maps the old token to the plan: the plan's own
	// events refuse it.
	requireHTML(t, "old link", env.portalGet(t, f.path), http.StatusNotFound, `data-page="not_found"`)
	requireHTML(t, "old link's form", env.portalPost(t, f.path+"/select", form), http.StatusNotFound)
	if n := countType(env.records(t, f.id), domain.EventPlanActivated); n != 0 {
		t.Fatal("the old link's form activated the plan")
	}
	env.project(t, f.id)
	requireHTML(t, "new link", env.portalGet(t, "/plan/"+fresh), http.StatusOK, "Choose your payment plan")
	requireHTML(t, "old link, read model caught up", env.portalGet(t, f.path), http.StatusNotFound)
}

func TestPortalLinkLastsNinetyDaysAfterCompletion(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.newPortalPlan(t, seedFull)
	env.choose(t, f, f.option(t, 3, "monthly"))
	env.asMerchant(t, f.id, func(p *domain.Plan) ([]domain.Event, error) {
		return p.RecordPayment(domain.PaymentInput{PaymentID: 1, Amount: "1200.00", Method: "check", Now: env.clock.now()})
	})
	if got := typesOf(env.records(t, f.id)); got[len(got)-1] != domain.EventPlanCompleted {
		t.Fatalf("events %v, want plan.completed last", got)
	}
	env.clock.advance(89 * 24 * time.Hour)
	res := env.portalGet(t, f.path)
	requireHTML(t, "89 days after completion", res, http.StatusOK, `data-closed="completed"`, "This plan is paid in full.",
		"Nov 27, 2025", `data-installment="3"`)
	if strings.Contains(string(res.body), "<form") {
		t.Fatal("a completed plan still has forms")
	}
	env.clock.advance(2 * 24 * time.Hour)
	requireHTML(t, "91 days after completion", env.portalGet(t, f.path), http.StatusNotFound, `data-page="not_found"`)
}

func TestPortalRacingChoicesOneWins(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for round := range 5 {
		f := env.newPortalPlan(t, seedFull)
		picks := []projections.OptionBrief{f.option(t, 3, "monthly"), f.option(t, 12, "weekly")}
		forms := make([]url.Values, len(picks))
		for i, o := range picks {
			forms[i] = env.pageForm(t, f.path, "option_id", strconv.FormatInt(o.ID, 10))
		}
		results := make([]response, len(picks))
		var wg sync.WaitGroup
		for i := range picks {
			wg.Go(func() { results[i] = env.portalPost(t, f.path+"/select", forms[i]) })
		}
		wg.Wait()
		won := slices.IndexFunc(results, func(r response) bool { return r.status == http.StatusSeeOther })
		if won < 0 || slices.ContainsFunc(results[won+1:], func(r response) bool { return r.status == http.StatusSeeOther }) {
			t.Fatalf("round %d: statuses %d and %d, want one 303", round, results[0].status, results[1].status)
		}
		lost := 1 - won
		requireHTML(t, "loser", results[lost], http.StatusConflict, `data-alert`, "A schedule was already chosen for this plan.")
		if n := installmentsShown(results[lost].body); n != picks[won].Installments {
			t.Fatalf("round %d: the loser sees %d installments, the winner chose %d", round, n, picks[won].Installments)
		}
		recs := env.records(t, f.id)
		var act domain.PlanActivated
		lastOf(t, recs, domain.EventPlanActivated, &act)
		if countType(recs, domain.EventPlanActivated) != 1 || act.OptionID != picks[won].ID {
			t.Fatalf("round %d: events %v, activated option %d, winner %d", round, typesOf(recs), act.OptionID, picks[won].ID)
		}
	}
}

func TestPortalReportPayment(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.newPortalPlan(t, seedFull)

	// Before a schedule is chosen there is nothing to pay against.
	res := env.portalPost(t, f.path+"/payments", env.pageForm(t, f.path, "amount", "400.00", "method", "cash"))
	requireHTML(t, "payment on a pending plan", res, http.StatusConflict,
		"You can&#39;t report a payment because no schedule has been chosen for this plan yet.")

	env.choose(t, f, f.option(t, 3, "monthly"))
	bad := []struct {
		name, field, value, want string
	}{
		{"no amount", "amount", "", "Enter the amount you paid."},
		{"amount not a number", "amount", "abc", "The amount must be a number."},
		{"zero", "amount", "0", "The amount must be greater than 0."},
		{"too many decimals", "amount", "10.001", "at most 2 decimal places for USD"},
		{"more than owed", "amount", "5000", "outstanding balance of 1200.00 USD"},
		{"future date", "paid_on", "2030-01-01", "The payment date may not be in the future."},
		{"not a date", "paid_on", "12/04/2025", "The payment date must be a date in YYYY-MM-DD format."},
		{"no method", "method", "", "Choose how you paid."},
		{"unknown method", "method", "bitcoin", "Choose one of the listed payment methods."},
		{"long reference", "reference", strings.Repeat("r", 300), "255 characters"},
		{"NUL in the reference", "reference", "a\x00b", "The reference may not contain control characters or line breaks."},
		{"right-to-left override in the reference", "reference", "REF\u202e1", "may not contain invisible formatting characters"},
		{"invalid UTF-8 in the reference", "reference", "a\xffb", "The reference must be valid UTF-8 text."},
		{"paid before 1970", "paid_on", "1969-12-31", "The payment date may not be before 1970-01-01."},
	}
	ids := map[string]string{"amount": "pay-amount", "paid_on": "pay-paid-on", "method": "pay-method", "reference": "pay-reference"}
	before := len(env.records(t, f.id))
	for _, c := range bad {
		form := env.pageForm(t, f.path, "amount", "400.00", "paid_on", "2025-11-26", "method", "e_transfer", "reference", "kept-ref")
		form.Set(c.field, c.value)
		res := env.portalPost(t, f.path+"/payments", form)
		requireHTML(t, c.name, res, http.StatusUnprocessableEntity, `id="`+ids[c.field]+`-err"`, c.want,
			`aria-describedby="`+ids[c.field]+`-err"`, "Please correct the highlighted fields below.")
		if c.field != "reference" && !strings.Contains(string(res.body), `value="kept-ref"`) {
			t.Errorf("%s: the reference typed was not kept", c.name)
		}
		if c.field == "amount" && c.value != "" && !strings.Contains(string(res.body), `value="`+c.value+`"`) {
			t.Errorf("%s: the amount typed was not kept", c.name)
		}
	}
	if after := env.records(t, f.id); len(after) != before {
		t.Fatalf("refused payments appended %v", typesOf(after[before:]))
	}

	form := env.pageForm(t, f.path, "amount", "400.00", "paid_on", "2025-11-26", "method", "e_transfer", "reference", "REF-1")
	res = env.portalPost(t, f.path+"/payments", form)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != f.path+"?done=payment" {
		t.Fatalf("payment: %d %q\n%s", res.status, res.header.Get("Location"), res.body)
	}
	var paid domain.InstallmentPaid
	rec := lastOf(t, env.records(t, f.id), domain.EventInstallmentPaid, &paid)
	if paid.PaymentID <= 0 || paid.Amount.String() != "400.00" || paid.PaidOn.String() != "2025-11-26" ||
		paid.Method != domain.MethodETransfer || paid.Reference != "REF-1" || paid.Source != "customer" || paid.Installment != 1 {
		t.Fatalf("installment.paid: %s", rec.Data)
	}
	page := env.portalGet(t, res.header.Get("Location"))
	requireHTML(t, "after payment", page, http.StatusOK, `data-notice="payment"`, "Awaiting confirmation", "REF-1",
		"by e-transfer", `<span class="pill reported">Reported</span>`)

	// The same form posted again is one payment; a new report from a fresh
	// page is another.
	if res := env.portalPost(t, f.path+"/payments", form); res.status != http.StatusSeeOther {
		t.Fatalf("resubmitted: %d", res.status)
	}
	if n := countType(env.records(t, f.id), domain.EventInstallmentPaid); n != 1 {
		t.Fatalf("a resubmitted form made %d payments", n)
	}
	again := env.pageForm(t, f.path, "amount", "400.00", "paid_on", "2025-11-26", "method", "e_transfer", "reference", "REF-1")
	if res := env.portalPost(t, f.path+"/payments", again); res.status != http.StatusSeeOther {
		t.Fatalf("second report: %d", res.status)
	}
	if n := countType(env.records(t, f.id), domain.EventInstallmentPaid); n != 2 {
		t.Fatalf("%d payments after a second report, want 2", n)
	}
}

func TestPortalProposeSchedule(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.newPortalPlan(t, seedFull)
	bad := []struct {
		name, field, value, want string
	}{
		{"no installments", "installments", "", "Enter the number of payments."},
		{"installments not a number", "installments", "abc", "The number of payments must be an integer."},
		{"zero installments", "installments", "0", "The number of payments must be between 1 and 96."},
		{"97 installments", "installments", "97", "The number of payments must be between 1 and 96."},
		{"unknown interval", "interval", "daily", "The interval must be weekly, biweekly or monthly."},
		{"no first date", "first_payment_date", "", "Choose the date of your first payment."},
		{"first date past", "first_payment_date", "2025-11-01", "The first payment date must be today or later."},
		{"first date too far", "first_payment_date", "2027-01-01", "within 365 days"},
	}
	ids := map[string]string{"installments": "prop-installments", "interval": "prop-interval", "first_payment_date": "prop-first-date"}
	for _, c := range bad {
		form := env.pageForm(t, f.path, "installments", "4", "interval", "biweekly", "first_payment_date", "2025-12-15")
		form.Set(c.field, c.value)
		res := env.portalPost(t, f.path+"/proposals", form)
		requireHTML(t, c.name, res, http.StatusUnprocessableEntity, `id="`+ids[c.field]+`-err"`, c.want,
			`<details class="propose" open>`)
		if c.field != "first_payment_date" && !strings.Contains(string(res.body), `value="2025-12-15"`) {
			t.Errorf("%s: the date typed was not kept", c.name)
		}
	}
	if recs := env.records(t, f.id); len(recs) != 1 {
		t.Fatalf("refused proposals appended %v", typesOf(recs))
	}

	form := env.pageForm(t, f.path, "installments", "4", "interval", "biweekly", "first_payment_date", "2025-12-15")
	res := env.portalPost(t, f.path+"/proposals", form)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != f.path+"?done=proposal" {
		t.Fatalf("propose: %d\n%s", res.status, res.body)
	}
	var pc domain.ProposalCreated
	rec := lastOf(t, env.records(t, f.id), domain.EventProposalCreated, &pc)
	if pc.ProposalID <= 0 || pc.Terms.Installments != 4 || pc.Terms.Interval != domain.Biweekly ||
		pc.Terms.FirstPaymentDate.String() != "2025-12-15" || pc.Consent == nil || pc.Consent.IP != portalIP ||
		pc.Consent.UserAgent != portalUA || len(pc.Schedule) != 4 {
		t.Fatalf("proposal.created: %s", rec.Data)
	}
	page := env.portalGet(t, res.header.Get("Location"))
	requireHTML(t, "after proposal", page, http.StatusOK, `data-notice="proposal"`, `data-proposal-status="pending"`,
		"4 biweekly payments starting Dec 15, 2025", "Waiting for an answer", `data-option-id="`)
	if strings.Contains(string(page.body), `action="`+f.path+`/proposals"`) {
		t.Fatal("the page offers a second proposal while one is open")
	}
	res = env.portalPost(t, f.path+"/proposals",
		env.pageForm(t, f.path, "installments", "2", "interval", "monthly", "first_payment_date", "2025-12-15"))
	requireHTML(t, "second proposal", res, http.StatusConflict, "A proposal is already waiting for an answer.")
	if n := countType(env.records(t, f.id), domain.EventProposalCreated); n != 1 {
		t.Fatalf("%d proposals, want 1", n)
	}
}

func TestPortalAcceptCounter(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.newPortalPlan(t, seedFull)
	res := env.portalPost(t, f.path+"/proposals",
		env.pageForm(t, f.path, "installments", "10", "interval", "weekly", "first_payment_date", "2025-12-15"))
	if res.status != http.StatusSeeOther {
		t.Fatalf("propose: %d\n%s", res.status, res.body)
	}
	var pc domain.ProposalCreated
	lastOf(t, env.records(t, f.id), domain.EventProposalCreated, &pc)
	env.asMerchant(t, f.id, func(p *domain.Plan) ([]domain.Event, error) {
		return p.CounterProposal(pc.ProposalID, domain.TermsInput{Installments: "4", Interval: "monthly", FirstPaymentDate: "2025-12-20"},
			"We can do four monthly payments.", env.clock.now())
	})
	accept := fmt.Sprintf("%s/proposals/%d/accept", f.path, pc.ProposalID)
	page := env.portalGet(t, f.path)
	requireHTML(t, "countered", page, http.StatusOK, `data-proposal-status="countered"`, "4 monthly payments starting Dec 20, 2025",
		"We can do four monthly payments.", `action="`+accept+`"`, fmt.Sprintf(`data-accept-proposal="%d"`, pc.ProposalID))

	before := len(env.records(t, f.id))
	requireHTML(t, "accept a proposal id that is not a number", env.portalPost(t, f.path+"/proposals/abc/accept", env.pageForm(t, f.path)),
		http.StatusUnprocessableEntity, "That proposal was not found on this plan.")
	requireHTML(t, "accept an unknown proposal", env.portalPost(t, f.path+"/proposals/999999/accept", env.pageForm(t, f.path)),
		http.StatusUnprocessableEntity, "Proposal 999999 was not found on this plan.")
	if n := len(env.records(t, f.id)); n != before {
		t.Fatal("refused accepts appended events")
	}

	res = env.portalPost(t, accept, env.pageForm(t, f.path))
	if res.status != http.StatusSeeOther || res.header.Get("Location") != f.path+"?done=accepted" {
		t.Fatalf("accept: %d\n%s", res.status, res.body)
	}
	recs := env.records(t, f.id)
	var ca domain.ProposalCounterAccepted
	rec := lastOf(t, recs, domain.EventProposalCounterAccepted, &ca)
	if ca.ProposalID != pc.ProposalID || len(ca.Schedule) != 4 || ca.Consent == nil || ca.Consent.IP != portalIP ||
		ca.Consent.UserAgent != portalUA {
		t.Fatalf("proposal.counter_accepted: %s", rec.Data)
	}
	if got := typesOf(recs[before:]); !slices.Equal(got, []string{domain.EventProposalCounterAccepted, domain.EventPlanActivated}) {
		t.Fatalf("accepting on a pending plan appended %v", got)
	}
	page = env.portalGet(t, res.header.Get("Location"))
	requireHTML(t, "after accept", page, http.StatusOK, `data-notice="accepted"`, `data-proposal-status="counter_accepted"`,
		"Dec 20, 2025")
	if n := installmentsShown(page.body); n != 4 {
		t.Fatalf("%d installments shown after accepting 4", n)
	}
	requireHTML(t, "accept again", env.portalPost(t, accept, env.pageForm(t, f.path)), http.StatusConflict,
		fmt.Sprintf("Proposal %d is counter accepted; it cannot be accepted.", pc.ProposalID))
}

func TestPortalClosedPlans(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	cases := []struct {
		status  domain.Status
		close   func(p *domain.Plan, now time.Time) ([]domain.Event, error)
		message string
	}{
		{domain.StatusCancelled, func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.Cancel("moved", now) },
			"This payment plan was cancelled on Nov 27, 2025."},
		{domain.StatusWrittenOff, func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.WriteOff("", now) },
			"This payment plan was closed on Nov 27, 2025."},
		{domain.StatusAbandoned, func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
			return p.Tick(now.Add(domain.AbandonAfter+time.Hour), 0), nil
		}, "This payment plan expired on Dec 27, 2025"},
	}
	for _, c := range cases {
		f := env.newPortalPlan(t, seedFull)
		form := env.pageForm(t, f.path, "option_id", strconv.FormatInt(f.options[0].ID, 10))
		env.asMerchant(t, f.id, func(p *domain.Plan) ([]domain.Event, error) { return c.close(p, env.clock.now()) })
		page := env.portalGet(t, f.path)
		requireHTML(t, string(c.status), page, http.StatusOK, `data-closed="`+string(c.status)+`"`, c.message)
		if strings.Contains(string(page.body), "<form") {
			t.Fatalf("%s: the page still has forms", c.status)
		}
		res := env.portalPost(t, f.path+"/select", form)
		requireHTML(t, string(c.status)+" select", res, http.StatusConflict, "You can&#39;t choose an option because this plan")
		if got := typesOf(env.records(t, f.id)); got[len(got)-1] == domain.EventPlanActivated {
			t.Fatalf("%s: a closed plan was activated", c.status)
		}
	}
}

func TestPortalPathFollowsPublicURL(t *testing.T) {
	t.Parallel()
	for public, want := range map[string]string{
		"https://pay.example.com":           "/plan/tok",
		"https://pay.example.com/":          "/plan/tok",
		"https://example.com/goodplan/":     "/goodplan/plan/tok",
		"https://example.com/a/b?ignored=1": "/a/b/plan/tok",
	} {
		s := &Server{publicURL: public}
		if got := s.portalPath("tok"); got != want {
			t.Errorf("%s: %q, want %q", public, got, want)
		}
	}
}

// TestPortalDoubleSubmitAtOnce posts one form twice at once (a double
// click): both requests end in the success redirect and the proposal is
// made once.
func TestPortalDoubleSubmitAtOnce(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for round := range 8 {
		f := env.newPortalPlan(t, seedFull)
		form := env.pageForm(t, f.path, "installments", "4", "interval", "monthly", "first_payment_date", "2025-12-15")
		res := make([]response, 2)
		var wg sync.WaitGroup
		for i := range res {
			wg.Go(func() { res[i] = env.portalPost(t, f.path+"/proposals", form) })
		}
		wg.Wait()
		for _, r := range res {
			if r.status != http.StatusSeeOther {
				t.Fatalf("round %d: a submit got %d\n%s", round, r.status, r.body)
			}
		}
		if n := countType(env.records(t, f.id), "proposal.created"); n != 1 {
			t.Fatalf("round %d: %d proposals", round, n)
		}
	}
}

// TestPortalLinkOpensBeforeTheReadModel: the customer_portal_url of the 201
// opens at once, with nothing projected, and so does a regenerated link;
// the link it replaced stops at once; a link of the old shape (no plan id in
// front) still opens through the read model.
func TestPortalLinkOpensBeforeTheReadModel(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	res := env.do(t, "POST", "/api/v1/plans", env.key, []byte(seedFull))
	if res.status != http.StatusCreated {
		t.Fatalf("create plan: %d %s", res.status, res.body)
	}
	var s projections.Summary
	if err := json.Unmarshal(res.body, &s); err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(s.CustomerPortalURL, "https://goodplan.test")
	if !strings.HasPrefix(path, "/plan/"+strconv.FormatInt(s.PlanID, 10)+".") {
		t.Fatalf("portal url %q does not start with the plan id", s.CustomerPortalURL)
	}
	requireHTML(t, "fresh link, nothing projected", env.portalGet(t, path), http.StatusOK, "data-option-id")

	res = env.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d/portal-link", s.PlanID), env.key, nil)
	if res.status != http.StatusOK {
		t.Fatalf("regenerate: %d %s", res.status, res.body)
	}
	fresh := strings.TrimPrefix(decodePlan(t, res).PortalURL, "https://goodplan.test")
	requireHTML(t, "regenerated link, nothing projected", env.portalGet(t, fresh), http.StatusOK, "data-option-id")
	requireHTML(t, "replaced link", env.portalGet(t, path), http.StatusNotFound, `data-page="not_found"`)

	// Tampering with either half opens nothing.
	_, secret, _ := strings.Cut(strings.TrimPrefix(fresh, "/plan/"), ".")
	for _, bad := range []string{
		"/plan/" + strconv.FormatInt(s.PlanID+1, 10) + "." + secret,
		"/plan/" + strconv.FormatInt(s.PlanID, 10) + "." + newPortalSecret(),
		"/plan/0" + strconv.FormatInt(s.PlanID, 10) + "." + secret,
		"/plan/" + secret,
	} {
		requireHTML(t, "tampered link "+bad, env.portalGet(t, bad), http.StatusNotFound, `data-page="not_found"`)
	}

	// A link of the old shape, 43 characters without an id.
	legacy := newPortalSecret()
	env.asMerchant(t, s.PlanID, func(p *domain.Plan) ([]domain.Event, error) {
		return p.RegeneratePortalLink(legacy, env.clock.now())
	})
	requireHTML(t, "old-shape link before the read model has it", env.portalGet(t, "/plan/"+legacy), http.StatusNotFound, `data-page="not_found"`)
	env.project(t, s.PlanID)
	requireHTML(t, "old-shape link through the read model", env.portalGet(t, "/plan/"+legacy), http.StatusOK, "data-option-id")
}
