package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
)

// plan3 is 1200.00 USD over three monthly installments of 400.00 from
// 2025-12-04 (the seed's first payment date).
const plan3 = `{"customer":{"name":"Jane Roe","email":"jane@example.com"},"invoice":{"amount":"1200.00","invoice_number":"INV-7"},
	"options":{"intervals":["monthly"],"durations":[3]},"send_introduction_email":false}`

// planDetail is the part of the plan body the lifecycle tests read.
type planDetail struct {
	PlanID           int64  `json:"plan_id"`
	Status           string `json:"status"`
	Version          int64  `json:"version"`
	SelectedOptionID *int64 `json:"selected_option_id"`
	PortalURL        string `json:"customer_portal_url"`
	PlanOptions      []struct {
		ID int64 `json:"id"`
	} `json:"plan_options"`
	Schedule []struct {
		Number      int    `json:"number"`
		DueDate     string `json:"due_date"`
		Amount      string `json:"amount"`
		Paid        string `json:"paid"`
		Outstanding string `json:"outstanding"`
		Status      string `json:"status"`
	} `json:"schedule"`
	Ledger struct {
		Total, Paid, Reported, Outstanding string
	} `json:"ledger"`
	Payments []struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
		Amount string `json:"amount"`
	} `json:"payments"`
	Proposals []struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	} `json:"proposals"`
	ClosedReason string `json:"closed_reason"`
}

func decodePlan(t *testing.T, res response) planDetail {
	t.Helper()
	var d planDetail
	if err := json.Unmarshal(res.body, &d); err != nil {
		t.Fatalf("plan body: %v\n%s", err, res.body)
	}
	return d
}

func (e *testEnv) createPlan(t *testing.T) planDetail {
	t.Helper()
	res := e.do(t, "POST", "/api/v1/plans", e.key, []byte(plan3))
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	return e.get(t, decodePlan(t, res).PlanID)
}

