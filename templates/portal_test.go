package templates

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// portalFixtures are plan pages in every state the portal shows. Setting
// PORTAL_PREVIEW_DIR writes each rendered page there as an HTML file, to
// look at in a browser.
func portalFixtures() map[string]PortalPlan {
	base := PortalPlan{
		Action: "/plan/tok", CSRF: "csrf-value", FormID: "form-id-value",
		Merchant: "Northwind Plumbing", Customer: "Maria Garcia",
		Amount: "1450.00", Currency: "USD", InvoiceNumber: "INV-1042", Description: "Water heater replacement",
		Methods:   []string{"e_transfer", "check", "cash", "bank_transfer", "other"},
		Intervals: []string{"weekly", "biweekly", "monthly"},
		Today:     "2025-11-27", MaxPaidOn: "2025-11-28", MaxFirstDate: "2026-11-27",
		Ledger:       PortalLedger{Total: "1450.00", Paid: "0.00", Reported: "0.00", Outstanding: "1450.00"},
		ProposalForm: PortalForm{Values: map[string]string{"interval": "monthly"}},
	}
	schedule := []PortalInstallment{
		{Number: 1, DueDate: "2025-11-01", Amount: "483.34", Paid: "483.34", Outstanding: "0.00", Status: "confirmed"},
		{Number: 2, DueDate: "2025-12-01", Amount: "483.33", Paid: "100.00", Outstanding: "383.33", Status: "partially_paid"},
		{Number: 3, DueDate: "2026-01-01", Amount: "483.33", Paid: "0.00", Outstanding: "483.33", Status: "reported"},
	}

	pending := base
	pending.Status = "pending"
	pending.Options = []PortalOption{
		{ID: 7, Installments: 3, Interval: "monthly", PaymentAmount: "483.34", OtherAmount: "483.33",
			FirstPaymentDate: "2025-12-04", FinalPaymentDate: "2026-02-04", Schedule: schedule},
		{ID: 8, Installments: 2, Interval: "biweekly", PaymentAmount: "725.00",
			FirstPaymentDate: "2025-12-04", FinalPaymentDate: "2025-12-18"},
	}
	pending.CanPropose = true
	pending.Proposal = &PortalProposal{ID: 11, Status: "declined", Terms: PortalTerms{Installments: 12, Interval: "weekly",
		FirstPaymentDate: "2025-12-20"}, Amount: "1450.00", Message: "We can't wait that long; please choose an option."}

	active := base
	active.Status = "active"
	active.Notice = "payment"
	active.Schedule = slices.Clone(schedule)
	active.Schedule[1].Overdue = true
	next := active.Schedule[1]
	active.NextDue = &next
	active.Ledger = PortalLedger{Total: "1450.00", Paid: "583.34", Reported: "483.33", Outstanding: "866.66",
		HasReported: true, PaidPercent: 40}
	active.Payments = []PortalPayment{
		{Amount: "483.33", PaidOn: "2025-11-26", Method: "check", Reference: "Check #1042", Status: "reported"},
		{Amount: "583.34", PaidOn: "2025-11-01", Method: "e_transfer", Status: "confirmed", ConfirmedAmount: "583.34"},
	}
	active.Proposal = &PortalProposal{ID: 12, Status: "countered",
		Terms:   PortalTerms{Installments: 8, Interval: "weekly", FirstPaymentDate: "2025-12-10"},
		Counter: &PortalTerms{Installments: 4, Interval: "biweekly", FirstPaymentDate: "2025-12-15"}, Amount: "866.66",
		CounterSchedule: []PortalInstallment{{Number: 4, DueDate: "2025-12-15", Amount: "216.67"},
			{Number: 5, DueDate: "2025-12-29", Amount: "216.67"}, {Number: 6, DueDate: "2026-01-12", Amount: "216.66"},
			{Number: 7, DueDate: "2026-01-26", Amount: "216.66"}},
		Message: "Four payments every two weeks works for us.", AcceptAction: "/plan/tok/proposals/12/accept"}

	refused := active
	refused.Notice, refused.Proposal, refused.CanPropose = "", nil, true
	refused.Alert = "Please correct the highlighted fields below."
	refused.PaymentForm = PortalForm{Values: map[string]string{"amount": "four hundred", "paid_on": "2025-11-27", "method": "cash"},
		Errors: map[string][]string{"amount": {"The amount must be a number."}}}
	refused.ProposalForm = PortalForm{Values: map[string]string{"installments": "200", "interval": "weekly"},
		Errors: map[string][]string{"installments": {"The number of payments must be between 1 and 96."},
			"first_payment_date": {"Choose the date of your first payment."}}}

	completed := base
	completed.Status, completed.StatusSince = "completed", "2026-01-01"
	completed.Schedule = []PortalInstallment{{Number: 1, DueDate: "2025-12-04", Amount: "1450.00", Paid: "1450.00",
		Outstanding: "0.00", Status: "confirmed"}}

	cancelled := base
	cancelled.Status, cancelled.StatusSince = "cancelled", "2025-12-10"

	hostile := pending
	hostile.Merchant = `Evil <script>alert(1)</script> & "Sons"`
	hostile.Customer = `</bdi><img src=x onerror=alert(1)>`
	hostile.InvoiceNumber = `INV-"><svg onload=alert(1)>`
	hostile.Description = "شركة الأمل — فاتورة ٧"
	hostile.Proposal = &PortalProposal{ID: 1, Status: "declined", Terms: PortalTerms{Installments: 1, Interval: "monthly",
		FirstPaymentDate: "2025-12-20"}, Message: `<a href="javascript:alert(1)">click</a>`}

	return map[string]PortalPlan{"pending": pending, "active": active, "refused": refused, "completed": completed,
		"cancelled": cancelled, "hostile": hostile}
}

