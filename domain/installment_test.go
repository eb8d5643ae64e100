package domain_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
)

// plan3 is a plan in currency code for amount, one monthly option (id 101)
// of three installments from 2025-12-04, chosen.
func plan3(code, amount string) []domain.Event {
	pc := mustCreate(with(func(c *domain.CreatePlan) {
		c.Currency, c.Amount, c.Durations = code, amount, []int{3}
	}))
	return []domain.Event{pc, activatedWith(pc, 101)}
}

func report(in domain.PaymentInput) decision {
	return func(p *domain.Plan) ([]domain.Event, error) { return p.ReportPayment(in) }
}

func record(in domain.PaymentInput) decision {
	return func(p *domain.Plan) ([]domain.Event, error) { return p.RecordPayment(in) }
}

func confirm(id int64, amount string) decision {
	return func(p *domain.Plan) ([]domain.Event, error) { return p.ConfirmPayment(id, amount, on("2025-12-06")) }
}

// paymentWith is payment(8, "100.00") changed by f.
func paymentWith(f func(*domain.PaymentInput)) domain.PaymentInput {
	in := payment(8, "100.00")
	f(&in)
	return in
}

func TestReportPayment(t *testing.T) {
	t.Parallel()
	now := on("2025-12-05")
	runPlanTests(t, []planTest{
		{
			name:  "report: awaiting confirmation, the ledger unchanged",
			given: activePlan(),
			when:  report(payment(7, "400.00")),
			want:  []domain.Event{reported(7, 1, "400.00", now)},
			check: func(t *testing.T, p *domain.Plan) {
				wantLedger(t, p, "0.00", "400.00", "1200.00")
				wantSchedule(t, p, "1 2025-12-04 400.00 0.00 reported", "2 2026-01-04 400.00 0.00 pending",
					"3 2026-02-04 400.00 0.00 pending")
				pays := p.Payments()
				if len(pays) != 1 || pays[0].Status != domain.PaymentReported || pays[0].ConfirmedAmount != nil ||
					pays[0].Source != domain.SourceCustomer {
					t.Errorf("payments = %+v", pays)
				}
			},
		},
		{
			name:  "a report of more than one installment covers the next one too",
			given: activePlan(),
			when:  report(payment(7, "500")),
			want:  []domain.Event{reported(7, 1, "500.00", now)},
			check: func(t *testing.T, p *domain.Plan) {
				wantSchedule(t, p, "1 2025-12-04 400.00 0.00 reported", "2 2026-01-04 400.00 0.00 reported",
					"3 2026-02-04 400.00 0.00 pending")
			},
		},
		{
			name:  "the event names the first open installment",
			given: seq(activePlan(), recorded(6, 1, "400.00", on("2025-12-04"), al(1, "400.00"))),
			when:  report(payment(7, "400.00")),
			want:  []domain.Event{reported(7, 2, "400.00", now)},
		},
		{
			name:  "all fields: paid on a past date, reference and method trimmed",
			given: activePlan(),
			when: report(paymentWith(func(in *domain.PaymentInput) {
				in.PaidOn, in.Method, in.Reference = " 2025-12-01 ", " check ", "  #1042  "
			})),
			want: []domain.Event{domain.InstallmentPaid{PaymentID: 8, Installment: 1, Amount: usdm("100"), PaidOn: d("2025-12-01"),
				Method: domain.MethodCheck, Reference: "#1042", Source: domain.SourceCustomer, ReportedAt: now}},
		},
		{
			name:  "paid on tomorrow: a day of grace for time zones",
			given: activePlan(),
			when:  report(paymentWith(func(in *domain.PaymentInput) { in.PaidOn = "2025-12-06" })),
			check: func(t *testing.T, p *domain.Plan) {
				if got := p.Payments()[0].PaidOn; got != d("2025-12-06") {
					t.Errorf("PaidOn = %s", got)
				}
			},
		},
		{
			name:  "reference of 255 characters",
			given: activePlan(),
			when:  report(paymentWith(func(in *domain.PaymentInput) { in.Reference = strings.Repeat("ü", 255) })),
			check: func(t *testing.T, p *domain.Plan) {
				if got := p.Payments()[0].Reference; got != strings.Repeat("ü", 255) {
					t.Errorf("Reference = %q", got)
				}
			},
		},
		{
			name:  "a time zone ahead of UTC: paid_on and the time are the UTC ones",
			given: activePlan(),
			when: report(paymentWith(func(in *domain.PaymentInput) {
				in.Now = time.Date(2025, 12, 6, 1, 0, 0, 0, time.FixedZone("CET", 3600))
			})),
			want: []domain.Event{domain.InstallmentPaid{PaymentID: 8, Installment: 1, Amount: usdm("100"), PaidOn: d("2025-12-06"),
				Method: domain.MethodETransfer, Source: domain.SourceCustomer, ReportedAt: time.Date(2025, 12, 6, 0, 0, 0, 0, time.UTC)}},
		},
		{
			name:    "pending plan",
			given:   pendingPlan(),
			when:    report(payment(7, "100")),
			wantErr: stateErr("report a payment", domain.StatusPending),
		},
		{
			name:    "completed plan",
			given:   completedPlan(),
			when:    report(payment(7, "100")),
			wantErr: stateErr("report a payment", domain.StatusCompleted),
		},
	})
}