// get is plan id folded from the store, in the API's shape (the read model
// is not running in these tests).
func (e *testEnv) get(t *testing.T, id int64) planDetail {
	t.Helper()
	p, _, _, err := e.store.LoadPlan(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return decodePlan(t, response{status: http.StatusOK, body: mustMarshal(t, projections.DetailOf(p, e.srv.publicURL))})
}

// postPlan POSTs body to /api/v1/plans/{id}{path}, checks the status and
// decodes the plan it answers.
func (e *testEnv) postPlan(t *testing.T, id int64, path, body string, want int) planDetail {
	t.Helper()
	res := e.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d%s", id, path), e.key, []byte(body))
	if res.status != want {
		t.Fatalf("POST %s: status %d, want %d: %s", path, res.status, want, res.body)
	}
	return decodePlan(t, res)
}

// asCustomer runs a customer's command on plan id through the store, as the
// portal does.
func (e *testEnv) asCustomer(t *testing.T, id int64, decide func(*domain.Plan) ([]domain.Event, error)) {
	t.Helper()
	meta := eventstore.Metadata{AccountID: e.acct.ID, Actor: "customer", IP: "203.0.113.7", UserAgent: "test-browser"}
	if _, err := eventstore.PlanAggregate.Run(context.Background(), e.store, eventstore.Cmd[*domain.Plan]{ID: id, Meta: meta, Decide: decide}); err != nil {
		t.Fatalf("customer command: %v", err)
	}
}

func (e *testEnv) selectFirst(t *testing.T, d planDetail) {
	t.Helper()
	e.asCustomer(t, d.PlanID, func(p *domain.Plan) ([]domain.Event, error) {
		return p.SelectOption(domain.SelectOption{OptionID: d.PlanOptions[0].ID,
			Consent: domain.Consent{At: e.clock.now(), IP: "203.0.113.7", UserAgent: "test-browser"}})
	})
}

func (e *testEnv) report(t *testing.T, id int64, amount string) int64 {
	t.Helper()
	pid, err := e.store.NextID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e.asCustomer(t, id, func(p *domain.Plan) ([]domain.Event, error) {
		return p.ReportPayment(domain.PaymentInput{PaymentID: pid, Amount: amount, Method: "e_transfer", Now: e.clock.now()})
	})
	return pid
}

func (e *testEnv) propose(t *testing.T, id int64, n, interval, first string) int64 {
	t.Helper()
	pid, err := e.store.NextID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e.asCustomer(t, id, func(p *domain.Plan) ([]domain.Event, error) {
		return p.ProposeSchedule(pid, domain.TermsInput{Installments: n, Interval: interval, FirstPaymentDate: first},
			domain.Consent{At: e.clock.now(), IP: "203.0.113.7", UserAgent: "test-browser"})
	})
	return pid
}

func (e *testEnv) eventTypes(t *testing.T, id int64) []string {
	t.Helper()
	recs, _, err := e.store.Load(context.Background(), eventstore.PlanStream(id))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Type
	}
	return out
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func statuses(d planDetail) string {
	var s []string
	for _, in := range d.Schedule {
		s = append(s, fmt.Sprintf("%d:%s:%s/%s:%s", in.Number, in.DueDate, in.Paid, in.Amount, in.Status))
	}
	return strings.Join(s, " ")
}

func TestLedgerThroughTheAPI(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	d := env.createPlan(t)
	env.selectFirst(t, d)
	id := d.PlanID

	// Customer reports 400.00; the merchant confirms it.
	pay := env.report(t, id, "400.00")
	d = env.get(t, id)
	if got := statuses(d); got != "1:2025-12-04:0.00/400.00:reported 2:2026-01-04:0.00/400.00:pending 3:2026-02-04:0.00/400.00:pending" {
		t.Fatalf("after report: %s", got)
	}
	if d.Ledger.Reported != "400.00" || d.Ledger.Paid != "0.00" || d.Ledger.Outstanding != "1200.00" {
		t.Fatalf("ledger after report: %+v", d.Ledger)
	}
	d = env.postPlan(t, id, fmt.Sprintf("/payments/%d/confirm", pay), ``, http.StatusOK)
	if d.Ledger.Paid != "400.00" || d.Ledger.Outstanding != "800.00" || d.Ledger.Reported != "0.00" || d.Schedule[0].Status != "confirmed" {
		t.Fatalf("after confirm: %+v %s", d.Ledger, statuses(d))
	}
	// A report the merchant never received is rejected: it stops counting.
	bogus := env.report(t, id, "800.00")
	d = env.postPlan(t, id, fmt.Sprintf("/payments/%d/reject", bogus), `{"reason":"Not in our account."}`, http.StatusOK)
	if d.Ledger.Reported != "0.00" || d.Payments[1].Status != "rejected" || d.Schedule[1].Status != "pending" {
		t.Fatalf("after the rejection: %+v %+v %s", d.Ledger, d.Payments, statuses(d))
	}
	// Confirming twice is a conflict and appends nothing.
	v := d.Version
	res := env.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d/payments/%d/confirm", id, pay), env.key, nil)
	if res.status != http.StatusConflict || !strings.Contains(string(res.body), "already confirmed") {
		t.Fatalf("confirm twice: %d %s", res.status, res.body)
	}
	if env.get(t, id).Version != v {
		t.Fatal("a refused confirmation appended events")
	}

	// A partial payment: the shortfall stays on installment 2.
	d = env.postPlan(t, id, "/payments", `{"amount":"150.00","method":"check","paid_on":"2025-11-27","reference":"CHK 1001"}`, http.StatusCreated)
	if got := statuses(d); got != "1:2025-12-04:400.00/400.00:confirmed 2:2026-01-04:150.00/400.00:partially_paid 3:2026-02-04:0.00/400.00:pending" {
		t.Fatalf("after partial: %s", got)
	}
	// An overpayment of installment 2 runs on into installment 3.
	d = env.postPlan(t, id, "/payments", `{"amount":500,"method":"bank_transfer"}`, http.StatusCreated)
	if got := statuses(d); got != "1:2025-12-04:400.00/400.00:confirmed 2:2026-01-04:400.00/400.00:confirmed 3:2026-02-04:250.00/400.00:partially_paid" {
		t.Fatalf("after overpayment: %s", got)
	}
	if d.Ledger.Paid != "1050.00" || d.Ledger.Outstanding != "150.00" || d.Status != "active" {
		t.Fatalf("ledger after overpayment: %+v %s", d.Ledger, d.Status)
	}
	// More than is outstanding is refused with a field error, and nothing changes.
	v = d.Version
	res = env.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d/payments", id), env.key, []byte(`{"amount":"150.01","method":"cash"}`))
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(string(res.body), `"amount":["The amount may not be greater than the outstanding balance of 150.00 USD."]`) {
		t.Fatalf("overpay the plan: %d %s", res.status, res.body)
	}
	// The last 150.00 completes the plan.
	d = env.postPlan(t, id, "/payments", `{"amount":"150.00","method":"cash"}`, http.StatusCreated)
	if d.Version != v+3 || d.Status != "completed" || d.Ledger.Outstanding != "0.00" || d.Ledger.Paid != "1200.00" {
		t.Fatalf("after the last payment: v%d %s %+v", d.Version, d.Status, d.Ledger)
	}
	want := []string{"plan.created", "plan.activated", "installment.paid", "installment.confirmed",
		"installment.paid", "payment.rejected",
		"installment.paid", "installment.confirmed", "installment.paid", "installment.confirmed",
		"installment.paid", "installment.confirmed", "plan.completed"}
	if got := env.eventTypes(t, id); !slices.Equal(got, want) {
		t.Fatalf("events:\n%v\nwant\n%v", got, want)
	}
	// Every merchant action is recorded as the merchant, the others as the customer.
	page := env.eventsPage(t, id, "")
	if len(page.Items) != len(want) || page.HasMore {
		t.Fatalf("events page: %d items, has_more %v", len(page.Items), page.HasMore)
	}
	for i, h := range page.Items {
		wantActor := "merchant"
		if i == 1 || i == 2 || i == 4 { // the choice and the two reports
			wantActor = "customer"
		}
		if h.Metadata.Actor != wantActor {
			t.Fatalf("event %d %s by %q, want %q", i, h.Type, h.Metadata.Actor, wantActor)
		}
	}
}

func TestExtendAndDeferThroughTheAPI(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	d := env.createPlan(t)
	env.selectFirst(t, d)
	id := d.PlanID

	d = env.postPlan(t, id, "/installments/1/extend", `{"due_date":"2025-12-20"}`, http.StatusOK)
	if got := statuses(d); got != "1:2025-12-20:0.00/400.00:pending 2:2026-01-04:0.00/400.00:pending 3:2026-02-04:0.00/400.00:pending" {
		t.Fatalf("extend alone: %s", got)
	}
	d = env.postPlan(t, id, "/installments/2/extend", `{"due_date":"2026-01-14","shift_following":true}`, http.StatusOK)
	if got := statuses(d); got != "1:2025-12-20:0.00/400.00:pending 2:2026-01-14:0.00/400.00:pending 3:2026-02-14:0.00/400.00:pending" {
		t.Fatalf("extend with shift: %s", got)
	}
	d = env.postPlan(t, id, "/installments/1/defer", ``, http.StatusOK)
	if got := statuses(d); got != "2:2026-01-14:0.00/400.00:pending 3:2026-02-14:0.00/400.00:pending 1:2026-03-14:0.00/400.00:pending" {
		t.Fatalf("defer: %s", got)
	}
	// A payment now goes to the earliest due installment, number 2.
	d = env.postPlan(t, id, "/payments", `{"amount":"400.00","method":"cash"}`, http.StatusCreated)
	if got := statuses(d); !strings.HasPrefix(got, "2:2026-01-14:400.00/400.00:confirmed") {
		t.Fatalf("payment after defer: %s", got)
	}

	v := d.Version
	for _, c := range []struct {
		path, body string
		status     int
		want       string
	}{
		{"/installments/2/extend", `{"due_date":"2026-12-01"}`, http.StatusConflict, "Installment 2 is already paid in full."},
		{"/installments/2/defer", ``, http.StatusConflict, "Installment 2 is already paid in full."},
		{"/installments/9/extend", `{"due_date":"2026-12-01"}`, http.StatusNotFound, "Installment 9 is not on this plan's schedule."},
		{"/installments/x/defer", ``, http.StatusNotFound, "Installment x was not found on this plan."},
		{"/installments/3/extend", `{"due_date":"2026-02-01"}`, http.StatusUnprocessableEntity, "The due_date must be after the current due date 2026-02-14."},
		{"/installments/3/extend", `{"due_date":"14/02/2026"}`, http.StatusUnprocessableEntity, "The due_date must be a date in YYYY-MM-DD format."},
		{"/installments/3/extend", `{}`, http.StatusUnprocessableEntity, "The due_date field is required."},
		{"/installments/3/extend", `{"due_date":"2026-03-01","shift_following":"yes"}`, http.StatusUnprocessableEntity, "The shift_following field must be true or false."},
		{"/installments/3/extend", `{"due_date":`, http.StatusBadRequest, "The request body is not valid JSON."},
		{"/installments/3/extend", `[1]`, http.StatusBadRequest, "The request body must be a JSON object."},
	} {
		res := env.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d%s", id, c.path), env.key, []byte(c.body))
		if res.status != c.status || !strings.Contains(string(res.body), c.want) {
			t.Errorf("POST %s %s: %d %s, want %d %q", c.path, c.body, res.status, res.body, c.status, c.want)
		}
		if !json.Valid(res.body) {
			t.Errorf("POST %s: body is not JSON: %s", c.path, res.body)
		}
	}
	if env.get(t, id).Version != v {
		t.Fatal("refused commands appended events")
	}
}

func TestProposalsThroughTheAPI(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	// A pending plan: the customer proposes, the merchant approves; the plan
	// becomes active on the proposal's schedule.
	d := env.createPlan(t)
	pr := env.propose(t, d.PlanID, "4", "biweekly", "2025-12-01")
	d = env.postPlan(t, d.PlanID, fmt.Sprintf("/proposals/%d/approve", pr), ``, http.StatusOK)
	if d.Status != "active" || len(d.Schedule) != 4 || d.Schedule[3].DueDate != "2026-01-12" || d.Proposals[0].Status != "approved" || d.SelectedOptionID != nil {
		t.Fatalf("approved: %s %s %+v", d.Status, statuses(d), d.Proposals)
	}
	if got := env.eventTypes(t, d.PlanID); !slices.Equal(got, []string{"plan.created", "proposal.created", "proposal.approved", "plan.activated"}) {
		t.Fatalf("events: %v", got)
	}

	// An active plan with a partial payment: counter, the customer accepts.
	d = env.createPlan(t)
	env.selectFirst(t, d)
	env.postPlan(t, d.PlanID, "/payments", `{"amount":"500.00","method":"cash"}`, http.StatusCreated)
	pr = env.propose(t, d.PlanID, "2", "monthly", "2026-01-15")
	// One open proposal at a time.
	pid, _ := env.store.NextID(context.Background())
	_, err := eventstore.PlanAggregate.Run(context.Background(), env.store, eventstore.Cmd[*domain.Plan]{ID: d.PlanID, Meta: eventstore.Metadata{AccountID: env.acct.ID, Actor: "customer"}, Decide: func(p *domain.Plan) ([]domain.Event, error) {
		return p.ProposeSchedule(pid, domain.TermsInput{Installments: "2", Interval: "weekly", FirstPaymentDate: "2026-01-01"}, domain.Consent{At: env.clock.now()})
	}})
	var ce *domain.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("second open proposal: %v", err)
	}
	res := env.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d/proposals/%d/counter", d.PlanID, pr), env.key, []byte(`{"installments":"x","interval":"daily"}`))
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(string(res.body), `"interval":["The interval must be weekly, biweekly or monthly."]`) ||
		!strings.Contains(string(res.body), `"first_payment_date":["The first_payment_date field is required."]`) {
		t.Fatalf("bad counter: %d %s", res.status, res.body)
	}
	d = env.postPlan(t, d.PlanID, fmt.Sprintf("/proposals/%d/counter", pr), `{"installments":3,"interval":"monthly","first_payment_date":"2026-01-01","message":"Three payments work for us."}`, http.StatusOK)
	if d.Proposals[0].Status != "countered" {
		t.Fatalf("countered: %+v", d.Proposals)
	}
	// Approving a countered proposal is not allowed; the customer accepts it.
	res = env.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d/proposals/%d/approve", d.PlanID, pr), env.key, nil)
	if res.status != http.StatusConflict || !strings.Contains(string(res.body), fmt.Sprintf("Proposal %d is countered; it cannot be approved.", pr)) {
		t.Fatalf("approve countered: %d %s", res.status, res.body)
	}
	env.asCustomer(t, d.PlanID, func(p *domain.Plan) ([]domain.Event, error) {
		return p.AcceptCounter(pr, domain.Consent{At: env.clock.now(), IP: "203.0.113.7"})
	})
	d = env.get(t, d.PlanID)
	// 400 confirmed on 1, 100 on 2 (shrunk to 100), 700 over three new ones.
	if got := statuses(d); got != "1:2025-12-04:400.00/400.00:confirmed 3:2026-01-01:0.00/233.34:pending 2:2026-01-04:100.00/100.00:confirmed 4:2026-02-01:0.00/233.33:pending 5:2026-03-01:0.00/233.33:pending" {
		t.Fatalf("after the counter was accepted: %s", got)
	}
	if d.Ledger.Total != "1200.00" || d.Ledger.Outstanding != "700.00" {
		t.Fatalf("ledger: %+v", d.Ledger)
	}

	// Decline: a new proposal, declined with a reason; then nothing to answer.
	pr = env.propose(t, d.PlanID, "7", "weekly", "2025-12-01")
	d = env.postPlan(t, d.PlanID, fmt.Sprintf("/proposals/%d/decline", pr), `{"reason":"Too long."}`, http.StatusOK)
	if last := d.Proposals[len(d.Proposals)-1]; last.Status != "declined" {
		t.Fatalf("declined: %+v", d.Proposals)
	}
	for _, action := range []string{"approve", "decline", "counter"} {
		res := env.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d/proposals/%d/%s", d.PlanID, pr, action), env.key,
			[]byte(`{"installments":2,"interval":"weekly","first_payment_date":"2026-01-01"}`))
		if res.status != http.StatusConflict || !strings.Contains(string(res.body), "is declined") {
			t.Errorf("%s a declined proposal: %d %s", action, res.status, res.body)
		}
	}
	res = env.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d/proposals/424242/approve", d.PlanID), env.key, nil)
	if res.status != http.StatusNotFound {
		t.Fatalf("unknown proposal: %d %s", res.status, res.body)
	}
}

