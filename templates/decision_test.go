package templates

import (
	"strings"
	"testing"
	"unicode"
)

const dashboard = "http://localhost:8080/dashboard/plans/42"

// hostileNote is a merchant's multi-line note trying every trick.
const hostileNote = "Line one </bdi><script>alert(1)</script>\r\nBcc: victim@example.com\n\n\u2028=?utf-8?b?QQ==?= & \"quotes\""

var schedule = []ScheduleLine{{Amount: "400.00", DueDate: "2025-12-10"}, {Amount: "400.00", DueDate: "2025-12-17"}}

// decisionCases are the customer emails after a decision kept in testdata.
var decisionCases = []struct {
	name string
	data DecisionData
}{
	{"payment_confirmed", decisionData(DecisionPaymentConfirmed, func(d *DecisionData) { d.Amount, d.Outstanding = "400.00", "800.00" })},
	{"payment_confirmed_paid_off", decisionData(DecisionPaymentConfirmed, func(d *DecisionData) { d.Amount = "1200.00" })},
	{"payment_rejected", decisionData(DecisionPaymentRejected, func(d *DecisionData) {
		d.Amount, d.PaidOn, d.Note = "400.00", "2025-12-04", "Nothing arrived on our account.\nPlease check the reference."
	})},
	{"extension_granted", decisionData(DecisionExtensionGranted, func(d *DecisionData) {
		d.Installment, d.DueDate, d.PreviousDueDate = 1, "2025-12-18", "2025-12-04"
	})},
	{"installment_deferred", decisionData(DecisionInstallmentDeferred, func(d *DecisionData) {
		d.Installment, d.DueDate, d.PreviousDueDate = 1, "2026-03-04", "2025-12-04"
	})},
	{"proposal_countered", decisionData(DecisionProposalCountered, func(d *DecisionData) { d.Schedule, d.Note = schedule, "Two weeks, no more." })},
	{"proposal_approved", decisionData(DecisionProposalApproved, func(d *DecisionData) { d.Schedule = schedule })},
	{"proposal_declined", decisionData(DecisionProposalDeclined, func(d *DecisionData) { d.Note = "We need the full amount." })},
	{"portal_link", decisionData(DecisionPortalLink, nil)},
	{"hostile", DecisionData{
		Kind: DecisionProposalCountered, MerchantName: "Evil\r\nBcc: victim@example.com\r\n\r\n<b>Corp</b> & \"Sons\"",
		CustomerName: "\"Bobby\" O'Brien\r\nX-Injected: yes <script>alert(1)</script> 😀👩‍💻", InvoiceNumber: "</bdi><img src=x onerror=alert(1)>",
		Currency: "EUR\r\nBcc: a@example.com", Schedule: []ScheduleLine{{Amount: "1<b>", DueDate: "2025-12-04\n"}}, Note: hostileNote,
		PortalURL: portal,
	}},
	{"rtl", DecisionData{Kind: DecisionPaymentRejected, MerchantName: "株式会社サンプル", CustomerName: "محمد", Amount: "30000",
		Currency: "JPY", PortalURL: portal}},
}

func decisionData(kind string, set func(*DecisionData)) DecisionData {
	d := DecisionData{Kind: kind, MerchantName: "Acme Corp", CustomerName: "John Doe", InvoiceNumber: "INV-2024-001",
		Currency: "USD", PortalURL: portal}
	if set != nil {
		set(&d)
	}
	return d
}

// merchantCases are the merchant notifications kept in testdata.
var merchantCases = []struct {
	name string
	data MerchantNoticeData
}{
	{"payment_reported", merchantData(MerchantPaymentReported, func(d *MerchantNoticeData) {
		d.Amount, d.PaidOn, d.Method, d.Reference = "400.00", "2025-12-04", "e_transfer", "REF-77"
	})},
	{"proposal_received", merchantData(MerchantProposalReceived, func(d *MerchantNoticeData) {
		d.Terms = "4 biweekly payments from 2025-12-15"
	})},
	{"checkin_unanswered", merchantData(MerchantCheckinUnanswered, func(d *MerchantNoticeData) {
		d.Installment, d.Amount, d.DueDate = 2, "400.00", "2026-01-04"
	})},
	{"plan_abandoned", merchantData(MerchantPlanAbandoned, func(d *MerchantNoticeData) { d.PendingSince = "2025-11-27" })},
	{"hostile", MerchantNoticeData{Kind: MerchantPaymentReported, AccountName: "Evil\r\nBcc: victim@example.com <b>Corp</b>",
		Customer: "\"Bobby\"\r\nX-Injected: yes <script>alert(1)</script>", CustomerEmail: "bobby@example.com", PlanID: 42,
		InvoiceNumber: "</bdi><img src=x onerror=alert(1)>", Amount: "99.99\r\nBcc: a@example.com", Currency: "EUR",
		Reference: "<script>x</script>\n", DashboardURL: dashboard}},
	{"bare", MerchantNoticeData{Kind: MerchantPlanAbandoned, PlanID: 42, DashboardURL: dashboard}},
}

func merchantData(kind string, set func(*MerchantNoticeData)) MerchantNoticeData {
	d := MerchantNoticeData{Kind: kind, AccountName: "Acme Corp", Customer: "John Doe", CustomerEmail: "john@example.com",
		PlanID: 42, InvoiceNumber: "INV-2024-001", Currency: "USD", DashboardURL: dashboard}
	set(&d)
	return d
}

