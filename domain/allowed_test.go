package domain_test

import (
	"errors"
	"slices"
	"testing"

	"goodplan/domain"
)

// TestAllowedIsWhatTheCommandsDecide decides every merchant command on
// every payment, installment and proposal of plans in every status and
// with proposals pending and countered: Plan.Allowed lists a command (for
// that target) exactly when the command is not refused for the plan's
// state (a *StateError, *ConflictError or *NotFoundError).
func TestAllowedIsWhatTheCommandsDecide(t *testing.T) {
	t.Parallel()
	now := on("2025-12-05")
	terms := domain.TermsInput{Installments: "4", Interval: "monthly", FirstPaymentDate: "2025-12-15"}
	propose := func(id int64) decision {
		return func(p *domain.Plan) ([]domain.Event, error) {
			return p.ProposeSchedule(id, terms, domain.Consent{At: now})
		}
	}
	counter := func(id int64) decision {
		return func(p *domain.Plan) ([]domain.Event, error) { return p.CounterProposal(id, terms, "", now) }
	}
	fixtures := map[string][]domain.Event{}
	for _, f := range statusFixtures() {
		fixtures[string(f.status)] = f.given
	}
	fixtures["pending, proposal pending"] = then(t, pendingPlan(), propose(5))
	fixtures["active, proposal countered"] = then(t, activePlan(), propose(5), counter(5))
	fixtures["active, first paid, proposal pending"] = then(t, seq(activePlan(), recorded(90, 1, "400.00", on("2025-12-02"), al(1, "400.00"))),
		propose(6))
	fixtures["active, introduction sent"] = seq(activePlan(), domain.IntroductionEmailSent{MessageID: "<m@x>", To: "a@b.c",
		SentAt: on("2025-11-27")})
	fixtures["pending, introduction failed, resent"] = seq(pendingPlan(),
		domain.IntroductionEmailFailed{Reason: "550", Attempts: 1, FailedAt: on("2025-11-27")},
		domain.IntroductionEmailResendRequested{Resend: 1, RequestedAt: on("2025-11-28")})
	fixtures["cancelled, with a proposal"] = seq(then(t, activePlan(), propose(5)),
		domain.PlanCancelled{Outstanding: usdm("1200"), CancelledAt: on("2025-12-04")})

	for name, given := range fixtures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := fold(given)
			a := p.Allowed()
			if !a.Any() || !a.PortalLink {
				t.Fatalf("an existing plan allows nothing: %+v", a)
			}
			refused := func(err error) bool {
				var se *domain.StateError
				var ce *domain.ConflictError
				var ne *domain.NotFoundError
				return errors.As(err, &se) || errors.As(err, &ce) || errors.As(err, &ne)
			}
			check := func(what string, listed bool, do decision) {
				t.Helper()
				evs, err := do(p)
				if err != nil && !refused(err) {
					t.Fatalf("%s: unexpected error %v (%T)", what, err, err)
				}
				if decided := err == nil && len(evs) > 0; decided != listed {
					t.Errorf("%s: listed %v, but the command decided %d events, error %v", what, listed, len(evs), err)
				}
			}
			check("record-payment", a.RecordPayment, func(p *domain.Plan) ([]domain.Event, error) { return p.RecordPayment(payment(8, "1")) })
			check("cancel", a.Cancel, func(p *domain.Plan) ([]domain.Event, error) { return p.Cancel("", now) })
			check("write-off", a.WriteOff, func(p *domain.Plan) ([]domain.Event, error) { return p.WriteOff("", now) })
			check("reactivate", a.Reactivate, func(p *domain.Plan) ([]domain.Event, error) { return p.Reactivate(now) })
			check("resend-introduction", a.ResendIntroduction, func(p *domain.Plan) ([]domain.Event, error) { return p.ResendIntroduction(now) })
			check("portal-link", a.PortalLink, func(p *domain.Plan) ([]domain.Event, error) { return p.RegeneratePortalLink("new", now) })
			for _, pay := range append(p.Payments(), domain.Payment{ID: 404}) {
				check("confirm-payment", slices.Contains(a.ConfirmPayment, pay.ID), func(p *domain.Plan) ([]domain.Event, error) {
					return p.ConfirmPayment(pay.ID, "", now)
				})
				check("reject-payment", slices.Contains(a.RejectPayment, pay.ID), func(p *domain.Plan) ([]domain.Event, error) {
					return p.RejectPayment(pay.ID, "", now)
				})
			}
			for _, in := range append(p.Installments(), domain.InstallmentState{Number: 99}) {
				check("extend", slices.Contains(a.Extend, in.Number), func(p *domain.Plan) ([]domain.Event, error) {
					return p.ExtendInstallment(in.Number, in.DueDate.AddDays(10).String(), false, now)
				})
				check("defer", slices.Contains(a.Defer, in.Number), func(p *domain.Plan) ([]domain.Event, error) {
					return p.DeferInstallment(in.Number, now)
				})
			}
			for _, pr := range append(p.Proposals(), domain.Proposal{ID: 404}) {
				check("approve-proposal", slices.Contains(a.ApproveProposal, pr.ID), func(p *domain.Plan) ([]domain.Event, error) {
					return p.ApproveProposal(pr.ID, now)
				})
				check("counter-proposal", slices.Contains(a.CounterProposal, pr.ID), counter(pr.ID))
				check("decline-proposal", slices.Contains(a.DeclineProposal, pr.ID), func(p *domain.Plan) ([]domain.Event, error) {
					return p.DeclineProposal(pr.ID, "", now)
				})
			}
		})
	}
	if a := (&domain.Plan{}).Allowed(); a.Any() {
		t.Errorf("a plan that does not exist allows %+v", a)
	}
}