// TestTransitionsByStatus runs every merchant command on a plan in every
// status: the legal ones succeed, the illegal ones are a 409 naming the
// status and append nothing.
func TestTransitionsByStatus(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	// One plan per status, each reached through the API or the store.
	mk := func(status string) planDetail {
		d := env.createPlan(t)
		switch status {
		case "pending":
		case "active":
			env.selectFirst(t, d)
		case "completed":
			env.selectFirst(t, d)
			env.postPlan(t, d.PlanID, "/payments", `{"amount":"1200.00","method":"cash"}`, http.StatusCreated)
		case "cancelled":
			env.postPlan(t, d.PlanID, "/cancel", `{"reason":"Paid elsewhere"}`, http.StatusOK)
		case "written_off":
			env.selectFirst(t, d)
			env.postPlan(t, d.PlanID, "/write-off", ``, http.StatusOK)
		case "abandoned":
			_, err := eventstore.PlanAggregate.Run(ctx, env.store, eventstore.Cmd[*domain.Plan]{ID: d.PlanID, Meta: eventstore.Metadata{AccountID: env.acct.ID, Actor: "scheduler"}, Decide: func(p *domain.Plan) ([]domain.Event, error) {
				return p.Tick(env.clock.now().Add(domain.AbandonAfter), 3), nil
			}})
			if err != nil {
				t.Fatal(err)
			}
		}
		d = env.get(t, d.PlanID)
		if d.Status != status {
			t.Fatalf("setup %s: plan is %s", status, d.Status)
		}
		return d
	}
	type command struct {
		name, path, body string
		legal            map[string]int // status -> expected HTTP status when legal
	}
	commands := []command{
		{"cancel", "/cancel", `{"reason":"x"}`, map[string]int{"pending": 200, "active": 200}},
		{"write off", "/write-off", ``, map[string]int{"pending": 200, "active": 200}},
		{"reactivate", "/reactivate", ``, map[string]int{"cancelled": 200, "written_off": 200, "abandoned": 200}},
		{"record payment", "/payments", `{"amount":"1.00","method":"cash"}`, map[string]int{"active": 201}},
		{"extend", "/installments/3/extend", `{"due_date":"2026-06-01"}`, map[string]int{"active": 200}},
		{"defer", "/installments/3/defer", ``, map[string]int{"active": 200}},
		{"portal link", "/portal-link", ``, map[string]int{"pending": 200, "active": 200, "completed": 200, "cancelled": 200, "written_off": 200, "abandoned": 200}},
		// Where the status allows the command, the unknown payment or
		// proposal is a 404; elsewhere the status is named first.
		{"confirm", "/payments/424242/confirm", ``, map[string]int{"active": 404}},
		{"reject", "/payments/424242/reject", ``, map[string]int{"active": 404}},
		{"approve", "/proposals/424242/approve", ``, map[string]int{"pending": 404, "active": 404}},
		{"decline", "/proposals/424242/decline", ``, map[string]int{"pending": 404, "active": 404}},
		{"counter", "/proposals/424242/counter", `{"installments":2,"interval":"weekly","first_payment_date":"2025-12-01"}`,
			map[string]int{"pending": 404, "active": 404}},
	}
	statusesAll := []string{"pending", "active", "completed", "cancelled", "written_off", "abandoned"}
	for _, c := range commands {
		for _, st := range statusesAll {
			d := mk(st)
			res := env.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d%s", d.PlanID, c.path), env.key, []byte(c.body))
			after := env.get(t, d.PlanID)
			if want, ok := c.legal[st]; ok {
				if res.status != want || (after.Version == d.Version) != (want == http.StatusNotFound) {
					t.Errorf("%s on a %s plan: %d %s (version %d -> %d), want %d", c.name, st, res.status, res.body, d.Version, after.Version, want)
				}
				continue
			}
			var body struct{ Error, Message string }
			_ = json.Unmarshal(res.body, &body)
			named := "the plan is " + strings.ReplaceAll(st, "_", " ")
			if res.status != http.StatusConflict || body.Error != "Invalid state" || !strings.Contains(body.Message, named) {
				t.Errorf("%s on a %s plan: %d %s, want 409 naming %q", c.name, st, res.status, res.body, named)
			}
			if after.Version != d.Version {
				t.Errorf("%s on a %s plan appended events", c.name, st)
			}
		}
	}
	// Reactivation goes back to where the plan was: active with a schedule,
	// pending without one.
	for st, want := range map[string]string{"cancelled": "pending", "written_off": "active", "abandoned": "pending"} {
		d := mk(st)
		if got := env.postPlan(t, d.PlanID, "/reactivate", ``, http.StatusOK); got.Status != want {
			t.Errorf("reactivate %s: %s, want %s", st, got.Status, want)
		}
	}
	// The messages read as sentences.
	d := mk("completed")
	res := env.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d/cancel", d.PlanID), env.key, nil)
	if string(res.body) != `{"error":"Invalid state","message":"Cannot cancel the plan: the plan is completed."}` {
		t.Fatalf("409 body: %s", res.body)
	}
}

