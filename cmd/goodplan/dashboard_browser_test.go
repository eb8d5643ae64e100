package main

// The merchant dashboard in a real browser: Debian's headless Chromium,
// driven by chromedp, against the goodplan binary (issue 12's first "Done
// means"). The merchant signs in, generates an API key and uses it, creates
// a plan; the customer, in a second browser context with its own cookies,
// chooses an option and reports a payment in the portal; the merchant finds
// it under Needs attention, confirms it, and the plan's timeline names both.
// Every dashboard page visited is saved as a PNG at 1280 and 390 px wide
// under the dashboard folder of the screenshot directory (see
// screenshotDir; .ci/run keeps it as a CI artifact).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"goodplan/eventstore/pgtest"
)

func TestDashboardInChromium(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the dashboard's browser test needs Debian's Chromium at %s (apt-get install -y chromium; .ci/run installs it): %v",
			chromiumPath, err)
	}
	shots := filepath.Join(screenshotDir(t), "dashboard")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	// 1. The server, an account with its owner (CLI) and a notification
	// address for the merchant.
	dbURL := pgtest.NewDatabase(t)
	acct := newDashboardAccount(t, dbURL)
	const merchantEmail, customerEmail = "alerts@northwind.example", "dana@example.com"
	mustRunCLI(t, dbURL, "accounts", "update", "--account", strconv.FormatInt(acct, 10), "--notify-email", merchantEmail)
	dataDir := t.TempDir()
	base := "http://" + freeAddr(t)
	srv := startServer(t, dbURL, "HTTP_ADDR="+strings.TrimPrefix(base, "http://"), "PUBLIC_URL="+base, "DATA_DIR="+dataDir)
	outbox := filepath.Join(dataDir, "outbox")

	ctx := newBrowser(t)
	b := dashBrowser{t: t, ctx: ctx, shots: shots}
	desktop := chromedp.EmulateViewport(1280, 900)

	// 2. Sign in.
	b.run("open the sign-in page", desktop, chromedp.Navigate(base+"/dashboard/login"),
		chromedp.WaitVisible(chromedp.CSS(`[data-page="login"]`)))
	b.shot("01-login")
	b.run("fill the sign-in form",
		chromedp.SetValue(chromedp.ID("login-email"), "owner@example.com"),
		chromedp.SetValue(chromedp.ID("login-password"), "a long pass phrase"))
	b.submit("sign in", chromedp.CSS(`button[data-action="login"]`))
	b.run("Needs attention", chromedp.WaitVisible(chromedp.CSS(`[data-page="needs-attention"]`)))
	if loc := b.location(); loc != base+"/dashboard" && loc != base+"/dashboard/" {
		t.Fatalf("signed in at %s, want %s/dashboard", loc, base)
	}
	b.shot("02-needs-attention-empty")

	// 3. Developers: a new API key, shown once, works with the API.
	b.run("open Developers", chromedp.Navigate(base+"/dashboard/developers"),
		chromedp.WaitVisible(chromedp.CSS(`[data-page="developers"]`)))
	b.submit("generate an API key", chromedp.CSS(`button[data-action="generate-api-key"]`))
	b.run("the new key", chromedp.WaitVisible(chromedp.CSS(`[data-api-key]`)))
	key, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(`[data-api-key]`)))
	if err != nil {
		t.Fatalf("read the new key: %v", err)
	}
	key = strings.TrimSpace(key)
	if status, body := call(t, http.MethodGet, base+"/api/v1/plans", key, ""); status != http.StatusOK {
		t.Fatalf("GET /api/v1/plans with the dashboard's key %q: %d %s", key, status, body)
	}
	b.shot("03-developers-new-key")

	// 4. Plans -> New plan: the live preview, the preview button, then
	// create.
	b.run("open Plans", chromedp.Navigate(base+"/dashboard/plans"), chromedp.WaitVisible(chromedp.CSS(`[data-page="plans"]`)))
	b.shot("04-plans-empty")
	b.run("open the create form", chromedp.Navigate(base+"/dashboard/plans/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-page="plan-new"]`)))
	b.shot("05-plan-new")
	// The live preview as the form is typed (it fills the form in), then
	// the preview button's page.
	checkLivePreview(t, b, base, key)
	b.submit("preview the options", chromedp.CSS(`button[data-action="preview-plan"]`))
	b.run("the preview", chromedp.WaitVisible(chromedp.CSS(`[data-preview="options"] [data-option]`)))
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("customer-name"))); err != nil || v != "Dana Scully" {
		t.Fatalf("the preview did not keep the form: %q (%v)", v, err)
	}
	b.shot("06-plan-new-preview")
	b.submit("create the plan", chromedp.CSS(`button[data-action="create-plan"]`))
	b.run("the plan page", chromedp.WaitVisible(chromedp.CSS(`[data-page="plan"]`)))
	m := regexp.MustCompile(`^` + regexp.QuoteMeta(base) + `/dashboard/plans/(\d+)$`).FindStringSubmatch(b.location())
	if m == nil {
		t.Fatalf("after create the browser is at %s, not a plan page", b.location())
	}
	planID, _ := strconv.ParseInt(m[1], 10, 64)
	planPage := m[0]
	b.shot("07-plan-pending")

	// 5. The customer, in a second browser context (its own cookies):
	// the introduction email's link, an option, a payment reported.
	link := introductionLink(t, outbox, planID, base, srv)
	// The link is the customer's bearer secret: the plan page does not
	// show it (only right after "Make a new portal link", once).
	if html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS(`html`))); err != nil ||
		strings.Contains(html, link) || strings.Contains(html, "data-portal-url") {
		t.Fatalf("the plan page shows the portal link %s (%v)", link, err)
	}
	waitForPortal(t, link)
	cctx, cancelCustomer := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancelCustomer)
	customer := dashBrowser{t: t, ctx: cctx}
	customer.run("the customer's context has no dashboard session", desktop, chromedp.Navigate(base+"/dashboard"),
		chromedp.WaitVisible(chromedp.CSS(`[data-page="login"]`)))
	customer.run("open the portal link", chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`button[data-option-id]`)))
	customer.submit("choose an option", chromedp.CSS(`button[data-option-id]`))
	customer.run("fill the payment",
		chromedp.WaitVisible(chromedp.CSS(`[data-notice="selected"]`)),
		chromedp.SetValue(chromedp.ID("pay-amount"), "400.00"),
		chromedp.SetValue(chromedp.ID("pay-paid-on"), time.Now().UTC().Format(time.DateOnly)),
		chromedp.SetValue(chromedp.ID("pay-method"), "e_transfer"),
		chromedp.SetValue(chromedp.ID("pay-reference"), "ET-90210"))
	customer.submit("report the payment", chromedp.CSS(`button[data-action="report-payment"]`))
	customer.run("payment reported", chromedp.WaitVisible(chromedp.CSS(`[data-payment-status="reported"]`)))

	// 6. The merchant: the reported payment under Needs attention (the read
	// model catches up: reload until the row is there), one click to the
	// plan, confirm.
	row := fmt.Sprintf(`tr[data-attention="payment-reported"][data-plan-id="%d"]`, planID)
	pgtest.Every(200*time.Millisecond).WaitForNil(t, 30*time.Second, "the reported payment under Needs attention", func() error {
		b.run("reload Needs attention", chromedp.Navigate(base+"/dashboard"))
		there, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q) !== null`, row)))
		if err != nil {
			t.Fatalf("look for %s: %v", row, err)
		}
		if !there {
			return fmt.Errorf("no %s yet", row)
		}
		return nil
	})
	b.shot("08-needs-attention")
	b.submit("click through to the plan", chromedp.CSS(row+` a`))
	if loc := b.location(); loc != planPage {
		t.Fatalf("the Needs attention row leads to %s, want %s", loc, planPage)
	}
	b.run("the reported payment", chromedp.WaitVisible(chromedp.CSS(`button[data-action="confirm-payment"]`)))
	b.shot("09-plan-payment-reported")
	b.submit("confirm the payment", chromedp.CSS(`button[data-action="confirm-payment"]`))
	b.run("payment confirmed", chromedp.WaitVisible(chromedp.CSS(`[data-payment-status="confirmed"]`)))
	if loc := b.location(); !strings.HasPrefix(loc, planPage) {
		t.Fatalf("confirm led to %s, want the plan page %s", loc, planPage)
	}
	b.shot("10-plan-payment-confirmed")
	actors, err := chromedp.Run(ctx, chromedp.AttributesAll(chromedp.CSSAll(`ol.timeline li[data-actor]`)))
	if err != nil {
		t.Fatalf("the timeline: %v", err)
	}
	byActor := map[string][]string{}
	for _, a := range actors {
		byActor[a["data-actor"]] = append(byActor[a["data-actor"]], a["data-event-type"])
	}
	timeline, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`ol.timeline`)))
	if err != nil {
		t.Fatalf("the timeline's text: %v", err)
	}
	if !strings.Contains(strings.Join(byActor["customer"], " "), "installment.paid") ||
		!strings.Contains(strings.Join(byActor["merchant"], " "), "installment.confirmed") ||
		!strings.Contains(timeline, "by customer") || !strings.Contains(timeline, "by Olive Owner (owner@example.com)") {
		t.Fatalf("the timeline does not name both actors: %v\n%s", byActor, timeline)
	}

	// 7. Every other page: a catalog plan, a plan group and a webhook
	// endpoint (made with the key, through the API) give their pages
	// something to show.
	if status, body := call(t, http.MethodPost, base+"/api/v1/catalog/plans", key, `{"id":"volume","name":"Volume",
		"pricing_mode":"volume","tiers":[{"max_qty":10,"unit_cost":"2"},{"min_qty":11,"unit_cost":"1.5"}]}`); status != http.StatusCreated {
		t.Fatalf("create a catalog plan: %d %s", status, body)
	}
	status, body := call(t, http.MethodPost, base+"/api/v1/plan-groups", key, `{"name":"Volume plans","plans":["volume"]}`)
	var group struct {
		ID string `json:"id"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &group) != nil {
		t.Fatalf("create a plan group: %d %s", status, body)
	}
	// An endpoint for an event that no longer comes: its log is empty,
	// and nothing is sent anywhere.
	status, body = call(t, http.MethodPost, base+"/api/v1/webhook-endpoints", key,
		`{"url":"https://hooks.example.com/goodplan","events":["plan.written_off"]}`)
	var endpoint struct {
		ID int64 `json:"id"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &endpoint) != nil {
		t.Fatalf("create a webhook endpoint: %d %s", status, body)
	}
	for _, p := range []struct{ path, page, name string }{
		{"/dashboard/overview", "overview", "11-overview"},
		{"/dashboard/plans", "plans", "12-plans"},
		{"/dashboard/developers", "developers", "13-developers"},
		{"/dashboard/catalog", "catalog", "14-catalog"},
		{"/dashboard/plan-groups", "plan-groups", "15-plan-groups"},
		{"/dashboard/settings", "settings", "16-settings"},
		{"/dashboard/settings/users", "users", "18-settings-users"},
		{"/dashboard/users/invite", "invite", "19-invite"},
		{"/dashboard/catalog/new", "catalog-new", "20-catalog-new"},
		{"/dashboard/catalog/volume?quantity=12", "catalog-plan", "21-catalog-plan"},
		{"/dashboard/catalog/volume/delete", "confirm-delete", "22-catalog-plan-delete"},
		{"/dashboard/plan-groups/new", "plan-group-new", "23-plan-group-new"},
		{"/dashboard/plan-groups/" + group.ID, "plan-group", "24-plan-group-report"},
		{"/dashboard/plan-groups/" + group.ID + "/edit", "plan-group-edit", "25-plan-group-edit"},
		{"/dashboard/developers/webhooks/" + strconv.FormatInt(endpoint.ID, 10), "webhook-deliveries", "26-webhook-deliveries"},
		{"/dashboard/plans?attention=payment-reported", "plans", "27-plans-needing-attention"},
	} {
		res, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+p.path))
		if err != nil {
			t.Fatalf("open %s: %v", p.path, err)
		}
		if res.Status != http.StatusOK {
			t.Fatalf("%s answers %d", p.path, res.Status)
		}
		b.run("open "+p.path, chromedp.WaitVisible(chromedp.CSS(`[data-page="`+p.page+`"]`)))
		b.shot(p.name)
	}
	// The signed-out pages besides the sign-in page, in the customer's
	// context (no session).
	customer.shots = shots
	customer.run("open the forgotten password page", chromedp.Navigate(base+"/dashboard/forgot"),
		chromedp.WaitVisible(chromedp.CSS(`[data-page="forgot"]`)))
	customer.shot("28-forgot-password")

	// 8. The emails: the customer's introduction and payment confirmed,
	// the merchant's payment reported, once each.
	want := []struct{ prefix, to string }{
		{fmt.Sprintf("<plan-%d.introduction@", planID), customerEmail},
		{fmt.Sprintf("<plan-%d.payment_confirmed.", planID), customerEmail},
		{fmt.Sprintf("<plan-%d.payment_reported.", planID), merchantEmail},
	}
	pgtest.Every(200*time.Millisecond).WaitForNil(t, time.Minute, "the three emails in the outbox", func() error {
		got := outboxMessages(t, outbox)
		for _, w := range want {
			if len(got[w.prefix]) == 0 {
				return fmt.Errorf("no email %s... yet; server log:\n%s", w.prefix, srv.logs.String())
			}
		}
		return nil
	})
	got := outboxMessages(t, outbox)
	for _, w := range want {
		if to := got[w.prefix]; len(to) != 1 || !strings.Contains(to[0], w.to) {
			t.Errorf("emails %s...: to %q, want one to %s", w.prefix, to, w.to)
		}
	}

	// 9. A new portal link: shown once on the page the form's 303 leads
	// to, with its copy button; it opens the customer's portal, the old one
	// no longer does, and the plan page does not show it again. (The email worker records
	// each email on the plan's stream, which moves its version: the form is
	// sent from a page loaded after them, again if one came in between.)
	for try := 1; ; try++ {
		b.run("the plan page for a new link", chromedp.Navigate(planPage), chromedp.WaitVisible(chromedp.CSS(`[data-page="plan"]`)))
		b.submit("make a new portal link", chromedp.CSS(`button[data-action="portal-link"]`))
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(`[data-portal-url]`), chromedp.AtLeast(0)))
		if err != nil {
			t.Fatalf("the answer to the portal-link form: %v", err)
		}
		if len(nodes) > 0 {
			break
		}
		if try == 5 {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS(`main`)))
			t.Fatalf("no new portal link after %d tries:\n%s", try, html)
		}
	}
	b.run("the new link's copy button", chromedp.WaitVisible(chromedp.CSS(`button[data-copy="portal-url"]`)))
	b.shot("17-plan-new-portal-link")
	fresh, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`[data-portal-url]`)))
	if err != nil || fresh == link || !strings.HasPrefix(fresh, base+"/plan/") {
		t.Fatalf("the new portal link %q (%v), the old one %q", fresh, err, link)
	}
	customer.run("the new link opens the portal", chromedp.Navigate(fresh),
		chromedp.WaitVisible(chromedp.CSS(`[data-installment="1"]`)))
	if res, err := chromedp.Run(cctx, chromedp.NavigateResponse(link)); err != nil || res.Status == http.StatusOK {
		t.Fatalf("the old link still opens the portal: %v %v", res, err)
	}
	b.run("the plan page again", chromedp.Navigate(planPage), chromedp.WaitVisible(chromedp.CSS(`[data-page="plan"]`)))
	if html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS(`html`))); err != nil ||
		strings.Contains(html, fresh) || strings.Contains(html, "data-portal-url") {
		t.Fatalf("the plan page shows the new portal link again (%v)", err)
	}

	// 10. Show and copy the current link: the page the form's 303 leads to
	// shows it once with its copy button, and a reload shows it no more.
	b.submit("show and copy the portal link", chromedp.CSS(`button[data-action="copy-portal-link"]`))
	b.run("the current link's copy button", chromedp.WaitVisible(chromedp.CSS(`button[data-copy="portal-url"]`)))
	b.shot("18-plan-copy-portal-link")
	current, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`[data-portal-url]`)))
	if err != nil || current != fresh {
		t.Fatalf("the current portal link shown %q (%v), want %q", current, err, fresh)
	}
	b.run("the plan page reloaded", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-page="plan"]`)))
	if html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS(`html`))); err != nil ||
		strings.Contains(html, fresh) || strings.Contains(html, "data-portal-url") {
		t.Fatalf("the reloaded plan page shows the portal link again (%v)", err)
	}
}

