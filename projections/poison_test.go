package projections_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/projections"
)

// TestStorableJSON: every document PostgreSQL's jsonb refuses (NUL, bad
// UTF-8, \u0000, unpaired surrogates) is made storable, and jsonb takes
// the result; a clean document is returned untouched.
func TestStorableJSON(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	for _, c := range []struct{ in, want string }{
		{`{"a":"plain <\u003c> \"q\" \\ \n"}`, `{"a":"plain <\u003c> \"q\" \\ \n"}`},
		{`{"a":"x\u0000y"}`, `{"a":"x\ufffdy"}`},
		{`{"a":"x\\u0000y"}`, `{"a":"x\\u0000y"}`}, // a backslash, then text
		{`{"a":"x\\\u0000y"}`, `{"a":"x\\\ufffdy"}`},
		{`{"a":"\ud83d\ude00"}`, `{"a":"\ud83d\ude00"}`},
		{`{"a":"\ud83d!","b":"\ude00"}`, `{"a":"\ufffd!","b":"\ufffd"}`},
		{`{"a":"\ud83d\u0000"}`, `{"a":"\ufffd\ufffd"}`},
		{"{\"a\":\"x\xffy\"}", "{\"a\":\"x\uFFFDy\"}"},
		{"{\"a\":\"x\x00y\"}", `{"a":"x\ufffdy"}`},
		{`{"a":"\u00e9\uD7FF"}`, `{"a":"\u00e9\uD7FF"}`},
	} {
		got := projections.StorableJSON([]byte(c.in))
		if string(got) != c.want {
			t.Errorf("storableJSON(%q) = %q, want %q", c.in, got, c.want)
			continue
		}
		var out string
		if err := pool.QueryRow(context.Background(), `SELECT $1::jsonb::text`, string(got)).Scan(&out); err != nil {
			t.Errorf("jsonb refuses %q: %v", got, err)
		}
	}
	clean := []byte(`{"a":"b"}`)
	if got := projections.StorableJSON(clean); &got[0] != &clean[0] {
		t.Error("a clean document was copied")
	}
	if got := projections.StorableText("a\x00b\xffc"); got != "a\uFFFDb\uFFFDc" {
		t.Errorf("storableText = %q", got)
	}
}

// createPoisonedPlan appends a plan.created whose stored JSON holds what
// PostgreSQL text refuses (as events stored before the input boundary
// cleaned them may): NUL escapes in the customer's name and the invoice
// description, invalid UTF-8, and a \u0000 and a lone surrogate in the
// options, which the read model keeps as stored.
func createPoisonedPlan(t *testing.T, store *eventstore.Store) eventstore.Record {
	t.Helper()
	ctx := context.Background()
	next := func() int64 {
		id, err := store.NextID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	var p domain.Plan
	evs, err := p.CreatePlan(domain.CreatePlan{PlanID: next(), AccountID: 1, CustomerID: next(), InvoiceID: next(),
		OptionIDs: []int64{next(), next(), next()}, PortalToken: "tok-poison", Now: time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC), CustomerName: "ANNNAME",
		CustomerEmail: "ann@example.com", Amount: "90.00", Description: "DESCRIPTION", SendIntroductionEmail: true})
	if err != nil {
		t.Fatal(err)
	}
	ne, err := eventstore.Encode(evs)
	if err != nil {
		t.Fatal(err)
	}
	data := ne[0].Data
	for old, new := range map[string]string{
		`"ANNNAME"`:          `"Ann\u0000Nul"`,
		`"DESCRIPTION"`:      "\"bad \\u0000 and \xff bytes\"",
		`"plan_options":[{"`: `"plan_options":[{"note":"\u0000\ud800","`,
	} {
		if !bytes.Contains(data, []byte(old)) {
			t.Fatalf("plan.created has no %s: %s", old, data)
		}
		data = bytes.Replace(data, []byte(old), []byte(new), 1)
	}
	ne[0].Data = data
	recs, err := store.Append(ctx, eventstore.PlanStream(evs[0].(domain.PlanCreated).PlanID), eventstore.Head{}, ne, eventstore.Metadata{AccountID: 1})
	if err != nil {
		t.Fatal(err)
	}
	return recs[0]
}