func TestRegeneratePortalLink(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	d := env.createPlan(t)
	old := d.PortalURL
	res := env.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d/portal-link", d.PlanID), env.key, nil)
	if res.status != http.StatusOK {
		t.Fatalf("regenerate: %d %s", res.status, res.body)
	}
	now := decodePlan(t, res).PortalURL
	if now == old || !strings.HasPrefix(now, "https://goodplan.test/plan/") || strings.TrimPrefix(now, "https://goodplan.test/plan/") != portalToken(d.PlanID, now[len(now)-43:]) {
		t.Fatalf("portal url %q -> %q", old, now)
	}
	p, _, _, err := env.store.LoadPlan(context.Background(), d.PlanID)
	if err != nil {
		t.Fatal(err)
	}
	oldToken, newToken := strings.TrimPrefix(old, "https://goodplan.test/plan/"), strings.TrimPrefix(now, "https://goodplan.test/plan/")
	if p.PortalLinkWorks(oldToken, env.clock.now()) || !p.PortalLinkWorks(newToken, env.clock.now()) {
		t.Fatal("the old link still works or the new one does not")
	}
}

func TestLifecycleCommandsAreOwnedAndIdempotent(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	d := env.createPlan(t)
	env.selectFirst(t, d)
	path := fmt.Sprintf("/api/v1/plans/%d/payments", d.PlanID)

	// Another account's plan is a 404 and is not touched.
	_, otherKey := env.account(t, eventstore.NewAccount{Name: "Other"})
	res := env.do(t, "POST", path, otherKey, []byte(`{"amount":"1.00","method":"cash"}`))
	if res.status != http.StatusNotFound {
		t.Fatalf("other account: %d %s", res.status, res.body)
	}
	res = env.do(t, "POST", "/api/v1/plans/99999999/cancel", env.key, nil)
	if res.status != http.StatusNotFound || string(res.body) != `{"error":"Not found","message":"Plan 99999999 was not found."}` {
		t.Fatalf("missing plan: %d %s", res.status, res.body)
	}

	// The same Idempotency-Key and body: one payment, the retry says so.
	body := []byte(`{"amount":"100.00","method":"cash"}`)
	first := env.do(t, "POST", path, env.key, body, "Idempotency-Key", "pay-1")
	again := env.do(t, "POST", path, env.key, []byte(`{ "method": "cash", "amount": "100.00" }`), "Idempotency-Key", "pay-1")
	if first.status != http.StatusCreated || again.status != http.StatusCreated || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("idempotent retry: %d / %d %q", first.status, again.status, again.header.Get("Idempotent-Replayed"))
	}
	if n := len(decodePlan(t, again).Payments); n != 1 {
		t.Fatalf("%d payments after a retried request", n)
	}
	other := env.do(t, "POST", path, env.key, []byte(`{"amount":"200.00","method":"cash"}`), "Idempotency-Key", "pay-1")
	if other.status != http.StatusUnprocessableEntity {
		t.Fatalf("same key, other body: %d %s", other.status, other.body)
	}
	if n := len(env.get(t, d.PlanID).Payments); n != 1 {
		t.Fatalf("%d payments", n)
	}
}

