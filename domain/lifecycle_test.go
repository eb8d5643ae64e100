package domain_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
)

// statusFixture is a plan in one status.
type statusFixture struct {
	status domain.Status
	given  []domain.Event
}

// statusFixtures returns a plan in every status. The active one has a
// reported payment 77 of 100.00 awaiting confirmation.
func statusFixtures() []statusFixture {
	return []statusFixture{
		{domain.StatusPending, pendingPlan()},
		{domain.StatusActive, seq(activePlan(), reported(77, 1, "100.00", on("2025-12-01")))},
		{domain.StatusCompleted, completedPlan()},
		{domain.StatusCancelled, cancelledPlan()},
		{domain.StatusWrittenOff, writtenOffPlan()},
		{domain.StatusAbandoned, abandonedPlan()},
	}
}

// TestCommandsInEveryStatus decides every command in every status: the
// statuses a command does not allow give a *StateError naming the status
// (and no events); a plan that does not exist gives ErrPlanNotFound.
func TestCommandsInEveryStatus(t *testing.T) {
	t.Parallel()
	now := on("2025-12-05")
	terms := domain.TermsInput{Installments: "4", Interval: "monthly", FirstPaymentDate: "2025-12-15"}
	P, A := domain.StatusPending, domain.StatusActive
	C, W, X := domain.StatusCancelled, domain.StatusWrittenOff, domain.StatusAbandoned
	commands := []struct {
		action  string
		allowed []domain.Status
		do      decision
	}{
		{"choose an option", []domain.Status{P}, func(p *domain.Plan) ([]domain.Event, error) {
			return p.SelectOption(domain.SelectOption{OptionID: 101, Consent: domain.Consent{At: now}})
		}},
		{"cancel the plan", []domain.Status{P, A}, func(p *domain.Plan) ([]domain.Event, error) { return p.Cancel("", now) }},
		{"write off the plan", []domain.Status{P, A}, func(p *domain.Plan) ([]domain.Event, error) { return p.WriteOff("", now) }},
		{"reactivate the plan", []domain.Status{C, W, X}, func(p *domain.Plan) ([]domain.Event, error) { return p.Reactivate(now) }},
		{"report a payment", []domain.Status{A}, func(p *domain.Plan) ([]domain.Event, error) { return p.ReportPayment(payment(8, "100")) }},
		{"record a payment", []domain.Status{A}, func(p *domain.Plan) ([]domain.Event, error) { return p.RecordPayment(payment(8, "100")) }},
		{"confirm a payment", []domain.Status{A}, func(p *domain.Plan) ([]domain.Event, error) { return p.ConfirmPayment(77, "", now) }},
		{"extend an installment", []domain.Status{A}, func(p *domain.Plan) ([]domain.Event, error) {
			return p.ExtendInstallment(2, "2026-01-20", true, now)
		}},
		{"defer an installment", []domain.Status{A}, func(p *domain.Plan) ([]domain.Event, error) { return p.DeferInstallment(2, now) }},
		{"propose a schedule", []domain.Status{P, A}, func(p *domain.Plan) ([]domain.Event, error) {
			return p.ProposeSchedule(5, terms, domain.Consent{At: now})
		}},
		{"approve a proposal", []domain.Status{P, A}, func(p *domain.Plan) ([]domain.Event, error) { return p.ApproveProposal(5, now) }},
		{"decline a proposal", []domain.Status{P, A}, func(p *domain.Plan) ([]domain.Event, error) { return p.DeclineProposal(5, "", now) }},
		{"counter a proposal", []domain.Status{P, A}, func(p *domain.Plan) ([]domain.Event, error) {
			return p.CounterProposal(5, terms, "", now)
		}},
		{"accept a counter-offer", []domain.Status{P, A}, func(p *domain.Plan) ([]domain.Event, error) {
			return p.AcceptCounter(5, domain.Consent{At: now})
		}},
		{"regenerate the portal link", []domain.Status{P, A, domain.StatusCompleted, C, W, X}, func(p *domain.Plan) ([]domain.Event, error) {
			return p.RegeneratePortalLink("fresh-token", now)
		}},
	}
	for _, c := range commands {
		t.Run(c.action, func(t *testing.T) {
			t.Parallel()
			if evs, err := c.do(&domain.Plan{}); !errors.Is(err, domain.ErrPlanNotFound) || len(evs) != 0 {
				t.Errorf("plan that does not exist: %v, %d events; want ErrPlanNotFound", err, len(evs))
			}
			for _, f := range statusFixtures() {
				p := fold(f.given)
				evs, err := c.do(p)
				allowed := false
				for _, s := range c.allowed {
					allowed = allowed || s == f.status
				}
				var se *domain.StateError
				switch {
				case c.action == "choose an option" && f.status == A:
					// The loser of two racing choices.
					var ce *domain.ConflictError
					if !errors.As(err, &ce) || len(evs) != 0 {
						t.Errorf("%s: %v (%T), %d events; want a conflict", f.status, err, err, len(evs))
					}
				case allowed:
					if errors.As(err, &se) || err == nil && len(evs) == 0 || err != nil && len(evs) != 0 {
						t.Errorf("%s: allowed, but got %v with %d events", f.status, err, len(evs))
					}
				default:
					words := strings.ReplaceAll(string(f.status), "_", " ")
					want := "cannot " + c.action + ": the plan is " + words
					if !errors.As(err, &se) || se.Status != f.status || err.Error() != want || len(evs) != 0 {
						t.Errorf("%s: %v (%T), %d events; want %q", f.status, err, err, len(evs), want)
					}
				}
			}
		})
	}
}

