package domain_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
)

// portalConsent is the customer's consent given in the portal at when.
func portalConsent(when time.Time) domain.Consent {
	return domain.Consent{At: when, IP: "198.51.100.9", UserAgent: "Safari/17"}
}

func terms(n, interval, first string) domain.TermsInput {
	return domain.TermsInput{Installments: n, Interval: interval, FirstPaymentDate: first}
}

func propose(id int64, n, interval, first string, when time.Time) decision {
	return func(p *domain.Plan) ([]domain.Event, error) {
		return p.ProposeSchedule(id, terms(n, interval, first), portalConsent(when))
	}
}

func approve(id int64, when time.Time) decision {
	return func(p *domain.Plan) ([]domain.Event, error) { return p.ApproveProposal(id, when) }
}

func counter(id int64, n, interval, first, message string, when time.Time) decision {
	return func(p *domain.Plan) ([]domain.Event, error) {
		return p.CounterProposal(id, terms(n, interval, first), message, when)
	}
}

func decline(id int64, reason string, when time.Time) decision {
	return func(p *domain.Plan) ([]domain.Event, error) { return p.DeclineProposal(id, reason, when) }
}

func acceptCounter(id int64, when time.Time) decision {
	return func(p *domain.Plan) ([]domain.Event, error) { return p.AcceptCounter(id, portalConsent(when)) }
}

func consentPtr(c domain.Consent) *domain.Consent { return &c }

func wantProposal(t *testing.T, p *domain.Plan, id int64, s domain.ProposalStatus) domain.Proposal {
	t.Helper()
	for _, pr := range p.Proposals() {
		if pr.ID == id {
			if pr.Status != s {
				t.Errorf("proposal %d is %s, want %s", id, pr.Status, s)
			}
			return pr
		}
	}
	t.Fatalf("no proposal %d", id)
	return domain.Proposal{}
}