// TestPoisonedEventsInProjectionAndReplay: a plan whose stored text jsonb
// refuses still gets its (sanitized) row, live and in replay, with no
// difference between the two; a stream that cannot be folded at all is
// reported by replay, every other plan is rebuilt, and a swap keeps the
// failed plan's live row.
func TestPoisonedEventsInProjectionAndReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := eventstore.New(pgtest.NewPool(t))
	plans := projections.NewPlans(store)
	now := time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC)
	apply := func(recs ...eventstore.Record) {
		t.Helper()
		for _, r := range recs {
			if err := plans.Apply(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	apply(createPlan(t, store, 1, "10.00", now, true)...)
	poisoned := createPoisonedPlan(t, store)
	apply(poisoned)
	// The batch path (a whole transaction) takes it too.
	if err := plans.ApplyBatch(ctx, []eventstore.Record{poisoned}); err != nil {
		t.Fatal(err)
	}
	d, err := plans.Get(ctx, 1, mustPlanID(t, poisoned.StreamID), publicURL)
	if err != nil {
		t.Fatal(err)
	}
	if d.Customer.Name != "Ann\uFFFDNul" || d.Invoice.Description != "bad \uFFFD and \uFFFD bytes" || len(d.PlanOptions) != 3 {
		t.Fatalf("poisoned plan read back as %q / %q / %d options", d.Customer.Name, d.Invoice.Description, len(d.PlanOptions))
	}
	res, err := projections.Replay(ctx, store, projections.ReplayOptions{CatchUpWait: time.Second})
	if err != nil || len(res.Diffs) != 0 || len(res.Failed) != 0 || res.Plans != 2 {
		t.Fatalf("replay with a poisoned plan: %+v, %v", res, err)
	}

	// A plan whose second event cannot be decoded: its live row has
	// version 1; replay cannot fold it.
	broken := createPlan(t, store, 1, "20.00", now, false)
	apply(broken...)
	bad, err := store.Append(ctx, broken[0].StreamID, broken[0].Head(),
		[]eventstore.NewEvent{{ID: uuid.New(), Type: domain.EventIntroductionEmailSent, Data: []byte(`{"sent_at":`)}}, eventstore.Metadata{AccountID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := plans.Apply(ctx, bad[0]); err == nil {
		t.Fatal("the projection folded an undecodable event")
	}
	// And a stream of nothing but garbage, never projected.
	garbageID, err := store.NextID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	garbage := eventstore.PlanStream(garbageID)
	if _, err := store.Append(ctx, garbage, eventstore.Head{},
		[]eventstore.NewEvent{{ID: uuid.New(), Type: domain.EventPlanCreated, Data: []byte(`not json`)}}, eventstore.Metadata{AccountID: 1}); err != nil {
		t.Fatal(err)
	}
	apply(createPlan(t, store, 1, "30.00", now, false)...)

	res, err = projections.Replay(ctx, store, projections.ReplayOptions{Swap: true, CatchUpWait: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 2 || res.Plans != 3 || len(res.Diffs) != 0 || !res.Swapped {
		t.Fatalf("replay: %d plans, failed %v, diffs %v, swapped %v", res.Plans, res.Failed, res.Diffs, res.Swapped)
	}
	failed := res.Failed[0].String() + "\n" + res.Failed[1].String()
	for _, want := range []string{broken[0].StreamID + ": version 2: ", garbage + ": version 1: "} {
		if !strings.Contains(failed, want) {
			t.Errorf("failures do not say %q:\n%s", want, failed)
		}
	}
	// The swap kept the live row of the plan it could not rebuild.
	if d, err := plans.Get(ctx, 1, mustPlanID(t, broken[0].StreamID), publicURL); err != nil || d.Version != 1 {
		t.Fatalf("broken plan after the swap: %+v, %v", d, err)
	}
	if _, err := plans.Get(ctx, 1, mustPlanID(t, poisoned.StreamID), publicURL); err != nil {
		t.Fatalf("poisoned plan after the swap: %v", err)
	}
}

// TestDeadLetteredPlanIsFoldedOnRead: while a plan's stream has an
// unresolved dead letter, reads fold it from the store: by id, in a list,
// and by portal token when it has no row at all.
func TestDeadLetteredPlanIsFoldedOnRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := eventstore.New(pgtest.NewPool(t))
	plans := projections.NewPlans(store)
	now := time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC)
	behind := createPlan(t, store, 1, "40.00", now, true) // v1 projected, v2 set aside
	if err := plans.Apply(ctx, behind[0]); err != nil {
		t.Fatal(err)
	}
	missing := createPlan(t, store, 1, "50.00", now, false) // never projected
	id, missingID := mustPlanID(t, behind[0].StreamID), mustPlanID(t, missing[0].StreamID)

	version := func() int64 {
		t.Helper()
		d, err := plans.Get(ctx, 1, id, publicURL)
		if err != nil {
			t.Fatal(err)
		}
		return d.Version
	}
	if v := version(); v != 1 {
		t.Fatalf("row version %d", v)
	}
	if _, err := plans.PlanIDByToken(ctx, "tok-50.00"); err == nil {
		t.Fatal("an unprojected plan found by token without a dead letter")
	}
	var dlIDs []int64
	for _, r := range []eventstore.Record{behind[1], missing[0]} {
		dl, err := store.RecordDeadLetter(ctx, eventstore.NewDeadLetter{EventID: r.EventID, StreamID: r.StreamID,
			EventType: r.Type, Consumer: "projection-plans", Attempts: 5, Err: "boom"})
		if err != nil {
			t.Fatal(err)
		}
		dlIDs = append(dlIDs, dl)
	}
	if v := version(); v != 2 {
		t.Fatalf("dead-lettered plan read at version %d, want 2 (folded)", v)
	}
	wantFoldedJSON := func(d projections.Detail) {
		t.Helper()
		p, _, _, err := store.LoadPlan(ctx, d.PlanID)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := mustJSON(t, d), mustJSON(t, projections.DetailOf(p, publicURL)); got != want {
			t.Fatalf("read\n%s\nfold\n%s", got, want)
		}
	}
	items, _, err := plans.List(ctx, projections.ListQuery{AccountID: 1, Limit: 10}, publicURL)
	if err != nil || len(items) != 1 {
		t.Fatalf("list: %v, %v", planIDs(items), err)
	}
	wantFoldedJSON(items[0])
	if got, err := plans.PlanIDByToken(ctx, "tok-50.00"); err != nil || got != missingID {
		t.Fatalf("token of a dead-lettered plan without a row: %d, %v", got, err)
	}
	if _, err := plans.Get(ctx, 2, id, publicURL); err == nil {
		t.Fatal("another account read a dead-lettered plan")
	}
	for _, dl := range dlIDs {
		if err := store.ResolveDeadLetter(ctx, dl); err != nil {
			t.Fatal(err)
		}
	}
	if v := version(); v != 1 {
		t.Fatalf("resolved: read version %d, want the row's 1", v)
	}
}