func TestSelectOption(t *testing.T) {
	t.Parallel()
	pc := base()
	est := time.FixedZone("EST", -5*3600)
	choose := func(id int64) decision {
		return func(p *domain.Plan) ([]domain.Event, error) {
			return p.SelectOption(domain.SelectOption{OptionID: id,
				Consent: domain.Consent{At: time.Date(2025, 11, 28, 5, 0, 0, 0, est), IP: "203.0.113.7", UserAgent: "UA/1"}})
		}
	}
	consent := domain.Consent{At: on("2025-11-28"), IP: "203.0.113.7", UserAgent: "UA/1"}
	runPlanTests(t, []planTest{
		{
			name:  "pending plan: the option's schedule, consent recorded in UTC",
			given: pendingPlan(),
			when:  choose(102),
			want: []domain.Event{domain.PlanActivated{OptionID: 102, Interval: domain.Monthly, Schedule: pc.Options[1].Schedule,
				Consent: &consent, ActivatedAt: on("2025-11-28")}},
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusActive)
				if p.SelectedOptionID() != 102 || p.Interval() != domain.Monthly || !p.ActivatedAt().Equal(on("2025-11-28")) {
					t.Errorf("option %d interval %s activated %v", p.SelectedOptionID(), p.Interval(), p.ActivatedAt())
				}
				if c, ok := p.Consent(); !ok || !reflect.DeepEqual(c, consent) {
					t.Errorf("consent = %+v, %v", c, ok)
				}
				wantSchedule(t, p,
					"1 2025-12-04 200.00 0.00 pending", "2 2026-01-04 200.00 0.00 pending", "3 2026-02-04 200.00 0.00 pending",
					"4 2026-03-04 200.00 0.00 pending", "5 2026-04-04 200.00 0.00 pending", "6 2026-05-04 200.00 0.00 pending")
				wantLedger(t, p, "0.00", "0.00", "1200.00")
			},
		},
		{
			name:    "second choice loses: conflict",
			given:   then(t, pendingPlan(), choose(101)),
			when:    choose(102),
			wantErr: conflict("already chosen"),
		},
		{
			name:    "the same option twice: conflict",
			given:   then(t, pendingPlan(), choose(101)),
			when:    choose(101),
			wantErr: conflict("already chosen"),
		},
		{
			name:    "unknown option",
			given:   pendingPlan(),
			when:    choose(999),
			wantErr: notFound("Option 999 is not offered on this plan."),
		},
		{
			name:    "cancelled plan",
			given:   seq(pendingPlan(), domain.PlanCancelled{Outstanding: usdm("1200"), CancelledAt: on("2025-11-28")}),
			when:    choose(101),
			wantErr: stateErr("choose an option", domain.StatusCancelled),
		},
		{
			name:    "completed plan",
			given:   completedPlan(),
			when:    choose(101),
			wantErr: stateErr("choose an option", domain.StatusCompleted),
		},
		{
			name:  "abandoned and reactivated: pending again, an option can be chosen",
			given: seq(abandonedPlan(), domain.PlanReactivated{Status: domain.StatusPending, ReactivatedAt: on("2026-01-02")}),
			when:  choose(103),
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusActive)
				if len(p.Installments()) != 12 || p.SelectedOptionID() != 103 {
					t.Errorf("%d installments, option %d", len(p.Installments()), p.SelectedOptionID())
				}
			},
		},
		{
			name:    "plan that does not exist",
			when:    choose(101),
			wantErr: domain.ErrPlanNotFound,
		},
	})
}