// TestPaymentValidation runs the same bad input through ReportPayment and
// RecordPayment.
func TestPaymentValidation(t *testing.T) {
	t.Parallel()
	usdPlan, jpyPlan, kwdPlan := activePlan(), plan3("JPY", "120000"), plan3("KWD", "12.345")
	tests := []struct {
		name    string
		given   []domain.Event
		in      domain.PaymentInput
		wantErr *domain.ValidationError
	}{
		{"amount missing", usdPlan, payment(8, "  "), invalid("amount", "The amount field is required.")},
		{"amount zero", usdPlan, payment(8, "0.00"), invalid("amount", "The amount must be greater than 0.")},
		{"amount negative", usdPlan, payment(8, "-5"), invalid("amount", "The amount must be greater than 0.")},
		{"amount not a number", usdPlan, payment(8, "12,50"), invalid("amount", "The amount must be a number.")},
		{"amount NaN", usdPlan, payment(8, "NaN"), invalid("amount", "The amount must be a number.")},
		{"USD: three decimals", usdPlan, payment(8, "10.005"), invalid("amount", "The amount must have at most 2 decimal places for USD.")},
		{"JPY: one decimal", jpyPlan, payment(8, "100.5"), invalid("amount", "The amount must have at most 0 decimal places for JPY.")},
		{"KWD: four decimals", kwdPlan, payment(8, "1.0005"), invalid("amount", "The amount must have at most 3 decimal places for KWD.")},
		{"USD: more than outstanding", usdPlan, payment(8, "1200.01"),
			invalid("amount", "The amount may not be greater than the outstanding balance of 1200.00 USD.")},
		{"JPY: more than outstanding", jpyPlan, payment(8, "120001"),
			invalid("amount", "The amount may not be greater than the outstanding balance of 120000 JPY.")},
		{"KWD: more than outstanding", kwdPlan, payment(8, "12.346"),
			invalid("amount", "The amount may not be greater than the outstanding balance of 12.345 KWD.")},
		{"more than outstanding after a payment", seq(activePlan(), recorded(6, 1, "1000", on("2025-12-04"), al(1, "400"), al(2, "400"), al(3, "200"))),
			payment(8, "200.01"), invalid("amount", "outstanding balance of 200.00 USD")},
		{"paid_on malformed", usdPlan, paymentWith(func(in *domain.PaymentInput) { in.PaidOn = "05/12/2025" }),
			invalid("paid_on", "The paid_on must be a date in YYYY-MM-DD format.")},
		{"paid_on not a real date", usdPlan, paymentWith(func(in *domain.PaymentInput) { in.PaidOn = "2025-02-30" }),
			invalid("paid_on", "YYYY-MM-DD")},
		{"paid_on in the future", usdPlan, paymentWith(func(in *domain.PaymentInput) { in.PaidOn = "2025-12-07" }),
			invalid("paid_on", "The paid_on may not be in the future.")},
		{"method missing", usdPlan, paymentWith(func(in *domain.PaymentInput) { in.Method = " " }),
			invalid("method", "The method field is required.")},
		{"method unknown", usdPlan, paymentWith(func(in *domain.PaymentInput) { in.Method = "bitcoin" }),
			invalid("method", "The method must be one of e_transfer, check, cash, bank_transfer, other.")},
		{"method in the wrong case", usdPlan, paymentWith(func(in *domain.PaymentInput) { in.Method = "Cash" }),
			invalid("method", "must be one of")},
		{"reference too long", usdPlan, paymentWith(func(in *domain.PaymentInput) { in.Reference = strings.Repeat("ü", 256) }),
			invalid("reference", "The reference may not be greater than 255 characters.")},
		{"reference with a line break", usdPlan, paymentWith(func(in *domain.PaymentInput) { in.Reference = "chk\n1042" }),
			invalid("reference", "The reference may not contain control characters or line breaks.")},
		{"reference with NUL", usdPlan, paymentWith(func(in *domain.PaymentInput) { in.Reference = "a\x00b" }),
			invalid("reference", "control characters")},
		{"every field at once", usdPlan, domain.PaymentInput{PaymentID: 8, Amount: "x", PaidOn: "tomorrow", Method: "iou",
			Reference: "\x1b[31m", Now: on("2025-12-05")},
			invalid("amount", "must be a number", "paid_on", "YYYY-MM-DD", "method", "must be one of", "reference", "control")},
	}
	for _, tt := range tests {
		for _, cmd := range []struct {
			name string
			do   func(*domain.Plan, domain.PaymentInput) ([]domain.Event, error)
		}{{"report", (*domain.Plan).ReportPayment}, {"record", (*domain.Plan).RecordPayment}} {
			t.Run(cmd.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				p := fold(tt.given)
				evs, err := cmd.do(p, tt.in)
				checkErr(t, err, tt.wantErr)
				if len(evs) != 0 {
					t.Errorf("events with an error:\n%s", show(evs))
				}
				if !reflect.DeepEqual(p, fold(tt.given)) {
					t.Errorf("deciding changed the plan")
				}
			})
		}
	}
}

