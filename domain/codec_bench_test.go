package domain_test

import (
	"testing"
	"time"

	"goodplan/domain"
)

// benchCreated is a plan as the API creates it by default: three monthly
// options of 3, 6 and 12 installments.
func benchCreated(b *testing.B) domain.PlanCreated {
	b.Helper()
	var p domain.Plan
	evs, err := p.CreatePlan(domain.CreatePlan{PlanID: 1, AccountID: 1, CustomerID: 2, InvoiceID: 3,
		OptionIDs: []int64{101, 102, 103}, PortalToken: "Z3wh7cZ3wh7cZ3wh7cZ3wh7cZ3wh7cZ3wh7cZ3wh7cZ",
		Now: time.Date(2025, 11, 27, 1, 15, 30, 0, time.UTC), CustomerName: "John Doe", CustomerEmail: "john@example.com",
		Amount: "1200.00", InvoiceNumber: "INV-2024-001", SendIntroductionEmail: true})
	if err != nil {
		b.Fatal(err)
	}
	return evs[0].(domain.PlanCreated)
}

func BenchmarkPlanCreatedMarshal(b *testing.B) {
	e := benchCreated(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := domain.MarshalEvent(e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlanCreatedUnmarshal(b *testing.B) {
	_, data, err := domain.MarshalEvent(benchCreated(b))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := domain.UnmarshalEvent(domain.EventPlanCreated, data); err != nil {
			b.Fatal(err)
		}
	}
}
