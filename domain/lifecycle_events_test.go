package domain_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"goodplan/domain"
)

// lifecycleEventTypes lists every event type after plan.created; each must
// have a sample in lifecycleEventSamples.
var lifecycleEventTypes = []string{
	domain.EventIntroductionEmailSent, domain.EventIntroductionEmailFailed,
	domain.EventPlanActivated, domain.EventPlanCompleted, domain.EventPlanAbandoned, domain.EventPlanCancelled,
	domain.EventPlanWrittenOff, domain.EventPlanReactivated, domain.EventPortalLinkRegenerated,
	domain.EventInstallmentPaid, domain.EventInstallmentConfirmed, domain.EventInstallmentExtensionGranted,
	domain.EventInstallmentDeferred,
	domain.EventProposalCreated, domain.EventProposalApproved, domain.EventProposalCountered, domain.EventProposalDeclined,
	domain.EventProposalCounterAccepted,
	domain.EventNotificationRequested, domain.EventNotificationSent, domain.EventNotificationFailed,
	domain.EventPlanEmailRequested, domain.EventPlanEmailSent, domain.EventPlanEmailFailed,
}

// lifecycleEventSamples has one event of each type with every field set.
func lifecycleEventSamples() []domain.Event {
	ts := time.Date(2025, 12, 5, 10, 11, 12, 345678000, time.UTC)
	consent := &domain.Consent{At: ts, IP: "2001:db8::1", UserAgent: "Mozilla/5.0 \"quoted\" <tag>"}
	sched := []domain.Installment{inst(1, "400.00", "2025-12-04"), inst(2, "0.01", "2026-01-31")}
	tm := domain.Terms{Installments: 2, Interval: domain.Biweekly, FirstPaymentDate: d("2025-12-10")}
	key := domain.NoticeKey{Kind: domain.NoticeCheckinReminder, Installment: 3, DueDate: d("2026-02-28")}
	emailKey := domain.PlanEmailKey{Kind: domain.NotifyPaymentReported, EventVersion: 12}
	return []domain.Event{
		domain.IntroductionEmailSent{MessageID: "<a@b>", To: "john@example.com", SentAt: ts},
		domain.IntroductionEmailFailed{Reason: "550", Attempts: 5, FailedAt: ts},
		domain.PlanActivated{OptionID: 101, ProposalID: 5, Interval: domain.Monthly, Schedule: sched, Consent: consent, ActivatedAt: ts},
		domain.PlanCompleted{CompletedAt: ts},
		domain.PlanAbandoned{PendingSince: seedNow, AbandonedAt: ts},
		domain.PlanCancelled{Reason: "Line 1\nLine 2", Outstanding: usdm("950.5"), CancelledAt: ts},
		domain.PlanWrittenOff{Reason: "é", Outstanding: money("12.345", kwd), WrittenOffAt: ts},
		domain.PlanReactivated{Status: domain.StatusActive, ReactivatedAt: ts},
		domain.PortalLinkRegenerated{PortalToken: "tok_123", RegeneratedAt: ts},
		domain.InstallmentPaid{PaymentID: 7, Installment: 2, Amount: money("33334", jpy), PaidOn: d("2025-12-04"),
			Method: domain.MethodBankTransfer, Reference: "ref #1", Source: domain.SourceCustomer, ReportedAt: ts},
		domain.InstallmentConfirmed{PaymentID: 7, Amount: usdm("450"), Allocations: []domain.Allocation{al(1, "400"), al(2, "50")},
			ConfirmedAt: ts},
		domain.InstallmentExtensionGranted{Installment: 1, ShiftFollowing: true, Changes: []domain.DueDateChange{
			{Installment: 1, From: d("2025-12-04"), To: d("2025-12-18")}, {Installment: 2, From: d("2026-01-04"), To: d("2026-01-18")}},
			GrantedAt: ts},
		domain.InstallmentDeferred{Installment: 1, From: d("2025-12-31"), To: d("2026-02-28"), DeferredAt: ts},
		domain.ProposalCreated{ProposalID: 5, Terms: tm, Amount: usdm("400.01"), Schedule: sched, Consent: consent, CreatedAt: ts},
		domain.ProposalApproved{ProposalID: 5, Interval: domain.Biweekly, Schedule: sched, ApprovedAt: ts},
		domain.ProposalCountered{ProposalID: 5, Terms: tm, Amount: usdm("400.01"), Schedule: sched, Message: "ok?", CounteredAt: ts},
		domain.ProposalDeclined{ProposalID: 5, Reason: "no", DeclinedAt: ts},
		domain.ProposalCounterAccepted{ProposalID: 5, Interval: domain.Weekly, Schedule: sched, Consent: consent, AcceptedAt: ts},
		domain.NotificationRequested{NoticeKey: key, Amount: money("0.001", kwd), RequestedAt: ts},
		domain.NotificationSent{NoticeKey: key, MessageID: "<c@d>", To: "john@example.com", SentAt: ts},
		domain.NotificationFailed{NoticeKey: key, Reason: "timeout", Attempts: 3, FailedAt: ts},
		domain.PlanEmailRequested{PlanEmailKey: emailKey, To: []string{"ops@example.com", "boss@example.com"}, RequestedAt: ts},
		domain.PlanEmailSent{PlanEmailKey: emailKey, To: "ops@example.com", MessageID: "<e@f>", SentAt: ts},
		domain.PlanEmailFailed{PlanEmailKey: emailKey, To: "boss@example.com", Reason: "550", Attempts: 1, FailedAt: ts},
	}
}