func TestRecordPayment(t *testing.T) {
	t.Parallel()
	now := on("2025-12-05")
	merchant := func(id int64, inst int, amount string) domain.InstallmentPaid {
		e := reported(id, inst, amount, now)
		e.Source = domain.SourceMerchant
		return e
	}
	runPlanTests(t, []planTest{
		{
			name:  "exactly the first installment",
			given: activePlan(),
			when:  record(payment(7, "400")),
			want:  []domain.Event{merchant(7, 1, "400.00"), confirmedEv(7, "400.00", now, al(1, "400.00"))},
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusActive)
				wantLedger(t, p, "400.00", "0.00", "800.00")
				wantSchedule(t, p, "1 2025-12-04 400.00 400.00 confirmed", "2 2026-01-04 400.00 0.00 pending",
					"3 2026-02-04 400.00 0.00 pending")
				pays := p.Payments()
				if len(pays) != 1 || pays[0].Status != domain.PaymentConfirmed || pays[0].Source != domain.SourceMerchant ||
					pays[0].ConfirmedAmount == nil || *pays[0].ConfirmedAmount != usdm("400") ||
					pays[0].ConfirmedAt == nil || !pays[0].ConfirmedAt.Equal(now) ||
					!reflect.DeepEqual(pays[0].Allocations, []domain.Allocation{al(1, "400.00")}) {
					t.Errorf("payments = %+v", pays)
				}
			},
		},
		{
			name:  "partial payment: the shortfall stays on the installment",
			given: activePlan(),
			when:  record(payment(7, "150.00")),
			want:  []domain.Event{merchant(7, 1, "150.00"), confirmedEv(7, "150.00", now, al(1, "150.00"))},
			check: func(t *testing.T, p *domain.Plan) {
				wantLedger(t, p, "150.00", "0.00", "1050.00")
				wantSchedule(t, p, "1 2025-12-04 400.00 150.00 partially_paid", "2 2026-01-04 400.00 0.00 pending",
					"3 2026-02-04 400.00 0.00 pending")
				if got := p.Installments()[0].Outstanding; got != usdm("250") {
					t.Errorf("installment 1 outstanding %s, want 250.00", got)
				}
			},
		},
		{
			name:  "a second partial payment fills the shortfall first",
			given: seq(activePlan(), recorded(6, 1, "150.00", on("2025-12-04"), al(1, "150.00"))),
			when:  record(payment(7, "300.00")),
			want:  []domain.Event{merchant(7, 1, "300.00"), confirmedEv(7, "300.00", now, al(1, "250.00"), al(2, "50.00"))},
			check: func(t *testing.T, p *domain.Plan) {
				wantLedger(t, p, "450.00", "0.00", "750.00")
				wantSchedule(t, p, "1 2025-12-04 400.00 400.00 confirmed", "2 2026-01-04 400.00 50.00 partially_paid",
					"3 2026-02-04 400.00 0.00 pending")
			},
		},
		{
			name:  "overpayment runs on to the next installments",
			given: activePlan(),
			when:  record(payment(7, "1000.00")),
			want: []domain.Event{merchant(7, 1, "1000.00"),
				confirmedEv(7, "1000.00", now, al(1, "400.00"), al(2, "400.00"), al(3, "200.00"))},
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusActive)
				wantLedger(t, p, "1000.00", "0.00", "200.00")
				wantSchedule(t, p, "1 2025-12-04 400.00 400.00 confirmed", "2 2026-01-04 400.00 400.00 confirmed",
					"3 2026-02-04 400.00 200.00 partially_paid")
			},
		},
		{
			name:  "paying everything off completes the plan in the same decision",
			given: activePlan(),
			when:  record(payment(7, "1200")),
			want: []domain.Event{merchant(7, 1, "1200.00"),
				confirmedEv(7, "1200.00", now, al(1, "400.00"), al(2, "400.00"), al(3, "400.00")),
				domain.PlanCompleted{CompletedAt: now}},
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusCompleted)
				if !p.CompletedAt().Equal(now) {
					t.Errorf("CompletedAt = %v", p.CompletedAt())
				}
				wantLedger(t, p, "1200.00", "0.00", "0.00")
				if evs, err := p.RecordPayment(payment(8, "1")); len(evs) != 0 || err == nil ||
					err.Error() != "cannot record a payment: the plan is completed" {
					t.Errorf("payment after completion: %v, %d events", err, len(evs))
				}
			},
		},
		{
			name:  "the last payment after partial ones completes the plan",
			given: seq(activePlan(), recorded(6, 1, "1000", on("2025-12-04"), al(1, "400"), al(2, "400"), al(3, "200"))),
			when:  record(payment(7, "200.00")),
			want: []domain.Event{merchant(7, 3, "200.00"), confirmedEv(7, "200.00", now, al(3, "200.00")),
				domain.PlanCompleted{CompletedAt: now}},
		},
		{
			name:  "earliest due first: after a deferral installment 2 is first",
			given: seq(activePlan(), domain.InstallmentDeferred{Installment: 1, From: d("2025-12-04"), To: d("2026-03-04"), DeferredAt: on("2025-12-01")}),
			when:  record(payment(7, "500.00")),
			want:  []domain.Event{merchant(7, 2, "500.00"), confirmedEv(7, "500.00", now, al(2, "400.00"), al(3, "100.00"))},
			check: func(t *testing.T, p *domain.Plan) {
				wantSchedule(t, p, "2 2026-01-04 400.00 400.00 confirmed", "3 2026-02-04 400.00 100.00 partially_paid",
					"1 2026-03-04 400.00 0.00 pending")
			},
		},
		{
			name:  "a reported payment is not applied; it now covers the next installment",
			given: seq(activePlan(), reported(6, 1, "400.00", on("2025-12-04"))),
			when:  record(payment(7, "400.00")),
			want:  []domain.Event{merchant(7, 1, "400.00"), confirmedEv(7, "400.00", now, al(1, "400.00"))},
			check: func(t *testing.T, p *domain.Plan) {
				wantLedger(t, p, "400.00", "400.00", "800.00")
				wantSchedule(t, p, "1 2025-12-04 400.00 400.00 confirmed", "2 2026-01-04 400.00 0.00 reported",
					"3 2026-02-04 400.00 0.00 pending")
			},
		},
		{
			name:  "JPY: no decimals, trailing zeros accepted",
			given: plan3("JPY", "100000"),
			when:  record(payment(7, "33334.0")),
			check: func(t *testing.T, p *domain.Plan) {
				wantLedger(t, p, "33334", "0", "66666")
				wantSchedule(t, p, "1 2025-12-04 33334 33334 confirmed", "2 2026-01-04 33333 0 pending", "3 2026-02-04 33333 0 pending")
			},
		},
		{
			name:  "KWD: three decimals",
			given: plan3("KWD", "12.345"),
			when:  record(payment(7, "5.001")),
			check: func(t *testing.T, p *domain.Plan) {
				wantLedger(t, p, "5.001", "0.000", "7.344")
				wantSchedule(t, p, "1 2025-12-04 4.115 4.115 confirmed", "2 2026-01-04 4.115 0.886 partially_paid",
					"3 2026-02-04 4.115 0.000 pending")
			},
		},
		{
			name:    "pending plan",
			given:   pendingPlan(),
			when:    record(payment(7, "100")),
			wantErr: stateErr("record a payment", domain.StatusPending),
		},
		{
			name:    "cancelled plan",
			given:   cancelledPlan(),
			when:    record(payment(7, "100")),
			wantErr: stateErr("record a payment", domain.StatusCancelled),
		},
	})
}