func TestCancelAndWriteOff(t *testing.T) {
	t.Parallel()
	now := on("2025-12-10")
	cancel := func(reason string) decision {
		return func(p *domain.Plan) ([]domain.Event, error) { return p.Cancel(reason, now) }
	}
	writeOff := func(reason string) decision {
		return func(p *domain.Plan) ([]domain.Event, error) { return p.WriteOff(reason, now) }
	}
	partlyPaid := seq(activePlan(), recorded(7, 1, "250.00", on("2025-12-04"), al(1, "250.00")))
	closed := func(s domain.Status, reason string) func(*testing.T, *domain.Plan) {
		return func(t *testing.T, p *domain.Plan) {
			wantStatus(t, p, s)
			if at, r := p.Closed(); !at.Equal(now) || r != reason {
				t.Errorf("Closed() = %v, %q", at, r)
			}
		}
	}
	long := strings.Repeat("é", 1000)
	runPlanTests(t, []planTest{
		{
			name:  "cancel a pending plan: everything outstanding",
			given: pendingPlan(),
			when:  cancel("  Paid by other means.  "),
			want:  []domain.Event{domain.PlanCancelled{Reason: "Paid by other means.", Outstanding: usdm("1200"), CancelledAt: now}},
			check: closed(domain.StatusCancelled, "Paid by other means."),
		},
		{
			name:  "cancel an active plan paid in part: what is left",
			given: partlyPaid,
			when:  cancel(""),
			want:  []domain.Event{domain.PlanCancelled{Outstanding: usdm("950"), CancelledAt: now}},
			check: func(t *testing.T, p *domain.Plan) {
				closed(domain.StatusCancelled, "")(t, p)
				wantLedger(t, p, "250.00", "0.00", "950.00")
				if len(p.Installments()) != 3 {
					t.Errorf("the schedule was dropped")
				}
			},
		},
		{
			name:  "reason of 1000 characters, line breaks and tabs",
			given: activePlan(),
			when:  cancel(long + "\n"),
			want:  []domain.Event{domain.PlanCancelled{Reason: long, Outstanding: usdm("1200"), CancelledAt: now}},
		},
		{
			name:  "reason with a line break and a tab inside",
			given: activePlan(),
			when:  cancel("Line one.\n\tLine two."),
			want:  []domain.Event{domain.PlanCancelled{Reason: "Line one.\n\tLine two.", Outstanding: usdm("1200"), CancelledAt: now}},
		},
		{
			name:    "reason too long",
			given:   activePlan(),
			when:    cancel(long + "x"),
			wantErr: invalid("reason", "The reason may not be greater than 1000 characters."),
		},
		{
			name:    "reason with control characters",
			given:   activePlan(),
			when:    cancel("bad\x00reason"),
			wantErr: invalid("reason", "The reason may not contain control characters."),
		},
		{
			name:    "reason with DEL",
			given:   activePlan(),
			when:    writeOff("bad\x7f"),
			wantErr: invalid("reason", "control characters"),
		},
		{
			name:    "cancel a completed plan",
			given:   completedPlan(),
			when:    cancel(""),
			wantErr: stateErr("cancel the plan", domain.StatusCompleted),
		},
		{
			name:    "cancel a cancelled plan",
			given:   cancelledPlan(),
			when:    cancel(""),
			wantErr: stateErr("cancel the plan", domain.StatusCancelled),
		},
		{
			name:    "cancel a written-off plan",
			given:   writtenOffPlan(),
			when:    cancel(""),
			wantErr: stateErr("cancel the plan", domain.StatusWrittenOff),
		},
		{
			name:    "cancel an abandoned plan",
			given:   abandonedPlan(),
			when:    cancel(""),
			wantErr: stateErr("cancel the plan", domain.StatusAbandoned),
		},
		{
			name:  "write off an active plan paid in part",
			given: partlyPaid,
			when:  writeOff("Customer insolvent."),
			want:  []domain.Event{domain.PlanWrittenOff{Reason: "Customer insolvent.", Outstanding: usdm("950"), WrittenOffAt: now}},
			check: closed(domain.StatusWrittenOff, "Customer insolvent."),
		},
		{
			name:  "write off a pending plan",
			given: pendingPlan(),
			when:  writeOff(""),
			want:  []domain.Event{domain.PlanWrittenOff{Outstanding: usdm("1200"), WrittenOffAt: now}},
			check: closed(domain.StatusWrittenOff, ""),
		},
		{
			name:    "write off a completed plan",
			given:   completedPlan(),
			when:    writeOff(""),
			wantErr: stateErr("write off the plan", domain.StatusCompleted),
		},
		{
			name:    "write off a cancelled plan",
			given:   cancelledPlan(),
			when:    writeOff(""),
			wantErr: stateErr("write off the plan", domain.StatusCancelled),
		},
	})
}

