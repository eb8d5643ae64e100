package api

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
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

// The dashboard's plan list, its exports and the create form, against the
// real router and database (the read model projected by hand, as the
// portal's tests do).

var (
	planRowMark = regexp.MustCompile(`<tr data-plan-id="(\d+)">`)
	olderLink   = regexp.MustCompile(`href="([^"]+)" rel="next" data-page-link="older"`)
	newerLink   = regexp.MustCompile(`href="([^"]+)" rel="prev" data-page-link="newer"`)
)

// listedIDs are the plan ids of a list page's rows, in order.
func listedIDs(t *testing.T, res response) []int64 {
	t.Helper()
	var ids []int64
	for _, m := range planRowMark.FindAllSubmatch(res.body, -1) {
		id, _ := strconv.ParseInt(string(m[1]), 10, 64)
		ids = append(ids, id)
	}
	return ids
}

// pageLink is the href of a pager link of res ("" when there is none),
// HTML-unescaped.
func pageLink(res response, re *regexp.Regexp) string {
	m := re.FindSubmatch(res.body)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(string(m[1]), "&amp;", "&")
}

// dashPlan creates a plan of the env's account through the API from the
// customer's name and email, the invoice number and amount, and projects
// it.
func (e *testEnv) dashPlan(t *testing.T, name, email, invoice, amount, currency string) int64 {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"customer": map[string]string{"name": name, "email": email},
		"invoice":  map[string]string{"amount": amount, "currency": currency, "invoice_number": invoice},
		"options":  map[string]any{"intervals": []string{"monthly"}, "durations": []int{2}},
	})
	return e.newPortalPlan(t, string(body)).id
}

// otherPlan creates a plan of another account (its API key) and projects
// it.
func (e *testEnv) otherPlan(t *testing.T, key, body string) int64 {
	t.Helper()
	res := e.do(t, "POST", "/api/v1/plans", key, []byte(body))
	if res.status != http.StatusCreated {
		t.Fatalf("another account's plan: %d %s", res.status, res.body)
	}
	id := decodePlan(t, res).PlanID
	e.project(t, id)
	return id
}

// newTwoAccountEnv is an env whose account (Acme) has the owner
// owner@example.com, and another account (Globex, whose API key it
// returns) the owner g@example.com.
func newTwoAccountEnv(t *testing.T) (*testEnv, string) {
	t.Helper()
	e := newEnv(t)
	other, otherKey := e.account(t, eventstore.NewAccount{Name: "Globex"})
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	e.dashUser(t, other, "g@example.com", eventstore.RoleOwner)
	return e, otherKey
}

