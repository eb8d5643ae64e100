package workers

import (
	"encoding/json"
	"fmt"
	"testing"

	"goodplan/domain"
	"goodplan/eventstore"
)

// TestEmailWorkerResendsIntroduction: the merchant's request to send the
// introduction email again sends it once more, with a Message-ID of its
// own, recorded under its own command id; a redelivery of the request, or
// of plan.created, sends nothing more.
func TestEmailWorkerResendsIntroduction(t *testing.T) {
	t.Parallel()
	env := newEmailEnv(t, "Acme Corp")
	created := env.createPlan(t, "John Doe", "john@example.com", true)
	if err := env.handle(t, created, 1); err != nil {
		t.Fatalf("Handle plan.created: %v", err)
	}
	id := planIDOf(t, created)
	out, err := eventstore.PlanAggregate.Run(t.Context(), env.store, eventstore.Cmd[*domain.Plan]{ID: id,
		Meta:   eventstore.Metadata{AccountID: env.acct.ID, Actor: domain.SourceMerchant},
		Decide: func(p *domain.Plan) ([]domain.Event, error) { return p.ResendIntroduction(fixedNow) }})
	if err != nil {
		t.Fatalf("resend: %v", err)
	}
	resend := out.Records[0]
	for attempt := 1; attempt <= 2; attempt++ {
		for _, rec := range []eventstore.Record{resend, created} {
			if err := env.handle(t, rec, attempt); err != nil {
				t.Fatalf("Handle %s: %v", rec.Type, err)
			}
		}
	}
	msgs := env.smtp.Messages()
	if len(msgs) != 2 {
		t.Fatalf("sent %d messages, want the first and the resent one", len(msgs))
	}
	wantID := fmt.Sprintf("<plan-%d.introduction.resend-1@pay.goodplan.example>", id)
	if got := parseMail(t, msgs[1].Data).Header.Get("Message-Id"); got != wantID {
		t.Errorf("the resent email's Message-ID is %q, want %q", got, wantID)
	}
	plan, recs := env.planRecords(t, created)
	sent := recordsOfType(recs, domain.EventIntroductionEmailSent)
	if len(sent) != 2 {
		t.Fatalf("%d introduction_email.sent events, want 2", len(sent))
	}
	var meta eventstore.Metadata
	if err := json.Unmarshal(sent[1].Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("introduction-email-sent:plan-%d#resend-1", id); meta.CommandID != want {
		t.Errorf("command id %q, want %q", meta.CommandID, want)
	}
	if e := plan.IntroductionEmail(); e.Status != domain.EmailSent || e.Resends != 1 || e.MessageID != wantID {
		t.Errorf("introduction email %+v", e)
	}
}
