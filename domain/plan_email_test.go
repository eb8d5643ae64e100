package domain_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"goodplan/domain"
)

// merchantAddrs are the notification addresses of the settings in these
// tests.
var merchantAddrs = []string{"ops@acme.example", "boss@acme.example"}

func TestRequestPlanEmails(t *testing.T) {
	t.Parallel()
	now := on("2025-12-05")
	all := domain.EmailSettings{NotifyEmails: merchantAddrs}
	customer := []string{"john@example.com"}
	rep := reported(7, 1, "400.00", on("2025-12-05"))
	countered := domain.ProposalCountered{ProposalID: 5, CounteredAt: on("2025-12-05")}
	proposed := domain.ProposalCreated{ProposalID: 5, CreatedAt: on("2025-12-04")}
	abandoned := domain.PlanAbandoned{PendingSince: seedNow, AbandonedAt: on("2025-12-05")}
	checkin := domain.NotificationRequested{NoticeKey: domain.NoticeKey{Kind: domain.NoticeCheckinReminder, Installment: 1,
		DueDate: d("2025-12-04")}, RequestedAt: on("2025-12-05")}
	deferred := domain.InstallmentDeferred{Installment: 1, From: d("2025-12-04"), To: d("2026-03-04"), DeferredAt: on("2025-12-05")}
	regenerated := domain.PortalLinkRegenerated{PortalToken: "tok-2", RegeneratedAt: on("2025-12-05")}
	tests := []struct {
		name  string
		given []domain.Event
		e     domain.Event
		s     domain.EmailSettings
		kind  domain.PlanEmailKind
		to    []string // nil: nothing requested
	}{
		{"payment confirmed", seq(activePlan(), rep, confirmedEv(7, "400.00", now, al(1, "400.00"))),
			confirmedEv(7, "400.00", now, al(1, "400.00")), all, domain.EmailPaymentConfirmed, customer},
		{"switched off: not requested", seq(activePlan(), rep, confirmedEv(7, "400.00", now, al(1, "400.00"))),
			confirmedEv(7, "400.00", now, al(1, "400.00")),
			domain.EmailSettings{CustomerEmailsOff: []domain.PlanEmailKind{domain.EmailPaymentConfirmed}}, "", nil},
		{"payment rejected", seq(activePlan(), rep, domain.PaymentRejected{PaymentID: 7, RejectedAt: now}),
			domain.PaymentRejected{PaymentID: 7, RejectedAt: now}, all, domain.EmailPaymentRejected, customer},
		{"reported: every notification address", seq(activePlan(), rep), rep, all, domain.NotifyPaymentReported, merchantAddrs},
		{"reported, no address: nothing", seq(activePlan(), rep), rep, domain.EmailSettings{}, "", nil},
		{"reported and answered since: no news", seq(activePlan(), rep, confirmedEv(7, "400.00", now, al(1, "400.00"))),
			rep, all, "", nil},
		{"recorded by the merchant: no notification", seq(activePlan(), recorded(8, 1, "400.00", now, al(1, "400.00"))),
			recorded(8, 1, "400.00", now)[0], all, "", nil},
		{"proposal received", seq(pendingPlan(), proposed), proposed, all, domain.NotifyProposalReceived, merchantAddrs},
		{"counter-offer open", seq(pendingPlan(), proposed, countered), countered, all, domain.EmailProposalCountered, customer},
		{"counter-offer withdrawn since", seq(pendingPlan(), proposed, countered,
			domain.ProposalDeclined{ProposalID: 5, DeclinedAt: now}), countered, all, "", nil},
		{"deferred", seq(activePlan(), deferred), deferred, all, domain.EmailInstallmentDeferred, customer},
		{"deferred, then moved again", seq(activePlan(), deferred, domain.InstallmentDeferred{Installment: 1,
			From: d("2026-03-04"), To: d("2026-04-04"), DeferredAt: now}), deferred, all, "", nil},
		{"newest portal link", seq(activePlan(), regenerated), regenerated, all, domain.EmailPortalLink, customer},
		{"older portal link", seq(activePlan(), regenerated, domain.PortalLinkRegenerated{PortalToken: "tok-3", RegeneratedAt: now}),
			regenerated, all, "", nil},
		{"check-in unanswered", seq(activePlan(), checkin), checkin, all, domain.NotifyCheckinUnanswered, merchantAddrs},
		{"a due reminder owes the merchant nothing", seq(activePlan()),
			domain.NotificationRequested{NoticeKey: domain.NoticeKey{Kind: domain.NoticeDueReminder, Installment: 1, DueDate: d("2025-12-04")},
				RequestedAt: now}, all, "", nil},
		{"abandoned", seq(abandonedPlan()), abandoned, all, domain.NotifyPlanAbandoned, merchantAddrs},
		{"stale: older than a day", seq(activePlan(), rep), reported(7, 1, "400.00", now.Add(-domain.PlanEmailMaxDelay-time.Second)),
			all, "", nil},
		{"not an email event", activePlan(), domain.PlanCompleted{CompletedAt: now}, all, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := fold(tt.given)
			version := p.Version()
			got := p.RequestPlanEmails(tt.e, version, tt.s, now)
			if tt.to == nil {
				if len(got) != 0 {
					t.Fatalf("requested %s, want nothing", show(got))
				}
				return
			}
			want := []domain.Event{domain.PlanEmailRequested{PlanEmailKey: domain.PlanEmailKey{Kind: tt.kind, EventVersion: version},
				To: tt.to, RequestedAt: now}}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("requested\n%s\nwant\n%s", show(got), show(want))
			}
			p.Apply(roundTrip(t, got[0]))
			if again := p.RequestPlanEmails(tt.e, version, tt.s, now); len(again) != 0 {
				t.Errorf("requested twice: %s", show(again))
			}
			k := want[0].(domain.PlanEmailRequested).PlanEmailKey
			for _, to := range tt.to {
				if !p.PlanEmailOwed(k, to, tt.e) {
					t.Errorf("email to %s not owed after its request", to)
				}
			}
			if p.PlanEmailOwed(k, "stranger@example.com", tt.e) {
				t.Errorf("an address not requested is owed")
			}
		})
	}
}

