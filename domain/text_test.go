package domain_test

import (
	"strings"
	"testing"

	"goodplan/domain"
)

func TestCheckText(t *testing.T) {
	t.Parallel()
	const (
		single = domain.SingleLine
		multi  = domain.MultiLine
	)
	tests := []struct {
		name  string
		value string
		kind  domain.TextKind
		max   int
		want  string // the cleaned value when accepted
		err   string // part of the message when refused
	}{
		{"plain", "John Doe", single, 255, "John Doe", ""},
		{"trimmed", "  John Doe \t", single, 255, "John Doe", ""},
		{"accents and emoji", "Zoë 🌷 Ünal", single, 255, "Zoë 🌷 Ünal", ""},
		{"zero-width non-joiner in a Persian name", "می\u200cخواهم", single, 255, "می\u200cخواهم", ""},
		{"emoji zero-width joiner sequence", "👩\u200d💻", single, 255, "👩\u200d💻", ""},
		{"NUL in a single line", "a\x00b", single, 255, "", "may not contain control characters or line breaks"},
		{"NUL in a multi line", "a\x00b", multi, 2000, "", "may not contain control characters."},
		{"line break in a single line", "a\nb", single, 255, "", "control characters or line breaks"},
		{"tab in a single line", "a\tb", single, 255, "", "control characters or line breaks"},
		{"line break and tab in a multi line", "a\n\tb", multi, 2000, "a\n\tb", ""},
		{"CRLF becomes LF", "one\r\ntwo\r\n", multi, 2000, "one\ntwo", ""},
		{"a lone CR", "one\rtwo", multi, 2000, "", "control characters"},
		{"escape", "\x1b[31mred", multi, 2000, "", "control characters"},
		{"DEL", "a\x7f", single, 255, "", "control characters"},
		{"C1 NEL in a single line", "INV\u0085001", single, 255, "", "control characters"},
		{"C1 CSI in a multi line", "a\u009bb", multi, 2000, "", "control characters"},
		{"line separator in a single line", "a\u2028b", single, 255, "", "line breaks"},
		{"right-to-left override in a single line", "John\u202eeoD", single, 255, "", "invisible formatting characters (such as U+202E)"},
		{"soft hyphen in a single line", "ab\u00adc", single, 255, "", "U+00AD"},
		{"byte order mark in a single line", "\ufeffname", single, 255, "", "U+FEFF"},
		{"right-to-left override in a multi line", "a\u202eb", multi, 2000, "a\u202eb", ""},
		{"invalid UTF-8", "a\xffb", single, 255, "", "must be valid UTF-8 text"},
		{"invalid UTF-8 in a multi line", "a\xc3", multi, 2000, "", "must be valid UTF-8 text"},
		{"at the limit in characters", strings.Repeat("ü", 255), single, 255, strings.Repeat("ü", 255), ""},
		{"one over the limit", strings.Repeat("ü", 256), single, 255, "", "may not be greater than 255 characters"},
		{"2001 characters", strings.Repeat("x", 2001), multi, 2000, "", "may not be greater than 2000 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ve domain.ValidationError
			got := domain.CheckText(&ve, "field", tt.value, tt.kind, tt.max)
			msgs := ve.Fields["field"]
			if tt.err == "" {
				if len(ve.Fields) != 0 {
					t.Fatalf("refused: %v", ve.Fields)
				}
				if got != tt.want {
					t.Fatalf("cleaned = %q, want %q", got, tt.want)
				}
				return
			}
			if len(msgs) != 1 || !strings.Contains(msgs[0], tt.err) || !strings.HasPrefix(msgs[0], "The field ") {
				t.Fatalf("messages = %q, want one naming the field and containing %q", msgs, tt.err)
			}
		})
	}
}