func TestReactivate(t *testing.T) {
	t.Parallel()
	now := on("2026-01-10")
	reactivate := func(p *domain.Plan) ([]domain.Event, error) { return p.Reactivate(now) }
	partlyPaid := seq(activePlan(), recorded(7, 1, "250.00", on("2025-12-04"), al(1, "250.00")))
	runPlanTests(t, []planTest{
		{
			name:  "cancelled with a schedule: active again, ledger kept",
			given: seq(partlyPaid, domain.PlanCancelled{Outstanding: usdm("950"), CancelledAt: on("2025-12-10")}),
			when:  reactivate,
			want:  []domain.Event{domain.PlanReactivated{Status: domain.StatusActive, ReactivatedAt: now}},
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusActive)
				if at, r := p.Closed(); !at.IsZero() || r != "" {
					t.Errorf("still closed: %v %q", at, r)
				}
				if !p.PendingSince().Equal(seedNow) {
					t.Errorf("PendingSince moved to %v", p.PendingSince())
				}
				wantLedger(t, p, "250.00", "0.00", "950.00")
				wantSchedule(t, p, "1 2025-12-04 400.00 250.00 partially_paid", "2 2026-01-04 400.00 0.00 pending",
					"3 2026-02-04 400.00 0.00 pending")
			},
		},
		{
			name:  "written off with a schedule: active",
			given: writtenOffPlan(),
			when:  reactivate,
			want:  []domain.Event{domain.PlanReactivated{Status: domain.StatusActive, ReactivatedAt: now}},
		},
		{
			name:  "cancelled while pending: pending, abandonment clock restarts",
			given: seq(pendingPlan(), domain.PlanCancelled{Reason: "x", Outstanding: usdm("1200"), CancelledAt: on("2025-11-28")}),
			when:  reactivate,
			want:  []domain.Event{domain.PlanReactivated{Status: domain.StatusPending, ReactivatedAt: now}},
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusPending)
				if !p.PendingSince().Equal(now) {
					t.Errorf("PendingSince = %v, want %v", p.PendingSince(), now)
				}
				if evs := p.Tick(now.Add(domain.AbandonAfter-time.Second), 3); len(evs) != 0 {
					t.Errorf("abandoned before 30 days from the reactivation:\n%s", show(evs))
				}
				want := []domain.Event{domain.PlanAbandoned{PendingSince: now, AbandonedAt: now.Add(domain.AbandonAfter)}}
				if evs := p.Tick(now.Add(domain.AbandonAfter), 3); !reflect.DeepEqual(evs, want) {
					t.Errorf("Tick at 30 days =\n%s\nwant\n%s", show(evs), show(want))
				}
			},
		},
		{
			name:  "abandoned: pending with a fresh clock",
			given: abandonedPlan(),
			when:  reactivate,
			want:  []domain.Event{domain.PlanReactivated{Status: domain.StatusPending, ReactivatedAt: now}},
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusPending)
				if wake, _ := p.Wake(); !wake.Equal(now.Add(domain.AbandonAfter)) {
					t.Errorf("Wake = %v, want %v", wake, now.Add(domain.AbandonAfter))
				}
			},
		},
		{
			name:    "active plan",
			given:   activePlan(),
			when:    reactivate,
			wantErr: stateErr("reactivate the plan", domain.StatusActive),
		},
		{
			name:    "pending plan",
			given:   pendingPlan(),
			when:    reactivate,
			wantErr: stateErr("reactivate the plan", domain.StatusPending),
		},
		{
			name:    "completed plan",
			given:   completedPlan(),
			when:    reactivate,
			wantErr: stateErr("reactivate the plan", domain.StatusCompleted),
		},
	})
}

