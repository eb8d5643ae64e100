package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
)

// later is when the decisions of these tests are made: after the plan's
// activation, before the worker's clock (fixedNow) is a day past them.
var later = fixedNow.Add(2 * time.Hour)

type decide = func(*domain.Plan) ([]domain.Event, error)

func reportPayment(id int64) decide {
	return func(p *domain.Plan) ([]domain.Event, error) {
		return p.ReportPayment(domain.PaymentInput{PaymentID: id, Amount: "400.00", Method: "e_transfer", Reference: "REF-1", Now: later})
	}
}

func proposeSchedule(p *domain.Plan) ([]domain.Event, error) {
	return p.ProposeSchedule(5, domain.TermsInput{Installments: "2", Interval: "weekly", FirstPaymentDate: "2025-12-10"},
		domain.Consent{At: later})
}

// act appends what each of steps decides for plan id, in turn, and returns
// the records the last one appended.
func (env *emailEnv) act(t *testing.T, id int64, steps ...decide) []eventstore.Record {
	t.Helper()
	var recs []eventstore.Record
	for _, step := range steps {
		_, before, _, err := env.store.LoadPlan(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		actOn(t, env.store, id, step)
		_, after, _, _ := env.store.LoadPlan(t.Context(), id)
		recs = after[len(before):]
	}
	return recs
}

// oneRecord returns the one record of type typ among recs.
func oneRecord(t *testing.T, recs []eventstore.Record, typ string) eventstore.Record {
	t.Helper()
	got := recordsOfType(recs, typ)
	if len(got) != 1 {
		t.Fatalf("%d %s records among %d, want 1", len(got), typ, len(recs))
	}
	return got[0]
}

// update changes the account's email settings.
func (env *emailEnv) update(t *testing.T, c domain.EmailSettingsChange) {
	t.Helper()
	if _, err := env.store.UpdateEmailSettings(t.Context(), env.acct.ID, c); err != nil {
		t.Fatalf("update settings: %v", err)
	}
}

// handlePlanEmail runs HandlePlanEmail as the consumer would on delivery
// attempt n.
func (env *emailEnv) handlePlanEmail(t *testing.T, rec eventstore.Record, attempt int) error {
	t.Helper()
	return env.worker.HandlePlanEmail(WithDeliveryAttempt(t.Context(), attempt), rec)
}

// commandID is the command id in rec's metadata.
func commandID(t *testing.T, rec eventstore.Record) string {
	t.Helper()
	var meta eventstore.Metadata
	if err := json.Unmarshal(rec.Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	return meta.CommandID
}

// TestPlanEmailCustomerKinds: each merchant decision sends the customer one
// email, with its own Message-ID and the portal link, recorded as
// requested and sent; redelivery sends nothing more; switched off in the
// account's settings, each kind is neither sent nor recorded.
func TestPlanEmailCustomerKinds(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	env.update(t, domain.EmailSettingsChange{SenderName: ptr(`Acme "Billing" Café`)})
	for _, tc := range []struct {
		kind    domain.PlanEmailKind
		trigger string
		pending bool // the plan is not activated first
		steps   []decide
		subject string
		body    string
	}{
		{domain.EmailPaymentConfirmed, domain.EventInstallmentConfirmed, false, []decide{reportPayment(1),
			func(p *domain.Plan) ([]domain.Event, error) { return p.ConfirmPayment(1, "", later) }},
			"Your payment of 400.00 USD was confirmed", "Still to pay: 800.00 USD."},
		{domain.EmailPaymentRejected, domain.EventPaymentRejected, false, []decide{reportPayment(1),
			func(p *domain.Plan) ([]domain.Event, error) { return p.RejectPayment(1, "Nothing arrived.", later) }},
			"Your payment of 400.00 USD could not be confirmed", "  > Nothing arrived."},
		{domain.EmailExtensionGranted, domain.EventInstallmentExtensionGranted, false, []decide{
			func(p *domain.Plan) ([]domain.Event, error) {
				return p.ExtendInstallment(1, "2025-12-20", false, later)
			}},
			"Your payment is now due on 2025-12-20", "is now due on 2025-12-20 (it was due on 2025-12-04)."},
		{domain.EmailInstallmentDeferred, domain.EventInstallmentDeferred, false, []decide{
			func(p *domain.Plan) ([]domain.Event, error) { return p.DeferInstallment(1, later) }},
			"Your payment is now due on 2026-03-04", "to the end of your schedule: it is now due on 2026-03-04"},
		{domain.EmailProposalCountered, domain.EventProposalCountered, true, []decide{proposeSchedule,
			func(p *domain.Plan) ([]domain.Event, error) {
				return p.CounterProposal(5, domain.TermsInput{Installments: "3", Interval: "weekly", FirstPaymentDate: "2025-12-11"},
					"Three weeks.", later)
			}},
			"A counter-offer to your proposed payment schedule from Acme Corp", "  * 2025-12-11: 400.00 USD\n"},
		{domain.EmailProposalApproved, domain.EventProposalApproved, true, []decide{proposeSchedule,
			func(p *domain.Plan) ([]domain.Event, error) { return p.ApproveProposal(5, later) }},
			"Your proposed payment schedule was approved", "  * 2025-12-17: 600.00 USD\n"},
		{domain.EmailProposalDeclined, domain.EventProposalDeclined, true, []decide{proposeSchedule,
			func(p *domain.Plan) ([]domain.Event, error) { return p.DeclineProposal(5, "Too long.", later) }},
			"Your proposed payment schedule was declined", "  > Too long."},
		{domain.EmailPortalLink, domain.EventPortalLinkRegenerated, false, []decide{
			func(p *domain.Plan) ([]domain.Event, error) { return p.RegeneratePortalLink("new-secret-token", later) }},
			"Your new payment plan link from Acme Corp", "The link sent before no longer works."},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			before := len(env.smtp.Messages())
			id := planIDOf(t, env.createPlan(t, "John Doe", "john@example.com", false))
			if !tc.pending {
				activate(t, env.store, id, fixedNow.Add(time.Hour))
			}
			rec := oneRecord(t, env.act(t, id, tc.steps...), tc.trigger)
			if err := env.handlePlanEmail(t, rec, 1); err != nil {
				t.Fatalf("HandlePlanEmail: %v", err)
			}
			msgs := env.smtp.Messages()[before:]
			if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "john@example.com" {
				t.Fatalf("sent %d messages (%+v), want 1 to the customer", len(msgs), msgs)
			}
			m := parseMail(t, msgs[0].Data)
			k := domain.PlanEmailKey{Kind: tc.kind, EventVersion: rec.Version}
			wantID := fmt.Sprintf("<plan-%d.%s.%d.1@pay.goodplan.example>", id, tc.kind, rec.Version)
			if got := m.Header.Get("Message-Id"); got != wantID || PlanEmailMessageID(id, k, 0, testPublicURL) != wantID {
				t.Errorf("Message-ID = %q, want %q", got, wantID)
			}
			if m.Subject != tc.subject || !strings.Contains(m.Text, tc.body) {
				t.Errorf("subject %q (want %q), text lacks %q:\n%s", m.Subject, tc.subject, tc.body, m.Text)
			}
			if m.From.Name != `Acme "Billing" Café` || m.From.Address != "no-reply@goodplan.example" {
				t.Errorf("From = %+v, want the account's sender name on EMAIL_FROM's address", m.From)
			}
			plan, recs := env.planRecords(t, rec)
			portal := projections.PortalURL(testPublicURL, plan.PortalToken())
			if !strings.Contains(m.Text, "\n"+portal+"\n") || !strings.Contains(m.HTML, `href="`+portal+`"`) {
				t.Errorf("the email lacks the portal link %s:\n%s", portal, m.Text)
			}
			req := oneRecord(t, recs, domain.EventPlanEmailRequested)
			sent := oneRecord(t, recs, domain.EventPlanEmailSent)
			if want := fmt.Sprintf("plan-email-requested:plan-%d:%d", id, rec.Version); commandID(t, req) != want {
				t.Errorf("request command id %q, want %q", commandID(t, req), want)
			}
			if want := fmt.Sprintf("plan-email-sent:plan-%d:%d:0", id, rec.Version); commandID(t, sent) != want {
				t.Errorf("sent command id %q, want %q", commandID(t, sent), want)
			}
			if got := plan.PlanEmailsAbout(rec.Version); len(got) != 1 || got[0].Status != domain.EmailSent ||
				got[0].MessageID != wantID || got[0].To != "john@example.com" || got[0].Kind != tc.kind {
				t.Errorf("plan emails = %+v", got)
			}
			// Redelivery and replay: nothing new.
			env.redeliverPlanEmailSendsNothing(t, rec, before+1, len(recs))
			if logs := env.logs.String(); strings.Contains(logs, plan.PortalToken()) || strings.Contains(logs, "john@example.com") ||
				!strings.Contains(logs, string(tc.kind)+" email sent") {
				t.Errorf("logs reveal the token or the address, or say nothing of the email:\n%s", logs)
			}

			// Switched off in the account's settings, the same decision on
			// another plan sends and records nothing.
			env.update(t, domain.EmailSettingsChange{CustomerEmails: map[string]bool{string(tc.kind): false}})
			defer env.update(t, domain.EmailSettingsChange{CustomerEmails: map[string]bool{string(tc.kind): true}})
			off := planIDOf(t, env.createPlan(t, "John Doe", "john@example.com", false))
			if !tc.pending {
				activate(t, env.store, off, fixedNow.Add(time.Hour))
			}
			offRec := oneRecord(t, env.act(t, off, tc.steps...), tc.trigger)
			_, offBefore := env.planRecords(t, offRec)
			mailed := len(env.smtp.Messages())
			if err := env.handlePlanEmail(t, offRec, 1); err != nil {
				t.Fatalf("HandlePlanEmail, switched off: %v", err)
			}
			if _, offAfter := env.planRecords(t, offRec); len(env.smtp.Messages()) != mailed || len(offAfter) != len(offBefore) {
				t.Errorf("switched off: %d emails mailed, %d events recorded", len(env.smtp.Messages())-mailed, len(offAfter)-len(offBefore))
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestPlanEmailSwitchedOff: a customer email switched off is not sent and
// not requested (nothing recorded); the others still are.
func TestPlanEmailSwitchedOff(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	env.update(t, domain.EmailSettingsChange{CustomerEmails: map[string]bool{"payment_confirmed": false}})
	id := env.activePlan(t, "John Doe", "john@example.com")
	recs := env.act(t, id, reportPayment(1), func(p *domain.Plan) ([]domain.Event, error) { return p.ConfirmPayment(1, "", later) })
	rec := oneRecord(t, recs, domain.EventInstallmentConfirmed)
	_, before := env.planRecords(t, rec)
	if err := env.handlePlanEmail(t, rec, 1); err != nil {
		t.Fatalf("HandlePlanEmail: %v", err)
	}
	if n := len(env.smtp.Messages()); n != 0 {
		t.Errorf("sent %d emails switched off", n)
	}
	if _, after := env.planRecords(t, rec); len(after) != len(before) {
		t.Errorf("a switched-off email recorded %d events", len(after)-len(before))
	}
	// Another kind is on.
	rec = oneRecord(t, env.act(t, id, func(p *domain.Plan) ([]domain.Event, error) { return p.DeferInstallment(2, later) }),
		domain.EventInstallmentDeferred)
	if err := env.handlePlanEmail(t, rec, 1); err != nil || len(env.smtp.Messages()) != 1 {
		t.Errorf("deferral: %v, %d messages; want 1", err, len(env.smtp.Messages()))
	}
}

// TestPlanEmailMerchantNotifications: the merchant's notification reaches
// every notification address, each with its own Message-ID and outcome,
// and links to the plan in the dashboard; an account without addresses
// gets none; a report answered before the worker got to it is no news.
func TestPlanEmailMerchantNotifications(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	id := env.activePlan(t, "John Doe", "john@example.com")

	// No address: nothing.
	rec := oneRecord(t, env.act(t, id, reportPayment(1)), domain.EventInstallmentPaid)
	if err := env.handlePlanEmail(t, rec, 1); err != nil || len(env.smtp.Messages()) != 0 {
		t.Fatalf("without addresses: %v, %d messages", err, len(env.smtp.Messages()))
	}

	addrs := []string{"ops@acme.example", "boss@acme.example"}
	env.update(t, domain.EmailSettingsChange{NotifyEmails: &addrs})
	rec = oneRecord(t, env.act(t, id, func(p *domain.Plan) ([]domain.Event, error) { return p.ConfirmPayment(1, "", later) },
		reportPayment(2)), domain.EventInstallmentPaid)
	if err := env.handlePlanEmail(t, rec, 1); err != nil {
		t.Fatalf("HandlePlanEmail: %v", err)
	}
	msgs := env.smtp.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want one to each of %v", len(msgs), addrs)
	}
	for i, msg := range msgs {
		m := parseMail(t, msg.Data)
		if len(msg.To) != 1 || msg.To[0] != addrs[i] || m.To.Address != addrs[i] {
			t.Errorf("message %d went to %v (%+v), want %s alone", i, msg.To, m.To, addrs[i])
		}
		if want := fmt.Sprintf("<plan-%d.payment_reported.%d.%d@pay.goodplan.example>", id, rec.Version, i+1); m.Header.Get("Message-Id") != want {
			t.Errorf("Message-ID %q, want %q", m.Header.Get("Message-Id"), want)
		}
		dash := fmt.Sprintf("https://pay.goodplan.example:8443/dashboard/plans/%d", id)
		if m.Subject != "John Doe reported a payment of 400.00 USD" || !strings.Contains(m.Text, "\n"+dash+"\n") ||
			!strings.Contains(m.Text, "paid on 2025-11-27 by e transfer (reference REF-1)") || m.From.Address != "no-reply@goodplan.example" ||
			m.From.Name != "Good Plan" {
			t.Errorf("notification %d: subject %q from %+v:\n%s", i, m.Subject, m.From, m.Text)
		}
	}
	plan, recs := env.planRecords(t, rec)
	if n := len(recordsOfType(recs, domain.EventPlanEmailSent)); n != 2 {
		t.Errorf("%d sent events, want 2", n)
	}
	if got := plan.PlanEmailsAbout(rec.Version); len(got) != 2 || got[0].To != addrs[0] || got[1].To != addrs[1] ||
		got[0].Status != domain.EmailSent || got[1].Status != domain.EmailSent {
		t.Errorf("plan emails = %+v", got)
	}
	env.redeliverPlanEmailSendsNothing(t, rec, 2, len(recs))

	// A proposal and an abandonment on another plan, and a report the
	// merchant answered before the worker got to it.
	pending := planIDOf(t, env.createPlan(t, "Jane Roe", "jane@example.com", false))
	rec = oneRecord(t, env.act(t, pending, proposeSchedule), domain.EventProposalCreated)
	if err := env.handlePlanEmail(t, rec, 1); err != nil || len(env.smtp.Messages()) != 4 {
		t.Fatalf("proposal: %v, %d messages, want 4", err, len(env.smtp.Messages()))
	}
	if m := parseMail(t, env.smtp.Messages()[3].Data); m.Subject != "Jane Roe proposed a new payment schedule" ||
		!strings.Contains(m.Text, "2 weekly payments from 2025-12-10") {
		t.Errorf("proposal notification %q:\n%s", m.Subject, m.Text)
	}
	rec = oneRecord(t, env.act(t, id, reportPayment(3), func(p *domain.Plan) ([]domain.Event, error) {
		return p.RejectPayment(3, "", later)
	}), domain.EventPaymentRejected)
	_, all, _, _ := env.store.LoadPlan(t.Context(), id)
	paid := all[rec.Version-2] // the report just before the rejection
	if err := env.handlePlanEmail(t, paid, 1); err != nil || len(env.smtp.Messages()) != 4 {
		t.Errorf("a report answered already: %v, %d messages, want still 4", err, len(env.smtp.Messages()))
	}
}

// redeliverPlanEmailSendsNothing handles rec twice more: still want
// messages, and no event appended.
func (env *emailEnv) redeliverPlanEmailSendsNothing(t *testing.T, rec eventstore.Record, want, events int) {
	t.Helper()
	env.redeliverWith(t, env.handlePlanEmail, rec, want, events)
}

// TestPlanEmailCheckinAndAbandoned: the scheduler's check-in reminder and
// abandonment notify the merchant.
func TestPlanEmailCheckinAndAbandoned(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	env.update(t, domain.EmailSettingsChange{NotifyEmails: &[]string{"ops@acme.example"}})
	id := env.activePlan(t, "John Doe", "john@example.com")
	rec, key := env.requestNotice(t, id, "2025-12-04")
	actOn(t, env.store, id, func(p *domain.Plan) ([]domain.Event, error) {
		return p.RecordNotificationSent(key, "<c@x>", "john@example.com", at(t, "2025-12-04"))
	})
	rec, _ = env.requestNotice(t, id, "2025-12-07")
	env.worker.Now = func() time.Time { return at(t, "2025-12-07T01:00:00Z") }
	if err := env.handlePlanEmail(t, rec, 1); err != nil {
		t.Fatalf("HandlePlanEmail: %v", err)
	}
	msgs := env.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1 to the merchant", len(msgs))
	}
	if m := parseMail(t, msgs[0].Data); m.Subject != "John Doe has not answered about the payment due on 2025-12-04" ||
		!strings.Contains(m.Text, "installment 1 of plan") {
		t.Errorf("check-in notification %q:\n%s", m.Subject, m.Text)
	}

	pending := planIDOf(t, env.createPlan(t, "Jane Roe", "jane@example.com", false))
	abandonAt := fixedNow.Add(domain.AbandonAfter)
	if n := tickAt(t, env.store, abandonAt, pending); n != 1 {
		t.Fatalf("tick appended %d events, want plan.abandoned", n)
	}
	_, recs, _, _ := env.store.LoadPlan(t.Context(), pending)
	env.worker.Now = func() time.Time { return abandonAt.Add(time.Minute) }
	if err := env.handlePlanEmail(t, oneRecord(t, recs, domain.EventPlanAbandoned), 1); err != nil {
		t.Fatalf("HandlePlanEmail: %v", err)
	}
	if msgs := env.smtp.Messages(); len(msgs) != 2 || parseMail(t, msgs[1].Data).Subject != "Jane Roe did not choose a payment plan" {
		t.Errorf("%d messages, want the abandonment's second", len(msgs))
	}
	// A day later, the same event is old news: a fresh worker over old
	// history sends nothing.
	rec = oneRecord(t, env.act(t, id, reportPayment(1)), domain.EventInstallmentPaid)
	env.worker.Now = func() time.Time { return later.Add(domain.PlanEmailMaxDelay + time.Minute) }
	if err := env.handlePlanEmail(t, rec, 1); err != nil || len(env.smtp.Messages()) != 2 {
		t.Errorf("stale event: %v, %d messages, want still 2", err, len(env.smtp.Messages()))
	}
}

// TestPlanEmailRestart: a crash after the request and before the send
// loses nothing and sends once; a crash between the server's acceptance
// and the record sends the email again with the same Message-ID (the
// at-least-once window every email of the worker has) and records it once;
// a crash after the record sends nothing more.
func TestPlanEmailRestart(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	id := env.activePlan(t, "John Doe", "john@example.com")
	rec := oneRecord(t, env.act(t, id, func(p *domain.Plan) ([]domain.Event, error) { return p.DeferInstallment(1, later) }),
		domain.EventInstallmentDeferred)
	e, err := domain.UnmarshalEvent(rec.Type, rec.Data)
	if err != nil {
		t.Fatal(err)
	}
	// The worker requested the email, then died.
	actOn(t, env.store, id, func(p *domain.Plan) ([]domain.Event, error) {
		return p.RequestPlanEmails(e, rec.Version, domain.EmailSettings{}, fixedNow), nil
	})
	// The restarted worker gets the event again, sends once.
	if err := env.handlePlanEmail(t, rec, 2); err != nil {
		t.Fatalf("HandlePlanEmail after restart: %v", err)
	}
	_, recs := env.planRecords(t, rec)
	if n := len(env.smtp.Messages()); n != 1 || len(recordsOfType(recs, domain.EventPlanEmailRequested)) != 1 {
		t.Fatalf("%d messages, %d requests; want 1 each", n, len(recordsOfType(recs, domain.EventPlanEmailRequested)))
	}
	env.redeliverPlanEmailSendsNothing(t, rec, 1, len(recs))

	// The server accepts, and the worker dies before recording it (here:
	// the send reports a lost connection after the server's 250).
	rec = oneRecord(t, env.act(t, id, func(p *domain.Plan) ([]domain.Event, error) { return p.DeferInstallment(2, later) }),
		domain.EventInstallmentDeferred)
	real := env.worker.Sender
	env.worker.Sender = lostAfterSend{real}
	if err := env.handlePlanEmail(t, rec, 1); err == nil || IsPermanent(err) {
		t.Fatalf("HandlePlanEmail with the record lost = %v, want a retry", err)
	}
	env.worker.Sender = real
	if err := env.handlePlanEmail(t, rec, 2); err != nil {
		t.Fatalf("HandlePlanEmail after restart: %v", err)
	}
	msgs := env.smtp.Messages()[1:]
	if len(msgs) != 2 || parseMail(t, msgs[0].Data).Header.Get("Message-Id") != parseMail(t, msgs[1].Data).Header.Get("Message-Id") {
		t.Fatalf("%d copies, want 2 with one Message-ID", len(msgs))
	}
	plan, recs := env.planRecords(t, rec)
	if got := plan.PlanEmailsAbout(rec.Version); len(got) != 1 || got[0].Status != domain.EmailSent {
		t.Errorf("plan emails = %+v", got)
	}
	env.redeliverPlanEmailSendsNothing(t, rec, 3, len(recs))
}

// lostAfterSend sends and then reports a transient failure, as a worker
// that lost its connection after the server's 250 sees it.
type lostAfterSend struct{ Sender }

func (s lostAfterSend) Send(ctx context.Context, e Email) error {
	if err := s.Sender.Send(ctx, e); err != nil {
		return err
	}
	return errors.New("connection reset after the server accepted the message")
}

// TestPlanEmailFailures: a permanent refusal is recorded for its address
// alone; an unreadable event is set aside; other events are ignored.
func TestPlanEmailFailures(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	env.update(t, domain.EmailSettingsChange{NotifyEmails: &[]string{"gone@acme.example", "ops@acme.example"}})
	id := env.activePlan(t, "John Doe", "john@example.com")
	rec := oneRecord(t, env.act(t, id, reportPayment(1)), domain.EventInstallmentPaid)
	env.smtp.failNext("rcpt", 550, 1)
	if err := env.handlePlanEmail(t, rec, 1); err != nil {
		t.Fatalf("HandlePlanEmail: %v", err)
	}
	plan, recs := env.planRecords(t, rec)
	got := plan.PlanEmailsAbout(rec.Version)
	if len(got) != 2 || got[0].Status != domain.EmailFailed || !strings.Contains(got[0].Reason, "550") || got[1].Status != domain.EmailSent {
		t.Fatalf("plan emails = %+v", got)
	}
	if want := fmt.Sprintf("plan-email-failed:plan-%d:%d:0", id, rec.Version); commandID(t, oneRecord(t, recs, domain.EventPlanEmailFailed)) != want {
		t.Errorf("failed command id, want %q", want)
	}
	if strings.Contains(env.logs.String(), "gone@acme.example") {
		t.Errorf("logs reveal the address:\n%s", env.logs.String())
	}
	env.redeliverPlanEmailSendsNothing(t, rec, 1, len(recs))

	bad := rec
	bad.Data = []byte(`{"payment_id":`)
	if err := env.handlePlanEmail(t, bad, 1); !IsPermanent(err) {
		t.Errorf("unreadable event: %v, want a permanent error", err)
	}
	other := rec
	other.Type = domain.EventPlanEmailSent
	if err := env.handlePlanEmail(t, other, 1); err != nil {
		t.Errorf("an event that owes nothing: %v", err)
	}
	missing := rec
	missing.StreamID = eventstore.PlanStream(999999999)
	if err := env.handlePlanEmail(t, missing, 1); !IsPermanent(err) {
		t.Errorf("missing plan: %v, want a permanent error", err)
	}
}

// TestPlanEmailHostileNames: names that try to inject headers or markup
// stay in their place in every header and body.
func TestPlanEmailHostileNames(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Evil\r\nBcc: victim@example.com <b>Corp</b>")
	env.update(t, domain.EmailSettingsChange{NotifyEmails: &[]string{"ops@acme.example"}, SenderName: ptr(`"Sales" <sales@evil.example>, x`)})
	name := `"Bobby" <script>alert(1)</script> O'Brien`
	id := env.activePlan(t, name, "bobby@example.com")
	paid := oneRecord(t, env.act(t, id, reportPayment(1)), domain.EventInstallmentPaid)
	rejected := oneRecord(t, env.act(t, id, func(p *domain.Plan) ([]domain.Event, error) {
		return p.RejectPayment(1, "</bdi><img src=x onerror=alert(1)>\nBcc: a@example.com", later)
	}), domain.EventPaymentRejected)
	// The rejection first: the report is no news after it, so reverse
	// the order the merchant's notification needs.
	if err := env.handlePlanEmail(t, rejected, 1); err != nil {
		t.Fatal(err)
	}
	if err := env.handlePlanEmail(t, paid, 1); err != nil {
		t.Fatal(err)
	}
	msgs := env.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the customer's alone", len(msgs))
	}
	m := parseMail(t, msgs[0].Data)
	if len(msgs[0].To) != 1 || m.Header.Get("Bcc") != "" || m.To.Name != name ||
		m.From.Name != `"Sales" <sales@evil.example>, x` || m.From.Address != "no-reply@goodplan.example" {
		t.Errorf("headers: to %v, Bcc %q, To %+v, From %+v", msgs[0].To, m.Header.Get("Bcc"), m.To, m.From)
	}
	lower := strings.ToLower(m.HTML)
	if strings.Contains(lower, "<script") || strings.Contains(lower, "<img") || strings.Contains(m.HTML, "<b>Corp") {
		t.Errorf("HTML has unescaped markup:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, "\n  > Bcc: a@example.com\n") {
		t.Errorf("the reason's lines are not quoted:\n%s", m.Text)
	}
}