func TestLifecycleEventsRoundTrip(t *testing.T) {
	t.Parallel()
	samples := lifecycleEventSamples()
	var types []string
	for _, e := range samples {
		typ, data, err := domain.MarshalEvent(e)
		if err != nil {
			t.Fatalf("MarshalEvent(%T): %v", e, err)
		}
		types = append(types, typ)
		got, err := domain.UnmarshalEvent(typ, data)
		if err != nil {
			t.Fatalf("UnmarshalEvent(%s, %s): %v", typ, data, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("%s round trip =\n%+v\nwant\n%+v", typ, got, e)
		}
		// Stored data is stable: encoding the decoded event gives the same bytes.
		if _, again, _ := domain.MarshalEvent(got); string(again) != string(data) {
			t.Errorf("%s re-encoded =\n%s\nwant\n%s", typ, again, data)
		}
	}
	if !slices.Equal(types, lifecycleEventTypes) {
		t.Errorf("sample types = %v, want %v", types, lifecycleEventTypes)
	}
}

func TestLifecycleEventsJSON(t *testing.T) {
	t.Parallel()
	ts := time.Date(2025, 12, 5, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		e    domain.Event
		want string
	}{
		{domain.InstallmentConfirmed{PaymentID: 7, Amount: usdm("450"), Allocations: []domain.Allocation{al(1, "400"), al(2, "50")}, ConfirmedAt: ts},
			`{"payment_id":7,"amount":"450.00","allocations":[{"installment":1,"amount":"400.00"},{"installment":2,"amount":"50.00"}],"confirmed_at":"2025-12-05T10:00:00Z"}`},
		{domain.InstallmentPaid{PaymentID: 7, Installment: 1, Amount: money("100", jpy), PaidOn: d("2025-12-04"), Method: domain.MethodCash,
			Source: domain.SourceMerchant, ReportedAt: ts},
			`{"payment_id":7,"installment":1,"amount":"100","paid_on":"2025-12-04","method":"cash","source":"merchant","reported_at":"2025-12-05T10:00:00Z"}`},
		{domain.PlanActivated{OptionID: 101, Interval: domain.Monthly, Schedule: []domain.Installment{inst(1, "400", "2025-12-04")}, ActivatedAt: ts},
			`{"option_id":101,"interval":"monthly","schedule":[{"number":1,"amount":"400.00","due_date":"2025-12-04"}],"activated_at":"2025-12-05T10:00:00Z"}`},
		{domain.NotificationRequested{NoticeKey: noticeKey(domain.NoticeDueReminder, 2, "2026-01-04"), Amount: money("4.115", kwd), RequestedAt: ts},
			`{"kind":"due_reminder","installment":2,"due_date":"2026-01-04","amount":"4.115","requested_at":"2025-12-05T10:00:00Z"}`},
		{domain.PlanReactivated{Status: domain.StatusPending, ReactivatedAt: ts},
			`{"status":"pending","reactivated_at":"2025-12-05T10:00:00Z"}`},
	}
	for _, tt := range tests {
		if _, data, err := domain.MarshalEvent(tt.e); err != nil || string(data) != tt.want {
			t.Errorf("%s data =\n%s (%v)\nwant\n%s", tt.e.EventType(), data, err, tt.want)
		}
	}
}

// TestLifecycleFoldRoundTrip runs a plan through its whole life with the
// commands and checks, after every decision, that folding the decoded
// events gives the same plan as folding the originals.
func TestLifecycleFoldRoundTrip(t *testing.T) {
	t.Parallel()
	day := func(n int) time.Time { return on("2025-11-27").Add(time.Duration(n) * 24 * time.Hour) }
	pay := func(id int64, amount string, n int) domain.PaymentInput {
		return domain.PaymentInput{PaymentID: id, Amount: amount, Method: "check", Reference: "#" + amount, Now: day(n)}
	}
	key := noticeKey(domain.NoticeDueReminder, 1, "2025-12-04")
	steps := []decision{
		func(p *domain.Plan) ([]domain.Event, error) {
			return p.RecordIntroductionEmailSent("<intro@x>", "john@example.com", day(0))
		},
		propose(5, "4", "monthly", "2025-12-15", day(1)),
		counter(5, "2", "weekly", "2025-12-10", "Two weeks.", day(2)),
		decline(5, "Withdrawn.", day(3)),
		func(p *domain.Plan) ([]domain.Event, error) {
			return p.SelectOption(domain.SelectOption{OptionID: 102, Consent: portalConsent(day(3))})
		},
		tick(at("2025-12-01"), 3),
		func(p *domain.Plan) ([]domain.Event, error) {
			return p.RecordNotificationSent(key, "<n@x>", "john@example.com", day(4))
		},
		func(p *domain.Plan) ([]domain.Event, error) { return p.ReportPayment(pay(1, "150", 5)) },
		func(p *domain.Plan) ([]domain.Event, error) { return p.ConfirmPayment(1, "120", day(6)) },
		func(p *domain.Plan) ([]domain.Event, error) { return p.RecordPayment(pay(2, "330", 7)) },
		func(p *domain.Plan) ([]domain.Event, error) {
			return p.ExtendInstallment(3, "2026-02-20", true, day(8))
		},
		func(p *domain.Plan) ([]domain.Event, error) { return p.DeferInstallment(4, day(9)) },
		tick(on("2026-02-21"), 3),
		propose(6, "3", "biweekly", "2026-03-01", on("2026-02-22")),
		approve(6, on("2026-02-23")),
		func(p *domain.Plan) ([]domain.Event, error) { return p.Cancel("Paused.", on("2026-02-24")) },
		func(p *domain.Plan) ([]domain.Event, error) { return p.Reactivate(on("2026-02-25")) },
		func(p *domain.Plan) ([]domain.Event, error) { return p.RegeneratePortalLink("tok-2", on("2026-02-25")) },
		propose(7, "2", "monthly", "2026-03-01", on("2026-02-26")),
		counter(7, "1", "weekly", "2026-03-05", "", on("2026-02-27")),
		acceptCounter(7, on("2026-02-28")),
		func(p *domain.Plan) ([]domain.Event, error) { return p.ReportPayment(pay(3, "750", 95)) },
		func(p *domain.Plan) ([]domain.Event, error) { return p.ConfirmPayment(3, "", day(96)) },
	}
	events := []domain.Event{base()}
	p := fold(events)
	for i, step := range steps {
		evs, err := step(p)
		if err != nil || len(evs) == 0 {
			t.Fatalf("step %d: %v, %d events", i, err, len(evs))
		}
		for _, e := range evs {
			p.Apply(e)
		}
		events = append(events, evs...)
		if replayed := foldDecoded(t, events); !reflect.DeepEqual(replayed, p) {
			t.Fatalf("step %d: folding the decoded events gives\n%+v\nwant\n%+v", i, replayed, p)
		}
	}
	wantStatus(t, p, domain.StatusCompleted)
	wantLedger(t, p, "1200.00", "0.00", "0.00")
	if p.PortalToken() != "tok-2" || p.IntroductionEmail().Status != domain.EmailSent || len(p.Proposals()) != 3 {
		t.Errorf("token %q, intro %s, %d proposals", p.PortalToken(), p.IntroductionEmail().Status, len(p.Proposals()))
	}
}