func TestDashboardPlanListPagesFiltersAndSearches(t *testing.T) {
	t.Parallel()
	e, otherKey := newTwoAccountEnv(t)

	// 30 plans, oldest first; 2 of them cancelled.
	var ids []int64
	for i := range 30 {
		ids = append(ids, e.dashPlan(t, fmt.Sprintf("Customer %02d", i), fmt.Sprintf("c%02d@example.com", i),
			fmt.Sprintf("INV-%02d", i), "300.00", "USD"))
	}
	special := e.dashPlan(t, "Ana María O'Brien_100%", "Ana.Obrien@Example.com", "Inv/2025/7", "90.00", "EUR")
	ids = append(ids, special)
	for _, id := range []int64{ids[3], ids[17]} {
		e.postPlan(t, id, "/cancel", `{"reason":"Paid elsewhere"}`, http.StatusOK)
		e.project(t, id)
	}
	theirs := e.otherPlan(t, otherKey, `{"customer":{"name":"Customer 05","email":"c05@example.com"},"invoice":{"amount":"1.00","invoice_number":"INV-05"}}`)
	newestFirst := slices.Clone(ids)
	slices.Reverse(newestFirst)

	cookie := e.signIn(t, "owner@example.com")
	first := e.dashGet(t, "/dashboard/plans", cookie)
	requireHTML(t, "plan list", first, http.StatusOK, `data-page="plans"`, `<label for="plans-q">`,
		`<label for="plans-status">`, `href="/dashboard/plans/new"`, `href="/dashboard/plans/export.csv"`,
		`href="/dashboard/payments/export.csv"`, `href="/dashboard/plans" aria-current="page"`,
		fmt.Sprintf(`<a href="/dashboard/plans/%d">Ana María O&#39;Brien_100%%</a>`, special),
		"90.00 EUR", "300.00 USD", `<time datetime="2025-11-27">`)
	if got := listedIDs(t, first); !slices.Equal(got, newestFirst[:dashboardPlansPageSize]) {
		t.Fatalf("first page %v, want %v", got, newestFirst[:dashboardPlansPageSize])
	}
	if pageLink(first, newerLink) != "" {
		t.Fatal("the first page links to newer plans")
	}
	older := pageLink(first, olderLink)
	if want := fmt.Sprintf("/dashboard/plans?after=%d", newestFirst[dashboardPlansPageSize-1]); older != want {
		t.Fatalf("older link %q, want %q", older, want)
	}
	second := e.dashGet(t, older, cookie)
	if got := listedIDs(t, second); !slices.Equal(got, newestFirst[dashboardPlansPageSize:]) {
		t.Fatalf("second page %v, want %v", got, newestFirst[dashboardPlansPageSize:])
	}
	if pageLink(second, olderLink) != "" {
		t.Fatal("the last page links to older plans")
	}
	back := e.dashGet(t, pageLink(second, newerLink), cookie)
	if got := listedIDs(t, back); !slices.Equal(got, newestFirst[:dashboardPlansPageSize]) || pageLink(back, newerLink) != "" {
		t.Fatalf("back to the first page: %v (newer link %q)", got, pageLink(back, newerLink))
	}
	// Another account's plan is never listed, whatever the filters.
	for _, path := range []string{"/dashboard/plans?q=customer+05", "/dashboard/plans?q=c05@example.com",
		"/dashboard/plans?q=INV-05", fmt.Sprintf("/dashboard/plans?before=%d", theirs-1)} {
		res := e.dashGet(t, path, cookie)
		if got := listedIDs(t, res); slices.Contains(got, theirs) {
			t.Fatalf("%s lists another account's plan: %v", path, got)
		}
	}

	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"status=cancelled", []int64{ids[17], ids[3]}},
		{"status=pending&q=customer+0", []int64{ids[9], ids[8], ids[7], ids[6], ids[5], ids[4], ids[2], ids[1], ids[0]}},
		{"q=C07@EXAMPLE.COM", []int64{ids[7]}},            // email, any case
		{"q=++ana.obrien@example.com+", []int64{special}}, // trimmed
		{"q=inv-12", []int64{ids[12]}},                    // invoice number, any case
		{"q=INV/2025/7", []int64{special}},                //
		{"q=MARÍA+o'b", []int64{special}},                 // a part of the name
		{"q=_100%25", []int64{special}},                   // LIKE's wildcards match as typed
		{"q=%25", []int64{special}},                       //
		{"q=c07@example", nil},                            // an email matches whole
		{"q=INV-1", nil},                                  // an invoice number too
		{"q=customer+05&status=cancelled", nil},           //
		{"q=customer+1&after=" + strconv.FormatInt(ids[15], 10), // paging within a search
			[]int64{ids[14], ids[13], ids[12], ids[11], ids[10]}},
	} {
		res := e.dashGet(t, "/dashboard/plans?"+tc.query, cookie)
		if res.status != http.StatusOK {
			t.Fatalf("%s: %d\n%s", tc.query, res.status, res.body)
		}
		if got := listedIDs(t, res); !slices.Equal(got, tc.want) {
			t.Fatalf("%s: %v, want %v", tc.query, got, tc.want)
		}
		if tc.want == nil && !strings.Contains(string(res.body), `data-empty="plans"`) {
			t.Fatalf("%s: no empty-list message", tc.query)
		}
	}
	// The filters stay in the page links and the exports' links.
	res := e.dashGet(t, "/dashboard/plans?status=pending&q=customer", cookie)
	if got := pageLink(res, olderLink); got != fmt.Sprintf("/dashboard/plans?after=%d&q=customer&status=pending", ids[4]) { // rows 29..18, 16..4
		t.Fatalf("older link with filters: %q", got)
	}
	requireHTML(t, "filtered list", res, http.StatusOK, `<option value="pending" selected>`, `value="customer"`,
		`href="/dashboard/plans/export.csv?q=customer&amp;status=pending"`)

	for _, bad := range []string{"status=lost", "after=x", "before=-1", "after=3&before=9"} {
		requireHTML(t, bad, e.dashGet(t, "/dashboard/plans?"+bad, cookie), http.StatusBadRequest, `role="alert"`)
	}

	// The other account's user sees its own plan only.
	if got := listedIDs(t, e.dashGet(t, "/dashboard/plans", e.signIn(t, "g@example.com"))); !slices.Equal(got, []int64{theirs}) {
		t.Fatalf("the other account's list: %v", got)
	}
}