// TestCommandsCheckText sends hostile text through every free-text field of
// every command: each is refused with a 422 naming the field, and no event.
func TestCommandsCheckText(t *testing.T) {
	t.Parallel()
	create := func(set func(*domain.CreatePlan)) decision {
		return func(p *domain.Plan) ([]domain.Event, error) {
			cmd := minimalCmd()
			set(&cmd)
			return p.CreatePlan(cmd)
		}
	}
	withReport := seq(activePlan(), reported(90, 1, "400.00", on("2025-12-03")))
	withProposal := then(t, activePlan(), propose(31, "3", "monthly", "2025-12-20", on("2025-12-03")))
	when := on("2025-12-05")
	var tests []planTest
	for _, bad := range []struct{ name, text string }{
		{"NUL", "a\x00b"}, {"C1", "a\u0085b"}, {"invalid UTF-8", "a\xffb"}, {"too long", strings.Repeat("x", 2001)},
	} {
		tests = append(tests,
			planTest{name: "create: name with " + bad.name, when: create(func(c *domain.CreatePlan) { c.CustomerName = bad.text }),
				wantErr: invalid("customer.name", "The customer.name")},
			planTest{name: "create: email with " + bad.name, when: create(func(c *domain.CreatePlan) { c.CustomerEmail = "a@b.co" + bad.text }),
				wantErr: invalid("customer.email", "The customer.email")},
			planTest{name: "create: phone with " + bad.name, when: create(func(c *domain.CreatePlan) { c.CustomerPhone = "555" + bad.text }),
				wantErr: invalid("customer.phone", "The customer.phone")},
			planTest{name: "create: invoice number with " + bad.name, when: create(func(c *domain.CreatePlan) { c.InvoiceNumber = bad.text }),
				wantErr: invalid("invoice.invoice_number", "The invoice.invoice_number")},
			planTest{name: "create: description with " + bad.name, when: create(func(c *domain.CreatePlan) { c.Description = bad.text }),
				wantErr: invalid("invoice.description", "The invoice.description")},
			planTest{name: "record: reference with " + bad.name, given: activePlan(),
				when: func(p *domain.Plan) ([]domain.Event, error) {
					in := payment(91, "100.00")
					in.Reference = bad.text
					return p.RecordPayment(in)
				}, wantErr: invalid("reference", "The reference")},
			planTest{name: "report: reference with " + bad.name, given: activePlan(),
				when: func(p *domain.Plan) ([]domain.Event, error) {
					in := payment(91, "100.00")
					in.Reference = bad.text
					return p.ReportPayment(in)
				}, wantErr: invalid("reference", "The reference")},
			planTest{name: "cancel: reason with " + bad.name, given: activePlan(),
				when:    func(p *domain.Plan) ([]domain.Event, error) { return p.Cancel(bad.text, when) },
				wantErr: invalid("reason", "The reason")},
			planTest{name: "write-off: reason with " + bad.name, given: activePlan(),
				when:    func(p *domain.Plan) ([]domain.Event, error) { return p.WriteOff(bad.text, when) },
				wantErr: invalid("reason", "The reason")},
			planTest{name: "reject: reason with " + bad.name, given: withReport,
				when:    func(p *domain.Plan) ([]domain.Event, error) { return p.RejectPayment(90, bad.text, when) },
				wantErr: invalid("reason", "The reason")},
			planTest{name: "decline: reason with " + bad.name, given: withProposal,
				when: decline(31, bad.text, when), wantErr: invalid("reason", "The reason")},
			planTest{name: "counter: message with " + bad.name, given: withProposal,
				when: counter(31, "2", "monthly", "2025-12-20", bad.text, when), wantErr: invalid("message", "The message")},
		)
	}
	tests = append(tests,
		planTest{name: "create: right-to-left override in the name",
			when:    create(func(c *domain.CreatePlan) { c.CustomerName = "John \u202eeoD" }),
			wantErr: invalid("customer.name", "invisible formatting characters")},
		planTest{name: "create: right-to-left override in the invoice number",
			when:    create(func(c *domain.CreatePlan) { c.InvoiceNumber = "INV\u202e1" }),
			wantErr: invalid("invoice.invoice_number", "invisible formatting characters")},
		planTest{name: "create: description keeps its lines, CRLF as LF",
			when: create(func(c *domain.CreatePlan) { c.Description = "Line one\r\n\tLine two" }),
			check: func(t *testing.T, p *domain.Plan) {
				if got := p.Invoice().Description; got != "Line one\n\tLine two" {
					t.Errorf("description = %q", got)
				}
			}},
	)
	runPlanTests(t, tests)
}

// TestWorkerReasonsAreScrubbed: a mail server's reply is recorded without
// the characters the read model cannot store, and bounded, rather than
// refused (which would leave the outcome unrecorded).
func TestWorkerReasonsAreScrubbed(t *testing.T) {
	t.Parallel()
	at := on("2025-11-28")
	runPlanTests(t, []planTest{
		{
			name: "introduction email failed with NUL, escapes and invalid UTF-8 in the reply", given: pendingPlan(),
			when: func(p *domain.Plan) ([]domain.Event, error) {
				return p.RecordIntroductionEmailFailed("550 bad\x00 \x1b[1mreply\xff\r\nline two\u0085", 10, at)
			},
			want: []domain.Event{domain.IntroductionEmailFailed{Reason: "550 bad [1mreply\nline two", Attempts: 10, FailedAt: at}},
		},
		{
			name: "a reply of 3000 characters is cut to 1000", given: pendingPlan(),
			when: func(p *domain.Plan) ([]domain.Event, error) {
				return p.RecordIntroductionEmailFailed(strings.Repeat("é", 3000), 10, at)
			},
			want: []domain.Event{domain.IntroductionEmailFailed{Reason: strings.Repeat("é", 1000), Attempts: 10, FailedAt: at}},
		},
	})
}