// TestConcurrentRetriesWithOneKey sends the same request twice at once with
// one Idempotency-Key, as a client retrying after a timeout may: both get
// the success, and the command is applied once.
func TestConcurrentRetriesWithOneKey(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for round := range 8 {
		d := env.createPlan(t)
		env.selectFirst(t, d)
		pid := env.report(t, d.PlanID, "100.00")
		path := fmt.Sprintf("/api/v1/plans/%d/payments/%d/confirm", d.PlanID, pid)
		key := "confirm-" + strconv.Itoa(round)
		res := make([]response, 2)
		var wg sync.WaitGroup
		for i := range res {
			wg.Go(func() { res[i] = env.do(t, "POST", path, env.key, nil, "Idempotency-Key", key) })
		}
		wg.Wait()
		for _, r := range res {
			if r.status != http.StatusOK {
				t.Fatalf("round %d: a retry got %d %s", round, r.status, r.body)
			}
		}
		if n := strings.Count(strings.Join(env.eventTypes(t, d.PlanID), " "), "installment.confirmed"); n != 1 {
			t.Fatalf("round %d: %d confirmations", round, n)
		}
	}
}

// TestResendIntroductionThroughTheAPI: the introduction email is asked for
// again (the plan owes it: pending), and not again while it is owed.
func TestResendIntroductionThroughTheAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.createPlan(t)
	e.postPlan(t, d.PlanID, "/resend-introduction", ``, http.StatusOK)
	if types := e.eventTypes(t, d.PlanID); types[len(types)-1] != domain.EventIntroductionEmailResendRequested {
		t.Fatalf("events %v", types)
	}
	res := e.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d/resend-introduction", d.PlanID), e.key, nil)
	if res.status != http.StatusConflict || !strings.Contains(string(res.body), "being sent") {
		t.Fatalf("a second resend while the first is owed: %d %s", res.status, res.body)
	}
}
