package domain_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
)

// fullCreated decides the seed's full example and returns its event.
func fullCreated(t *testing.T) domain.PlanCreated {
	t.Helper()
	var p domain.Plan
	events, err := p.CreatePlan(with(func(c *domain.CreatePlan) {
		c.CustomerPhone = "+1-555-123-4567"
		c.InvoiceNumber = "INV-2024-001"
		c.Description = "Past due consulting services"
		c.Intervals = []string{"weekly", "monthly"}
		c.Durations = []int{3, 6, 12}
	}))
	if err != nil {
		t.Fatal(err)
	}
	return events[0].(domain.PlanCreated)
}

func TestEventRoundTrip(t *testing.T) {
	t.Parallel()
	want := fullCreated(t)
	typ, data, err := domain.MarshalEvent(want)
	if err != nil {
		t.Fatal(err)
	}
	if typ != "plan.created" {
		t.Errorf("type = %q", typ)
	}
	got, err := domain.UnmarshalEvent(typ, data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, domain.Event(want)) {
		t.Errorf("round trip =\n%+v\nwant\n%+v", got, want)
	}
	// A pointer event marshals the same way.
	if typ2, data2, err := domain.MarshalEvent(&want); err != nil || typ2 != typ || string(data2) != string(data) {
		t.Errorf("MarshalEvent(&e) = %q, %s, %v", typ2, data2, err)
	}
}

func TestPlanCreatedJSONShape(t *testing.T) {
	t.Parallel()
	_, data, err := domain.MarshalEvent(fullCreated(t))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"plan_id", "account_id", "portal_token", "customer", "invoice", "plan_options", "send_introduction_email", "created_at"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("event data has no %q: %s", k, data)
		}
	}
	if got := raw["created_at"]; got != "2025-11-27T01:15:30Z" {
		t.Errorf("created_at = %v", got)
	}
	inv := raw["invoice"].(map[string]any)
	if inv["amount"] != "1200.00" || inv["currency"] != "USD" || inv["invoice_number"] != "INV-2024-001" || inv["id"] != float64(890) {
		t.Errorf("invoice = %v", inv)
	}
	cust := raw["customer"].(map[string]any)
	if cust["phone"] != "+1-555-123-4567" || cust["id"] != float64(567) {
		t.Errorf("customer = %v", cust)
	}
	opt := raw["plan_options"].([]any)[3].(map[string]any)
	wantOpt := map[string]any{
		"id": float64(104), "installments": float64(3), "interval": "monthly", "payment_amount": "400.00",
		"first_payment_date": "2025-12-04", "final_payment_date": "2026-02-04",
	}
	for k, v := range wantOpt {
		if opt[k] != v {
			t.Errorf("plan_options[3].%s = %v, want %v", k, opt[k], v)
		}
	}
	inst := opt["schedule"].([]any)[2].(map[string]any)
	if inst["number"] != float64(3) || inst["amount"] != "400.00" || inst["due_date"] != "2026-02-04" {
		t.Errorf("schedule[2] = %v", inst)
	}
	// The minimal request has no phone, invoice number or description.
	var p domain.Plan
	events, _ := p.CreatePlan(minimalCmd())
	_, data, _ = domain.MarshalEvent(events[0])
	for _, k := range []string{`"phone"`, `"invoice_number"`, `"description"`} {
		if strings.Contains(string(data), k) {
			t.Errorf("minimal event data has %s: %s", k, data)
		}
	}
}

func TestUnmarshalEventErrors(t *testing.T) {
	t.Parallel()
	_, err := domain.UnmarshalEvent("plan.exploded", []byte(`{}`))
	if !errors.Is(err, domain.ErrUnknownEventType) || !strings.Contains(err.Error(), "plan.exploded") {
		t.Errorf("unknown type error = %v", err)
	}
	for _, data := range []string{`{`, `{"invoice":{"amount":"1.2e3"}}`, `{"plan_options":[{"first_payment_date":"2025-02-30"}]}`} {
		if _, err := domain.UnmarshalEvent(domain.EventPlanCreated, []byte(data)); err == nil || errors.Is(err, domain.ErrUnknownEventType) {
			t.Errorf("UnmarshalEvent(%s) error = %v, want a decode error", data, err)
		}
	}
	if _, _, err := domain.MarshalEvent(nil); err == nil {
		t.Errorf("MarshalEvent(nil) succeeded")
	}
}

