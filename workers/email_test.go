package workers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/projections"
)

const testPublicURL = "https://pay.goodplan.example:8443/"

// emailEnv is a store on a fresh database, an SMTP server and a worker
// sending to it.
type emailEnv struct {
	store  *eventstore.Store
	smtp   *testSMTP
	worker *EmailWorker
	acct   eventstore.Account
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

var fixedNow = time.Date(2025, 11, 27, 10, 0, 0, 0, time.UTC)

func newEmailEnv(t *testing.T, merchant string) *emailEnv {
	t.Helper()
	store := eventstore.New(pgtest.NewPool(t))
	acct, err := store.CreateAccount(t.Context(), eventstore.NewAccount{Name: merchant})
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	ts := newTestSMTP(t)
	logs := &syncBuffer{}
	env := &emailEnv{store: store, smtp: ts, acct: acct, logs: logs}
	env.worker = &EmailWorker{
		Store:       store,
		Sender:      newTestSender(t, ts.URL()),
		PublicURL:   testPublicURL,
		From:        "Good Plan <no-reply@goodplan.example>",
		MaxAttempts: 4,
		RetryDelays: []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond},
		Now:         func() time.Time { return fixedNow },
		Log:         slog.New(slog.NewTextHandler(logs, nil)),
	}
	return env
}

// createPlan appends a plan.created for a new plan and returns its record.
func (env *emailEnv) createPlan(t *testing.T, name, email string, send bool) eventstore.Record {
	t.Helper()
	return createTestPlan(t, env.store, domain.CreatePlan{AccountID: env.acct.ID, Now: fixedNow,
		CustomerName: name, CustomerEmail: email, SendIntroductionEmail: send})
}

// handle runs the worker as the consumer would on delivery attempt n.
func (env *emailEnv) handle(t *testing.T, rec eventstore.Record, attempt int) error {
	t.Helper()
	return env.worker.Handle(WithDeliveryAttempt(t.Context(), attempt), rec)
}

// planRecords returns the plan's records and its state.
func (env *emailEnv) planRecords(t *testing.T, rec eventstore.Record) (*domain.Plan, []eventstore.Record) {
	t.Helper()
	id := planIDOf(t, rec)
	p, recs, _, err := env.store.LoadPlan(t.Context(), id)
	if err != nil {
		t.Fatalf("load plan: %v", err)
	}
	return p, recs
}

