package main

// The customer portal in a real browser: Debian's headless Chromium, driven
// by chromedp, against the goodplan binary. The customer opens the link of
// the introduction email, chooses an option, sees the schedule, reports a
// payment and proposes another schedule. Each page is saved as a PNG for a
// person to look at (PORTAL_SCREENSHOTS, default a directory under the
// system's temporary directory; the test logs where).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"goodplan/eventstore/pgtest"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// portalRequest is a plan whose first payment amount is uneven (1450.00 in
// three is 483.34 + 483.33 + 483.33), sent with its introduction email.
const portalRequest = `{
  "customer": {"name": "Maria Garcia", "email": "maria@example.com"},
  "invoice": {"amount": "1450.00", "invoice_number": "INV-1042", "description": "Water heater replacement"},
  "options": {"intervals": ["monthly", "biweekly"], "durations": [3, 6]},
  "send_introduction_email": true
}`

func TestPortalInChromium(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the portal's browser test needs Debian's Chromium at %s (apt-get install -y chromium; .ci/run installs it): %v",
			chromiumPath, err)
	}
	shots := screenshotDir(t)

	p := startPortalPlan(t)
	srv, base, dataDir, key, created := p.srv, p.srv.URL, p.dataDir, p.key, p.created
	var choice struct {
		id           int64
		installments int
	}
	for _, o := range created.PlanOptions {
		if o.Interval == "monthly" && o.Installments == 3 {
			choice.id, choice.installments = o.ID, o.Installments
		}
	}
	if choice.id == 0 {
		t.Fatalf("no 3 monthly option: %+v", created.PlanOptions)
	}

	link := introductionLink(t, filepath.Join(dataDir, "outbox"), created.PlanID, base, srv)
	if link != created.CustomerPortalURL {
		t.Fatalf("the email links to %s, the API answered %s", link, created.CustomerPortalURL)
	}
	waitForPortal(t, link)

	ctx := newBrowser(t)
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(shots, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
	// submit clicks sel and waits for the page the form leads to.
	submit := func(what string, sel chromedp.CSS) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(sel))); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	desktop := chromedp.EmulateViewport(1280, 900)
	phone := chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait)

	// 1. The link from the email: the options.
	run("open the portal link", desktop, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`button[data-option-id]`)))
	buttons, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(`button[data-option-id]`)))
	if err != nil || len(buttons) != len(created.PlanOptions) {
		t.Fatalf("%d option buttons (%v), want %d", len(buttons), err, len(created.PlanOptions))
	}
	shot("01-options-desktop.png")
	run("phone viewport", phone)
	shot("02-options-phone.png")
	run("desktop viewport", desktop)

	// 2. Choose the 3 monthly payments: the schedule.
	submit("choose an option", chromedp.CSS(fmt.Sprintf(`button[data-option-id="%d"]`, choice.id)))
	run("schedule shown", chromedp.WaitVisible(chromedp.CSS(`[data-notice="selected"]`)))
	rows, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(`[data-installment]`)))
	if err != nil || len(rows) != choice.installments {
		t.Fatalf("%d data-installment elements (%v), want %d", len(rows), err, choice.installments)
	}
	shot("03-schedule.png")

	// 3. Report a payment: first with an amount that is not one, then right.
	today := time.Now().UTC()
	run("fill a wrong payment",
		chromedp.SetValue(chromedp.ID("pay-amount"), "four hundred"),
		chromedp.SetValue(chromedp.ID("pay-paid-on"), today.Format(time.DateOnly)),
		chromedp.SetValue(chromedp.ID("pay-method"), "e_transfer"),
		chromedp.SetValue(chromedp.ID("pay-reference"), "ET-55821"))
	submit("report a wrong payment", chromedp.CSS(`button[data-action="report-payment"]`))
	run("field error shown", chromedp.WaitVisible(chromedp.ID("pay-amount-err")))
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("pay-amount"))); err != nil || v != "four hundred" {
		t.Fatalf("the refused amount was not kept: %q (%v)", v, err)
	}
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("pay-method"))); err != nil || v != "e_transfer" {
		t.Fatalf("the method chosen was not kept: %q (%v)", v, err)
	}
	shot("04-payment-error.png")
	run("fix the amount", chromedp.SetValue(chromedp.ID("pay-amount"), "483.34"))
	submit("report the payment", chromedp.CSS(`button[data-action="report-payment"]`))
	run("payment reported", chromedp.WaitVisible(chromedp.CSS(`[data-notice="payment"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-payment-status="reported"]`)))
	shot("05-payment-reported.png")

	// 4. Propose another schedule (the form sits in a <details>).
	run("open the proposal form", chromedp.Click(chromedp.CSS(`#propose summary`)),
		chromedp.WaitVisible(chromedp.ID("prop-installments")),
		chromedp.SetValue(chromedp.ID("prop-installments"), "5"),
		chromedp.SetValue(chromedp.ID("prop-interval"), "biweekly"),
		chromedp.SetValue(chromedp.ID("prop-first-date"), today.AddDate(0, 0, 14).Format(time.DateOnly)))
	submit("propose a schedule", chromedp.CSS(`button[data-action="propose-schedule"]`))
	run("proposal sent", chromedp.WaitVisible(chromedp.CSS(`[data-notice="proposal"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-proposal-status="pending"]`)))
	shot("06-proposal-sent.png")
	run("phone viewport", phone)
	shot("07-active-phone.png")

	// 5. A link that opens nothing.
	run("unknown link", desktop, chromedp.Navigate(base+"/plan/not-a-real-link"),
		chromedp.WaitVisible(chromedp.CSS(`[data-page="not_found"]`)))
	shot("08-not-found.png")

	// The plan's history as the merchant's API shows it.
	status, body := call(t, http.MethodGet, planURL(base, created.PlanID)+"/events", key, "")
	if status != http.StatusOK {
		t.Fatalf("events: %d %s", status, body)
	}
	var events struct {
		Items []struct {
			Type     string          `json:"type"`
			Data     json.RawMessage `json:"data"`
			Metadata struct {
				Actor, IP string
			} `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &events); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events.Items {
		types = append(types, e.Type)
		switch e.Type {
		case "plan.activated", "installment.paid", "proposal.created":
			if e.Metadata.Actor != "customer" || e.Metadata.IP != "127.0.0.1" {
				t.Errorf("%s recorded as %+v", e.Type, e.Metadata)
			}
		}
		if e.Type == "plan.activated" {
			var act struct {
				OptionID int64 `json:"option_id"`
				Consent  struct {
					IP        string `json:"ip"`
					UserAgent string `json:"user_agent"`
				} `json:"consent"`
			}
			_ = json.Unmarshal(e.Data, &act)
			if act.OptionID != choice.id || act.Consent.IP != "127.0.0.1" || !strings.Contains(act.Consent.UserAgent, "Chrome") {
				t.Errorf("plan.activated: %s", e.Data)
			}
		}
	}
	for _, want := range []string{"plan.created", "plan.activated", "installment.paid", "proposal.created"} {
		if !slices.Contains(types, want) {
			t.Errorf("events %v lack %s", types, want)
		}
	}
	if n := strings.Count(strings.Join(types, " "), "installment.paid"); n != 1 {
		t.Errorf("%d installment.paid events, want 1 (the refused form must add none): %v", n, types)
	}
}

// portalPlan is a goodplan server with one account and portalRequest's
// plan in it.
type portalPlan struct {
	srv     *runningServer
	dataDir string // its DATA_DIR: the outbox is under it
	key     string // the account's API key
	created createdPlan
}

// startPortalPlan starts goodplan serve on its own database and creates
// portalRequest's plan. The links in emails and in the 201 must reach this
// server, so PUBLIC_URL is its own address (a free port picked first).
func startPortalPlan(t *testing.T) portalPlan {
	t.Helper()
	dbURL := pgtest.NewDatabase(t)
	p := portalPlan{dataDir: t.TempDir(), key: createKey(t, dbURL, createAccount(t, dbURL, "--name", "Northwind Plumbing"))}
	base := "http://" + freeAddr(t)
	p.srv = startServer(t, dbURL, "HTTP_ADDR="+strings.TrimPrefix(base, "http://"), "PUBLIC_URL="+base, "DATA_DIR="+p.dataDir)
	if p.srv.URL != base {
		t.Fatalf("server listens on %s, want %s", p.srv.URL, base)
	}
	status, body := call(t, http.MethodPost, base+"/api/v1/plans", p.key, portalRequest)
	if status != http.StatusCreated {
		t.Fatalf("create plan: %d %s", status, body)
	}
	if err := json.Unmarshal(body, &p.created); err != nil {
		t.Fatal(err)
	}
	return p
}

// screenshotDir is where the screenshots go: $PORTAL_SCREENSHOTS, or
// goodplan-portal-screenshots under the system's temporary directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PORTAL_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "goodplan-portal-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("portal screenshots in %s", dir)
	return dir
}

// freeAddr returns a 127.0.0.1 address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// newBrowser starts headless Chromium with a fresh profile; it is closed
// when the test ends. Every action is bounded by two minutes in all.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // Chromium refuses to run as root with its sandbox
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelTimeout := context.WithTimeout(context.Background(), 2*time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc() // waits for the browser to exit, before TempDir is removed
		cancelTimeout()
	})
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", chromiumPath, err)
	}
	return bctx
}

// introductionLink waits (at most a minute) for plan id's introduction
// email in the outbox and returns the portal link in its plain-text body.
func introductionLink(t *testing.T, outbox string, planID int64, base string, srv *runningServer) string {
	t.Helper()
	return outboxLink(t, outbox, fmt.Sprintf("<plan-%d.introduction@", planID),
		regexp.MustCompile(regexp.QuoteMeta(base)+`/plan/[A-Za-z0-9._-]+`), srv)
}

// outboxLink waits (at most a minute) for an email in the outbox whose
// Message-ID starts with msgID and returns the first match of linkRE in its
// plain-text body.
func outboxLink(t *testing.T, outbox, msgID string, linkRE *regexp.Regexp, srv *runningServer) string {
	t.Helper()
	var link string
	pgtest.WaitForNil(t, time.Minute, fmt.Sprintf("an email %s... in %s", msgID, outbox), func() error {
		for _, msg := range outboxEmails(t, outbox) {
			if !strings.HasPrefix(msg.Header.Get("Message-Id"), msgID) {
				continue
			}
			text := plainTextBody(t, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
			if link = linkRE.FindString(text); link == "" {
				t.Fatalf("the email %s has no link %s:\n%s", msgID, linkRE, text)
			}
			return nil
		}
		return fmt.Errorf("none yet; server log:\n%s", srv.logs.String())
	})
	return link
}

// outboxEmails reads every .eml file in the outbox.
func outboxEmails(t *testing.T, outbox string) []*mail.Message {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
	var out []*mail.Message
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, msg)
	}
	return out
}

// plainTextBody returns the decoded text/plain part of a message body.
func plainTextBody(t *testing.T, contentType, encoding string, body io.Reader) string {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("Content-Type %q: %v", contentType, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart() // decodes quoted-printable parts itself
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if text := plainTextBody(t, part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part); text != "" {
				return text
			}
		}
		return ""
	}
	if mediaType != "text/plain" {
		return ""
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitForPortal waits (at most 30 s) until the read model knows the plan
// and its link opens the page. GET never changes the plan.
func waitForPortal(t *testing.T, link string) {
	t.Helper()
	pgtest.Every(100*time.Millisecond).WaitForNil(t, 30*time.Second, "the portal page to open", func() error {
		if status, _ := call(t, http.MethodGet, link, "", ""); status != http.StatusOK {
			return fmt.Errorf("GET %s: %d", link, status)
		}
		return nil
	})
}