func TestProposeSchedule(t *testing.T) {
	t.Parallel()
	now := on("2025-12-01")
	fourMonthly := []domain.Installment{inst(1, "300.00", "2025-12-15"), inst(2, "300.00", "2026-01-15"),
		inst(3, "300.00", "2026-02-15"), inst(4, "300.00", "2026-03-15")}
	// tiny has 0.05 USD outstanding.
	tiny := seq(activePlan(), recorded(6, 1, "1199.95", now, al(1, "400"), al(2, "400"), al(3, "399.95")))
	runPlanTests(t, []planTest{
		{
			name:  "pending plan: the whole amount, previewed",
			given: pendingPlan(),
			when:  propose(5, "4", "monthly", "2025-12-15", now),
			want: []domain.Event{domain.ProposalCreated{ProposalID: 5, Terms: domain.Terms{Installments: 4, Interval: domain.Monthly,
				FirstPaymentDate: d("2025-12-15")}, Amount: usdm("1200"), Schedule: fourMonthly,
				Consent: consentPtr(portalConsent(now)), CreatedAt: now}},
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusPending)
				pr, open := p.OpenProposal()
				if !open || pr.ID != 5 || pr.Status != domain.ProposalIsPending || !reflect.DeepEqual(pr.Schedule, fourMonthly) ||
					pr.Amount != usdm("1200") || !pr.CreatedAt.Equal(now) || pr.AnsweredAt != nil {
					t.Errorf("open proposal = %+v, %v", pr, open)
				}
				if p.Installments() != nil {
					t.Errorf("a proposal gave the plan a schedule")
				}
			},
		},
		{
			name:  "active plan paid in part: what is outstanding",
			given: seq(activePlan(), recorded(6, 1, "500", now, al(1, "400"), al(2, "100"))),
			when:  propose(5, "2", "biweekly", "2025-12-01", now),
			want: []domain.Event{domain.ProposalCreated{ProposalID: 5, Terms: domain.Terms{Installments: 2, Interval: domain.Biweekly,
				FirstPaymentDate: d("2025-12-01")}, Amount: usdm("700"),
				Schedule: []domain.Installment{inst(1, "350.00", "2025-12-01"), inst(2, "350.00", "2025-12-15")},
				Consent:  consentPtr(portalConsent(now)), CreatedAt: now}},
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusActive)
				wantLedger(t, p, "500.00", "0.00", "700.00")
			},
		},
		{
			name:  "one installment, 365 days ahead",
			given: pendingPlan(),
			when:  propose(5, "1", "weekly", "2026-12-01", now),
			check: func(t *testing.T, p *domain.Plan) {
				pr := wantProposal(t, p, 5, domain.ProposalIsPending)
				if !reflect.DeepEqual(pr.Schedule, []domain.Installment{inst(1, "1200.00", "2026-12-01")}) {
					t.Errorf("schedule = %+v", pr.Schedule)
				}
			},
		},
		{
			name:  "as many installments as minor units outstanding",
			given: tiny,
			when:  propose(5, "5", "weekly", "2025-12-08", now),
			check: func(t *testing.T, p *domain.Plan) {
				pr := wantProposal(t, p, 5, domain.ProposalIsPending)
				if len(pr.Schedule) != 5 || pr.Schedule[4].Amount != usdm("0.01") {
					t.Errorf("schedule = %+v", pr.Schedule)
				}
			},
		},
		{
			name:    "more installments than minor units outstanding",
			given:   tiny,
			when:    propose(5, "6", "weekly", "2025-12-08", now),
			wantErr: invalid("installments", "The installments may not be more than the outstanding balance in minor units."),
		},
		{
			name:  "installments missing, interval unknown, first date missing",
			given: pendingPlan(),
			when:  propose(5, "", "yearly", "", now),
			wantErr: invalid("installments", "The installments field is required.", "interval", "The interval must be weekly, biweekly or monthly.",
				"first_payment_date", "The first_payment_date field is required."),
		},
		{
			name:    "installments not an integer",
			given:   pendingPlan(),
			when:    propose(5, "2.5", "weekly", "2025-12-08", now),
			wantErr: invalid("installments", "The installments must be an integer."),
		},
		{
			name:    "zero installments",
			given:   pendingPlan(),
			when:    propose(5, "0", "weekly", "2025-12-08", now),
			wantErr: invalid("installments", "The installments must be between 1 and 96."),
		},
		{
			name:    "97 installments",
			given:   pendingPlan(),
			when:    propose(5, "97", "weekly", "2025-12-08", now),
			wantErr: invalid("installments", "The installments must be between 1 and 96."),
		},
		{
			name:    "interval in the wrong case",
			given:   pendingPlan(),
			when:    propose(5, "3", "Monthly", "2025-12-08", now),
			wantErr: invalid("interval", "weekly, biweekly or monthly"),
		},
		{
			name:    "first date malformed",
			given:   pendingPlan(),
			when:    propose(5, "3", "weekly", "2025-12-32", now),
			wantErr: invalid("first_payment_date", "The first_payment_date must be a date in YYYY-MM-DD format."),
		},
		{
			name:    "first date in the past",
			given:   pendingPlan(),
			when:    propose(5, "3", "weekly", "2025-11-30", now),
			wantErr: invalid("first_payment_date", "The first_payment_date must be today or later."),
		},
		{
			name:    "first date more than 365 days ahead",
			given:   pendingPlan(),
			when:    propose(5, "3", "weekly", "2026-12-02", now),
			wantErr: invalid("first_payment_date", "The first_payment_date must be within 365 days."),
		},
		{
			name:    "a second proposal while one is pending",
			given:   then(t, pendingPlan(), propose(5, "4", "monthly", "2025-12-15", now)),
			when:    propose(6, "2", "monthly", "2025-12-15", now),
			wantErr: conflict("A proposal is already waiting for an answer."),
		},
		{
			name: "a new proposal instead of accepting a counter supersedes it",
			given: then(t, pendingPlan(), propose(5, "4", "monthly", "2025-12-15", now),
				counter(5, "6", "monthly", "2025-12-15", "", now)),
			when: propose(6, "2", "monthly", "2025-12-15", now),
			check: func(t *testing.T, p *domain.Plan) {
				wantProposal(t, p, 5, domain.ProposalIsSuperseded)
				wantProposal(t, p, 6, domain.ProposalIsPending)
			},
		},
		{
			name:    "a second proposal while one awaits the merchant",
			given:   then(t, pendingPlan(), propose(5, "4", "monthly", "2025-12-15", now)),
			when:    propose(6, "2", "monthly", "2025-12-15", now),
			wantErr: conflict("A proposal is already waiting for an answer."),
		},
		{
			name: "a new proposal after a decline",
			given: then(t, pendingPlan(), propose(5, "4", "monthly", "2025-12-15", now),
				decline(5, "", now)),
			when: propose(6, "2", "monthly", "2025-12-15", now),
			check: func(t *testing.T, p *domain.Plan) {
				wantProposal(t, p, 5, domain.ProposalIsDeclined)
				wantProposal(t, p, 6, domain.ProposalIsPending)
			},
		},
		{
			name:    "completed plan",
			given:   completedPlan(),
			when:    propose(5, "4", "monthly", "2025-12-15", now),
			wantErr: stateErr("propose a schedule", domain.StatusCompleted),
		},
		{
			name:    "abandoned plan",
			given:   abandonedPlan(),
			when:    propose(5, "4", "monthly", "2026-01-15", on("2026-01-01")),
			wantErr: stateErr("propose a schedule", domain.StatusAbandoned),
		},
	})
}