func recordsOfType(recs []eventstore.Record, typ string) []eventstore.Record {
	var out []eventstore.Record
	for _, r := range recs {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

func TestEmailWorkerSendsOnce(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	rec := env.createPlan(t, "John Doe", "john@example.com", true)
	plan, _ := env.planRecords(t, rec)

	if err := env.handle(t, rec, 1); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	msgs := env.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("sent %d messages, want 1", len(msgs))
	}
	if len(msgs[0].To) != 1 || msgs[0].To[0] != "john@example.com" || msgs[0].From != "no-reply@goodplan.example" {
		t.Errorf("envelope from %q to %v", msgs[0].From, msgs[0].To)
	}
	m := parseMail(t, msgs[0].Data)
	wantID := fmt.Sprintf("<plan-%d.introduction@pay.goodplan.example>", plan.ID())
	if got := m.Header.Get("Message-Id"); got != wantID {
		t.Errorf("Message-ID = %q, want %q", got, wantID)
	}
	if m.To.Name != "John Doe" || m.To.Address != "john@example.com" {
		t.Errorf("To = %v", m.To)
	}
	if m.Subject != "Your payment plan options from Acme Corp" {
		t.Errorf("Subject = %q", m.Subject)
	}
	portal := projections.PortalURL(testPublicURL, plan.PortalToken())
	if !strings.Contains(m.Text, "\n"+portal+"\n") {
		t.Errorf("text lacks the portal link %s:\n%s", portal, m.Text)
	}
	if !strings.Contains(m.HTML, `href="`+portal+`"`) {
		t.Errorf("HTML lacks a link to %s:\n%s", portal, m.HTML)
	}
	for _, want := range []string{"1,200.00 USD", "INV-2024-001", "3 monthly payments of 400.00 USD, from 2025-12-04 to 2026-02-04"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q", want)
		}
	}

	plan, recs := env.planRecords(t, rec)
	sent := recordsOfType(recs, domain.EventIntroductionEmailSent)
	if len(sent) != 1 {
		t.Fatalf("%d introduction_email.sent events, want 1", len(sent))
	}
	var ev domain.IntroductionEmailSent
	if err := json.Unmarshal(sent[0].Data, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.MessageID != wantID || ev.To != "john@example.com" || !ev.SentAt.Equal(fixedNow) {
		t.Errorf("sent event = %+v", ev)
	}
	var meta eventstore.Metadata
	if err := json.Unmarshal(sent[0].Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	if want := (eventstore.Metadata{AccountID: env.acct.ID, Actor: "email-worker",
		CommandID: fmt.Sprintf("introduction-email-sent:plan-%d", plan.ID())}); meta != want {
		t.Errorf("metadata = %+v, want %+v", meta, want)
	}
	if st := plan.IntroductionEmail(); st.Status != domain.EmailSent || st.MessageID != wantID {
		t.Errorf("introduction email state = %+v", st)
	}

	// Redelivery and replay: nothing new.
	env.redeliverSendsNothing(t, rec, len(recs))

	if strings.Contains(env.logs.String(), plan.PortalToken()) {
		t.Errorf("logs reveal the portal token:\n%s", env.logs.String())
	}
	if !strings.Contains(env.logs.String(), "introduction email sent") {
		t.Errorf("no log line for the sent email:\n%s", env.logs.String())
	}
	if strings.Contains(env.logs.String(), "john@example.com") {
		t.Errorf("logs reveal the customer's address:\n%s", env.logs.String())
	}
}

func TestEmailWorkerIgnoresOtherEvents(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	rec := env.createPlan(t, "John Doe", "john@example.com", true)
	other := rec
	other.Type = domain.EventIntroductionEmailSent
	if err := env.handle(t, other, 1); err != nil {
		t.Fatalf("Handle(%s) = %v", other.Type, err)
	}
	other.Type = "plan.activated"
	if err := env.handle(t, other, 1); err != nil {
		t.Fatalf("Handle(%s) = %v", other.Type, err)
	}
	if n := len(env.smtp.Messages()); n != 0 {
		t.Errorf("sent %d messages for other events", n)
	}

	bad := rec
	bad.StreamID = "account-1"
	if err := env.handle(t, bad, 1); !IsPermanent(err) {
		t.Errorf("Handle on a non-plan stream = %v, want a permanent error", err)
	}
	missing := rec
	missing.StreamID = eventstore.PlanStream(999999999)
	if err := env.handle(t, missing, 1); !IsPermanent(err) {
		t.Errorf("Handle on a missing plan = %v, want a permanent error", err)
	}
}

func TestEmailWorkerNotRequested(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	rec := env.createPlan(t, "John Doe", "john@example.com", false)
	if err := env.handle(t, rec, 1); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if n := len(env.smtp.Messages()); n != 0 {
		t.Errorf("sent %d messages, want none", n)
	}
	plan, recs := env.planRecords(t, rec)
	if len(recs) != 1 || plan.IntroductionEmail().Status != domain.EmailNotRequested {
		t.Errorf("plan has %d events, email state %+v", len(recs), plan.IntroductionEmail())
	}
}

// TestEmailWorkerRetryDelayFollowsSMTPFailures: an event redelivered for
// other reasons (the database was down, a replica died) arrives with a high
// delivery count; its first SMTP failure still waits the first delay, its
// second the second, and a sent email starts over.
func TestEmailWorkerRetryDelayFollowsSMTPFailures(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	env.worker.MaxAttempts = 10
	rec := env.createPlan(t, "John Doe", "john@example.com", true)
	env.smtp.failNext("data", 451, 2)
	for i, want := range env.worker.RetryDelays[:2] {
		err := env.handle(t, rec, 5+i) // deliveries 5 and 6: four spent elsewhere
		var re retryError
		if !errors.As(err, &re) {
			t.Fatalf("Handle on 451 (delivery %d) = %v, want RetryAfter", 5+i, err)
		}
		if re.delay != want {
			t.Errorf("SMTP failure %d on delivery %d: delay %v, want %v", i+1, 5+i, re.delay, want)
		}
	}
	if err := env.handle(t, rec, 7); err != nil {
		t.Fatalf("Handle on delivery 7: %v", err)
	}
	if n := len(env.smtp.Messages()); n != 1 {
		t.Errorf("accepted %d messages, want 1", n)
	}
	if n := len(env.worker.failures.m); n != 0 {
		t.Errorf("%d failure counts kept after the email was sent, want 0", n)
	}
}

func TestEmailWorkerTransientThenSent(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	rec := env.createPlan(t, "John Doe", "john@example.com", true)
	env.smtp.failNext("data", 451, 1)

	err := env.handle(t, rec, 1)
	var re retryError
	if err == nil || IsPermanent(err) || !errors.As(err, &re) {
		t.Fatalf("Handle on 451 = %v, want RetryAfter", err)
	}
	if re.delay != env.worker.RetryDelays[0] {
		t.Errorf("retry delay %v, want %v", re.delay, env.worker.RetryDelays[0])
	}
	if _, recs := env.planRecords(t, rec); len(recs) != 1 {
		t.Fatalf("a transient failure recorded %d events", len(recs)-1)
	}

	if err := env.handle(t, rec, 2); err != nil {
		t.Fatalf("Handle on redelivery: %v", err)
	}
	if n := len(env.smtp.Messages()); n != 1 {
		t.Errorf("accepted %d messages, want 1", n)
	}
	_, recs := env.planRecords(t, rec)
	if n := len(recordsOfType(recs, domain.EventIntroductionEmailSent)); n != 1 {
		t.Errorf("%d sent events, want 1", n)
	}
	if n := len(recordsOfType(recs, domain.EventIntroductionEmailFailed)); n != 0 {
		t.Errorf("%d failed events, want 0", n)
	}
}

func TestEmailWorkerPermanentFailure(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	rec := env.createPlan(t, "John Doe", "nobody@example.com", true)
	env.smtp.failNext("rcpt", 550, 1)

	if err := env.handle(t, rec, 1); err != nil {
		t.Fatalf("Handle on 550 = %v, want nil (recorded, acked)", err)
	}
	plan, recs := env.planRecords(t, rec)
	failed := recordsOfType(recs, domain.EventIntroductionEmailFailed)
	if len(failed) != 1 {
		t.Fatalf("%d failed events, want 1", len(failed))
	}
	var ev domain.IntroductionEmailFailed
	if err := json.Unmarshal(failed[0].Data, &ev); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ev.Reason, "550") || ev.Attempts != 1 || !ev.FailedAt.Equal(fixedNow) {
		t.Errorf("failed event = %+v", ev)
	}
	var meta eventstore.Metadata
	_ = json.Unmarshal(failed[0].Metadata, &meta)
	if want := fmt.Sprintf("introduction-email-failed:plan-%d", plan.ID()); meta.CommandID != want || meta.Actor != "email-worker" {
		t.Errorf("metadata = %+v", meta)
	}
	if st := plan.IntroductionEmail(); st.Status != domain.EmailFailed {
		t.Errorf("state = %+v", st)
	}

	if err := env.handle(t, rec, 2); err != nil {
		t.Fatalf("later Handle: %v", err)
	}
	if n := len(env.smtp.Messages()); n != 0 {
		t.Errorf("sent %d messages after a permanent failure", n)
	}
	if _, again := env.planRecords(t, rec); len(again) != len(recs) {
		t.Errorf("later Handle appended events")
	}
	if !strings.Contains(env.logs.String(), "introduction email failed") {
		t.Errorf("no log line for the failure:\n%s", env.logs.String())
	}
	// The server's refusal quoted the address; logs name the plan instead.
	if strings.Contains(env.logs.String(), "nobody@example.com") || !strings.Contains(env.logs.String(), "[address]") {
		t.Errorf("logs reveal the customer's address or lost the refusal:\n%s", env.logs.String())
	}
}

func TestEmailWorkerGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	rec := env.createPlan(t, "John Doe", "john@example.com", true)
	env.smtp.failNext("rcpt", 451, 10)

	var delays []time.Duration
	for attempt := 1; attempt < env.worker.MaxAttempts; attempt++ {
		err := env.handle(t, rec, attempt)
		var re retryError
		if !errors.As(err, &re) {
			t.Fatalf("attempt %d: Handle = %v, want RetryAfter", attempt, err)
		}
		delays = append(delays, re.delay)
	}
	if want := []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}; fmt.Sprint(delays) != fmt.Sprint(want) {
		t.Errorf("delays %v, want %v (growing, then the last repeated)", delays, want)
	}
	if err := env.handle(t, rec, env.worker.MaxAttempts); err != nil {
		t.Fatalf("last attempt: Handle = %v, want nil", err)
	}
	_, recs := env.planRecords(t, rec)
	failed := recordsOfType(recs, domain.EventIntroductionEmailFailed)
	if len(failed) != 1 {
		t.Fatalf("%d failed events, want 1", len(failed))
	}
	var ev domain.IntroductionEmailFailed
	_ = json.Unmarshal(failed[0].Data, &ev)
	if ev.Attempts != env.worker.MaxAttempts || !strings.Contains(ev.Reason, "gave up after 4 attempts") || !strings.Contains(ev.Reason, "451") {
		t.Errorf("failed event = %+v", ev)
	}
	if n := len(env.smtp.Messages()); n != 0 {
		t.Errorf("accepted %d messages", n)
	}
}