// TestResendIntroduction: a sent (or failed) introduction email may be
// asked for again; the plan then owes it (pending) until its outcome is
// recorded, and counts the requests.
func TestResendIntroduction(t *testing.T) {
	t.Parallel()
	sent := domain.IntroductionEmailSent{MessageID: "<m@x>", To: "a@b.c", SentAt: on("2025-11-27")}
	runPlanTests(t, []planTest{
		{name: "while it is being sent", given: pendingPlan(),
			when:    func(p *domain.Plan) ([]domain.Event, error) { return p.ResendIntroduction(on("2025-11-28")) },
			wantErr: conflict("The introduction email is being sent; it cannot be sent again until it is.")},
		{name: "after it was sent", given: seq(activePlan(), sent),
			when: func(p *domain.Plan) ([]domain.Event, error) { return p.ResendIntroduction(on("2025-11-28")) },
			want: []domain.Event{domain.IntroductionEmailResendRequested{Resend: 1, RequestedAt: on("2025-11-28")}},
			check: func(t *testing.T, p *domain.Plan) {
				if e := p.IntroductionEmail(); e.Status != domain.EmailPending || e.Resends != 1 {
					t.Fatalf("introduction email %+v", e)
				}
				evs, err := p.RecordIntroductionEmailSent("<m2@x>", "a@b.c", on("2025-11-28"))
				if err != nil || len(evs) != 1 {
					t.Fatalf("record the resent email: %v %v", evs, err)
				}
				p.Apply(evs[0])
				if e := p.IntroductionEmail(); e.Status != domain.EmailSent || e.Resends != 1 || e.MessageID != "<m2@x>" {
					t.Fatalf("introduction email %+v", e)
				}
			}},
		{name: "the second time", given: seq(activePlan(), sent,
			domain.IntroductionEmailResendRequested{Resend: 1, RequestedAt: on("2025-11-28")}, sent),
			when: func(p *domain.Plan) ([]domain.Event, error) { return p.ResendIntroduction(on("2025-11-29")) },
			want: []domain.Event{domain.IntroductionEmailResendRequested{Resend: 2, RequestedAt: on("2025-11-29")}}},
		{name: "a closed plan", given: cancelledPlan(),
			when:    func(p *domain.Plan) ([]domain.Event, error) { return p.ResendIntroduction(on("2025-11-29")) },
			wantErr: stateErr("resend the introduction email", domain.StatusCancelled)},
	})
}
