package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// The create form's live preview in Chromium (templates/dashboard/
// preview.js), checked from TestDashboardInChromium on the create form it
// has open: typed input updates the preview card with the options POST
// /api/v1/plans/quote answers for the same input, a bad amount shows its
// field error there, an older answer landing after a newer one changes
// nothing, and the page logs no error.

// previewCardRows is a script that reads the preview card's option rows,
// each as its cells' texts.
const previewCardRows = `[...document.querySelectorAll('[data-preview="options"] tr[data-option]')].map(r => [...r.cells].map(c => c.textContent.trim()))`

// quoteRows returns the options POST /api/v1/plans/quote answers (with
// key, at base) for a plan of the browser test's customer of amount USD in
// monthly payments of each of durations, as the preview card shows them:
// payments, interval, each payment with the currency, first and last
// dates.
func quoteRows(t *testing.T, base, key, amount, durations string) [][]string {
	t.Helper()
	body := `{"customer":{"name":"Dana Scully","email":"dana@example.com"},"invoice":{"amount":"` + amount +
		`","invoice_number":"INV-2001","description":"Furnace repair"},"options":{"durations":[` + durations + `]}}`
	status, res := call(t, http.MethodPost, base+"/api/v1/plans/quote", key, body)
	var q createdPlan // the quote's plan_options are shaped as in the 201
	if err := json.Unmarshal(res, &q); err != nil || status != http.StatusOK || len(q.PlanOptions) == 0 {
		t.Fatalf("quote of %s: %d %s (%v)", amount, status, res, err)
	}
	var rows [][]string
	for _, o := range q.PlanOptions {
		rows = append(rows, []string{fmt.Sprint(o.Installments), o.Interval, o.PaymentAmount + " USD", o.FirstPaymentDate, o.FinalPaymentDate})
	}
	return rows
}

// waitForCard waits (Poll: on each animation frame, no fixed sleep) until
// the script predicate is true of the page, and fails t with the card's
// HTML if it is not within 30 s.
func (b dashBrowser) waitForCard(what, predicate string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](predicate)); err != nil {
		card, _ := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS(`[data-preview="options"]`)))
		b.t.Fatalf("%s: %v\nthe preview card: %s", what, err, card)
	}
}

// eval runs the script expression js, which must be true.
func (b dashBrowser) eval(what, js string) {
	b.t.Helper()
	if ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js)); err != nil || !ok {
		b.t.Fatalf("%s: %v %v", what, ok, err)
	}
}

// clearAmount empties the amount field without an input event (as
// SetValue fills one).
func (b dashBrowser) clearAmount() {
	b.t.Helper()
	b.eval("clear the amount", `(document.getElementById("invoice-amount").value = "", true)`)
}

// waitForRows waits until the preview card shows exactly rows, and is no
// longer busy.
func (b dashBrowser) waitForRows(what string, rows [][]string) {
	b.t.Helper()
	want, _ := json.Marshal(rows)
	b.waitForCard(what, fmt.Sprintf(`JSON.stringify(%s) === %q && !document.querySelector('[data-preview="options"]').hasAttribute("aria-busy")`,
		previewCardRows, want))
}

// checkLivePreview runs the live preview's checks on the create form b has
// open (of the server at base, whose API key is key), and leaves the form
// filled in for the plan of the browser test (1200.00 USD in 3 monthly
// payments), with the live preview showing its options.
func checkLivePreview(t *testing.T, b dashBrowser, base, key string) {
	t.Helper()
	// Everything the page logs from here on: it must log no error.
	var (
		mu   sync.Mutex
		logs []string
	)
	messages := chromedp.Console(b.ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException() {
				mu.Lock()
				logs = append(logs, m.String())
				mu.Unlock()
			}
		}
	}()

	card, err := chromedp.Run(b.ctx, chromedp.AttributesAll(chromedp.CSS(`[data-preview="options"]`)))
	if err != nil || len(card) != 1 || card[0]["role"] != "status" {
		t.Fatalf("the preview card: %v (%v)", card, err)
	}
	if _, hidden := card[0]["hidden"]; hidden {
		t.Fatal("the preview script did not show the preview card")
	}
	// SetValue fires no input event: nothing is previewed until a key.
	b.run("fill the create form",
		chromedp.SetValue(chromedp.ID("customer-name"), "Dana Scully"),
		chromedp.SetValue(chromedp.ID("customer-email"), "dana@example.com"),
		chromedp.SetValue(chromedp.ID("invoice-number"), "INV-2001"),
		chromedp.SetValue(chromedp.ID("invoice-description"), "Furnace repair"),
		chromedp.SetValue(chromedp.ID("options-durations"), "3"))

	// A bad amount: its field error in the card, the only one.
	b.run("type a bad amount", chromedp.SendKeys(chromedp.ID("invoice-amount"), "12.345"))
	b.waitForCard("the amount's error in the live preview",
		`document.querySelectorAll('[data-preview="options"] [data-preview-errors] li').length === 1 && `+
			`document.querySelector('[data-preview="options"] li[data-field="invoice.amount"]') !== null`)
	b.shot("05b-plan-new-live-error")

	// The amount typed: the quote's options.
	b.clearAmount()
	b.run("type the amount", chromedp.SendKeys(chromedp.ID("invoice-amount"), "600"))
	b.waitForRows("the live preview of 600.00", quoteRows(t, base, key, "600", "3"))

	// An older answer landing after a newer one changes nothing: the page's
	// fetch holds the next answer (the request itself goes out) until the
	// test releases it, and marks when it has been handed to the script.
	b.eval("hold the next preview answer", `(() => {
		const real = window.fetch; let calls = 0;
		window.__stale = {settled: false};
		window.fetch = function (url, opts) {
			const p = real(url, opts);
			if (calls++ > 0) return p;
			return new Promise((resolve, reject) => {
				window.__stale.release = () => p.then(r => {
					const text = r.text.bind(r);
					r.text = () => text().finally(() => { window.__stale.settled = true; });
					resolve(r);
				}, e => { window.__stale.settled = true; reject(e); });
			});
		};
		return true;
	})()`)
	b.clearAmount()
	b.run("type another amount", chromedp.SendKeys(chromedp.ID("invoice-amount"), "300"))
	b.waitForCard("the held request sent", `window.__stale.release !== undefined`)
	b.run("type a digit more", chromedp.SendKeys(chromedp.ID("invoice-amount"), "0"))
	newer := quoteRows(t, base, key, "3000", "3")
	b.waitForRows("the newer preview (3000.00)", newer)
	b.eval("release the older answer", `(window.__stale.release(), true)`)
	// The script handles the answer in the microtasks right after it is
	// settled: by the next animation frame it has run.
	b.waitForCard("the older answer handed to the script", `window.__stale.settled === true`)
	b.waitForRows("the newer preview after the older answer", newer)
	if failed, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector('[data-preview="options"]').textContent.includes("could not be updated")`)); err != nil || failed {
		t.Fatalf("the older answer replaced the preview (%v)", err)
	}

	// The plan of the browser test.
	b.clearAmount()
	b.run("type the plan's amount", chromedp.SendKeys(chromedp.ID("invoice-amount"), "1200.00"))
	b.waitForRows("the live preview of 1200.00", quoteRows(t, base, key, "1200.00", "3"))
	b.shot("05c-plan-new-live-preview")

	mu.Lock()
	defer mu.Unlock()
	if len(logs) > 0 {
		t.Fatalf("the create form logged:\n%s", strings.Join(logs, "\n"))
	}
}