func TestEmailWorkerDefaultRetryDelays(t *testing.T) {
	t.Parallel()
	w := &EmailWorker{}
	var got []time.Duration
	for attempt := 1; attempt <= 8; attempt++ {
		got = append(got, w.retryDelay(attempt))
	}
	want := []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute,
		30 * time.Minute, time.Hour, time.Hour, time.Hour}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("default delays %v, want %v", got, want)
	}
}

func TestEmailWorkerHostileNames(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Evil\r\nBcc: victim@example.com <b>Corp</b>")
	for i, name := range []string{
		`"Bobby" O'Brien`,
		`Émilie "Emmy" Dupont 😀`,
		"محمد",
		`<script>alert(1)</script>`,
	} {
		rec := env.createPlan(t, name, fmt.Sprintf("customer%d@example.com", i), true)
		if err := env.handle(t, rec, 1); err != nil {
			t.Fatalf("Handle for %q: %v", name, err)
		}
		msgs := env.smtp.Messages()
		if len(msgs) != i+1 {
			t.Fatalf("%d messages, want %d", len(msgs), i+1)
		}
		m := parseMail(t, msgs[i].Data)
		if m.To.Name != name {
			t.Errorf("To name round trip: got %q, want %q", m.To.Name, name)
		}
		if m.Header.Get("Bcc") != "" || len(msgs[i].To) != 1 {
			t.Errorf("merchant name injected a header: Bcc=%q rcpts=%v", m.Header.Get("Bcc"), msgs[i].To)
		}
		if want := "Your payment plan options from Evil Bcc: victim@example.com <b>Corp</b>"; m.Subject != want {
			t.Errorf("Subject = %q, want %q", m.Subject, want)
		}
		if !strings.Contains(m.Text, "Hello "+name+",") {
			t.Errorf("text does not greet %q:\n%s", name, m.Text)
		}
		if strings.Contains(strings.ToLower(m.HTML), "<script") || strings.Contains(m.HTML, "<b>Corp") {
			t.Errorf("HTML has unescaped markup:\n%s", m.HTML)
		}
	}
	m := parseMail(t, env.smtp.Messages()[3].Data)
	if !strings.Contains(m.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("HTML lacks the escaped name:\n%s", m.HTML)
	}
}

