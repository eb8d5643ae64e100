package templates

import (
	"bytes"
	"flag"
	"strings"
	"testing"
	"unicode"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const portal = "http://localhost:8080/plan/Xk3fQ9-token_value"

func threeMonthly() []IntroductionOption {
	return []IntroductionOption{
		{Installments: 3, Interval: "monthly", PaymentAmount: "400.00", FirstPaymentDate: "2025-12-04", FinalPaymentDate: "2026-02-04"},
		{Installments: 6, Interval: "monthly", PaymentAmount: "200.00", FirstPaymentDate: "2025-12-04", FinalPaymentDate: "2026-05-04"},
		{Installments: 12, Interval: "monthly", PaymentAmount: "100.00", FirstPaymentDate: "2025-12-04", FinalPaymentDate: "2026-11-04"},
	}
}

// goldenCases are the introduction emails kept in testdata.
var goldenCases = []struct {
	name string
	data IntroductionData
}{
	{"plain", IntroductionData{
		MerchantName: "Acme Corp", CustomerName: "John Doe", Amount: "1200.00", Currency: "USD",
		InvoiceNumber: "INV-2024-001", PortalURL: portal, Options: threeMonthly(),
	}},
	{"hostile", IntroductionData{
		MerchantName:  "Evil\r\nBcc: victim@example.com\r\n\r\n<b>Corp</b> & \"Sons\"",
		CustomerName:  `"Bobby" O'Brien <script>alert(1)</script> 😀👩‍💻`,
		Amount:        "99.99",
		Currency:      "EUR",
		InvoiceNumber: "</bdi><img src=x onerror=alert(1)>",
		PortalURL:     portal,
		Options: []IntroductionOption{
			{Installments: 2, Interval: "biweekly", PaymentAmount: "50.00", FirstPaymentDate: "2025-12-04", FinalPaymentDate: "2025-12-18"},
		},
	}},
	{"jpy", IntroductionData{
		MerchantName: "株式会社サンプル", CustomerName: "Tanaka Hanako", Amount: "120000", Currency: "JPY",
		PortalURL: portal,
		Options: []IntroductionOption{
			{Installments: 3, Interval: "monthly", PaymentAmount: "40000", FirstPaymentDate: "2026-01-31", FinalPaymentDate: "2026-03-31"},
			{Installments: 4, Interval: "weekly", PaymentAmount: "30000", FirstPaymentDate: "2026-01-31", FinalPaymentDate: "2026-02-21"},
		},
	}},
	{"rtl", IntroductionData{
		MerchantName: "شركة الأمل", CustomerName: "محمد", Amount: "1.500", Currency: "KWD",
		InvoiceNumber: "فاتورة-٧", PortalURL: portal,
		Options: []IntroductionOption{
			{Installments: 1, Interval: "monthly", PaymentAmount: "1.500", FirstPaymentDate: "2025-12-04", FinalPaymentDate: "2025-12-04"},
			{Installments: 3, Interval: "monthly", PaymentAmount: "0.500", FirstPaymentDate: "2025-12-04", FinalPaymentDate: "2026-02-04"},
		},
	}},
}

func render(t *testing.T, d IntroductionData) Rendered {
	t.Helper()
	r, err := Introduction(d)
	if err != nil {
		t.Fatalf("Introduction: %v", err)
	}
	return r
}

// goldenText is the one file kept per case: subject, text and HTML.
func goldenText(r Rendered) []byte {
	var b bytes.Buffer
	b.WriteString("Subject: " + r.Subject + "\n")
	b.WriteString("\n----- text/plain -----\n")
	b.WriteString(r.Text)
	b.WriteString("\n----- text/html -----\n")
	b.WriteString(r.HTML)
	return b.Bytes()
}

func TestIntroductionGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			checkGolden(t, "introduction_"+tc.name, goldenText(render(t, tc.data)))
		})
	}
}

