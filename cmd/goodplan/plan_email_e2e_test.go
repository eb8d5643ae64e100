package main

import (
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore/pgtest"
)

// TestPlanEmailsEndToEnd runs serve with an SMTP server: the merchant's
// settings come from `goodplan accounts update`; the customer's report of a
// payment notifies both notification addresses, the merchant's
// confirmation through the API emails the customer, each once, through the
// relay, NATS and the plan-email consumer; a customer email switched off
// is never sent.
func TestPlanEmailsEndToEnd(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	acct := createAccount(t, db, "--name", "Acme Corp", "--rate-limit", "0")
	mustRunCLI(t, db, "accounts", "update", "--account", strconv.FormatInt(acct, 10), "--notify-email", "ops@acme.example",
		"--notify-email", "boss@acme.example", "--sender-name", "Acme Billing", "--customer-email", "installment_deferred=off")
	key := createKey(t, db, acct)
	sink := startMailSink(t)
	clock := &shiftClock{}
	base := startInProcess(t, db, clock, map[string]string{"SMTP_URL": "smtp://" + sink.addr + "?tls=none"})

	store := storeOf(t, db)
	id := activePlanViaAPI(t, store, base, key, acct, clock, `{"durations":[3]}`)
	// The customer reports a payment (as the portal would).
	actAs(t, store, "customer", acct, id, func(p *domain.Plan) ([]domain.Event, error) {
		return p.ReportPayment(domain.PaymentInput{PaymentID: 1, Amount: "300.00", Method: "e_transfer", Now: clock.now()})
	})
	// The report is version 3, its notification goes to both addresses.
	for n, to := range []string{"ops@acme.example", "boss@acme.example"} {
		waitMail(t, sink, fmt.Sprintf("<plan-%d.payment_reported.3.%d@portal.test>", id, n+1), to, "Kim reported a payment of 300.00 USD")
	}

	// The merchant confirms through the API, and defers an installment
	// (switched off: no email).
	plan := base + "/api/v1/plans/" + strconv.FormatInt(id, 10)
	if status, b := call(t, "POST", plan+"/installments/3/defer", key, `{}`); status != http.StatusOK {
		t.Fatalf("defer: %d %s", status, b)
	}
	if status, b := call(t, "POST", plan+"/payments/1/confirm", key, `{}`); status != http.StatusOK {
		t.Fatalf("confirm: %d %s", status, b)
	}
	// Its Message-ID names the version of the installment.confirmed
	// (the plan_email.* events of the report came in between).
	_, recs, _, err := store.LoadPlan(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var confirmed int64
	for _, r := range recs {
		if r.Type == domain.EventInstallmentConfirmed {
			confirmed = r.Version
		}
	}
	waitMail(t, sink, fmt.Sprintf("<plan-%d.payment_confirmed.%d.1@portal.test>", id, confirmed), "kim@example.com",
		"Your payment of 300.00 USD was confirmed")

	// Every outcome recorded once; nothing else sent.
	pgtest.WaitForNil(t, 30*time.Second, "3 plan_email.sent", func() error {
		_, recs, _, err := store.LoadPlan(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int{}
		for _, r := range recs {
			counts[r.Type]++
		}
		if counts[domain.EventPlanEmailSent] != 3 || counts[domain.EventPlanEmailRequested] != 2 {
			return fmt.Errorf("events %v", counts)
		}
		return nil
	})
	sink.mu.Lock()
	n := len(sink.accepted)
	sink.mu.Unlock()
	if n != 3 {
		t.Errorf("the SMTP server accepted %d emails, want 3", n)
	}
	// The read model folds the plan_email.* events as replay does, and
	// verify accepts them.
	if res := mustRunCLI(t, db, "replay", "--wait", "10s"); !strings.Contains(res.stdout, " 0 differences") {
		t.Errorf("replay: %s", res.stdout)
	}
	mustRunCLI(t, db, "verify")
}

// waitMail waits for the one email with Message-ID id and checks its
// recipient and subject.
func waitMail(t *testing.T, sink *mailSink, id, to, subject string) {
	t.Helper()
	var got []sunkMail
	pgtest.WaitFor(t, time.Minute, "the email "+id, func() bool {
		got = sunkWithID(sink, id)
		return len(got) > 0
	})
	addr, err := mail.ParseAddress(got[0].To)
	if len(got) != 1 || err != nil || addr.Address != to || decodeHeader(t, got[0].Subject) != subject {
		t.Errorf("%d emails %s: %+v, want one to %s with subject %q", len(got), id, got, to, subject)
	}
}