func renderPlan(t *testing.T, name string, v PortalPlan) string {
	t.Helper()
	var b bytes.Buffer
	if err := RenderPortalPlan(&b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if dir := os.Getenv("PORTAL_PREVIEW_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name+".html"), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

var (
	portalLabelFor  = regexp.MustCompile(`<label for="([^"]+)"`)
	portalControlID = regexp.MustCompile(`<(?:input|select|textarea)\b[^>]*\bid="([^"]+)"`)
	portalStyle     = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
)

func TestPortalPlanPages(t *testing.T) {
	t.Parallel()
	for name, v := range portalFixtures() {
		page := renderPlan(t, name, v)
		for _, want := range []string{"<!DOCTYPE html>", `<html lang="en"`, `<meta name="viewport" content="width=device-width, initial-scale=1">`} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: lacks %s", name, want)
			}
		}
		if strings.Contains(strings.ToLower(page), "<script") || strings.Contains(page, " style=") {
			t.Errorf("%s: has a script or a style attribute (the CSP allows neither)", name)
		}
		labels := map[string]bool{}
		for _, m := range portalLabelFor.FindAllStringSubmatch(page, -1) {
			labels[m[1]] = true
		}
		for _, m := range portalControlID.FindAllStringSubmatch(page, -1) {
			if !labels[m[1]] {
				t.Errorf("%s: control #%s has no <label for>", name, m[1])
			}
		}
		for _, f := range []string{"csrf", "form_id"} {
			if forms, fields := strings.Count(page, "<form "), strings.Count(page, `name="`+f+`"`); forms != fields {
				t.Errorf("%s: %d forms, %d %s fields", name, forms, fields, f)
			}
		}
	}
}

func TestPortalPlanPageContents(t *testing.T) {
	t.Parallel()
	fx := portalFixtures()
	cases := map[string][]string{
		"pending": {"Choose your payment plan", "1,450.00 USD", "INV-1042", "Northwind Plumbing", `data-option-id="7"`,
			`data-option-id="8"`, "483.34 USD", "first, then 483.33 USD", "Every month · Dec 4, 2025 to Feb 4, 2026",
			"725.00 USD", "per payment", `data-proposal-status="declined"`, "We can&#39;t wait that long",
			`action="/plan/tok/select"`, `action="/plan/tok/proposals"`, `<option value="monthly" selected>Every month</option>`},
		"active": {`data-installment="1"`, `data-installment="3"`, `<span class="pill overdue">Overdue</span>`,
			"100.00 USD", `<span class="pill confirmed">Paid</span>`, "Being confirmed", "866.66 USD", `<progress max="100" value="40"`, "Check #1042", "by check",
			`data-notice="payment"`, "Thank you, your payment was reported.", `data-proposal-status="countered"`,
			"4 biweekly payments starting Dec 15, 2025", `action="/plan/tok/proposals/12/accept"`, `data-accept-proposal="12"`,
			`<option value="e_transfer">E-transfer</option>`, `action="/plan/tok/payments"`},
		"refused": {`role="alert"`, `id="pay-amount-err"`, "The amount must be a number.", `value="four hundred"`,
			`<option value="cash" selected>Cash</option>`, `<details class="propose" open>`, `id="prop-installments-err"`,
			`value="200"`, `id="prop-first-date-err"`, `aria-invalid="true"`},
		"completed": {"Paid in full", `data-closed="completed"`, "Jan 1, 2026", `data-installment="1"`},
		"cancelled": {"This payment plan is closed", `data-closed="cancelled"`, "cancelled on Dec 10, 2025"},
		"hostile": {"Evil &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Sons&#34;", "&lt;/bdi&gt;&lt;img src=x",
			"INV-&#34;&gt;&lt;svg onload=alert(1)&gt;", "شركة الأمل", "&lt;a href=&#34;javascript:alert(1)&#34;&gt;"},
	}
	for name, wants := range cases {
		page := renderPlan(t, name, fx[name])
		for _, w := range wants {
			if !strings.Contains(page, w) {
				t.Errorf("%s: lacks %q", name, w)
			}
		}
	}
	for _, name := range []string{"completed", "cancelled"} {
		if page := renderPlan(t, name, fx[name]); strings.Contains(page, "<form") || strings.Contains(page, "data-option-id") {
			t.Errorf("%s: a closed plan offers forms", name)
		}
	}
	if page := renderPlan(t, "pending", fx["pending"]); strings.Contains(page, "data-installment") {
		t.Error("pending: option previews carry data-installment, which marks the plan's schedule")
	}
}

func TestPortalMessagePages(t *testing.T) {
	t.Parallel()
	for kind, want := range map[PortalMessageKind]string{
		PortalNotFound:   "This link doesn't work",
		PortalForbidden:  "This form could not be accepted",
		PortalBadRequest: "This form could not be read",
		PortalError:      "Something went wrong",
	} {
		var b bytes.Buffer
		if err := RenderPortalMessage(&b, kind); err != nil {
			t.Fatal(err)
		}
		if page := b.String(); !strings.Contains(page, want) || !strings.Contains(page, `data-page="`+string(kind)+`"`) ||
			!strings.Contains(page, "<title>"+want+"</title>") {
			t.Errorf("%s page:\n%s", kind, page)
		}
	}
}

// TestPortalCSPAllowsTheStyleSheet: the policy's hash is the hash of the
// <style> element as rendered, so browsers apply it.
func TestPortalCSPAllowsTheStyleSheet(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := RenderPortalMessage(&b, PortalNotFound); err != nil {
		t.Fatal(err)
	}
	m := portalStyle.FindStringSubmatch(b.String())
	if m == nil {
		t.Fatal("no <style> element")
	}
	sum := sha256.Sum256([]byte(m[1]))
	want := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if !strings.Contains(PortalContentSecurityPolicy, want) {
		t.Fatalf("policy %q lacks %s", PortalContentSecurityPolicy, want)
	}
}

func TestPortalMoneyAndDates(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ amount, currency, want string }{
		{"0.00", "USD", "0.00 USD"},
		{"400.00", "USD", "400.00 USD"},
		{"1200.00", "USD", "1,200.00 USD"},
		{"1234567.89", "EUR", "1,234,567.89 EUR"},
		{"120000", "JPY", "120,000 JPY"},
		{"1.500", "KWD", "1.500 KWD"},
		{"-1500.50", "USD", "-1,500.50 USD"},
		{"n/a", "USD", "n/a USD"},
	} {
		if got := Money(c.amount, c.currency); got != c.want {
			t.Errorf("Money(%q, %q) = %q, want %q", c.amount, c.currency, got, c.want)
		}
	}
	for in, want := range map[string]string{"2025-12-04": "Dec 4, 2025", "2024-02-29": "Feb 29, 2024", "soon": "soon"} {
		if got := portalDate(in); got != want {
			t.Errorf("portalDate(%q) = %q, want %q", in, got, want)
		}
	}
}
