package workers

import (
	"strings"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore/pgtest"
)

// An email that went out but whose record fails (PostgreSQL refusing
// appends for a while, as around a restart in the chaos soak) is recorded
// once appends work again, by the same Handle, and not sent again: the
// SMTP server gets it once, each failed record is logged at WARN with its
// attempt, and a later redelivery sends nothing.
func TestEmailWorkerRecordsASentEmailOnceItCan(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	rec := env.createPlan(t, "John Doe", "john@example.com", true)
	pool := env.store.Pool()
	// Appends fail from here on, reads still work.
	if _, err := pool.Exec(t.Context(), `
		CREATE FUNCTION refuse_appends() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'appends refused by the test'; END $$;
		CREATE TRIGGER refuse_appends BEFORE INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION refuse_appends()`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- env.handle(t, rec, 1) }()
	pgtest.WaitFor(t, time.Minute, "two failed records logged", func() bool {
		return strings.Contains(env.logs.String(), "attempt=2")
	})
	if !strings.Contains(env.logs.String(), `level=WARN msg="record introduction email sent failed; retrying"`) {
		t.Fatalf("failed records not logged at WARN:\n%s", env.logs.String())
	}
	if _, err := pool.Exec(t.Context(), `DROP TRIGGER refuse_appends ON events`); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if n := len(env.smtp.Messages()); n != 1 {
		t.Fatalf("sent %d messages, want 1", n)
	}
	_, recs := env.planRecords(t, rec)
	if n := len(recordsOfType(recs, domain.EventIntroductionEmailSent)); n != 1 {
		t.Fatalf("%d introduction_email.sent events, want 1", n)
	}
	if err := env.handle(t, rec, 2); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if n := len(env.smtp.Messages()); n != 1 {
		t.Fatalf("sent %d messages after the redelivery, want 1", n)
	}
}