func TestConfirmPayment(t *testing.T) {
	t.Parallel()
	now := on("2025-12-06")
	withReport := seq(activePlan(), reported(7, 1, "400.00", on("2025-12-04")))
	runPlanTests(t, []planTest{
		{
			name:  "confirm the reported amount",
			given: withReport,
			when:  confirm(7, ""),
			want:  []domain.Event{confirmedEv(7, "400.00", now, al(1, "400.00"))},
			check: func(t *testing.T, p *domain.Plan) {
				wantLedger(t, p, "400.00", "0.00", "800.00")
				wantSchedule(t, p, "1 2025-12-04 400.00 400.00 confirmed", "2 2026-01-04 400.00 0.00 pending",
					"3 2026-02-04 400.00 0.00 pending")
				pay := p.Payments()[0]
				if pay.Status != domain.PaymentConfirmed || *pay.ConfirmedAmount != usdm("400") || !pay.ConfirmedAt.Equal(now) {
					t.Errorf("payment = %+v", pay)
				}
			},
		},
		{
			name:  "confirm less than reported: what arrived",
			given: withReport,
			when:  confirm(7, " 350 "),
			want:  []domain.Event{confirmedEv(7, "350.00", now, al(1, "350.00"))},
			check: func(t *testing.T, p *domain.Plan) {
				wantLedger(t, p, "350.00", "0.00", "850.00")
				wantSchedule(t, p, "1 2025-12-04 400.00 350.00 partially_paid", "2 2026-01-04 400.00 0.00 pending",
					"3 2026-02-04 400.00 0.00 pending")
				pay := p.Payments()[0]
				if pay.Amount != usdm("400") || *pay.ConfirmedAmount != usdm("350") {
					t.Errorf("payment amount %s confirmed %s", pay.Amount, pay.ConfirmedAmount)
				}
			},
		},
		{
			name:  "confirm more than reported: runs on to the next installment",
			given: withReport,
			when:  confirm(7, "450.00"),
			want:  []domain.Event{confirmedEv(7, "450.00", now, al(1, "400.00"), al(2, "50.00"))},
			check: func(t *testing.T, p *domain.Plan) {
				wantLedger(t, p, "450.00", "0.00", "750.00")
			},
		},
		{
			name:  "confirming the last payment completes the plan",
			given: seq(activePlan(), recorded(6, 1, "800", on("2025-12-04"), al(1, "400"), al(2, "400")), reported(7, 3, "400", on("2025-12-05"))),
			when:  confirm(7, ""),
			want:  []domain.Event{confirmedEv(7, "400.00", now, al(3, "400.00")), domain.PlanCompleted{CompletedAt: now}},
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusCompleted)
				wantLedger(t, p, "1200.00", "0.00", "0.00")
			},
		},
		{
			name: "reported more than is now outstanding: conflict",
			given: seq(activePlan(), reported(7, 1, "1200", on("2025-12-04")),
				recorded(8, 1, "900", on("2025-12-05"), al(1, "400"), al(2, "400"), al(3, "100"))),
			when:    confirm(7, ""),
			wantErr: conflict("Payment 7 of 1200.00 is more than the outstanding balance of 300.00"),
		},
		{
			name: "reported more than is outstanding, confirmed for what is outstanding",
			given: seq(activePlan(), reported(7, 1, "1200", on("2025-12-04")),
				recorded(8, 1, "900", on("2025-12-05"), al(1, "400"), al(2, "400"), al(3, "100"))),
			when: confirm(7, "300"),
			want: []domain.Event{confirmedEv(7, "300.00", now, al(3, "300.00")), domain.PlanCompleted{CompletedAt: now}},
		},
		{
			name:    "a different amount above what is outstanding",
			given:   withReport,
			when:    confirm(7, "1200.01"),
			wantErr: invalid("amount", "may not be greater than the outstanding balance of 1200.00 USD"),
		},
		{
			name:    "a different amount that is not a number",
			given:   withReport,
			when:    confirm(7, "four hundred"),
			wantErr: invalid("amount", "The amount must be a number."),
		},
		{
			name:    "a different amount of zero",
			given:   withReport,
			when:    confirm(7, "0"),
			wantErr: invalid("amount", "greater than 0"),
		},
		{
			name:    "a different amount with too many decimals",
			given:   withReport,
			when:    confirm(7, "399.999"),
			wantErr: invalid("amount", "at most 2 decimal places for USD"),
		},
		{
			name:    "already confirmed",
			given:   then(t, withReport, confirm(7, "")),
			when:    confirm(7, ""),
			wantErr: conflict("Payment 7 is already confirmed."),
		},
		{
			name:    "a payment the merchant recorded is confirmed already",
			given:   seq(activePlan(), recorded(6, 1, "100", on("2025-12-04"), al(1, "100"))),
			when:    confirm(6, ""),
			wantErr: conflict("Payment 6 is already confirmed."),
		},
		{
			name:    "unknown payment",
			given:   withReport,
			when:    confirm(99, ""),
			wantErr: notFound("Payment 99 was not found on this plan."),
		},
		{
			name:    "cancelled plan with a reported payment",
			given:   seq(withReport, domain.PlanCancelled{Outstanding: usdm("1200"), CancelledAt: on("2025-12-05")}),
			when:    confirm(7, ""),
			wantErr: stateErr("confirm a payment", domain.StatusCancelled),
		},
		{
			name:    "completed plan",
			given:   completedPlan(),
			when:    confirm(90, ""),
			wantErr: stateErr("confirm a payment", domain.StatusCompleted),
		},
	})
}