func TestApproveProposal(t *testing.T) {
	t.Parallel()
	proposedAt, now := on("2025-12-01"), on("2025-12-02")
	fourMonthly := []domain.Installment{inst(1, "300.00", "2025-12-15"), inst(2, "300.00", "2026-01-15"),
		inst(3, "300.00", "2026-02-15"), inst(4, "300.00", "2026-03-15")}
	pendingWithProposal := then(t, pendingPlan(), propose(5, "4", "monthly", "2025-12-15", proposedAt))
	// partlyPaid: 500.00 paid (installment 1 in full, 100.00 of
	// installment 2), then 2 weekly installments proposed from 2025-12-10.
	partlyPaid := then(t, seq(activePlan(), recorded(6, 1, "500", on("2025-11-30"), al(1, "400"), al(2, "100"))),
		propose(5, "2", "weekly", "2025-12-10", proposedAt))
	partlyPaidSchedule := []domain.Installment{inst(1, "400.00", "2025-12-04"), inst(2, "100.00", "2026-01-04"),
		inst(3, "350.00", "2025-12-10"), inst(4, "350.00", "2025-12-17")}
	runPlanTests(t, []planTest{
		{
			name:  "pending plan: approved and activated with the proposal's consent",
			given: pendingWithProposal,
			when:  approve(5, now),
			want: []domain.Event{
				domain.ProposalApproved{ProposalID: 5, Interval: domain.Monthly, Schedule: fourMonthly, ApprovedAt: now},
				domain.PlanActivated{ProposalID: 5, Interval: domain.Monthly, Schedule: fourMonthly,
					Consent: consentPtr(portalConsent(proposedAt)), ActivatedAt: now},
			},
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusActive)
				if p.SelectedOptionID() != 0 || p.Interval() != domain.Monthly || !p.ActivatedAt().Equal(now) {
					t.Errorf("option %d interval %s activated %v", p.SelectedOptionID(), p.Interval(), p.ActivatedAt())
				}
				if c, ok := p.Consent(); !ok || !reflect.DeepEqual(c, portalConsent(proposedAt)) {
					t.Errorf("consent = %+v, %v", c, ok)
				}
				pr := wantProposal(t, p, 5, domain.ProposalIsApproved)
				if pr.AnsweredAt == nil || !pr.AnsweredAt.Equal(now) || pr.Open() {
					t.Errorf("proposal = %+v", pr)
				}
				if _, open := p.OpenProposal(); open {
					t.Errorf("still an open proposal")
				}
				wantSchedule(t, p, "1 2025-12-15 300.00 0.00 pending", "2 2026-01-15 300.00 0.00 pending",
					"3 2026-02-15 300.00 0.00 pending", "4 2026-03-15 300.00 0.00 pending")
				wantLedger(t, p, "0.00", "0.00", "1200.00")
			},
		},
		{
			name:  "active plan paid in part: paid installments kept, the partial one shrinks, the rest numbered after",
			given: partlyPaid,
			when:  approve(5, now),
			want: []domain.Event{domain.ProposalApproved{ProposalID: 5, Interval: domain.Weekly, Schedule: partlyPaidSchedule,
				ApprovedAt: now}},
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusActive)
				if p.Interval() != domain.Weekly || p.SelectedOptionID() != 101 {
					t.Errorf("interval %s, option %d", p.Interval(), p.SelectedOptionID())
				}
				wantSchedule(t, p, "1 2025-12-04 400.00 400.00 confirmed", "3 2025-12-10 350.00 0.00 pending",
					"4 2025-12-17 350.00 0.00 pending", "2 2026-01-04 100.00 100.00 confirmed")
				wantLedger(t, p, "500.00", "0.00", "700.00")
				// The next payment goes to the new installments.
				evs, err := p.RecordPayment(payment(9, "400"))
				if err != nil || !reflect.DeepEqual(evs[1].(domain.InstallmentConfirmed).Allocations,
					[]domain.Allocation{al(3, "350.00"), al(4, "50.00")}) {
					t.Errorf("next payment: %v\n%s", err, show(evs))
				}
			},
		},
		{
			name:    "approved after more was paid: refused, the customer proposed for another amount",
			given:   seq(partlyPaid, recorded(7, 2, "300", on("2025-12-01"), al(2, "300"))),
			when:    approve(5, now),
			wantErr: conflict("Proposal 5 was made for 700.00 and 400.00 is outstanding now; counter it with the current terms instead."),
		},
		{
			name:    "approved after its first payment date passed",
			given:   partlyPaid,
			when:    approve(5, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)),
			wantErr: conflict("Proposal 5's first payment date 2025-12-10 has passed; counter it with the current terms instead."),
		},
		{
			name: "rescheduled twice: numbers stay unique",
			given: then(t, partlyPaid, approve(5, now), record(payment(9, "400")),
				propose(6, "3", "monthly", "2026-01-01", now)),
			when: approve(6, now),
			want: []domain.Event{domain.ProposalApproved{ProposalID: 6, Interval: domain.Monthly, ApprovedAt: now,
				Schedule: []domain.Installment{inst(1, "400.00", "2025-12-04"), inst(3, "350.00", "2025-12-10"),
					inst(4, "50.00", "2025-12-17"), inst(2, "100.00", "2026-01-04"),
					inst(5, "100.00", "2026-01-01"), inst(6, "100.00", "2026-02-01"), inst(7, "100.00", "2026-03-01")}}},
			check: func(t *testing.T, p *domain.Plan) {
				wantLedger(t, p, "900.00", "0.00", "300.00")
			},
		},
		{
			name: "the balance shrank below one minor unit per installment",
			given: then(t, seq(activePlan(), recorded(6, 1, "1199.95", proposedAt, al(1, "400"), al(2, "400"), al(3, "399.95"))),
				propose(5, "5", "weekly", "2025-12-08", proposedAt), record(payment(7, "0.01"))),
			when:    approve(5, now),
			wantErr: conflict("Proposal 5 was made for 0.05 and 0.04 is outstanding now; counter it with the current terms instead."),
		},
		{
			name:    "a countered proposal is not approved",
			given:   then(t, pendingWithProposal, counter(5, "6", "monthly", "2025-12-15", "", now)),
			when:    approve(5, now),
			wantErr: conflict("Proposal 5 is countered; it cannot be approved."),
		},
		{
			name:    "a declined proposal",
			given:   then(t, pendingWithProposal, decline(5, "", now)),
			when:    approve(5, now),
			wantErr: conflict("Proposal 5 is declined; it cannot be approved."),
		},
		{
			name:    "approved twice",
			given:   then(t, pendingWithProposal, approve(5, now)),
			when:    approve(5, now),
			wantErr: conflict("Proposal 5 is approved; it cannot be approved."),
		},
		{
			name:    "unknown proposal",
			given:   pendingWithProposal,
			when:    approve(9, now),
			wantErr: notFound("Proposal 9 was not found on this plan."),
		},
		{
			name:    "the plan was paid off meanwhile",
			given:   then(t, partlyPaid, record(payment(7, "700"))),
			when:    approve(5, now),
			wantErr: stateErr("approve a proposal", domain.StatusCompleted),
		},
		{
			name:    "the plan was cancelled meanwhile",
			given:   seq(pendingWithProposal, domain.PlanCancelled{Outstanding: usdm("1200"), CancelledAt: now}),
			when:    approve(5, now),
			wantErr: stateErr("approve a proposal", domain.StatusCancelled),
		},
	})
}

