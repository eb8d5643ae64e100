package domain_test

import (
	"encoding/json"
	"errors"
	"testing"

	"goodplan/domain"
)

// farPlan is activePlan with its three monthly installments moved to
// 9999-10-10, 9999-11-10 and 9999-12-10.
func farPlan() []domain.Event {
	return seq(activePlan(), domain.InstallmentExtensionGranted{Installment: 1, ShiftFollowing: true,
		Changes: []domain.DueDateChange{
			{Installment: 1, From: d("2025-12-04"), To: d("9999-10-10")},
			{Installment: 2, From: d("2026-01-04"), To: d("9999-11-10")},
			{Installment: 3, From: d("2026-02-04"), To: d("9999-12-10")},
		}, GrantedAt: on("2025-12-01")})
}

// TestDateRange: no command records a date outside 1970-01-01..9999-12-31;
// one that would is refused with a 422 on the field.
func TestDateRange(t *testing.T) {
	t.Parallel()
	when := on("2025-12-05")
	extend := func(n int, due string, shift bool) decision {
		return func(p *domain.Plan) ([]domain.Event, error) { return p.ExtendInstallment(n, due, shift, when) }
	}
	deferInst := func(n int) decision {
		return func(p *domain.Plan) ([]domain.Event, error) { return p.DeferInstallment(n, when) }
	}
	far := on("9999-06-01")
	runPlanTests(t, []planTest{
		{
			name: "extend with the following installments past 9999-12-31", given: farPlan(),
			when:    extend(1, "9999-12-01", true),
			wantErr: invalid("due_date", "The due_date would move installment 2 past 9999-12-31."),
		},
		{
			name: "extend alone up to 9999-12-31", given: farPlan(),
			when: extend(3, "9999-12-31", false),
			want: []domain.Event{domain.InstallmentExtensionGranted{Installment: 3, Changes: []domain.DueDateChange{
				{Installment: 3, From: d("9999-12-10"), To: d("9999-12-31")}}, GrantedAt: when}},
		},
		{
			name: "extend to a five-digit year", given: farPlan(),
			when: extend(3, "10000-01-15", false), wantErr: invalid("due_date", "YYYY-MM-DD"),
		},
		{
			name: "defer the last installment past 9999-12-31", given: farPlan(),
			when:    deferInst(3),
			wantErr: invalid("installment", "Installment 3 cannot be deferred: one interval after the last due date is past 9999-12-31."),
		},
		{
			name: "defer the first installment past 9999-12-31", given: farPlan(),
			when: deferInst(1), wantErr: invalid("installment", "past 9999-12-31"),
		},
		{
			name: "paid_on before 1970", given: activePlan(),
			when: record(func() domain.PaymentInput {
				in := payment(91, "100.00")
				in.PaidOn = "1969-12-31"
				return in
			}()),
			wantErr: invalid("paid_on", "The paid_on may not be before 1970-01-01."),
		},
		{
			name: "a proposal whose schedule would end after 9999", given: activePlan(),
			when:    propose(31, "12", "monthly", "9999-07-01", far),
			wantErr: invalid("first_payment_date", "The first_payment_date is too late: the schedule would end after 9999-12-31."),
		},
		{
			name: "a proposal that ends on 9999-12-01", given: activePlan(),
			when: propose(31, "6", "monthly", "9999-07-01", far),
			check: func(t *testing.T, p *domain.Plan) {
				if pr, ok := p.OpenProposal(); !ok || pr.Schedule[5].DueDate != d("9999-12-01") {
					t.Errorf("proposal = %+v", pr)
				}
			},
		},
		{
			name: "a counter whose schedule would end after 9999",
			given: then(t, activePlan(), func(p *domain.Plan) ([]domain.Event, error) {
				return p.ProposeSchedule(31, terms("2", "monthly", "9999-07-01"), portalConsent(far))
			}),
			when:    counter(31, "12", "weekly", "9999-12-01", "", far),
			wantErr: invalid("first_payment_date", "after 9999-12-31"),
		},
		{
			name: "a plan created in 9999 whose 12 monthly payments would end after it",
			when: func(p *domain.Plan) ([]domain.Event, error) {
				cmd := minimalCmd()
				cmd.Now = far
				cmd.Durations = []int{3, 12}
				return p.CreatePlan(cmd)
			},
			wantErr: invalid("options.first_payment_date", "The options.first_payment_date is too late: a schedule would end after 9999-12-31."),
		},
	})
}

func TestDateJSONNeverWritesAFiveDigitYear(t *testing.T) {
	t.Parallel()
	_, err := json.Marshal(domain.NewDate(10000, 1, 15))
	if !errors.Is(err, domain.ErrDateOutOfRange) {
		t.Fatalf("marshal 10000-01-15: err = %v, want ErrDateOutOfRange", err)
	}
	b, err := json.Marshal(domain.MaxDate)
	if err != nil || string(b) != `"9999-12-31"` {
		t.Fatalf("marshal MaxDate = %s, %v", b, err)
	}
	var back domain.Date
	if err := json.Unmarshal(b, &back); err != nil || back != domain.MaxDate {
		t.Fatalf("unmarshal %s = %v, %v", b, back, err)
	}
	if !domain.MinDate.InRange() || !domain.MaxDate.InRange() || domain.MaxDate.AddDays(1).InRange() ||
		domain.MinDate.AddDays(-1).InRange() {
		t.Fatal("InRange is not inclusive of MinDate..MaxDate only")
	}
	// An event carrying such a date cannot be encoded, so it is never stored.
	_, _, err = domain.MarshalEvent(domain.InstallmentDeferred{Installment: 1, From: domain.MaxDate, To: domain.NewDate(10000, 1, 31)})
	if !errors.Is(err, domain.ErrDateOutOfRange) {
		t.Fatalf("MarshalEvent: err = %v, want ErrDateOutOfRange", err)
	}
}
