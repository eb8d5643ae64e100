package domain_test

import (
	"errors"
	"testing"

	"goodplan/domain"
)

// A surface words a problem by its field and code, never by its text: each
// message the portal rewords carries the code it is chosen by, and a rule
// message carries its text without the field's name.
func TestValidationProblemsCarryCodes(t *testing.T) {
	t.Parallel()
	p := fold(activePlan())
	_, err := p.ReportPayment(domain.PaymentInput{PaymentID: 9, PaidOn: "2030-01-01", Method: "bitcoin", Now: on("2025-12-02")})
	var ve *domain.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("report with no amount: %v", err)
	}
	for _, c := range []struct {
		field string
		code  domain.Code
		rule  string
	}{
		{"amount", domain.CodeRequired, "field is required."},
		{"method", domain.CodeNotOneOf, "must be one of e_transfer, check, cash, bank_transfer, other."},
		{"paid_on", domain.CodeInvalid, "may not be in the future."},
	} {
		if got := ve.Problem(c.field, 0); got.Code != c.code || got.Rule != c.rule || ve.Fields[c.field][0] != "The "+c.field+" "+c.rule {
			t.Errorf("%s: problem %+v, message %q", c.field, got, ve.Fields[c.field])
		}
	}

	_, err = p.ProposeSchedule(10, domain.TermsInput{Interval: "yearly", FirstPaymentDate: "2025-12-10"},
		domain.Consent{At: on("2025-12-02")})
	if !errors.As(err, &ve) || ve.Problem("installments", 0).Code != domain.CodeRequired ||
		ve.Problem("interval", 0).Code != domain.CodeNotOneOf {
		t.Fatalf("no installments, unknown interval: %v %+v", err, ve.Problems)
	}

	// Merged problems keep their codes; hand-made ones read as invalid.
	var merged domain.ValidationError
	merged.Merge(ve)
	merged.Add("reference", "Too long.")
	if merged.Problem("installments", 0).Code != domain.CodeRequired || merged.Problem("reference", 0).Code != domain.CodeInvalid ||
		(&domain.ValidationError{Fields: map[string][]string{"x": {"y"}}}).Problem("x", 0).Code != domain.CodeInvalid {
		t.Errorf("merged problems: %+v", merged.Problems)
	}
}

func TestPortalRulesLiveInDomain(t *testing.T) {
	t.Parallel()
	today := d("2025-12-02")
	if got := domain.LatestPaidOn(today); got != d("2025-12-03") {
		t.Errorf("LatestPaidOn = %s", got)
	}
	if got := domain.LatestFirstPaymentDate(today); got != today.AddDays(domain.MaxProposalDays) {
		t.Errorf("LatestFirstPaymentDate = %s", got)
	}
	active := fold(activePlan())
	ins := active.Installments()
	if !active.Overdue(ins[0], d("2025-12-05")) || active.Overdue(ins[0], d("2025-12-04")) || active.Overdue(ins[1], d("2025-12-05")) {
		t.Errorf("overdue: the first installment is overdue from the day after its due date, the second is not")
	}
	if !active.CanProposeSchedule() || !fold(pendingPlan()).CanProposeSchedule() || fold(completedPlan()).CanProposeSchedule() {
		t.Errorf("CanProposeSchedule: pending and active plans may propose, a completed one may not")
	}
	proposed := fold(activePlan())
	evs, err := proposed.ProposeSchedule(10, domain.TermsInput{Installments: "2", Interval: "monthly", FirstPaymentDate: "2025-12-10"},
		domain.Consent{At: on("2025-12-02")})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		proposed.Apply(e)
	}
	if proposed.CanProposeSchedule() {
		t.Errorf("a proposal waits for the merchant: no second one")
	}
}