func TestCounterAndAccept(t *testing.T) {
	t.Parallel()
	proposedAt, counteredAt, acceptedAt := on("2025-12-01"), on("2025-12-02"), on("2025-12-03")
	pendingWithProposal := then(t, pendingPlan(), propose(5, "4", "monthly", "2025-12-15", proposedAt))
	sixWeekly := []domain.Installment{inst(1, "200.00", "2025-12-10"), inst(2, "200.00", "2025-12-17"),
		inst(3, "200.00", "2025-12-24"), inst(4, "200.00", "2025-12-31"), inst(5, "200.00", "2026-01-07"),
		inst(6, "200.00", "2026-01-14")}
	countered := then(t, pendingWithProposal, counter(5, "6", "weekly", "2025-12-10", "We can do six weeks.", counteredAt))
	partlyPaid := then(t, seq(activePlan(), recorded(6, 1, "450", on("2025-11-30"), al(1, "400"), al(2, "50"))),
		propose(5, "10", "monthly", "2025-12-15", proposedAt), counter(5, "3", "weekly", "2025-12-10", "", counteredAt))
	runPlanTests(t, []planTest{
		{
			name:  "counter: new terms for what is outstanding, still open",
			given: pendingWithProposal,
			when:  counter(5, "6", "weekly", "2025-12-10", " We can do six weeks. ", counteredAt),
			want: []domain.Event{domain.ProposalCountered{ProposalID: 5, Terms: domain.Terms{Installments: 6, Interval: domain.Weekly,
				FirstPaymentDate: d("2025-12-10")}, Amount: usdm("1200"), Schedule: sixWeekly, Message: "We can do six weeks.",
				CounteredAt: counteredAt}},
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusPending)
				pr := wantProposal(t, p, 5, domain.ProposalIsCountered)
				if !pr.Open() || pr.Counter == nil || pr.Counter.Installments != 6 || pr.Counter.Interval != domain.Weekly ||
					!reflect.DeepEqual(pr.CounterSchedule, sixWeekly) || pr.Message != "We can do six weeks." ||
					pr.Terms.Installments != 4 {
					t.Errorf("proposal = %+v", pr)
				}
				if _, open := p.OpenProposal(); !open {
					t.Errorf("a countered proposal is open")
				}
			},
		},
		{
			name:    "counter with bad terms",
			given:   pendingWithProposal,
			when:    counter(5, "100", "daily", "2025-11-01", "", counteredAt),
			wantErr: invalid("installments", "between 1 and 96", "interval", "weekly, biweekly or monthly", "first_payment_date", "today or later"),
		},
		{
			name:    "counter with a message with control characters",
			given:   pendingWithProposal,
			when:    counter(5, "6", "weekly", "2025-12-10", "\x07", counteredAt),
			wantErr: invalid("message", "The message may not contain control characters."),
		},
		{
			name:  "counter with bad terms and a message too long: every problem at once",
			given: pendingWithProposal,
			when:  counter(5, "0", "weekly", "2025-12-10", strings.Repeat("m", 1001), counteredAt),
			wantErr: invalid("installments", "between 1 and 96",
				"message", "The message may not be greater than 1000 characters."),
		},
		{
			name:    "counter a countered proposal",
			given:   countered,
			when:    counter(5, "5", "weekly", "2025-12-10", "", counteredAt),
			wantErr: conflict("Proposal 5 is countered; it cannot be countered."),
		},
		{
			name:    "counter an unknown proposal",
			given:   pendingWithProposal,
			when:    counter(4, "5", "weekly", "2025-12-10", "", counteredAt),
			wantErr: notFound("Proposal 4 was not found"),
		},
		{
			name:  "accept the counter in the portal: the pending plan is activated on the counter's terms",
			given: countered,
			when:  acceptCounter(5, acceptedAt.In(time.FixedZone("PST", -8*3600))),
			want: []domain.Event{
				domain.ProposalCounterAccepted{ProposalID: 5, Interval: domain.Weekly, Schedule: sixWeekly,
					Consent: consentPtr(portalConsent(acceptedAt)), AcceptedAt: acceptedAt},
				domain.PlanActivated{ProposalID: 5, Interval: domain.Weekly, Schedule: sixWeekly,
					Consent: consentPtr(portalConsent(acceptedAt)), ActivatedAt: acceptedAt},
			},
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusActive)
				wantProposal(t, p, 5, domain.ProposalIsCounterAccepted)
				if c, _ := p.Consent(); !reflect.DeepEqual(c, portalConsent(acceptedAt)) {
					t.Errorf("consent = %+v", c)
				}
				if p.Interval() != domain.Weekly {
					t.Errorf("interval = %s", p.Interval())
				}
				wantLedger(t, p, "0.00", "0.00", "1200.00")
				if len(p.Installments()) != 6 {
					t.Errorf("%d installments", len(p.Installments()))
				}
			},
		},
		{
			name:  "accept a counter on an active plan paid in part: rescheduled, no activation",
			given: partlyPaid,
			when:  acceptCounter(5, acceptedAt),
			want: []domain.Event{domain.ProposalCounterAccepted{ProposalID: 5, Interval: domain.Weekly,
				Schedule: []domain.Installment{inst(1, "400.00", "2025-12-04"), inst(2, "50.00", "2026-01-04"),
					inst(3, "250.00", "2025-12-10"), inst(4, "250.00", "2025-12-17"), inst(5, "250.00", "2025-12-24")},
				Consent: consentPtr(portalConsent(acceptedAt)), AcceptedAt: acceptedAt}},
			check: func(t *testing.T, p *domain.Plan) {
				wantSchedule(t, p, "1 2025-12-04 400.00 400.00 confirmed", "3 2025-12-10 250.00 0.00 pending",
					"4 2025-12-17 250.00 0.00 pending", "5 2025-12-24 250.00 0.00 pending", "2 2026-01-04 50.00 50.00 confirmed")
				wantLedger(t, p, "450.00", "0.00", "750.00")
				// The consent on record is the one to the schedule now in force.
				if c, _ := p.Consent(); !reflect.DeepEqual(c, portalConsent(acceptedAt)) {
					t.Errorf("consent after accepting the counter: %+v", c)
				}
			},
		},
		{
			name:    "accept a counter after its first payment date passed",
			given:   partlyPaid,
			when:    acceptCounter(5, time.Date(2025, 12, 11, 9, 0, 0, 0, time.UTC)),
			wantErr: conflict("This offer's first payment date 2025-12-10 has passed; please propose a new schedule."),
		},
		{
			name:    "accept a counter after the balance changed: not the amounts the customer was shown",
			given:   seq(partlyPaid, recorded(8, 3, "50", on("2025-12-01"), al(2, "50"))),
			when:    acceptCounter(5, acceptedAt),
			wantErr: conflict("This offer was made for 750.00 and 700.00 is outstanding now; please propose a new schedule."),
		},
		{
			name:    "accept a proposal that was not countered",
			given:   pendingWithProposal,
			when:    acceptCounter(5, acceptedAt),
			wantErr: conflict("Proposal 5 is pending; it cannot be accepted."),
		},
		{
			name:    "accept a counter that was withdrawn",
			given:   then(t, countered, decline(5, "Withdrawn.", acceptedAt)),
			when:    acceptCounter(5, acceptedAt),
			wantErr: conflict("Proposal 5 is declined; it cannot be accepted."),
		},
		{
			name:    "accept twice",
			given:   then(t, countered, acceptCounter(5, acceptedAt)),
			when:    acceptCounter(5, acceptedAt),
			wantErr: conflict("Proposal 5 is counter accepted; it cannot be accepted."),
		},
		{
			name:    "accept on a written-off plan",
			given:   seq(countered, domain.PlanWrittenOff{Outstanding: usdm("1200"), WrittenOffAt: acceptedAt}),
			when:    acceptCounter(5, acceptedAt),
			wantErr: stateErr("accept a counter-offer", domain.StatusWrittenOff),
		},
	})
}