func TestExtendInstallment(t *testing.T) {
	t.Parallel()
	now := on("2025-12-01")
	extend := func(n int, due string, shift bool) decision {
		return func(p *domain.Plan) ([]domain.Event, error) { return p.ExtendInstallment(n, due, shift, now) }
	}
	granted := func(n int, shift bool, changes ...domain.DueDateChange) domain.InstallmentExtensionGranted {
		return domain.InstallmentExtensionGranted{Installment: n, ShiftFollowing: shift, Changes: changes, GrantedAt: now}
	}
	move := func(n int, from, to string) domain.DueDateChange {
		return domain.DueDateChange{Installment: n, From: d(from), To: d(to)}
	}
	// rescheduled: installments 1 and 2 paid (due 2025-12-04, 2026-01-04),
	// then the 400.00 left rescheduled weekly from 2025-12-01 as
	// installments 3 (2025-12-01) and 4 (2025-12-08): paid installments
	// fall due after open ones.
	rescheduled := then(t, seq(activePlan(), recorded(6, 1, "800", on("2025-11-28"), al(1, "400"), al(2, "400"))),
		propose(5, "2", "weekly", "2025-12-01", on("2025-11-28")), approve(5, on("2025-11-29")))
	runPlanTests(t, []planTest{
		{
			name:  "one installment, the others stay",
			given: activePlan(),
			when:  extend(2, "2026-01-20", false),
			want:  []domain.Event{granted(2, false, move(2, "2026-01-04", "2026-01-20"))},
			check: func(t *testing.T, p *domain.Plan) {
				wantSchedule(t, p, "1 2025-12-04 400.00 0.00 pending", "2 2026-01-20 400.00 0.00 pending",
					"3 2026-02-04 400.00 0.00 pending")
			},
		},
		{
			name:  "past the next ones without shifting: the payment order changes",
			given: activePlan(),
			when:  extend(1, "2026-01-10", false),
			check: func(t *testing.T, p *domain.Plan) {
				wantSchedule(t, p, "2 2026-01-04 400.00 0.00 pending", "1 2026-01-10 400.00 0.00 pending",
					"3 2026-02-04 400.00 0.00 pending")
			},
		},
		{
			name:  "shift following: every later open installment moves by the same days",
			given: activePlan(),
			when:  extend(1, "2025-12-18", true),
			want: []domain.Event{granted(1, true, move(1, "2025-12-04", "2025-12-18"), move(2, "2026-01-04", "2026-01-18"),
				move(3, "2026-02-04", "2026-02-18"))},
			check: func(t *testing.T, p *domain.Plan) {
				wantSchedule(t, p, "1 2025-12-18 400.00 0.00 pending", "2 2026-01-18 400.00 0.00 pending",
					"3 2026-02-18 400.00 0.00 pending")
			},
		},
		{
			name:  "shift following: earlier installments stay",
			given: activePlan(),
			when:  extend(2, "2026-02-01", true),
			want:  []domain.Event{granted(2, true, move(2, "2026-01-04", "2026-02-01"), move(3, "2026-02-04", "2026-03-04"))},
		},
		{
			name: "shift following: a later partly paid installment moves too",
			given: seq(activePlan(), domain.InstallmentDeferred{Installment: 1, From: d("2025-12-04"), To: d("2026-03-04"), DeferredAt: now},
				recorded(6, 2, "500", now, al(2, "400"), al(3, "100"))),
			when: extend(3, "2026-02-10", true),
			want: []domain.Event{granted(3, true, move(3, "2026-02-04", "2026-02-10"), move(1, "2026-03-04", "2026-03-10"))},
		},
		{
			name:  "shift following: later installments paid in full stay",
			given: rescheduled,
			when:  extend(3, "2025-12-10", true),
			want:  []domain.Event{granted(3, true, move(3, "2025-12-01", "2025-12-10"), move(4, "2025-12-08", "2025-12-17"))},
			check: func(t *testing.T, p *domain.Plan) {
				wantSchedule(t, p, "1 2025-12-04 400.00 400.00 confirmed", "3 2025-12-10 200.00 0.00 pending",
					"4 2025-12-17 200.00 0.00 pending", "2 2026-01-04 400.00 400.00 confirmed")
			},
		},
		{
			name:  "366 days is the limit",
			given: activePlan(),
			when:  extend(2, "2027-01-05", false),
			want:  []domain.Event{granted(2, false, move(2, "2026-01-04", "2027-01-05"))},
		},
		{
			name:    "more than 366 days",
			given:   activePlan(),
			when:    extend(2, "2027-01-06", false),
			wantErr: invalid("due_date", "The due_date may not be more than 366 days after the current due date."),
		},
		{
			name:    "the current due date",
			given:   activePlan(),
			when:    extend(2, "2026-01-04", true),
			wantErr: invalid("due_date", "The due_date must be after the current due date 2026-01-04."),
		},
		{
			name:    "an earlier date",
			given:   activePlan(),
			when:    extend(2, "2025-12-20", false),
			wantErr: invalid("due_date", "The due_date must be after the current due date 2026-01-04."),
		},
		{
			name:    "due date missing",
			given:   activePlan(),
			when:    extend(2, " ", false),
			wantErr: invalid("due_date", "The due_date field is required."),
		},
		{
			name:    "due date malformed",
			given:   activePlan(),
			when:    extend(2, "2026-1-20", false),
			wantErr: invalid("due_date", "The due_date must be a date in YYYY-MM-DD format."),
		},
		{
			name:    "installment paid in full",
			given:   seq(activePlan(), recorded(6, 1, "400", now, al(1, "400"))),
			when:    extend(1, "2025-12-20", false),
			wantErr: conflict("Installment 1 is already paid in full."),
		},
		{
			name:    "installment paid in full, bad date too: the conflict is reported",
			given:   seq(activePlan(), recorded(6, 1, "400", now, al(1, "400"))),
			when:    extend(1, "", false),
			wantErr: conflict("Installment 1 is already paid in full."),
		},
		{
			name:    "unknown installment",
			given:   activePlan(),
			when:    extend(4, "2026-06-01", false),
			wantErr: notFound("Installment 4 is not on this plan's schedule."),
		},
		{
			name:    "pending plan",
			given:   pendingPlan(),
			when:    extend(1, "2026-01-01", false),
			wantErr: stateErr("extend an installment", domain.StatusPending),
		},
		{
			name:    "completed plan",
			given:   completedPlan(),
			when:    extend(1, "2026-01-01", false),
			wantErr: stateErr("extend an installment", domain.StatusCompleted),
		},
	})
}

