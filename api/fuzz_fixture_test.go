package api

import (
	"context"
	"strconv"
	"testing"

	"goodplan/domain"
	"goodplan/domain/domaintest"
	"goodplan/eventstore"
)

// The API and portal fuzz targets drive the real router against the real
// PostgreSQL: the commands' decoders are the handlers' own closures. Each
// input gets a fresh plan, appended in one go, in the state its command
// needs, so every input meets the same plan.

// fuzzState is the state of a fuzz input's plan.
type fuzzState int

const (
	fuzzPending   fuzzState = iota // three options, nothing chosen
	fuzzActive                     // 3 x 400.00 monthly from 2025-12-04
	fuzzReported                   // active, with 400.00 reported by the customer
	fuzzProposed                   // pending, with a proposal awaiting the merchant
	fuzzCountered                  // pending, with a counter-offer awaiting the customer
	fuzzCancelled                  // active, then cancelled
)

// fuzzFixture is a fuzz input's plan: its id, portal token, version, and
// the id of the payment or proposal its command is about (0 if none).
type fuzzFixture struct {
	id, version, target int64
	token               string
}

// fuzzPlan appends a new plan in state st (see fuzzState): 1200.00 USD,
// created at seedNow, with options of 3, 6 and 12 monthly installments.
func (e *testEnv) fuzzPlan(t testing.TB, st fuzzState) fuzzFixture {
	t.Helper()
	ctx := context.Background()
	nextID := func() int64 {
		id, err := e.store.NextID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	fx := fuzzFixture{id: nextID()}
	fx.token = "fuzz-" + strconv.FormatInt(fx.id, 10)
	var p domain.Plan
	var events []domain.Event
	step := func(got []domain.Event, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("fuzz plan in state %d: %v", st, err)
		}
		for _, ev := range got {
			p.Apply(ev)
		}
		events = append(events, got...)
	}
	step(p.CreatePlan(domain.CreatePlan{PlanID: fx.id, AccountID: e.acct.ID, CustomerID: nextID(), InvoiceID: nextID(),
		OptionIDs: []int64{nextID(), nextID(), nextID()}, PortalToken: fx.token, Now: seedNow, CustomerName: "Jane Roe", CustomerEmail: "jane@example.com",
		Amount: "1200.00", InvoiceNumber: "INV-7"}))
	consent := domain.Consent{At: seedNow, IP: portalIP, UserAgent: portalUA}
	if st == fuzzActive || st == fuzzReported || st == fuzzCancelled {
		step(p.SelectOption(domain.SelectOption{OptionID: p.Options()[0].ID, Consent: consent}))
	}
	switch st {
	case fuzzReported:
		fx.target = nextID()
		step(p.ReportPayment(domain.PaymentInput{PaymentID: fx.target, Amount: "400.00", Method: "e_transfer", Now: seedNow}))
	case fuzzProposed, fuzzCountered:
		fx.target = nextID()
		step(p.ProposeSchedule(fx.target, domain.TermsInput{Installments: "2", Interval: "monthly", FirstPaymentDate: "2025-12-10"}, consent))
		if st == fuzzCountered {
			step(p.CounterProposal(fx.target, domain.TermsInput{Installments: "4", Interval: "biweekly", FirstPaymentDate: "2025-12-11"},
				"Four payments work better for us.", seedNow))
		}
	case fuzzCancelled:
		step(p.Cancel("Paid another way.", seedNow))
	}
	recs, err := eventstore.Encode(events)
	if err != nil {
		t.Fatal(err)
	}
	meta := eventstore.Metadata{AccountID: e.acct.ID, Actor: domain.SourceMerchant}
	if _, err := e.store.Append(ctx, eventstore.PlanStream(fx.id), eventstore.Head{}, recs, meta); err != nil {
		t.Fatalf("append fuzz plan: %v", err)
	}
	fx.version = int64(len(events))
	return fx
}

// checkFuzzOutcome checks what a fuzzed request did to plan fx: with status
// ok it may have appended events, and each must be storable; with any
// other status it must have appended nothing.
func (e *testEnv) checkFuzzOutcome(t *testing.T, fx fuzzFixture, res response, ok bool, input string) {
	t.Helper()
	recs, _, err := e.store.LoadAfter(context.Background(), eventstore.PlanStream(fx.id), fx.version)
	if err != nil {
		t.Fatal(err)
	}
	if !ok && len(recs) > 0 {
		t.Fatalf("%s: answered %d but appended %d events", input, res.status, len(recs))
	}
	for _, r := range recs {
		ev, err := domain.UnmarshalEvent(r.Type, r.Data)
		if err != nil {
			t.Fatalf("%s: stored %s does not decode: %v", input, r.Type, err)
		}
		if err := domaintest.CheckStorable(ev); err != nil {
			t.Fatalf("%s: accepted (%d), but stored an event that is not storable: %v", input, res.status, err)
		}
	}
}