func TestDeclineProposal(t *testing.T) {
	t.Parallel()
	proposedAt, now := on("2025-12-01"), on("2025-12-02")
	pendingWithProposal := then(t, pendingPlan(), propose(5, "4", "monthly", "2025-12-15", proposedAt))
	runPlanTests(t, []planTest{
		{
			name:  "decline a pending proposal",
			given: pendingWithProposal,
			when:  decline(5, " Too long for us. ", now),
			want:  []domain.Event{domain.ProposalDeclined{ProposalID: 5, Reason: "Too long for us.", DeclinedAt: now}},
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusPending)
				pr := wantProposal(t, p, 5, domain.ProposalIsDeclined)
				if pr.Message != "Too long for us." || pr.AnsweredAt == nil || !pr.AnsweredAt.Equal(now) {
					t.Errorf("proposal = %+v", pr)
				}
				if _, open := p.OpenProposal(); open {
					t.Errorf("still open")
				}
			},
		},
		{
			name:  "withdraw a counter",
			given: then(t, pendingWithProposal, counter(5, "6", "monthly", "2025-12-15", "Six?", now)),
			when:  decline(5, "", now),
			want:  []domain.Event{domain.ProposalDeclined{ProposalID: 5, DeclinedAt: now}},
		},
		{
			name:  "decline on an active plan leaves the schedule",
			given: then(t, activePlan(), propose(5, "2", "monthly", "2025-12-15", proposedAt)),
			when:  decline(5, "", now),
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusActive)
				wantSchedule(t, p, "1 2025-12-04 400.00 0.00 pending", "2 2026-01-04 400.00 0.00 pending",
					"3 2026-02-04 400.00 0.00 pending")
			},
		},
		{
			name:    "declined twice",
			given:   then(t, pendingWithProposal, decline(5, "", now)),
			when:    decline(5, "", now),
			wantErr: conflict("Proposal 5 is declined; it cannot be declined."),
		},
		{
			name:    "decline an approved proposal",
			given:   then(t, pendingWithProposal, approve(5, now)),
			when:    decline(5, "", now),
			wantErr: conflict("Proposal 5 is approved; it cannot be declined."),
		},
		{
			name:    "reason too long",
			given:   pendingWithProposal,
			when:    decline(5, strings.Repeat("x", 1001), now),
			wantErr: invalid("reason", "The reason may not be greater than 1000 characters."),
		},
		{
			name:    "unknown proposal",
			given:   pendingWithProposal,
			when:    decline(6, "", now),
			wantErr: notFound("Proposal 6 was not found on this plan."),
		},
		{
			name:    "completed plan",
			given:   completedPlan(),
			when:    decline(5, "", now),
			wantErr: stateErr("decline a proposal", domain.StatusCompleted),
		},
	})
}