func TestDeferInstallment(t *testing.T) {
	t.Parallel()
	now := on("2025-12-01")
	deferInst := func(n int) decision {
		return func(p *domain.Plan) ([]domain.Event, error) { return p.DeferInstallment(n, now) }
	}
	deferred := func(n int, from, to string) domain.InstallmentDeferred {
		return domain.InstallmentDeferred{Installment: n, From: d(from), To: d(to), DeferredAt: now}
	}
	jan31 := mustCreate(with(func(c *domain.CreatePlan) { c.FirstPaymentDate, c.Durations = "2025-12-31", []int{2} }))
	weekly := mustCreate(with(func(c *domain.CreatePlan) { c.Intervals, c.Durations = []string{"weekly"}, []int{3} }))
	runPlanTests(t, []planTest{
		{
			name:  "monthly: one month after the last due date",
			given: activePlan(),
			when:  deferInst(1),
			want:  []domain.Event{deferred(1, "2025-12-04", "2026-03-04")},
			check: func(t *testing.T, p *domain.Plan) {
				wantSchedule(t, p, "2 2026-01-04 400.00 0.00 pending", "3 2026-02-04 400.00 0.00 pending",
					"1 2026-03-04 400.00 0.00 pending")
			},
		},
		{
			name:  "monthly clamping: Jan 31 to Feb 28",
			given: []domain.Event{jan31, activatedWith(jan31, 101)},
			when:  deferInst(1),
			want:  []domain.Event{deferred(1, "2025-12-31", "2026-02-28")},
		},
		{
			name:  "weekly: seven days after the last",
			given: []domain.Event{weekly, activatedWith(weekly, 101)},
			when:  deferInst(2),
			want:  []domain.Event{deferred(2, "2025-12-11", "2025-12-25")},
		},
		{
			name:  "the last installment moves one more interval",
			given: activePlan(),
			when:  deferInst(3),
			want:  []domain.Event{deferred(3, "2026-02-04", "2026-03-04")},
		},
		{
			name:  "after another deferral, past it",
			given: then(t, activePlan(), deferInst(1)),
			when:  deferInst(2),
			want:  []domain.Event{deferred(2, "2026-01-04", "2026-04-04")},
		},
		{
			name:  "a partly paid installment can be deferred",
			given: seq(activePlan(), recorded(6, 1, "100", now, al(1, "100"))),
			when:  deferInst(1),
			want:  []domain.Event{deferred(1, "2025-12-04", "2026-03-04")},
			check: func(t *testing.T, p *domain.Plan) {
				wantSchedule(t, p, "2 2026-01-04 400.00 0.00 pending", "3 2026-02-04 400.00 0.00 pending",
					"1 2026-03-04 400.00 100.00 partially_paid")
			},
		},
		{
			name:    "installment paid in full",
			given:   seq(activePlan(), recorded(6, 1, "400", now, al(1, "400"))),
			when:    deferInst(1),
			wantErr: conflict("Installment 1 is already paid in full."),
		},
		{
			name:    "unknown installment",
			given:   activePlan(),
			when:    deferInst(0),
			wantErr: notFound("Installment 0 is not on this plan's schedule."),
		},
		{
			name:    "written-off plan",
			given:   writtenOffPlan(),
			when:    deferInst(1),
			wantErr: stateErr("defer an installment", domain.StatusWrittenOff),
		},
		{
			name:    "abandoned plan",
			given:   abandonedPlan(),
			when:    deferInst(1),
			wantErr: stateErr("defer an installment", domain.StatusAbandoned),
		},
	})
}