func TestRegeneratePortalLink(t *testing.T) {
	t.Parallel()
	now := on("2025-12-10")
	regenerate := func(token string) decision {
		return func(p *domain.Plan) ([]domain.Event, error) { return p.RegeneratePortalLink(token, now) }
	}
	oldStopsAtOnce := func(t *testing.T, p *domain.Plan) {
		if p.PortalToken() != "new-token" {
			t.Errorf("PortalToken = %q", p.PortalToken())
		}
		if p.PortalLinkWorks("abc123", now) {
			t.Errorf("the old token still works")
		}
		if !p.PortalLinkWorks("new-token", now) {
			t.Errorf("the new token does not work")
		}
	}
	runPlanTests(t, []planTest{
		{
			name:  "active plan: the old link stops working at once",
			given: activePlan(),
			when:  regenerate("new-token"),
			want:  []domain.Event{domain.PortalLinkRegenerated{PortalToken: "new-token", RegeneratedAt: now}},
			check: oldStopsAtOnce,
		},
		{
			name:  "pending plan",
			given: pendingPlan(),
			when:  regenerate("new-token"),
			check: oldStopsAtOnce,
		},
		{
			name:  "cancelled plan",
			given: cancelledPlan(),
			when:  regenerate("new-token"),
			check: oldStopsAtOnce,
		},
		{
			name:  "completed plan",
			given: completedPlan(),
			when:  regenerate("new-token"),
			check: oldStopsAtOnce,
		},
		{
			name:    "the same token",
			given:   activePlan(),
			when:    regenerate("abc123"),
			wantErr: conflict("must differ"),
		},
		{
			name:    "an empty token",
			given:   activePlan(),
			when:    regenerate(""),
			wantErr: conflict("must differ"),
		},
		{
			name:    "plan that does not exist",
			when:    regenerate("new-token"),
			wantErr: domain.ErrPlanNotFound,
		},
	})
}