func TestEmailWorkerConcurrentReplicas(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	rec := env.createPlan(t, "John Doe", "john@example.com", true)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		// A replica that finds the email claimed gets a retry error, as the
		// consumer would, and handles the redelivery a moment later.
		wg.Go(func() {
			for try := 0; try < 50; try++ {
				if errs[i] = env.worker.Handle(context.Background(), rec); errs[i] == nil || IsPermanent(errs[i]) {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("Handle: %v", err)
		}
	}
	if n := len(env.smtp.Messages()); n != 1 {
		t.Errorf("%d emails sent by 4 racing replicas, want exactly 1", n)
	}
	_, recs := env.planRecords(t, rec)
	if n := len(recordsOfType(recs, domain.EventIntroductionEmailSent)); n != 1 {
		t.Errorf("%d sent events, want exactly 1", n)
	}
	ids := map[string]bool{}
	for _, m := range env.smtp.Messages() {
		ids[parseMail(t, m.Data).Header.Get("Message-Id")] = true
	}
	if len(ids) != 1 {
		t.Errorf("copies carry %d different Message-IDs", len(ids))
	}
}

func TestEmailWorkerOutbox(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	dir := t.TempDir()
	outbox, err := NewSender("", dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	env.worker.Sender = outbox
	rec := env.createPlan(t, "John Doe", "john@example.com", true)
	if err := env.handle(t, rec, 1); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	plan, _ := env.planRecords(t, rec)
	if plan.IntroductionEmail().Status != domain.EmailSent {
		t.Errorf("state = %+v", plan.IntroductionEmail())
	}
	name := filepath.Join(dir, "outbox", fmt.Sprintf("plan-%d.introduction@pay.goodplan.example.eml", plan.ID()))
	if _, err := os.Stat(name); err != nil {
		t.Errorf("outbox file: %v", err)
	}
}

func TestIntroductionMessageID(t *testing.T) {
	t.Parallel()
	for url, want := range map[string]string{
		"https://Pay.Example.com:8443/base/": "<plan-7.introduction@pay.example.com>",
		"http://localhost:8080":              "<plan-7.introduction@localhost>",
		"":                                   "<plan-7.introduction@localhost>",
		"http://[::1]:8080":                  "<plan-7.introduction@[::1]>",
		"https://bücher.example/":            "<plan-7.introduction@localhost>",
	} {
		if got := IntroductionMessageID(7, url); got != want {
			t.Errorf("IntroductionMessageID(7, %q) = %q, want %q", url, got, want)
		}
	}
}

// activePlan creates a plan (no introduction email) whose customer chose 3
// monthly installments of 400.00, due 2025-12-04, 2026-01-04 and
// 2026-02-04, and returns its id.
func (env *emailEnv) activePlan(t *testing.T, name, email string) int64 {
	t.Helper()
	id := planIDOf(t, env.createPlan(t, name, email, false))
	activate(t, env.store, id, fixedNow.Add(time.Hour))
	return id
}

// requestNotice ticks the scheduler at when and returns the one
// notification.requested it appended to plan id.
func (env *emailEnv) requestNotice(t *testing.T, id int64, when string) (eventstore.Record, domain.NoticeKey) {
	t.Helper()
	if n := tickAt(t, env.store, at(t, when), id); n != 1 {
		t.Fatalf("tick at %s appended %d events, want 1", when, n)
	}
	_, recs, _, err := env.store.LoadPlan(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	rec := recs[len(recs)-1]
	var e domain.NotificationRequested
	if rec.Type != domain.EventNotificationRequested || json.Unmarshal(rec.Data, &e) != nil {
		t.Fatalf("last event is %s %s, want a notification.requested", rec.Type, rec.Data)
	}
	return rec, e.NoticeKey
}

func TestEmailWorkerSendsNotice(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	id := env.activePlan(t, "John Doe", "john@example.com")
	rec, key := env.requestNotice(t, id, "2025-12-01")
	if key != (domain.NoticeKey{Kind: domain.NoticeDueReminder, Installment: 1, DueDate: domain.DateOf(at(t, "2025-12-04"))}) {
		t.Fatalf("requested %+v", key)
	}
	if err := env.handle(t, rec, 1); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	msgs := env.smtp.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "john@example.com" {
		t.Fatalf("sent %d messages (%+v), want 1 to john@example.com", len(msgs), msgs)
	}
	m := parseMail(t, msgs[0].Data)
	wantID := fmt.Sprintf("<plan-%d.due_reminder.1.2025-12-04@pay.goodplan.example>", id)
	if got := m.Header.Get("Message-Id"); got != wantID {
		t.Errorf("Message-ID = %q, want %q", got, wantID)
	}
	if want := "Your payment of 400.00 USD is due on 2025-12-04"; m.Subject != want {
		t.Errorf("Subject = %q, want %q", m.Subject, want)
	}
	plan, recs := env.planRecords(t, rec)
	portal := projections.PortalURL(testPublicURL, plan.PortalToken())
	if !strings.Contains(m.Text, "\n"+portal+"\n") || !strings.Contains(m.HTML, `href="`+portal+`"`) {
		t.Errorf("the email lacks the portal link %s:\n%s\n%s", portal, m.Text, m.HTML)
	}
	if !strings.Contains(m.Text, "installment 1 of 3 of your payment plan with Acme Corp for invoice INV-2024-001") {
		t.Errorf("text lacks the installment and merchant:\n%s", m.Text)
	}

	sent := recordsOfType(recs, domain.EventNotificationSent)
	if len(sent) != 1 {
		t.Fatalf("%d notification.sent events, want 1", len(sent))
	}
	var ev domain.NotificationSent
	if err := json.Unmarshal(sent[0].Data, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.NoticeKey != key || ev.MessageID != wantID || ev.To != "john@example.com" || !ev.SentAt.Equal(fixedNow) {
		t.Errorf("sent event = %+v", ev)
	}
	var meta eventstore.Metadata
	if err := json.Unmarshal(sent[0].Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	if want := (eventstore.Metadata{AccountID: env.acct.ID, Actor: "email-worker",
		CommandID: fmt.Sprintf("notification-sent:plan-%d:due_reminder:1:2025-12-04", id)}); meta != want {
		t.Errorf("metadata = %+v, want %+v", meta, want)
	}
	if st, _ := plan.NoticeStatus(key); st != domain.EmailSent {
		t.Errorf("notice status %q, want sent", st)
	}

	// Redelivery: nothing new.
	env.redeliverSendsNothing(t, rec, len(recs))

	// The check-in on the due date is another email with its own id, for
	// what is left after a partial payment the merchant recorded.
	actOn(t, env.store, id, func(p *domain.Plan) ([]domain.Event, error) {
		return p.RecordPayment(domain.PaymentInput{PaymentID: 1, Amount: "100.00", Method: "check", Now: at(t, "2025-12-02")})
	})
	rec, _ = env.requestNotice(t, id, "2025-12-04")
	if err := env.handle(t, rec, 1); err != nil {
		t.Fatalf("Handle check-in: %v", err)
	}
	msgs = env.smtp.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	m = parseMail(t, msgs[1].Data)
	if want := "Your payment of 300.00 USD was due today — did you pay?"; m.Subject != want {
		t.Errorf("check-in subject = %q, want %q", m.Subject, want)
	}
	if got, want := m.Header.Get("Message-Id"), fmt.Sprintf("<plan-%d.checkin.1.2025-12-04@pay.goodplan.example>", id); got != want {
		t.Errorf("check-in Message-ID = %q, want %q", got, want)
	}
	if strings.Contains(env.logs.String(), plan.PortalToken()) {
		t.Errorf("logs reveal the portal token:\n%s", env.logs.String())
	}
	if !strings.Contains(env.logs.String(), "checkin notice sent") {
		t.Errorf("no log line for the sent notice:\n%s", env.logs.String())
	}
}

// TestEmailWorkerSkipsMootNotices: a notice whose installment was reported
// or moved, or whose plan was cancelled, after it was requested is not
// sent, and nothing is recorded.
func TestEmailWorkerSkipsMootNotices(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	for _, tc := range []struct {
		name, when string
		act        func(p *domain.Plan) ([]domain.Event, error)
	}{
		{"reported by the customer", "2025-12-04", func(p *domain.Plan) ([]domain.Event, error) {
			return p.ReportPayment(domain.PaymentInput{PaymentID: 1, Amount: "400.00", Method: "e_transfer", Now: at(t, "2025-12-04T08:00:00Z")})
		}},
		{"paid in full", "2025-12-01", func(p *domain.Plan) ([]domain.Event, error) {
			return p.RecordPayment(domain.PaymentInput{PaymentID: 1, Amount: "400.00", Method: "cash", Now: at(t, "2025-12-01T08:00:00Z")})
		}},
		{"due date moved", "2025-12-01", func(p *domain.Plan) ([]domain.Event, error) {
			return p.ExtendInstallment(1, "2025-12-20", false, at(t, "2025-12-01T08:00:00Z"))
		}},
		{"plan cancelled", "2025-12-04", func(p *domain.Plan) ([]domain.Event, error) {
			return p.Cancel("Agreed by phone", at(t, "2025-12-04T08:00:00Z"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := env.activePlan(t, "John Doe", "john@example.com")
			rec, key := env.requestNotice(t, id, tc.when)
			actOn(t, env.store, id, tc.act)
			_, before := env.planRecords(t, rec)
			if err := env.handle(t, rec, 1); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if n := len(env.smtp.Messages()); n != 0 {
				t.Errorf("sent %d emails for a moot notice", n)
			}
			plan, after := env.planRecords(t, rec)
			if len(after) != len(before) {
				t.Errorf("a moot notice recorded %d events", len(after)-len(before))
			}
			if st, _ := plan.NoticeStatus(key); st != domain.EmailPending {
				t.Errorf("notice status %q, want it left pending", st)
			}
		})
	}
}

func TestEmailWorkerNoticePermanentFailure(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	id := env.activePlan(t, "John Doe", "nobody@example.com")
	rec, key := env.requestNotice(t, id, "2025-12-04")
	env.smtp.failNext("rcpt", 550, 1)
	if err := env.handle(t, rec, 1); err != nil {
		t.Fatalf("Handle on 550 = %v, want nil (recorded, acked)", err)
	}
	plan, recs := env.planRecords(t, rec)
	failed := recordsOfType(recs, domain.EventNotificationFailed)
	if len(failed) != 1 {
		t.Fatalf("%d notification.failed events, want 1", len(failed))
	}
	var ev domain.NotificationFailed
	if err := json.Unmarshal(failed[0].Data, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.NoticeKey != key || !strings.Contains(ev.Reason, "550") || ev.Attempts != 1 {
		t.Errorf("failed event = %+v", ev)
	}
	var meta eventstore.Metadata
	_ = json.Unmarshal(failed[0].Metadata, &meta)
	if want := fmt.Sprintf("notification-failed:plan-%d:checkin:1:2025-12-04", id); meta.CommandID != want {
		t.Errorf("command id %q, want %q", meta.CommandID, want)
	}
	if st, _ := plan.NoticeStatus(key); st != domain.EmailFailed {
		t.Errorf("notice status %q, want failed", st)
	}
	if err := env.handle(t, rec, 2); err != nil || len(env.smtp.Messages()) != 0 {
		t.Errorf("redelivery after a recorded failure: %v, %d messages", err, len(env.smtp.Messages()))
	}
}

func TestEmailWorkerBadNoticeEvent(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	id := env.activePlan(t, "John Doe", "john@example.com")
	rec, _ := env.requestNotice(t, id, "2025-12-01")
	bad := rec
	bad.Data = []byte(`{"kind":`)
	if err := env.handle(t, bad, 1); !IsPermanent(err) {
		t.Errorf("Handle on unreadable data = %v, want a permanent error", err)
	}
	missing := rec
	missing.StreamID = eventstore.PlanStream(999999999)
	if err := env.handle(t, missing, 1); !IsPermanent(err) {
		t.Errorf("Handle on a missing plan = %v, want a permanent error", err)
	}
	// A notice the plan never requested (another key) is not owed.
	other := rec
	other.Data = []byte(`{"kind":"checkin","installment":3,"due_date":"2026-02-04","amount":"400.00","requested_at":"2025-12-01T00:00:00Z"}`)
	if err := env.handle(t, other, 1); err != nil || len(env.smtp.Messages()) != 0 {
		t.Errorf("Handle on an unrequested notice = %v, %d messages; want nil and none", err, len(env.smtp.Messages()))
	}
}

func TestNoticeMessageID(t *testing.T) {
	t.Parallel()
	k := domain.NoticeKey{Kind: domain.NoticeCheckinReminder, Installment: 12, DueDate: domain.DateOf(time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC))}
	for url, want := range map[string]string{
		"https://Pay.Example.com:8443/base/": "<plan-7.checkin_reminder.12.2026-02-28@pay.example.com>",
		"http://[::1]:8080":                  "<plan-7.checkin_reminder.12.2026-02-28@[::1]>",
		"https://bücher.example/":            "<plan-7.checkin_reminder.12.2026-02-28@localhost>",
	} {
		if got := NoticeMessageID(7, k, url); got != want {
			t.Errorf("NoticeMessageID(7, %+v, %q) = %q, want %q", k, url, got, want)
		}
	}
}

// redeliverSendsNothing handles rec twice more, as JetStream redelivers:
// still one email, and no event appended to the plan's events.
func (env *emailEnv) redeliverSendsNothing(t *testing.T, rec eventstore.Record, events int) {
	t.Helper()
	env.redeliverWith(t, env.handle, rec, 1, events)
}

// redeliverWith handles rec twice more with handle: still want messages,
// and no event appended to the plan's events.
func (env *emailEnv) redeliverWith(t *testing.T, handle func(*testing.T, eventstore.Record, int) error, rec eventstore.Record,
	want, events int) {
	t.Helper()
	for attempt := 1; attempt <= 2; attempt++ {
		if err := handle(t, rec, attempt); err != nil {
			t.Fatalf("Handle again: %v", err)
		}
	}
	if n := len(env.smtp.Messages()); n != want {
		t.Errorf("after redelivery %d messages, want %d", n, want)
	}
	if _, again := env.planRecords(t, rec); len(again) != events {
		t.Errorf("redelivery appended events: %d, was %d", len(again), events)
	}
}
