package workers

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"goodplan/eventstore"
)

// requestUserEmail appends a user email request and returns its record.
func (env *emailEnv) requestUserEmail(t *testing.T, u eventstore.User, kind string, at time.Time) eventstore.Record {
	t.Helper()
	stream, err := env.store.RequestUserEmail(t.Context(), u, kind, at,
		eventstore.Metadata{AccountID: u.AccountID, Actor: "merchant"})
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := env.store.Load(t.Context(), stream)
	if err != nil || len(recs) != 1 {
		t.Fatalf("load %s: %d records, %v", stream, len(recs), err)
	}
	return recs[0]
}

var userLinkToken = regexp.MustCompile(`https://pay\.goodplan\.example:8443/dashboard/(reset|invite)/([A-Za-z0-9_-]{43})\n`)

// TestEmailWorkerSendsUserLinks: an invitation and a reset are sent once
// each, to the user, with a one-time link that works (and is not stored as
// such); the outcome is recorded once.
func TestEmailWorkerSendsUserLinks(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme <Corp>")
	ctx := t.Context()
	bea, err := env.store.InviteUser(ctx, eventstore.NewUser{AccountID: env.acct.ID, Email: "bea@example.com", Name: "Bea"})
	if err != nil {
		t.Fatal(err)
	}
	for i, kind := range []string{eventstore.TokenInvite, eventstore.TokenReset} {
		rec := env.requestUserEmail(t, bea, kind, fixedNow.Add(-time.Minute))
		for attempt := 1; attempt <= 2; attempt++ { // a redelivery sends nothing more
			if err := env.handle(t, rec, attempt); err != nil {
				t.Fatalf("%s, attempt %d: %v", kind, attempt, err)
			}
		}
		msgs := env.smtp.Messages()
		if len(msgs) != i+1 {
			t.Fatalf("%s: %d messages, want %d", kind, len(msgs), i+1)
		}
		m := parseMail(t, msgs[i].Data)
		link := userLinkToken.FindStringSubmatch(m.Text)
		if m.To.Address != "bea@example.com" || link == nil || link[1] != kind || !strings.Contains(m.HTML, link[2]) ||
			!strings.Contains(m.Text, "Acme <Corp>") || !strings.Contains(m.HTML, "Acme &lt;Corp&gt;") {
			t.Fatalf("%s email: to %s, link %q\n%s", kind, m.To.Address, link, m.Text)
		}
		if want := "<" + rec.StreamID + "@pay.goodplan.example>"; m.Header.Get("Message-Id") != want {
			t.Fatalf("Message-ID %q, want %q", m.Header.Get("Message-Id"), want)
		}
		typ, out, done, err := env.store.UserEmailOutcomeOf(ctx, rec.StreamID)
		if err != nil || !done || typ != eventstore.EventUserEmailSent || out.MessageID == "" {
			t.Fatalf("%s outcome: %s %+v %v %v", kind, typ, out, done, err)
		}
		if n := count(t, env, `SELECT count(*) FROM events WHERE stream_id = $1`, rec.StreamID); n != 2 {
			t.Fatalf("%s stream has %d events, want the request and one outcome", kind, n)
		}
		if strings.Contains(string(mustJSON(t, env, rec.StreamID)), link[2]) {
			t.Fatalf("the %s token is in the events", kind)
		}
		u, err := env.store.SetPasswordWithToken(ctx, kind, link[2], "a new password", fixedNow)
		if err != nil || u.ID != bea.ID {
			t.Fatalf("use the %s link: %+v, %v", kind, u, err)
		}
	}
}

// TestEmailWorkerUserLinkFailures: a stale request, a user gone and a
// refused recipient are recorded as failures, without a link that works.
func TestEmailWorkerUserLinkFailures(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme")
	ctx := t.Context()
	ann, err := env.store.CreateUser(ctx, eventstore.NewUser{AccountID: env.acct.ID, Email: "ann@example.com", Password: "password"})
	if err != nil {
		t.Fatal(err)
	}
	stale := env.requestUserEmail(t, ann, eventstore.TokenReset, fixedNow.Add(-2*time.Hour))
	gone := env.requestUserEmail(t, eventstore.User{ID: 999999, AccountID: env.acct.ID}, eventstore.TokenReset, fixedNow)
	refused := env.requestUserEmail(t, ann, eventstore.TokenReset, fixedNow)
	env.smtp.failNext("rcpt", 550, 1)
	for _, tc := range []struct {
		name   string
		rec    eventstore.Record
		reason string
	}{{"stale", stale, "older"}, {"gone", gone, "no longer exists"}, {"refused", refused, "550"}} {
		if err := env.handle(t, tc.rec, 1); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		typ, out, done, err := env.store.UserEmailOutcomeOf(ctx, tc.rec.StreamID)
		if err != nil || !done || typ != eventstore.EventUserEmailFailed || !strings.Contains(out.Reason, tc.reason) {
			t.Fatalf("%s outcome: %s %+v %v %v", tc.name, typ, out, done, err)
		}
	}
	if n := len(env.smtp.Messages()); n != 0 {
		t.Fatalf("%d messages sent", n)
	}
	// A transient failure is retried.
	retried := env.requestUserEmail(t, ann, eventstore.TokenReset, fixedNow)
	env.smtp.failNext("rcpt", 451, 1)
	var re retryError
	if err := env.handle(t, retried, 1); !errors.As(err, &re) {
		t.Fatalf("transient failure: %v, want a retry", err)
	}
	if err := env.handle(t, retried, 2); err != nil || len(env.smtp.Messages()) != 1 {
		t.Fatalf("retry: %v, %d messages", err, len(env.smtp.Messages()))
	}
}

func count(t *testing.T, env *emailEnv, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := env.store.Pool().QueryRow(t.Context(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// mustJSON returns every event of stream, data and metadata, as text.
func mustJSON(t *testing.T, env *emailEnv, stream string) []byte {
	t.Helper()
	recs, _, err := env.store.Load(t.Context(), stream)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	for _, r := range recs {
		b = append(append(b, r.Data...), r.Metadata...)
	}
	return b
}
