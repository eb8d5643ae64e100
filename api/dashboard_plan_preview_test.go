package api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"goodplan/eventstore"
)

// The create form's live preview (POST /dashboard/plans/new/preview, which
// templates/dashboard/preview.js posts as the form is typed), against the
// real router and database. The script itself runs in Chromium in
// cmd/goodplan (TestDashboardInChromium).

const previewPath = "/dashboard/plans/new/preview"

var (
	// formErrorItems are the messages of the form page's error summary.
	formErrorSummary = regexp.MustCompile(`(?s)<div class="alert" role="alert" id="plan-errors">(.*?)</div>`)
	listItem         = regexp.MustCompile(`<li[^>]*>([^<]*)</li>`)
	inlineScript     = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
)

// listItems are the texts of the <li> elements of b, unescaped.
func listItems(b []byte) []string {
	var out []string
	for _, m := range listItem.FindAllSubmatch(b, -1) {
		out = append(out, html.UnescapeString(string(m[1])))
	}
	return out
}

// commandCount counts the recorded command ids (the idempotency records of
// the API's Idempotency-Key and of the dashboard's form_id).
func (e *testEnv) commandCount(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := e.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM commands`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// requireFragment fails unless res is a 200 answer of the preview: the
// card's contents alone (no page around them), as valid UTF-8.
func requireFragment(t *testing.T, what string, res response) string {
	t.Helper()
	body := string(res.body)
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
		t.Fatalf("%s: %d %s, want a 200 HTML fragment\n%s", what, res.status, res.header.Get("Content-Type"), body)
	}
	if !strings.HasPrefix(body, "<h2>The options the customer will see</h2>") || strings.Contains(body, "<html") ||
		strings.Contains(body, "<form") || strings.Contains(body, `name="csrf"`) {
		t.Fatalf("%s: not the preview card's contents alone:\n%s", what, body)
	}
	if !utf8.ValidString(body) || strings.ContainsAny(body, "\x00\u202e") {
		t.Fatalf("%s: the fragment has invalid UTF-8, a NUL or a bidi override: %q", what, body)
	}
	return body
}

// TestDashboardPlanLivePreview: the fragment endpoint answers the options
// the API's quote computes for the same input, or the form's own field
// errors, 200 either way; it records nothing (no event, so no email or
// webhook, and no command id: the same form creates its plan afterwards);
// it is guarded like every dashboard form; and the create page carries
// the script, allowed by its hash under a policy without 'unsafe-inline'.
func TestDashboardPlanLivePreview(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	cookie := e.signIn(t, "owner@example.com")
	csrf := e.csrfOf(t, cookie)
	post := func(path string, form url.Values, headers ...string) response {
		t.Helper()
		return e.dashDo(t, http.MethodPost, path, dashClient, cookie, form, headers...)
	}
	events0, commands0 := e.eventCount(t), e.commandCount(t) // the user's, say
	nothingRecorded := func(what string) {
		t.Helper()
		if n, c := e.eventCount(t)-events0, e.commandCount(t)-commands0; n != 0 || c != 0 {
			t.Fatalf("%s: %d events and %d command ids recorded", what, n, c)
		}
	}

	// The page: the card (hidden until the script shows it), the form's
	// preview address, the script allowed by its hash.
	page := e.dashGet(t, "/dashboard/plans/new", cookie)
	requireHTML(t, "create form", page, http.StatusOK, `data-preview-action="`+previewPath+`"`,
		`<div class="card" data-preview="options" role="status" aria-live="polite"`,
		`data-preview-failed="The preview could not be updated: use the Preview button." hidden>`,
		"<p>The options appear here as you fill in the form.</p>")
	csp := page.header.Get("Content-Security-Policy")
	script := inlineScript.FindSubmatch(page.body)
	if script == nil {
		t.Fatalf("no script on the create page:\n%s", page.body)
	}
	sum := sha256.Sum256(script[1])
	if !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") ||
		!strings.Contains(csp, "connect-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Fatalf("the preview script is not allowed by its hash, or the policy is loose: %q", csp)
	}

	// Valid: the quote's options, as the API answers them for the same body.
	form := planCreateForm(csrf)
	body := requireFragment(t, "preview", post(previewPath, form))
	quote := e.do(t, "POST", "/api/v1/plans/quote", e.key, []byte(`{"customer":{"name":"Dana Scully","email":"dana@example.com","phone":"+1 555 0100"},
		"invoice":{"amount":"900.00","currency":"usd","invoice_number":"INV-900","description":"Consulting"},
		"options":{"intervals":["monthly","weekly"],"durations":[3,6],"first_payment_date":"2025-12-15"},"send_introduction_email":true}`))
	var q planQuote
	if err := json.Unmarshal(quote.body, &q); err != nil || quote.status != http.StatusOK || len(q.PlanOptions) != 4 {
		t.Fatalf("quote: %d %s", quote.status, quote.body)
	}
	var want string
	for _, o := range q.PlanOptions {
		want += fmt.Sprintf("\n"+`<tr data-option><td data-label="Payments" class="n">%d</td><td data-label="Interval">%s</td><td data-label="Each" class="n">%s USD</td><td data-label="First">%s</td><td data-label="Last">%s</td></tr>`,
			o.Installments, o.Interval, o.PaymentAmount, o.FirstPaymentDate, o.FinalPaymentDate)
	}
	if !strings.Contains(body, "<tbody>"+want+"\n</tbody>") {
		t.Fatalf("the preview's options are not the quote's:\n%s\nwant rows:%s", body, want)
	}
	// The button's preview (a whole page) shows the same rows.
	pf := maps.Clone(form)
	pf.Set("preview", "1")
	requireHTML(t, "preview button", post("/dashboard/plans/new", pf), http.StatusOK, "<tbody>"+want+"\n</tbody>")
	nothingRecorded("previews")

	// Invalid: 200, the form's own messages (the 422 page's) in the card.
	bad := planCreateForm(csrf)
	bad.Set("customer.email", "not-an-email")
	bad.Set("invoice.amount", "12.345")
	bad.Set("options.durations", "3, six")
	bad.Del("options.intervals")
	body = requireFragment(t, "invalid preview", post(previewPath, bad))
	refused := post("/dashboard/plans/new", bad)
	summary := formErrorSummary.FindSubmatch(refused.body)
	if refused.status != http.StatusUnprocessableEntity || summary == nil {
		t.Fatalf("the refused form: %d\n%s", refused.status, refused.body)
	}
	if got, want := listItems([]byte(body)), listItems(summary[1]); len(want) != 4 || !slices.Equal(got, want) ||
		!strings.Contains(body, "<div data-preview-errors>") || strings.Contains(body, "<tr data-option") {
		t.Fatalf("the preview's errors %q are not the form's %q:\n%s", got, want, body)
	}
	if !strings.Contains(body, `<li data-field="invoice.amount">`) {
		t.Fatalf("the errors do not name their fields:\n%s", body)
	}
	nothingRecorded("invalid previews")

	// Guarded as every dashboard form: without or with a wrong csrf, from
	// another origin or site, 403; signed out, the sign-in page.
	for what, c := range map[string]struct {
		form    url.Values
		headers []string
	}{
		"no csrf":          {url.Values{"invoice.amount": {"900"}}, nil},
		"another csrf":     {func() url.Values { f := maps.Clone(form); f.Set("csrf", strings.ToUpper(csrf)+"x"); return f }(), nil},
		"another origin":   {form, []string{"Origin", "https://evil.example"}},
		"cross-site fetch": {form, []string{"Sec-Fetch-Site", "cross-site"}},
	} {
		res := post(previewPath, c.form, c.headers...)
		requireHTML(t, what, res, http.StatusForbidden, `data-page="forbidden"`)
	}
	signedOut := e.dashDo(t, http.MethodPost, previewPath, dashClient, "", form)
	if signedOut.status != http.StatusSeeOther || signedOut.header.Get("Location") != "/dashboard/login" {
		t.Fatalf("signed out: %d %s", signedOut.status, signedOut.header.Get("Location"))
	}
	if res := e.dashGet(t, previewPath, cookie); res.status != http.StatusMethodNotAllowed {
		t.Fatalf("GET %s: %d", previewPath, res.status)
	}
	nothingRecorded("refused previews")

	// The previews kept no command id: the previewed form creates its plan,
	// once, and a preview of the same form after that is still a preview.
	created := post("/dashboard/plans/new", form)
	if created.status != http.StatusSeeOther || !strings.HasPrefix(created.header.Get("Location"), "/dashboard/plans/") {
		t.Fatalf("create after the previews: %d %s\n%s", created.status, created.header.Get("Location"), created.body)
	}
	if n := e.planEvents(t); n != 1 {
		t.Fatalf("the create recorded %d plan events", n)
	}
	events, commands := e.eventCount(t), e.commandCount(t)
	body = requireFragment(t, "preview after the create", post(previewPath, form))
	if !strings.Contains(body, "<tbody>"+want+"\n</tbody>") {
		t.Fatalf("a preview of the created form is not the preview:\n%s", body)
	}
	if e.eventCount(t) != events || e.commandCount(t) != commands {
		t.Fatal("a preview after the create recorded something")
	}
}

// TestDashboardPlanLivePreviewRefusesHostileText: hostile text in the live
// preview gets the form's own messages (as its 422 page lists them), 200,
// in a fragment that is valid UTF-8 and never echoes the input; nothing is
// recorded. A body over the size limit is the 400 page, as for the form.
func TestDashboardPlanLivePreviewRefusesHostileText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	cookie := e.signIn(t, "owner@example.com")
	csrf := e.csrfOf(t, cookie)
	events0, commands0 := e.eventCount(t), e.commandCount(t)
	for _, c := range []struct{ what, field, value string }{
		{"NUL", "customer.name", "<b>Dana</b>\x00Scully"},
		{"escape", "invoice.description", "Dana\x1b[31m<i>Scully</i>"},
		{"bidi override", "customer.name", "Dana\u202e<u>yllucS</u>"},
		{"invalid UTF-8", "invoice.invoice_number", "INV\xff<s>900</s>"},
		{"too long", "customer.name", "<q>" + strings.Repeat("D", 300)},
		{"huge amount", "invoice.amount", "9" + strings.Repeat("0", 5000)},
		{"huge durations", "options.durations", strings.Repeat("123456789", 600)},
		{"many durations", "options.durations", strings.Repeat("2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, ", 200) + "15"},
		{"huge date", "options.first_payment_date", "99999999-12-31<mark>"},
		{"bad currency", "invoice.currency", "<x>"},
	} {
		form := planCreateForm(csrf)
		form.Set(c.field, c.value)
		res := e.dashDo(t, http.MethodPost, previewPath, dashClient, cookie, form)
		body := requireFragment(t, c.what, res)
		refused := e.dashDo(t, http.MethodPost, "/dashboard/plans/new", dashClient, cookie, form)
		summary := formErrorSummary.FindSubmatch(refused.body)
		if refused.status != http.StatusUnprocessableEntity || summary == nil {
			t.Fatalf("%s: the form answers %d, want 422", c.what, refused.status)
		}
		if got, want := listItems([]byte(body)), listItems(summary[1]); len(got) == 0 || !slices.Equal(got, want) {
			t.Fatalf("%s: the preview's errors %q are not the form's %q", c.what, got, want)
		}
		for _, tag := range []string{"<b>", "<i>", "<u>", "<s>", "<q>", "<x>", "<mark>"} {
			if strings.Contains(body, tag) && strings.Contains(c.value, tag) {
				t.Fatalf("%s: the fragment echoes the input's %s:\n%s", c.what, tag, body)
			}
		}
	}
	over := planCreateForm(csrf)
	over.Set("invoice.description", strings.Repeat("d", MaxBodyBytes))
	if res := e.dashDo(t, http.MethodPost, previewPath, dashClient, cookie, over); res.status != http.StatusBadRequest {
		t.Fatalf("a body over the limit: %d, want 400", res.status)
	}
	if n, c := e.eventCount(t)-events0, e.commandCount(t)-commands0; n != 0 || c != 0 {
		t.Fatalf("hostile previews recorded %d events and %d command ids", n, c)
	}
}
