package domain_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
)

// The lifecycle tests share one plan: the seed's minimal request, created
// 2025-11-27 01:15:30 UTC for 1200.00 USD with options 101 (3 x 400.00),
// 102 (6 x 200.00) and 103 (12 x 100.00), monthly from 2025-12-04.

// planTest is one given/when/then case: the events folded first, the
// command decided on the result, and either the exact events it must return
// (want), a check of the plan after folding them (check), both, no events
// at all (wantNone), or the error it must return (wantErr, with no events).
type planTest struct {
	name     string
	given    []domain.Event
	when     func(*domain.Plan) ([]domain.Event, error)
	want     []domain.Event
	wantNone bool
	check    func(t *testing.T, p *domain.Plan)
	wantErr  error
}

// runPlanTests runs each case in parallel. Besides the case's own
// expectations it checks that deciding does not change the plan, that a
// failed command returns no events, and that folding the given and new
// events after a JSON round trip gives the same plan as folding them as
// they are.
func runPlanTests(t *testing.T, tests []planTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := fold(tt.given)
			got, err := tt.when(p)
			if !reflect.DeepEqual(p, fold(tt.given)) {
				t.Errorf("deciding changed the plan")
			}
			if tt.wantErr != nil {
				checkErr(t, err, tt.wantErr)
				if len(got) != 0 {
					t.Errorf("failed command returned events:\n%s", show(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v (%T)", err, err)
			}
			switch {
			case tt.wantNone:
				if len(got) != 0 {
					t.Fatalf("events =\n%s\nwant none", show(got))
				}
			case tt.want != nil:
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("events =\n%s\nwant\n%s", show(got), show(tt.want))
				}
			case tt.check == nil:
				t.Fatalf("the case checks nothing")
			}
			for _, e := range got {
				p.Apply(e)
			}
			all := slices.Concat(tt.given, got)
			if replayed := foldDecoded(t, all); !reflect.DeepEqual(replayed, p) {
				t.Errorf("folding the decoded events gives another plan:\n%+v\nwant\n%+v", replayed, p)
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

// checkErr fails unless got matches want: the same *StateError; a
// *ConflictError or *NotFoundError whose message contains want's (if any);
// a *ValidationError with exactly want's fields, each message of want
// contained in one of got's for that field; otherwise errors.Is.
func checkErr(t *testing.T, got, want error) {
	t.Helper()
	if got == nil {
		t.Fatalf("error = nil, want %v (%T)", want, want)
	}
	switch w := want.(type) {
	case *domain.StateError:
		var se *domain.StateError
		if !errors.As(got, &se) || *se != *w {
			t.Fatalf("error = %v (%T), want state error %q", got, got, w.Error())
		}
	case *domain.ConflictError:
		var ce *domain.ConflictError
		if !errors.As(got, &ce) || !strings.Contains(ce.Msg, w.Msg) {
			t.Fatalf("error = %v (%T), want conflict containing %q", got, got, w.Msg)
		}
	case *domain.NotFoundError:
		var ne *domain.NotFoundError
		if !errors.As(got, &ne) || !strings.Contains(ne.Msg, w.Msg) {
			t.Fatalf("error = %v (%T), want not found containing %q", got, got, w.Msg)
		}
	case *domain.ValidationError:
		var ve *domain.ValidationError
		if !errors.As(got, &ve) {
			t.Fatalf("error = %v (%T), want a validation error", got, got)
		}
		if !slices.Equal(sortedKeys(ve.Fields), sortedKeys(w.Fields)) {
			t.Fatalf("validation error fields = %v, want %v", ve.Fields, w.Fields)
		}
		for field, msgs := range w.Fields {
			for _, m := range msgs {
				if !slices.ContainsFunc(ve.Fields[field], func(s string) bool { return strings.Contains(s, m) }) {
					t.Errorf("%s: messages %q, want one containing %q", field, ve.Fields[field], m)
				}
			}
		}
	default:
		if !errors.Is(got, want) {
			t.Fatalf("error = %v, want %v", got, want)
		}
	}
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// invalid builds the expected *ValidationError from field, message pairs
// (a message may be a part of the real one).
func invalid(pairs ...string) *domain.ValidationError {
	var ve domain.ValidationError
	for i := 0; i+1 < len(pairs); i += 2 {
		ve.Add(pairs[i], pairs[i+1])
	}
	return &ve
}

func stateErr(action string, s domain.Status) *domain.StateError {
	return &domain.StateError{Action: action, Status: s}
}

func conflict(msg string) *domain.ConflictError { return &domain.ConflictError{Msg: msg} }

func notFound(msg string) *domain.NotFoundError { return &domain.NotFoundError{Msg: msg} }

// fold folds events into a new plan.
func fold(events []domain.Event) *domain.Plan {
	var p domain.Plan
	for _, e := range events {
		p.Apply(e)
	}
	return &p
}

// foldDecoded folds events after a MarshalEvent/UnmarshalEvent round trip.
func foldDecoded(t *testing.T, events []domain.Event) *domain.Plan {
	t.Helper()
	var p domain.Plan
	for _, e := range events {
		p.Apply(roundTrip(t, e))
	}
	return &p
}

// roundTrip marshals and unmarshals e, checking its type name.
func roundTrip(t *testing.T, e domain.Event) domain.Event {
	t.Helper()
	typ, data, err := domain.MarshalEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	if typ != e.EventType() {
		t.Fatalf("MarshalEvent type %q, want %q", typ, e.EventType())
	}
	got, err := domain.UnmarshalEvent(typ, data)
	if err != nil {
		t.Fatalf("UnmarshalEvent(%s, %s): %v", typ, data, err)
	}
	return got
}

// show renders events one a line as type and JSON, for failure messages.
func show(events []domain.Event) string {
	var b strings.Builder
	for _, e := range events {
		data, err := json.Marshal(e)
		if err != nil {
			data = []byte(err.Error())
		}
		fmt.Fprintf(&b, "  %s %s\n", e.EventType(), data)
	}
	if len(events) == 0 {
		b.WriteString("  (none)\n")
	}
	return b.String()
}

// seq concatenates events and event slices.
func seq(parts ...any) []domain.Event {
	var out []domain.Event
	for _, part := range parts {
		switch v := part.(type) {
		case domain.Event:
			out = append(out, v)
		case []domain.Event:
			out = append(out, v...)
		default:
			panic(fmt.Sprintf("seq: %T", part))
		}
	}
	return out
}

// decision is a command decided on a plan.
type decision = func(*domain.Plan) ([]domain.Event, error)

// then decides each command in turn on given plus the events so far and
// returns all the events; a failing command fails the test at once.
func then(t *testing.T, given []domain.Event, cmds ...decision) []domain.Event {
	t.Helper()
	out := slices.Clone(given)
	p := fold(out)
	for i, cmd := range cmds {
		evs, err := cmd(p)
		if err != nil {
			t.Fatalf("setting up: command %d: %v", i, err)
		}
		for _, e := range evs {
			p.Apply(e)
		}
		out = append(out, evs...)
	}
	return out
}

// on returns 10:00 UTC on date s.
func on(s string) time.Time { return d(s).Time().Add(10 * time.Hour) }

// at returns 00:00 UTC on date s.
func at(s string) time.Time { return d(s).Time() }

func usdm(s string) domain.Money { return money(s, usd) }

// mustCreate decides cmd on a new plan and returns its PlanCreated.
func mustCreate(cmd domain.CreatePlan) domain.PlanCreated {
	var p domain.Plan
	evs, err := p.CreatePlan(cmd)
	if err != nil {
		panic(err)
	}
	return evs[0].(domain.PlanCreated)
}

// base is the minimal seed plan with its three monthly options.
func base() domain.PlanCreated { return mustCreate(minimalCmd()) }

// customerConsent is the consent the customer gives when choosing.
var customerConsent = domain.Consent{At: on("2025-11-28"), IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)"}

// activatedWith is the plan.activated of choosing option id of pc.
func activatedWith(pc domain.PlanCreated, id int64) domain.PlanActivated {
	for _, o := range pc.Options {
		if o.ID == id {
			c := customerConsent
			return domain.PlanActivated{OptionID: id, Interval: o.Interval, Schedule: slices.Clone(o.Schedule), Consent: &c,
				ActivatedAt: c.At}
		}
	}
	panic(fmt.Sprintf("no option %d", id))
}

// pendingPlan is the base plan, no option chosen.
func pendingPlan() []domain.Event { return []domain.Event{base()} }

// activePlan is the base plan with option 101: 3 x 400.00 USD due
// 2025-12-04, 2026-01-04 and 2026-02-04.
func activePlan() []domain.Event {
	pc := base()
	return []domain.Event{pc, activatedWith(pc, 101)}
}

// completedPlan is activePlan paid off by the merchant on 2025-12-02.
func completedPlan() []domain.Event {
	return seq(activePlan(), recorded(90, 1, "1200.00", on("2025-12-02"), al(1, "400.00"), al(2, "400.00"), al(3, "400.00")),
		domain.PlanCompleted{CompletedAt: on("2025-12-02")})
}

func cancelledPlan() []domain.Event {
	return seq(activePlan(), domain.PlanCancelled{Reason: "Disputed.", Outstanding: usdm("1200"), CancelledAt: on("2025-12-03")})
}

func writtenOffPlan() []domain.Event {
	return seq(activePlan(), domain.PlanWrittenOff{Reason: "Uncollectable.", Outstanding: usdm("1200"), WrittenOffAt: on("2025-12-03")})
}

func abandonedPlan() []domain.Event {
	return seq(pendingPlan(), domain.PlanAbandoned{PendingSince: seedNow, AbandonedAt: seedNow.Add(domain.AbandonAfter)})
}

// reported is a customer's report of amount USD by e-transfer, paid on the
// day it was reported.
func reported(id int64, inst int, amount string, when time.Time) domain.InstallmentPaid {
	return domain.InstallmentPaid{PaymentID: id, Installment: inst, Amount: usdm(amount), PaidOn: domain.DateOf(when),
		Method: domain.MethodETransfer, Source: domain.SourceCustomer, ReportedAt: when}
}

// recorded is a payment the merchant recorded (by e-transfer, paid the
// same day) and its confirmation with allocs.
func recorded(id int64, inst int, amount string, when time.Time, allocs ...domain.Allocation) []domain.Event {
	e := reported(id, inst, amount, when)
	e.Source = domain.SourceMerchant
	return []domain.Event{e, confirmedEv(id, amount, when, allocs...)}
}

func confirmedEv(id int64, amount string, when time.Time, allocs ...domain.Allocation) domain.InstallmentConfirmed {
	return domain.InstallmentConfirmed{PaymentID: id, Amount: usdm(amount), Allocations: allocs, ConfirmedAt: when}
}

// al is an allocation of amount USD to installment n.
func al(n int, amount string) domain.Allocation {
	return domain.Allocation{Installment: n, Amount: usdm(amount)}
}

// inst is a scheduled installment of amount USD.
func inst(n int, amount, due string) domain.Installment {
	return domain.Installment{Number: n, Amount: usdm(amount), DueDate: d(due)}
}

// payment is a payment input of amount by e-transfer, decided on
// 2025-12-05 at 10:00 UTC.
func payment(id int64, amount string) domain.PaymentInput {
	return domain.PaymentInput{PaymentID: id, Amount: amount, Method: "e_transfer", Now: on("2025-12-05")}
}

// wantSchedule checks the installments; rows are "number due amount paid
// status" and the outstanding amount is checked to be amount - paid.
func wantSchedule(t *testing.T, p *domain.Plan, rows ...string) {
	t.Helper()
	got := p.Installments()
	var gotRows []string
	for _, s := range got {
		gotRows = append(gotRows, fmt.Sprintf("%d %s %s %s %s", s.Number, s.DueDate, s.Amount, s.Paid, s.Status))
		if s.Outstanding != s.Amount.Sub(s.Paid) {
			t.Errorf("installment %d: outstanding %s, want %s - %s", s.Number, s.Outstanding, s.Amount, s.Paid)
		}
	}
	if !slices.Equal(gotRows, rows) {
		t.Errorf("installments =\n  %s\nwant\n  %s", strings.Join(gotRows, "\n  "), strings.Join(rows, "\n  "))
	}
}

// wantLedger checks the plan's ledger (total is the invoice amount).
func wantLedger(t *testing.T, p *domain.Plan, paid, reported, outstanding string) {
	t.Helper()
	l := p.Ledger()
	got := fmt.Sprintf("total %s paid %s reported %s outstanding %s", l.Total, l.Paid, l.Reported, l.Outstanding)
	want := fmt.Sprintf("total %s paid %s reported %s outstanding %s", p.Invoice().Amount, paid, reported, outstanding)
	if got != want {
		t.Errorf("ledger = %s, want %s", got, want)
	}
}

func wantStatus(t *testing.T, p *domain.Plan, s domain.Status) {
	t.Helper()
	if p.Status() != s {
		t.Errorf("status = %s, want %s", p.Status(), s)
	}
}