func TestIntroductionSafety(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			r := render(t, tc.data)
			if strings.ContainsAny(r.Subject, "\r\n") {
				t.Errorf("subject has a line break: %q", r.Subject)
			}
			for _, c := range r.Subject {
				if unicode.IsControl(c) {
					t.Errorf("subject has control character %U: %q", c, r.Subject)
				}
			}
			if r.Subject != strings.TrimSpace(r.Subject) || r.Subject == "" {
				t.Errorf("subject %q is empty or has white space at an end", r.Subject)
			}
			lower := strings.ToLower(r.HTML)
			for _, bad := range []string{"<script", "<img", "<style", "<b>corp", "<bdi><"} {
				if strings.Contains(lower, bad) {
					t.Errorf("HTML contains unescaped %q", bad)
				}
			}
			if !strings.Contains(r.HTML, `<html lang="en"`) {
				t.Error("HTML has no lang attribute")
			}
			if !strings.Contains(r.HTML, `href="`+portal+`"`) {
				t.Errorf("HTML has no button to %s", portal)
			}
			if !strings.Contains(r.Text, "\n"+portal+"\n") {
				t.Errorf("text has no bare portal link on its own line")
			}
			for _, line := range strings.Split(r.Text, "\n") {
				if strings.HasPrefix(line, "Bcc:") {
					t.Errorf("text body has an injected header-like line %q", line)
				}
			}
		})
	}
}

func TestIntroductionContent(t *testing.T) {
	r := render(t, goldenCases[0].data)
	if want := "Your payment plan options from Acme Corp"; r.Subject != want {
		t.Errorf("subject = %q, want %q", r.Subject, want)
	}
	for _, want := range []string{
		"Hello John Doe,",
		"1,200.00 USD",
		"invoice INV-2024-001",
		"3 monthly payments of 400.00 USD, from 2025-12-04 to 2026-02-04",
		"12 monthly payments of 100.00 USD, from 2025-12-04 to 2026-11-04",
		"Acme Corp",
	} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, r.Text)
		}
	}
	if !strings.Contains(r.HTML, "3 monthly payments of <strong>400.00 USD</strong>, from 2025-12-04 to 2026-02-04") {
		t.Errorf("HTML lacks the first option:\n%s", r.HTML)
	}

	hostile := render(t, goldenCases[1].data)
	if want := `Your payment plan options from Evil Bcc: victim@example.com <b>Corp</b> & "Sons"`; hostile.Subject != want {
		t.Errorf("hostile subject = %q, want %q", hostile.Subject, want)
	}
	for _, want := range []string{
		`&#34;Bobby&#34; O&#39;Brien &lt;script&gt;alert(1)&lt;/script&gt; 😀👩‍💻`,
		`&lt;b&gt;Corp&lt;/b&gt; &amp; &#34;Sons&#34;`,
		`&lt;/bdi&gt;&lt;img src=x onerror=alert(1)&gt;`,
	} {
		if !strings.Contains(hostile.HTML, want) {
			t.Errorf("hostile HTML lacks escaped %q", want)
		}
	}
	if !strings.Contains(hostile.Text, `Hello "Bobby" O'Brien <script>alert(1)</script> 😀👩‍💻,`) {
		t.Errorf("text should show the name as written:\n%s", hostile.Text)
	}

	rtl := render(t, goldenCases[3].data)
	if !strings.Contains(rtl.HTML, "<bdi>محمد</bdi>") || !strings.Contains(rtl.Text, "Hello محمد,") {
		t.Errorf("RTL name not kept as written:\n%s\n%s", rtl.Text, rtl.HTML)
	}
	if !strings.Contains(rtl.Text, "1 payment of 1.500 KWD on 2025-12-04") {
		t.Errorf("single payment option wrong:\n%s", rtl.Text)
	}
}

func TestIntroductionEdgeCases(t *testing.T) {
	r := render(t, IntroductionData{Amount: "10.00", Currency: "USD", PortalURL: portal})
	if r.Subject != "Your payment plan options" {
		t.Errorf("subject without merchant = %q", r.Subject)
	}
	if !strings.HasPrefix(r.Text, "Hello,\n") || !strings.Contains(r.Text, "Your merchant is offering") || strings.Contains(r.Text, "Your options") {
		t.Errorf("text without names or options:\n%s", r.Text)
	}

	// A portal URL that is not http(s) is neutralised by html/template.
	bad := render(t, IntroductionData{MerchantName: "M", PortalURL: "javascript:alert(1)"})
	if strings.Contains(bad.HTML, `href="javascript:`) || !strings.Contains(bad.HTML, `href="#ZgotmplZ"`) {
		t.Errorf("HTML kept a javascript: URL in href:\n%s", bad.HTML)
	}
}

func TestSingleLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "",
		"  Acme \t Corp \n":           "Acme Corp",
		"a\r\nb":                      "a b",
		"a\u2028b\u2029c\x00d\u0085e": "a b c d e",
		"محمد":                        "محمد",
		"👩‍💻 dev":                     "👩‍💻 dev",
		"bad\xffutf8":                 "bad\uFFFDutf8",
	} {
		if got := singleLine(in); got != want {
			t.Errorf("singleLine(%q) = %q, want %q", in, got, want)
		}
	}
}