func reject(id int64, reason string) decision {
	return func(p *domain.Plan) ([]domain.Event, error) { return p.RejectPayment(id, reason, on("2025-12-06")) }
}

func TestRejectPayment(t *testing.T) {
	t.Parallel()
	now := on("2025-12-06")
	withReport := seq(activePlan(), reported(7, 1, "400.00", on("2025-12-04")))
	runPlanTests(t, []planTest{
		{
			name:  "a reported payment that never arrived: the installment is open again",
			given: withReport,
			when:  reject(7, " Not in our account. "),
			want:  []domain.Event{domain.PaymentRejected{PaymentID: 7, Reason: "Not in our account.", RejectedAt: now}},
			check: func(t *testing.T, p *domain.Plan) {
				wantLedger(t, p, "0.00", "0.00", "1200.00")
				wantSchedule(t, p, "1 2025-12-04 400.00 0.00 pending", "2 2026-01-04 400.00 0.00 pending",
					"3 2026-02-04 400.00 0.00 pending")
				if pay := p.Payments()[0]; pay.Status != domain.PaymentIsRejected || !pay.RejectedAt.Equal(now) || pay.RejectReason != "Not in our account." {
					t.Errorf("payment = %+v", pay)
				}
				// The customer may report the full balance again.
				if _, err := p.ReportPayment(payment(8, "1200.00")); err != nil {
					t.Errorf("report after the rejection: %v", err)
				}
			},
		},
		{
			name:    "rejected twice",
			given:   then(t, withReport, reject(7, "")),
			when:    reject(7, ""),
			wantErr: conflict("Payment 7 is already rejected."),
		},
		{
			name:    "a confirmed payment cannot be rejected",
			given:   then(t, withReport, confirm(7, "")),
			when:    reject(7, ""),
			wantErr: conflict("Payment 7 is already confirmed."),
		},
		{
			name:    "an unknown payment",
			given:   withReport,
			when:    reject(9, ""),
			wantErr: notFound("Payment 9 was not found on this plan."),
		},
		{
			name:    "a cancelled plan",
			given:   then(t, withReport, func(p *domain.Plan) ([]domain.Event, error) { return p.Cancel("", now) }),
			when:    reject(7, ""),
			wantErr: stateErr("reject a payment", domain.StatusCancelled),
		},
	})
}
