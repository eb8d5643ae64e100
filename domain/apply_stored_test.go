package domain_test

import (
	"strings"
	"testing"
	"time"

	"goodplan/domain"
)

// TestApplyStoredRefusesWhatApplyAtPanicsOn: a stored event that
// contradicts the plan (a payment in another scale than the plan's USD,
// stored before the boundary refused it) is an error from ApplyStored, never
// a panic that would take down the reader folding it.
func TestApplyStoredRefusesWhatApplyAtPanicsOn(t *testing.T) {
	t.Parallel()
	p := fold(activePlan())
	e, err := domain.UnmarshalEvent(domain.EventInstallmentPaid, []byte(`{"payment_id":1,"installment":1,"amount":"1"}`))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	err = p.ApplyStored(e, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err == nil || !strings.Contains(err.Error(), "installment.paid cannot be applied") {
		t.Fatalf("ApplyStored = %v, want an error naming the event", err)
	}
	ok := fold(activePlan())
	if err := ok.ApplyStored(domain.PlanCancelled{Reason: "x", CancelledAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, time.Time{}); err != nil {
		t.Fatalf("ApplyStored of a good event: %v", err)
	}
}