func TestPlanEmailOutcomes(t *testing.T) {
	t.Parallel()
	now := on("2025-12-05")
	rep := reported(7, 1, "400.00", now)
	p := fold(seq(activePlan(), rep))
	evs := p.RequestPlanEmails(rep, p.Version(), domain.EmailSettings{NotifyEmails: merchantAddrs}, now)
	k := domain.PlanEmailKey{Kind: domain.NotifyPaymentReported, EventVersion: p.Version()}
	p.Apply(evs[0])

	sent, err := p.RecordPlanEmailSent(k, merchantAddrs[0], "<m@x>", now)
	if err != nil || len(sent) != 1 {
		t.Fatalf("RecordPlanEmailSent = %s, %v", show(sent), err)
	}
	p.Apply(roundTrip(t, sent[0]))
	failed, err := p.RecordPlanEmailFailed(k, merchantAddrs[1], "550 no\x00 such user", 1, now)
	if err != nil || len(failed) != 1 || failed[0].(domain.PlanEmailFailed).Reason != "550 no such user" {
		t.Fatalf("RecordPlanEmailFailed = %s, %v", show(failed), err)
	}
	p.Apply(roundTrip(t, failed[0]))
	for _, to := range merchantAddrs {
		if p.PlanEmailOwed(k, to, rep) {
			t.Errorf("email to %s still owed after its outcome", to)
		}
		if again, err := p.RecordPlanEmailSent(k, to, "<m@x>", now); err != nil || len(again) != 0 {
			t.Errorf("second outcome for %s: %s, %v", to, show(again), err)
		}
	}
	got := p.PlanEmailsAbout(k.EventVersion)
	if len(got) != 2 || got[0].Status != domain.EmailSent || got[0].MessageID != "<m@x>" || got[1].Status != domain.EmailFailed ||
		got[1].Reason != "550 no such user" || got[0].At == nil {
		t.Errorf("emails = %+v", got)
	}
	if _, err := p.RecordPlanEmailSent(domain.PlanEmailKey{Kind: k.Kind, EventVersion: 99}, merchantAddrs[0], "<m@x>", now); !errors.Is(err, domain.ErrPlanEmailNotRequested) {
		t.Errorf("outcome of an email never requested: %v", err)
	}
	var none domain.Plan
	if _, err := none.RecordPlanEmailFailed(k, merchantAddrs[0], "x", 1, now); !errors.Is(err, domain.ErrPlanNotFound) {
		t.Errorf("outcome on a missing plan: %v", err)
	}
}

