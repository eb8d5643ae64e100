package main

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

func TestSchedulerIntervalConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value   string
		want    time.Duration
		wantErr bool
	}{
		{"", time.Minute, false},
		{"30s", 30 * time.Second, false},
		{"200ms", 200 * time.Millisecond, false},
		{"0", 0, true},
		{"-1m", 0, true},
		{"soon", 0, true},
	} {
		cfg, err := loadConfig(envOf(map[string]string{"SCHEDULER_INTERVAL": tc.value}))
		switch {
		case tc.wantErr && (err == nil || !strings.Contains(err.Error(), "SCHEDULER_INTERVAL")):
			t.Errorf("SCHEDULER_INTERVAL=%q: error %v, want one naming the variable", tc.value, err)
		case !tc.wantErr && (err != nil || cfg.SchedulerInterval != tc.want):
			t.Errorf("SCHEDULER_INTERVAL=%q: %v, %v; want %v", tc.value, cfg.SchedulerInterval, err, tc.want)
		}
	}
}

func TestAccountsCreateReminderDays(t *testing.T) {
	t.Parallel()
	for _, days := range []string{"31", "-1", "x"} {
		res := runCLI(t, unreachableDB, "accounts", "create", "--name", "X", "--reminder-days", days)
		if res.code != 2 || res.stdout != "" || !strings.Contains(res.stderr, "reminder-days") {
			t.Errorf("--reminder-days %s: exit %d, want 2 with a usage error naming the flag\nstdout:\n%s\nstderr:\n%s",
				days, res.code, res.stdout, res.stderr)
		}
	}

	db := pgtest.NewDatabase(t)
	for flag, want := range map[string]int{"": domain.DefaultReminderDays, "0": 0, "7": 7, "30": 30} {
		args := []string{"--name", "Days " + flag}
		if flag != "" {
			args = append(args, "--reminder-days", flag)
		}
		id := createAccount(t, db, args...)
		conn, err := pgx.Connect(t.Context(), db)
		if err != nil {
			t.Fatal(err)
		}
		var got int
		err = conn.QueryRow(t.Context(), `SELECT reminder_days FROM accounts WHERE id = $1`, id).Scan(&got)
		conn.Close(context.Background())
		if err != nil || got != want {
			t.Errorf("accounts create %v: reminder_days %d (%v), want %d", args, got, err, want)
		}
	}
}

// TestScheduledNoticeEmails runs serve with an injected clock: the
// scheduler in serve requests a due reminder (on the account's 7-day lead)
// and, on the due date, a check-in, and the email worker sends both through
// NATS to the SMTP server, each once.
func TestScheduledNoticeEmails(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	acct := createAccount(t, db, "--name", "Acme Corp", "--rate-limit", "0", "--reminder-days", "7")
	key := createKey(t, db, acct)
	sink := startMailSink(t)
	clock := &shiftClock{}
	base := startInProcess(t, db, clock, map[string]string{"SMTP_URL": "smtp://" + sink.addr + "?tls=none"})

	// First payment in 5 days: inside the 7-day lead, outside the default 3.
	due := clock.now().UTC().AddDate(0, 0, 5).Format(time.DateOnly)
	store := storeOf(t, db)
	created := activePlanViaAPI(t, store, base, key, acct, clock, `{"durations":[3],"first_payment_date":"`+due+`"}`)

	waitNotice := func(kind, subject string) {
		t.Helper()
		wantID := fmt.Sprintf("<plan-%d.%s.1.%s@portal.test>", created, kind, due)
		var got []sunkMail
		pgtest.WaitFor(t, time.Minute, "the "+kind+" email with Message-ID "+wantID, func() bool {
			got = sunkWithID(sink, wantID)
			return len(got) > 0
		})
		if s := decodeHeader(t, got[0].Subject); s != subject {
			t.Errorf("%s subject = %q, want %q", kind, s, subject)
		}
	}
	waitNotice("due_reminder", "Your payment of 300.00 USD is due on "+due)
	clock.advance(5 * 24 * time.Hour)
	waitNotice("checkin", "Your payment of 300.00 USD was due today — did you pay?")

	// Both outcomes are recorded once, and nothing was sent twice.
	counts := map[string]int{}
	pgtest.WaitForNil(t, 30*time.Second, "2 notification.sent", func() error {
		_, recs, _, err := store.LoadPlan(t.Context(), created)
		if err != nil {
			t.Fatal(err)
		}
		clear(counts)
		for _, r := range recs {
			counts[r.Type]++
		}
		if counts[domain.EventNotificationSent] != 2 {
			return fmt.Errorf("events %v", counts)
		}
		return nil
	})
	if counts[domain.EventNotificationRequested] != 2 {
		t.Errorf("events %v, want 2 notification.requested", counts)
	}
	sink.mu.Lock()
	n := len(sink.accepted)
	sink.mu.Unlock()
	if n != 2 {
		t.Errorf("the SMTP server accepted %d emails, want 2", n)
	}
}

// sunkWithID returns the accepted emails with Message-ID id.
// storeOf opens the store of database db for the test.
func storeOf(t *testing.T, db string) *eventstore.Store {
	t.Helper()
	pool, err := pgxpool.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return eventstore.New(pool)
}

// activePlanViaAPI creates a plan of 900.00 USD for Kim with options (the
// request's "options" object) and no introduction email through the API,
// and has the customer choose its first option (as the portal would); it
// returns the plan id.
func activePlanViaAPI(t *testing.T, store *eventstore.Store, base, key string, acct int64, clock *shiftClock, options string) int64 {
	t.Helper()
	status, b := call(t, "POST", base+"/api/v1/plans", key, `{"customer":{"name":"Kim","email":"kim@example.com"},
		"invoice":{"amount":"900.00"},"options":`+options+`,"send_introduction_email":false}`)
	if status != http.StatusCreated {
		t.Fatalf("create plan: %d %s", status, b)
	}
	var created struct {
		PlanID      int64 `json:"plan_id"`
		PlanOptions []struct {
			ID int64 `json:"id"`
		} `json:"plan_options"`
	}
	if err := json.Unmarshal(b, &created); err != nil {
		t.Fatal(err)
	}
	actAs(t, store, "customer", acct, created.PlanID, func(p *domain.Plan) ([]domain.Event, error) {
		return p.SelectOption(domain.SelectOption{OptionID: created.PlanOptions[0].ID, Consent: domain.Consent{At: clock.now()}})
	})
	return created.PlanID
}

// actAs runs decide on plan id as actor.
func actAs(t *testing.T, store *eventstore.Store, actor string, acct, id int64, decide func(p *domain.Plan) ([]domain.Event, error)) {
	t.Helper()
	if _, err := eventstore.PlanAggregate.Run(t.Context(), store, eventstore.Cmd[*domain.Plan]{ID: id,
		Meta: eventstore.Metadata{AccountID: acct, Actor: actor}, Decide: decide}); err != nil {
		t.Fatal(err)
	}
}

func sunkWithID(s *mailSink, id string) []sunkMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sunkMail
	for _, m := range s.accepted {
		if m.MessageID == id {
			out = append(out, m)
		}
	}
	return out
}

func decodeHeader(t *testing.T, s string) string {
	t.Helper()
	d, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		t.Fatalf("decode header %q: %v", s, err)
	}
	return d
}