func TestPlanFold(t *testing.T) {
	t.Parallel()
	e := fullCreated(t)
	typ, data, _ := domain.MarshalEvent(e)
	decoded, err := domain.UnmarshalEvent(typ, data)
	if err != nil {
		t.Fatal(err)
	}
	var zero domain.Plan
	if zero.Exists() || zero.Version() != 0 || zero.Status() != "" {
		t.Errorf("zero plan exists")
	}

	var p domain.Plan
	p.Apply(decoded)
	if !p.Exists() || p.Version() != 1 {
		t.Fatalf("after PlanCreated: exists %v version %d", p.Exists(), p.Version())
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"ID", p.ID(), int64(42)},
		{"AccountID", p.AccountID(), int64(1)},
		{"Status", p.Status(), domain.StatusPending},
		{"Customer", p.Customer(), domain.Customer{ID: 567, Name: "John Doe", Email: "john@example.com", Phone: "+1-555-123-4567"}},
		{"Invoice", p.Invoice(), domain.Invoice{ID: 890, Amount: money("1200", usd), Currency: "USD", InvoiceNumber: "INV-2024-001", Description: "Past due consulting services"}},
		{"Options", p.Options(), e.Options},
		{"PortalToken", p.PortalToken(), "abc123"},
		{"SendIntroductionEmail", p.SendIntroductionEmail(), true},
		{"CreatedAt", p.CreatedAt(), seedNow},
		{"UpdatedAt", p.UpdatedAt(), seedNow},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s() = %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(p.Options()) != 6 {
		t.Errorf("%d options, want 6", len(p.Options()))
	}

	// Options returns a copy: changing it does not change the plan.
	opts := p.Options()
	opts[0].ID = 999
	opts[0].Schedule[0].DueDate = d("2000-01-01")
	if got := p.Options(); got[0].ID != 101 || got[0].Schedule[0].DueDate != d("2025-12-04") {
		t.Errorf("Options() aliases the plan's state: %+v", got[0])
	}
	// Nor does changing the event after it was applied.
	e.Options[0].Schedule[0].Number = 77
	if p.Options()[0].Schedule[0].Number != 1 {
		t.Errorf("plan aliases the applied event's schedule")
	}
}

func TestPlanApplyAt(t *testing.T) {
	t.Parallel()
	recorded := time.Date(2025, 11, 27, 1, 15, 31, 123456000, time.UTC)
	var p domain.Plan
	e := created(seedMonthly3())
	p.ApplyAt(&e, recorded) // pointer events fold too
	if p.ID() != 42 || p.Version() != 1 {
		t.Fatalf("pointer event not folded")
	}
	if !p.UpdatedAt().Equal(recorded) || !p.CreatedAt().Equal(seedNow) {
		t.Errorf("UpdatedAt %v CreatedAt %v", p.UpdatedAt(), p.CreatedAt())
	}
	// An event the plan does not react to advances the version only.
	p.Apply(otherEvent{})
	if p.Version() != 2 || !p.UpdatedAt().Equal(recorded) {
		t.Errorf("after unknown event: version %d, updated %v", p.Version(), p.UpdatedAt())
	}
	later := recorded.Add(time.Hour)
	p.ApplyAt(otherEvent{}, later)
	if p.Version() != 3 || !p.UpdatedAt().Equal(later) {
		t.Errorf("ApplyAt did not record the time: %v", p.UpdatedAt())
	}
}

type otherEvent struct{}

func (otherEvent) EventType() string { return "test.other" }
