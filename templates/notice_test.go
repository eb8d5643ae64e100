package templates

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noticeCases are the notices kept in testdata.
var noticeCases = []struct {
	name string
	data NoticeData
}{
	{"due_reminder", NoticeData{
		Kind: NoticeDueReminder, MerchantName: "Acme Corp", CustomerName: "John Doe", InvoiceNumber: "INV-2024-001",
		Installment: 1, InstallmentCount: 3, Amount: "400.00", Currency: "USD", DueDate: "2025-12-04", PortalURL: portal,
	}},
	{"checkin", NoticeData{
		Kind: NoticeCheckin, MerchantName: "Acme Corp", CustomerName: "John Doe", InvoiceNumber: "INV-2024-001",
		Installment: 2, InstallmentCount: 3, Amount: "400.00", Currency: "USD", DueDate: "2026-01-04", PortalURL: portal,
	}},
	{"checkin_reminder", NoticeData{
		Kind: NoticeCheckinReminder, MerchantName: "株式会社サンプル", CustomerName: "محمد",
		Installment: 3, InstallmentCount: 4, Amount: "30000", Currency: "JPY", DueDate: "2026-02-28", PortalURL: portal,
	}},
	{"hostile", NoticeData{
		Kind:          NoticeCheckin,
		MerchantName:  "Evil\r\nBcc: victim@example.com\r\n\r\n<b>Corp</b> & \"Sons\"",
		CustomerName:  "\"Bobby\" O'Brien\r\nX-Injected: yes <script>alert(1)</script> 😀👩‍💻",
		InvoiceNumber: "</bdi><img src=x onerror=alert(1)>",
		Installment:   1, InstallmentCount: 2,
		Amount: "99.99\r\nBcc: a@example.com", Currency: "EUR", DueDate: "2025-12-04\n", PortalURL: portal,
	}},
	{"bare", NoticeData{Kind: NoticeDueReminder, Amount: "10.00", Currency: "USD", DueDate: "2025-12-04", PortalURL: portal}},
}

func renderNotice(t *testing.T, d NoticeData) Rendered {
	t.Helper()
	r, err := Notice(d)
	if err != nil {
		t.Fatalf("Notice: %v", err)
	}
	return r
}

// checkGolden compares got with testdata/{name}.golden, or rewrites the
// file with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the rendered email (go test -update rewrites it)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

func TestNoticeGolden(t *testing.T) {
	for _, tc := range noticeCases {
		t.Run(tc.name, func(t *testing.T) {
			checkGolden(t, "notice_"+tc.name, goldenText(renderNotice(t, tc.data)))
		})
	}
}

func TestNoticeSafety(t *testing.T) {
	for _, tc := range noticeCases {
		t.Run(tc.name, func(t *testing.T) {
			checkSafe(t, renderNotice(t, tc.data), portal)
		})
	}
}

func TestNoticeWording(t *testing.T) {
	for _, tc := range []struct {
		kind, subject, text, button string
	}{
		{NoticeDueReminder, "Your payment of 400.00 USD is due on 2025-12-04",
			"Your payment of 400.00 USD is due on 2025-12-04. It is installment 1 of 3 of your payment plan with Acme Corp for invoice INV-2024-001.",
			">View your payment plan</a>"},
		{NoticeCheckin, "Your payment of 400.00 USD was due today — did you pay?",
			"Your payment of 400.00 USD was due today — did you pay? Report it in the portal, so Acme Corp knows it is on its way.",
			">Report your payment</a>"},
		{NoticeCheckinReminder, "We have not heard about your payment of 400.00 USD due on 2025-12-04",
			"We have not heard about your payment of 400.00 USD due on 2025-12-04. It is installment 1 of 3",
			">Report your payment</a>"},
	} {
		d := noticeCases[0].data
		d.Kind = tc.kind
		r := renderNotice(t, d)
		if r.Subject != tc.subject {
			t.Errorf("%s: subject = %q, want %q", tc.kind, r.Subject, tc.subject)
		}
		if !strings.HasPrefix(r.Text, "Hello John Doe,\n\n"+tc.text) {
			t.Errorf("%s: text does not start with the greeting and %q:\n%s", tc.kind, tc.text, r.Text)
		}
		if !strings.Contains(r.HTML, "<title>"+tc.subject+"</title>") || !strings.Contains(r.HTML, tc.button) {
			t.Errorf("%s: HTML lacks the title or the %q button:\n%s", tc.kind, tc.button, r.HTML)
		}
		if !strings.HasSuffix(r.Text, "Thank you,\nAcme Corp\n") {
			t.Errorf("%s: text does not end with the merchant's sign-off:\n%s", tc.kind, r.Text)
		}
	}

	hostile := renderNotice(t, noticeCases[3].data)
	if want := "Your payment of 99.99 Bcc: a@example.com EUR was due today — did you pay?"; hostile.Subject != want {
		t.Errorf("hostile subject = %q, want %q", hostile.Subject, want)
	}
	for _, want := range []string{
		`Hello <bdi>&#34;Bobby&#34; O&#39;Brien X-Injected: yes &lt;script&gt;alert(1)&lt;/script&gt; 😀👩‍💻</bdi>,`,
		`<bdi>Evil Bcc: victim@example.com &lt;b&gt;Corp&lt;/b&gt; &amp; &#34;Sons&#34;</bdi>`,
		`for invoice <bdi>&lt;/bdi&gt;&lt;img src=x onerror=alert(1)&gt;</bdi>.`,
	} {
		if !strings.Contains(hostile.HTML, want) {
			t.Errorf("hostile HTML lacks escaped %q:\n%s", want, hostile.HTML)
		}
	}
	if !strings.HasPrefix(hostile.Text, `Hello "Bobby" O'Brien X-Injected: yes <script>alert(1)</script> 😀👩‍💻,`+"\n") {
		t.Errorf("text should show the name as written, on one line:\n%s", hostile.Text)
	}

	bare := renderNotice(t, noticeCases[4].data)
	if !strings.HasPrefix(bare.Text, "Hello,\n\nYour payment of 10.00 USD is due on 2025-12-04.\n") ||
		strings.Contains(bare.Text, "installment") || !strings.HasSuffix(bare.Text, "Thank you,\nYour merchant\n") {
		t.Errorf("notice without names or installment:\n%s", bare.Text)
	}
}

func TestNoticeUnknownKind(t *testing.T) {
	for _, kind := range []string{"", "introduction", "CHECKIN"} {
		if r, err := Notice(NoticeData{Kind: kind, Amount: "1.00", Currency: "USD", PortalURL: portal}); err == nil {
			t.Errorf("Notice(kind %q) = %+v, want an error", kind, r)
		}
	}
}