func TestPlanEmailKinds(t *testing.T) {
	t.Parallel()
	for _, k := range domain.CustomerEmailKinds {
		if k.ToMerchant() {
			t.Errorf("%s goes to the merchant", k)
		}
	}
	for _, k := range domain.MerchantNotificationKinds {
		if !k.ToMerchant() || slices.Contains(domain.CustomerEmailKinds, k) {
			t.Errorf("%s is not a merchant notification alone", k)
		}
	}
	for _, typ := range []string{domain.EventPlanEmailRequested, domain.EventPlanEmailSent, domain.EventPlanEmailFailed} {
		if domain.IsWebhookEventType(typ) || domain.IsSubscribableEventType(typ) || domain.MayOwePlanEmail(typ) {
			t.Errorf("%s is a webhook type or owes an email", typ)
		}
	}
	if n := len(domain.WebhookEventTypes); n != 16 {
		t.Errorf("%d webhook event types, want Good Plan's 16", n)
	}
}

func TestEmailSettingsChange(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	list := func(s ...string) *[]string { return &s }
	s, err := domain.EmailSettings{}.Change(domain.EmailSettingsChange{
		SenderName:     str("  Acme Billing "),
		NotifyEmails:   list(" ops@acme.example", "boss@acme.example"),
		CustomerEmails: map[string]bool{"portal_link": false, "payment_confirmed": false, "payment_rejected": true},
	})
	want := domain.EmailSettings{SenderName: "Acme Billing", NotifyEmails: merchantAddrs,
		CustomerEmailsOff: []domain.PlanEmailKind{domain.EmailPaymentConfirmed, domain.EmailPortalLink}}
	if err != nil || !reflect.DeepEqual(s, want) {
		t.Fatalf("Change = %+v, %v; want %+v", s, err, want)
	}
	if s.CustomerEmailOn(domain.EmailPortalLink) || !s.CustomerEmailOn(domain.EmailPaymentRejected) {
		t.Errorf("switches: %+v", s)
	}
	// Nil fields keep what is set; switching on again removes the kind.
	s2, err := s.Change(domain.EmailSettingsChange{CustomerEmails: map[string]bool{"portal_link": true}})
	if err != nil || s2.SenderName != "Acme Billing" || !reflect.DeepEqual(s2.NotifyEmails, merchantAddrs) ||
		!reflect.DeepEqual(s2.CustomerEmailsOff, []domain.PlanEmailKind{domain.EmailPaymentConfirmed}) {
		t.Errorf("second Change = %+v, %v", s2, err)
	}
	if s3, err := s.Change(domain.EmailSettingsChange{NotifyEmails: list(), SenderName: str("")}); err != nil ||
		len(s3.NotifyEmails) != 0 || s3.SenderName != "" {
		t.Errorf("clearing = %+v, %v", s3, err)
	}

	_, err = s.Change(domain.EmailSettingsChange{
		SenderName:     str("Evil\r\nBcc: x@example.com"),
		NotifyEmails:   list("ops@acme.example", "OPS@acme.example", "not an address", "a@b\x00.example"),
		CustomerEmails: map[string]bool{"introduction": false},
	})
	checkErr(t, err, invalid(
		"sender_name", "The sender_name may not contain control characters or line breaks.",
		"notify_emails.1", "The notify_emails.1 is listed twice.",
		"notify_emails.2", "The notify_emails.2 must be a valid email address.",
		"notify_emails.3", "The notify_emails.3 may not contain control characters or line breaks.",
		"customer_emails.introduction", `The customer email "introduction" is not one of payment_confirmed, payment_rejected, extension_granted, installment_deferred, proposal_countered, proposal_approved, proposal_declined, portal_link.`,
	))
	_, err = s.Change(domain.EmailSettingsChange{SenderName: str("=?utf-8?b?QQ==?="),
		NotifyEmails: list("a@x.example", "b@x.example", "c@x.example", "d@x.example", "e@x.example", "f@x.example")})
	checkErr(t, err, invalid(
		"sender_name", `The sender_name may not contain "=?" (it would read as an encoded email header).`,
		"notify_emails", "An account may have at most 5 notification addresses.",
	))
}