// outboxMessages reads every .eml file in the outbox and returns, for each
// of the Message-ID prefixes of the test (introduction, payment_confirmed,
// payment_reported), the To header of each file whose Message-ID starts
// with it, keyed by that prefix (cut after ".introduction@" or after the
// email's kind).
func outboxMessages(t *testing.T, outbox string) map[string][]string {
	t.Helper()
	prefix := regexp.MustCompile(`^<plan-\d+\.(introduction@|[a-z_]+\.)`)
	out := map[string][]string{}
	for _, msg := range outboxEmails(t, outbox) {
		if p := prefix.FindString(msg.Header.Get("Message-Id")); p != "" {
			out[p] = append(out[p], msg.Header.Get("To"))
		}
	}
	return out
}

// dashBrowser is one browser context of a test and where its screenshots go.
type dashBrowser struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

// run runs steps; the test fails with what when one fails.
func (b dashBrowser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// submit clicks sel and waits for the page the form (or link) leads to.
func (b dashBrowser) submit(what string, sel chromedp.CSS) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(sel))); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// location is the browser's URL.
func (b dashBrowser) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("location: %v", err)
	}
	return loc
}

// shot saves the page as name-desktop.png (1280 px wide) and
// name-phone.png (390 px wide), and leaves the browser at desktop width.
func (b dashBrowser) shot(name string) {
	b.t.Helper()
	for _, v := range []struct {
		suffix   string
		viewport chromedp.Action[chromedp.Void]
	}{
		{"phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait)},
		{"desktop", chromedp.EmulateViewport(1280, 900)},
	} {
		b.run(v.suffix+" viewport", v.viewport)
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			b.t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(b.shots, name+"-"+v.suffix+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}