func TestDecisionGolden(t *testing.T) {
	for _, tc := range decisionCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Decision(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "decision_"+tc.name, goldenText(r))
			checkSafe(t, r, portal)
		})
	}
}

func TestMerchantNoticeGolden(t *testing.T) {
	for _, tc := range merchantCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := MerchantNotice(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "merchant_"+tc.name, goldenText(r))
			checkSafe(t, r, dashboard)
			if strings.Contains(r.Text, "personal to you") || !strings.Contains(r.Text, "notification address of") {
				t.Errorf("merchant notification without its own footer:\n%s", r.Text)
			}
		})
	}
}

// checkSafe: a one-line subject, nothing unescaped in the HTML, the link
// as the button and on a line of its own in the text, and no line of the
// text that reads as an injected header.
func checkSafe(t *testing.T, r Rendered, link string) {
	t.Helper()
	if r.Subject == "" || r.Subject != strings.TrimSpace(r.Subject) || strings.ContainsFunc(r.Subject, unicode.IsControl) {
		t.Errorf("subject %q is empty, has white space at an end or a control character", r.Subject)
	}
	lower := strings.ToLower(r.HTML)
	for _, bad := range []string{"<script", "<img", "<b>", "<bdi><"} {
		if strings.Contains(lower, bad) {
			t.Errorf("HTML contains unescaped %q", bad)
		}
	}
	if !strings.Contains(r.HTML, `href="`+link+`"`) || !strings.Contains(r.Text, "\n"+link+"\n") {
		t.Errorf("no link to %s in the HTML button or on its own line of the text:\n%s", link, r.Text)
	}
	for _, line := range strings.Split(r.Text, "\n") {
		if strings.HasPrefix(line, "Bcc:") || strings.HasPrefix(line, "X-Injected:") {
			t.Errorf("text body has an injected header-like line %q", line)
		}
	}
}

func TestDecisionWording(t *testing.T) {
	for _, tc := range []struct {
		i             int
		subject, text string
	}{
		{0, "Your payment of 400.00 USD was confirmed", "Acme Corp confirmed your payment of 400.00 USD for invoice INV-2024-001. Thank you! Still to pay: 800.00 USD."},
		{1, "Your payment of 1,200.00 USD was confirmed", "Thank you! Your payment plan is paid off."},
		{2, "Your payment of 400.00 USD could not be confirmed", "Their note:\n  > Nothing arrived on our account.\n  > Please check the reference.\n"},
		{3, "Your payment is now due on 2025-12-18", "installment 1 for invoice INV-2024-001 is now due on 2025-12-18 (it was due on 2025-12-04)."},
		{4, "Your payment is now due on 2026-03-04", "to the end of your schedule: it is now due on 2026-03-04"},
		{5, "A counter-offer to your proposed payment schedule from Acme Corp", "with another offer:\n  * 2025-12-10: 400.00 USD\n  * 2025-12-17: 400.00 USD\n\nTheir note:\n  > Two weeks, no more.\n\nTo accept this offer"},
		{6, "Your proposed payment schedule was approved", "approved the schedule you proposed for invoice INV-2024-001:\n  * 2025-12-10: 400.00 USD\n"},
		{7, "Your proposed payment schedule was declined", "declined the schedule you proposed for invoice INV-2024-001.\n\nTheir note:\n  > We need the full amount.\n"},
		{8, "Your new payment plan link from Acme Corp", "The link sent before no longer works.\n\nTo open your payment plan, use this link:\n\n" + portal + "\n"},
	} {
		r, err := Decision(decisionCases[tc.i].data)
		if err != nil {
			t.Fatal(err)
		}
		if r.Subject != tc.subject || !strings.Contains(r.Text, tc.text) || !strings.HasPrefix(r.Text, "Hello John Doe,\n\n") {
			t.Errorf("%s: subject %q (want %q), text lacks %q:\n%s", decisionCases[tc.i].name, r.Subject, tc.subject, tc.text, r.Text)
		}
	}
	hostile, _ := Decision(decisionCases[9].data)
	for _, want := range []string{"<bdi>Line one &lt;/bdi&gt;&lt;script&gt;alert(1)&lt;/script&gt;</bdi><br><bdi>Bcc: victim@example.com</bdi>",
		"for invoice <bdi>&lt;/bdi&gt;&lt;img src=x onerror=alert(1)&gt;</bdi>"} {
		if !strings.Contains(hostile.HTML, want) {
			t.Errorf("hostile HTML lacks %q:\n%s", want, hostile.HTML)
		}
	}
	if !strings.Contains(hostile.Text, "\n  > Bcc: victim@example.com\n") {
		t.Errorf("the note's lines are not quoted:\n%s", hostile.Text)
	}
	for _, kind := range []string{"", "introduction", "checkin", "payment_reported"} {
		if _, err := Decision(DecisionData{Kind: kind, PortalURL: portal}); err == nil {
			t.Errorf("Decision(kind %q) succeeded, want an error", kind)
		}
	}
	for _, kind := range []string{"", "payment_confirmed"} {
		if _, err := MerchantNotice(MerchantNoticeData{Kind: kind, DashboardURL: dashboard}); err == nil {
			t.Errorf("MerchantNotice(kind %q) succeeded, want an error", kind)
		}
	}
	bare, _ := MerchantNotice(merchantCases[5].data)
	if bare.Subject != "Your customer did not choose a payment plan" || !strings.Contains(bare.Text, "notification address of your account") {
		t.Errorf("bare notification: %q\n%s", bare.Subject, bare.Text)
	}
}