// exportGet downloads an export and checks its headers.
func (e *testEnv) exportGet(t *testing.T, path, cookie, name string) string {
	t.Helper()
	res := e.dashGet(t, path, cookie)
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		res.header.Get("Content-Disposition") != `attachment; filename="`+name+`-2025-11-27.csv"` ||
		res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET %s: %d %v\n%s", path, res.status, res.header, res.body)
	}
	return string(res.body)
}

func TestDashboardExportsCSV(t *testing.T) {
	t.Parallel()
	e, otherKey := newTwoAccountEnv(t)

	hostile := e.dashPlan(t, `=cmd|' /C calc'!A0`, "evil@example.com", "+SUM(A1)", "1200", "USD")
	quoted := e.dashPlan(t, `Zoë "Zee", Müller`, "zoe@example.com", "@INV-2", "99.5", "EUR")
	yen := e.dashPlan(t, "Kenji Sato", "kenji@example.com", "", "5000", "JPY")
	// A payment on the quoted plan, recorded by the merchant, with a
	// reference a spreadsheet would run.
	d := e.get(t, quoted)
	e.selectFirst(t, d)
	e.postPlan(t, quoted, "/payments", `{"amount":"49.75","method":"check","paid_on":"2025-11-26","reference":"-2+3"}`, http.StatusCreated)
	e.project(t, quoted)
	// Another account's plan, with a matching name.
	e.otherPlan(t, otherKey, `{"customer":{"name":"Kenji Sato","email":"kenji@example.com"},"invoice":{"amount":"7.00"}}`)

	cookie := e.signIn(t, "owner@example.com")
	plans := e.exportGet(t, "/dashboard/plans/export.csv", cookie, "plans")
	want := "plan_id,status,customer_name,customer_email,invoice_number,currency,amount,outstanding,created_at\n" +
		fmt.Sprintf("%d,pending,Kenji Sato,kenji@example.com,,JPY,5000,5000,2025-11-27T01:15:30Z\n", yen) +
		fmt.Sprintf("%d,active,\"Zoë \"\"Zee\"\", Müller\",zoe@example.com,'@INV-2,EUR,99.50,49.75,2025-11-27T01:15:30Z\n", quoted) +
		fmt.Sprintf("%d,pending,'=cmd|' /C calc'!A0,evil@example.com,'+SUM(A1),USD,1200.00,1200.00,2025-11-27T01:15:30Z\n", hostile)
	if plans != want {
		t.Fatalf("plans export:\n%s\nwant:\n%s", plans, want)
	}
	payments := e.exportGet(t, "/dashboard/payments/export.csv", cookie, "payments")
	wantPayments := "plan_id,plan_status,customer_name,customer_email,invoice_number,currency,payment_id,payment_status," +
		"amount,confirmed_amount,paid_on,method,reference,source,reported_at,confirmed_at,rejected_at,reject_reason\n" +
		fmt.Sprintf("%d,active,\"Zoë \"\"Zee\"\", Müller\",zoe@example.com,'@INV-2,EUR,%d,confirmed,49.75,49.75,2025-11-26,check,'-2+3,merchant,2025-11-27T01:15:30Z,2025-11-27T01:15:30Z,,\n",
			quoted, e.get(t, quoted).Payments[0].ID)
	if payments != wantPayments {
		t.Fatalf("payments export:\n%s\nwant:\n%s", payments, wantPayments)
	}
	// The list's filters apply.
	if got := e.exportGet(t, "/dashboard/plans/export.csv?q=kenji", cookie, "plans"); got != strings.Join(strings.SplitAfter(want, "\n")[:2], "") {
		t.Fatalf("filtered export:\n%s", got)
	}
	if got := e.exportGet(t, "/dashboard/payments/export.csv?status=pending", cookie, "payments"); got != strings.SplitAfter(wantPayments, "\n")[0] {
		t.Fatalf("filtered payments export:\n%s", got)
	}
	if res := e.dashGet(t, "/dashboard/plans/export.csv?status=lost", cookie); res.status != http.StatusBadRequest {
		t.Fatalf("export with a bad filter: %d", res.status)
	}
	// The other account exports its own plan only.
	theirs := e.exportGet(t, "/dashboard/plans/export.csv", e.signIn(t, "g@example.com"), "plans")
	if n := strings.Count(theirs, "\n"); n != 2 || !strings.Contains(theirs, ",7.00,") {
		t.Fatalf("the other account's export:\n%s", theirs)
	}
	// Signed out: the sign-in page.
	if res := e.dashGet(t, "/dashboard/plans/export.csv", ""); res.status != http.StatusSeeOther {
		t.Fatalf("export without a session: %d", res.status)
	}
}