func TestPortalLinkWorks(t *testing.T) {
	t.Parallel()
	completedAt := on("2025-12-02")
	tests := []struct {
		name  string
		given []domain.Event
		token string
		now   time.Time
		want  bool
	}{
		{"pending plan", pendingPlan(), "abc123", seedNow, true},
		{"active plan, years later", activePlan(), "abc123", on("2030-01-01"), true},
		{"wrong token", activePlan(), "abc124", on("2025-12-01"), false},
		{"empty token", activePlan(), "", on("2025-12-01"), false},
		{"plan that does not exist", nil, "abc123", seedNow, false},
		{"completed: at completion", completedPlan(), "abc123", completedAt, true},
		{"completed: 89 days later", completedPlan(), "abc123", completedAt.Add(89 * 24 * time.Hour), true},
		{"completed: a second before 90 days", completedPlan(), "abc123", completedAt.Add(domain.PortalLinkLifetime - time.Second), true},
		{"completed: 90 days later", completedPlan(), "abc123", completedAt.Add(domain.PortalLinkLifetime), false},
		{"completed: 91 days later", completedPlan(), "abc123", completedAt.Add(91 * 24 * time.Hour), false},
		{"cancelled plan, long after", cancelledPlan(), "abc123", on("2027-01-01"), true},
		{"regenerated: old token", seq(activePlan(), domain.PortalLinkRegenerated{PortalToken: "t2", RegeneratedAt: on("2025-12-01")}),
			"abc123", on("2025-12-01"), false},
		{"regenerated: new token", seq(activePlan(), domain.PortalLinkRegenerated{PortalToken: "t2", RegeneratedAt: on("2025-12-01")}),
			"t2", on("2025-12-01"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := fold(tt.given).PortalLinkWorks(tt.token, tt.now); got != tt.want {
				t.Errorf("PortalLinkWorks(%q, %v) = %v, want %v", tt.token, tt.now, got, tt.want)
			}
		})
	}
}

// TestGettersReturnCopies: changing what a getter returns does not change
// the plan (as Options already guarantees).
func TestGettersReturnCopies(t *testing.T) {
	t.Parallel()
	given := then(t, seq(activePlan(), recorded(6, 1, "100", on("2025-12-01"), al(1, "100")),
		domain.IntroductionEmailSent{MessageID: "<m@x>", To: "john@example.com", SentAt: on("2025-11-27")}),
		propose(5, "2", "monthly", "2025-12-15", on("2025-12-01")),
		counter(5, "3", "monthly", "2025-12-15", "Three?", on("2025-12-02")))
	mutations := []struct {
		getter string
		change func(p *domain.Plan)
	}{
		{"Payments: confirmed amount", func(p *domain.Plan) { *p.Payments()[0].ConfirmedAmount = usdm("999") }},
		{"Payments: confirmed at", func(p *domain.Plan) { *p.Payments()[0].ConfirmedAt = time.Time{} }},
		{"Payments: allocations", func(p *domain.Plan) { p.Payments()[0].Allocations[0].Amount = usdm("999") }},
		{"Proposals: counter", func(p *domain.Plan) { p.Proposals()[0].Counter.Installments = 96 }},
		{"Proposals: answered at", func(p *domain.Plan) { *p.Proposals()[0].AnsweredAt = time.Time{} }},
		{"Proposals: schedule", func(p *domain.Plan) { p.Proposals()[0].Schedule[0].Amount = usdm("999") }},
		{"OpenProposal: counter", func(p *domain.Plan) { pr, _ := p.OpenProposal(); pr.Counter.Installments = 96 }},
		{"IntroductionEmail: at", func(p *domain.Plan) { *p.IntroductionEmail().At = time.Time{} }},
		{"Notices", func(p *domain.Plan) {
			if n := p.Notices(); len(n) > 0 {
				n[0].Status = domain.EmailFailed
			}
		}},
	}
	for _, m := range mutations {
		p := fold(given)
		m.change(p)
		if !reflect.DeepEqual(p, fold(given)) {
			t.Errorf("%s: the result aliases the plan's state", m.getter)
		}
	}
}

func TestReasonLineBreaks(t *testing.T) {
	t.Parallel()
	now := on("2025-12-10")
	for _, reason := range []string{"Line one.\r\nLine two.", "Line one.\nLine two."} {
		evs, err := fold(activePlan()).Cancel(reason, now)
		want := []domain.Event{domain.PlanCancelled{Reason: "Line one.\nLine two.", Outstanding: usdm("1200"), CancelledAt: now}}
		if err != nil || !reflect.DeepEqual(evs, want) {
			t.Errorf("Cancel(%q) = %v, %v; want the reason with a line break", reason, show(evs), err)
		}
	}
	if _, err := fold(activePlan()).Cancel("Line one.\rLine two.", now); err == nil {
		t.Errorf("a lone carriage return was accepted")
	}
}
