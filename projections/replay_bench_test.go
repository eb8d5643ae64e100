package projections

import (
	"testing"
	"time"

	"goodplan/domain"
)

// benchStream is a plan.created as the bench dataset writes it: one
// monthly option of 3 installments, with a phone, an invoice number and a
// description.
func benchStream(b *testing.B) (string, []byte, []byte, time.Time) {
	b.Helper()
	now := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	var p domain.Plan
	evs, err := p.CreatePlan(domain.CreatePlan{PlanID: 1000, AccountID: 1, CustomerID: 1001, InvoiceID: 1002,
		OptionIDs: []int64{1003}, PortalToken: "bench00000000000000000000000000000000000042", Now: now,
		CustomerName: "Customer 42", CustomerEmail: "customer42@example.com", CustomerPhone: "+1-555-0100",
		Amount: "1234.56", Currency: "USD", InvoiceNumber: "INV-42", Description: "Past due consulting services",
		Intervals: []string{"monthly"}, Durations: []int{3}})
	if err != nil {
		b.Fatal(err)
	}
	typ, data, err := domain.MarshalEvent(evs[0])
	if err != nil {
		b.Fatal(err)
	}
	meta := []byte(`{"account_id":1,"actor":"merchant","command_id":"0b6f3c1e-9c1e-4d7a-8d0e-2f1e5b7a9c11","ip":"127.0.0.1","user_agent":"goodplan-bench/1"}`)
	return typ, data, meta, now
}

// BenchmarkReplayFold is replay's per-plan work in Go: fold one
// plan.created and encode its row.
func BenchmarkReplayFold(b *testing.B) {
	typ, data, meta, at := benchStream(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := foldStream(1, func(int) (string, []byte, []byte, time.Time) { return typ, data, meta, at }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplayDigest is replay's per-plan work in Go without --swap:
// fold one plan.created, encode its row and digest it as the live row
// would read (plan_views' column types).
func BenchmarkReplayDigest(b *testing.B) {
	typ, data, meta, at := benchStream(b)
	oids := []uint32{oidInt8, oidInt8, oidInt8, oidText, oidText, oidJSONB, oidJSONB, oidJSONB, oidInt8, oidBool, oidJSONB, oidJSONB,
		oidTimestamptz, oidDate, oidTimestamptz, oidTimestamptz, oidText, oidNumeric, oidNumeric, oidNumeric, oidNumeric,
		oidTimestamptz, oidBool, oidBool, oidTimestamptz, oidTimestamptz, oidDate, oidTimestamptz,
		oidDateArray, oidNumArray, oidDateArray, oidNumArray, oidDate, oidDate}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		row, err := foldStreamRow(1, func(int) (string, []byte, []byte, time.Time) { return typ, data, meta, at })
		if err != nil {
			b.Fatal(err)
		}
		var ok bool
		if buf, _, ok = row.digest(buf[:0], oids); !ok {
			b.Fatal("not digested")
		}
		if buf, _, _, ok = row.weeksDigest(buf[:0]); !ok {
			b.Fatal("weeks not digested")
		}
	}
}