func TestCSVSafe(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "", "=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)",
		"\tx": "'\tx", "\rx": "'\rx", "a=b": "a=b", "'=x": "'=x", "1200.00": "1200.00", " =x": " =x"} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// planCreateForm is a valid create form of the dashboard.
func planCreateForm(csrf string) url.Values {
	return url.Values{"csrf": {csrf}, "form_id": {newFormID()}, "customer.name": {"Dana Scully"},
		"customer.email": {"dana@example.com"}, "customer.phone": {"+1 555 0100"}, "invoice.amount": {"900.00"},
		"invoice.currency": {"usd"}, "invoice.invoice_number": {"INV-900"}, "invoice.description": {"Consulting"},
		"options.intervals": {"monthly", "weekly"}, "options.durations": {"3, 6"},
		"options.first_payment_date": {"2025-12-15"}, "send_introduction_email": {"true"}}
}

// planEvents counts the events of every plan stream.
func (e *testEnv) planEvents(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.store.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM events WHERE starts_with(stream_id, $1)`, eventstore.PlanStreamPrefix).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDashboardCreatePlan(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	cookie := e.signIn(t, "owner@example.com")
	csrf := e.csrfOf(t, cookie)
	post := func(form url.Values, headers ...string) response {
		return e.dashDo(t, http.MethodPost, "/dashboard/plans/new", dashClient, cookie, form, headers...)
	}

	page := e.dashGet(t, "/dashboard/plans/new", cookie)
	requireHTML(t, "create form", page, http.StatusOK, `data-page="plan-new"`, `name="csrf"`, `name="form_id"`,
		`data-action="create-plan"`, `data-action="preview-plan"`, `name="customer.name"`, `name="invoice.amount"`,
		`value="monthly" checked`, `value="3, 6, 12"`, `name="send_introduction_email" value="true" checked`)
	requireLabels(t, "create form", page)

	// Refused: every message on the form, 422, nothing recorded.
	bad := planCreateForm(csrf)
	bad.Set("customer.name", "")
	bad.Set("customer.email", "not-an-email")
	bad.Set("invoice.amount", "12.345")
	bad.Set("options.durations", "3, six")
	bad.Del("options.intervals")
	for _, preview := range []bool{false, true} {
		f := maps.Clone(bad)
		if preview {
			f.Set("preview", "1")
		}
		res := post(f)
		requireHTML(t, "refused create", res, http.StatusUnprocessableEntity, `id="plan-errors"`,
			"The customer.name field is required.", `id="customer-name-error"`, `id="customer-email-error"`,
			`id="invoice-amount-error"`, `id="options-durations-error"`, `id="options-intervals-error"`,
			`value="not-an-email"`, `value="3, six"`, `aria-invalid="true"`)
	}
	if n := e.planEvents(t); n != 0 {
		t.Fatalf("refused forms recorded %d events", n)
	}

	// Preview: the options the API's quote computes, nothing recorded.
	form := planCreateForm(csrf)
	pf := maps.Clone(form)
	pf.Set("preview", "1")
	res := post(pf)
	requireHTML(t, "preview", res, http.StatusOK, `data-preview="options"`, `value="Dana Scully"`,
		`<td data-label="Each" class="n">300.00 USD</td>`, `<td data-label="Each" class="n">150.00 USD</td>`,
		`<td data-label="First">2025-12-15</td>`, `value="`+form.Get("form_id")+`"`)
	if n := strings.Count(string(res.body), "<tr data-option>"); n != 4 {
		t.Fatalf("preview shows %d options, want 4 (2 intervals x 2 durations)", n)
	}
	quote := e.do(t, "POST", "/api/v1/plans/quote", e.key, []byte(`{"customer":{"name":"Dana Scully","email":"dana@example.com"},
		"invoice":{"amount":"900.00"},"options":{"intervals":["monthly","weekly"],"durations":[3,6],"first_payment_date":"2025-12-15"}}`))
	var q planQuote
	if err := json.Unmarshal(quote.body, &q); err != nil || len(q.PlanOptions) != 4 {
		t.Fatalf("quote: %d %s", quote.status, quote.body)
	}
	for _, o := range q.PlanOptions {
		row := fmt.Sprintf(`<td data-label="Payments" class="n">%d</td><td data-label="Interval">%s</td><td data-label="Each" class="n">%s USD</td><td data-label="First">%s</td><td data-label="Last">%s</td>`,
			o.Installments, o.Interval, o.PaymentAmount, o.FirstPaymentDate, o.FinalPaymentDate)
		if !strings.Contains(string(res.body), row) {
			t.Fatalf("preview lacks the quote's option %s", row)
		}
	}
	if n := e.planEvents(t); n != 0 {
		t.Fatalf("the preview recorded %d events", n)
	}

	// Without the csrf field, or from another origin: 403, nothing.
	noCSRF := maps.Clone(form)
	noCSRF.Del("csrf")
	requireHTML(t, "create without csrf", post(noCSRF), http.StatusForbidden, `data-page="forbidden"`)
	requireHTML(t, "create from another origin", post(form, "Origin", "https://evil.example"), http.StatusForbidden)
	if n := e.planEvents(t); n != 0 {
		t.Fatalf("refused forms recorded %d events", n)
	}

	// Created: a 303 to the plan's page; posted twice, one plan.
	var location string
	for i := range 2 {
		res := post(form, "User-Agent", "dashboard test")
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/dashboard/plans/") {
			t.Fatalf("create %d: %d %s\n%s", i+1, res.status, res.header.Get("Location"), res.body)
		}
		if i == 1 && res.header.Get("Location") != location {
			t.Fatalf("the second submit leads to %s, the first to %s", res.header.Get("Location"), location)
		}
		location = res.header.Get("Location")
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(location, "/dashboard/plans/"), 10, 64)
	recs := e.records(t, id)
	if n := e.planEvents(t); n != 1 || len(recs) != 1 || recs[0].Type != domain.EventPlanCreated {
		t.Fatalf("the form posted twice recorded %d events: %v", n, typesOf(recs))
	}
	var meta eventstore.Metadata
	if err := json.Unmarshal(recs[0].Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Actor != domain.SourceMerchant || meta.AccountID != e.acct.ID || meta.User == nil ||
		*meta.User != (eventstore.ActorUser{ID: owner.ID, Email: "owner@example.com"}) || !strings.HasPrefix(meta.CommandID, "dashboard:") {
		t.Fatalf("metadata %s", recs[0].Metadata)
	}
	var created domain.PlanCreated
	if err := json.Unmarshal(recs[0].Data, &created); err != nil {
		t.Fatal(err)
	}
	if !created.SendIntroductionEmail || created.AccountID != e.acct.ID || created.Customer.Name != "Dana Scully" ||
		created.Customer.Phone != "+1 555 0100" || created.Invoice.Amount.String() != "900.00" || created.Invoice.Currency != "USD" ||
		created.Invoice.InvoiceNumber != "INV-900" || created.Invoice.Description != "Consulting" || len(created.Options) != 4 {
		t.Fatalf("plan.created %s", recs[0].Data)
	}
	// It is listed.
	e.project(t, id)
	if got := listedIDs(t, e.dashGet(t, "/dashboard/plans?q=INV-900", cookie)); !slices.Equal(got, []int64{id}) {
		t.Fatalf("the new plan is not listed: %v", got)
	}

	// Unticked, the introduction email is not asked for.
	quiet := planCreateForm(csrf)
	quiet.Del("send_introduction_email")
	res = post(quiet)
	quietID, _ := strconv.ParseInt(strings.TrimPrefix(res.header.Get("Location"), "/dashboard/plans/"), 10, 64)
	if res.status != http.StatusSeeOther || quietID == id {
		t.Fatalf("create without the email: %d %s", res.status, res.header.Get("Location"))
	}
	if err := json.Unmarshal(e.records(t, quietID)[0].Data, &created); err != nil || created.SendIntroductionEmail {
		t.Fatalf("plan.created without the email: %s", e.records(t, quietID)[0].Data)
	}
}

// requireLabels fails unless every input, select and textarea of the page
// (but the hidden ones and the checkboxes, which sit inside their label)
// has a <label for=...>.
func requireLabels(t *testing.T, what string, res response) {
	t.Helper()
	labels := map[string]bool{}
	for _, m := range labelFor.FindAllSubmatch(res.body, -1) {
		labels[string(m[1])] = true
	}
	for _, m := range controlIDs.FindAllSubmatch(res.body, -1) {
		if !labels[string(m[1])] {
			t.Fatalf("%s: control %s has no label", what, m[1])
		}
	}
}
