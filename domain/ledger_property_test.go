package domain_test

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
)

var (
	ledgerSeed      = flag.Uint64("ledger-seed", 0, "seed of TestLedgerProperties (0: the fixed seeds)")
	ledgerSequences = flag.Int("ledger-sequences", 1000, "random sequences per seed in TestLedgerProperties")
)

// ledgerSeeds are the fixed seeds TestLedgerProperties runs by default, so
// a run is reproducible; -ledger-seed=N runs another one.
var ledgerSeeds = []uint64{20251127, 4}

// TestLedgerProperties generates random plans (USD, JPY, KWD; random
// amounts and options), chooses an option or agrees a proposal, then runs
// random sequences of customer reports, merchant confirmations, direct
// payments, extensions, deferrals, proposals and their answers, ticks,
// cancellations and reactivations, some with invalid input. Only the events
// the commands return are applied. After every command it checks the
// ledger invariants and that folding every event so far from scratch,
// after a JSON round trip, gives the same plan. A failure names the seed and
// the sequence and prints the steps.
func TestLedgerProperties(t *testing.T) {
	t.Parallel()
	seeds := ledgerSeeds
	if *ledgerSeed != 0 {
		seeds = []uint64{*ledgerSeed}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			for i := range *ledgerSequences {
				s := newLedgerSim(rand.New(rand.NewPCG(seed, uint64(i))))
				if err := s.run(); err != nil {
					t.Fatalf("seed %d sequence %d: %v\nreplay: go test ./domain -run TestLedgerProperties -ledger-seed=%d\nsteps:\n  %s",
						seed, i, err, seed, strings.Join(s.steps, "\n  "))
				}
			}
		})
	}
}

// outcome is the kind of result a command is expected to have.
type outcome int

const (
	accepted outcome = iota
	rejectedInvalid
	rejectedState
	rejectedConflict
	rejectedNotFound
)

func (o outcome) String() string {
	return [...]string{"accepted", "validation error", "state error", "conflict", "not found"}[o]
}

func outcomeOf(err error) (outcome, bool) {
	var (
		ve *domain.ValidationError
		se *domain.StateError
		ce *domain.ConflictError
		ne *domain.NotFoundError
	)
	switch {
	case err == nil:
		return accepted, true
	case errors.As(err, &ve):
		return rejectedInvalid, true
	case errors.As(err, &se):
		return rejectedState, true
	case errors.As(err, &ce):
		return rejectedConflict, true
	case errors.As(err, &ne):
		return rejectedNotFound, true
	}
	return 0, false
}

// ledgerSim is one random sequence: the plan folded after each decision,
// every event so far as decided and as decoded, and a model of the money
// kept from the events alone.
type ledgerSim struct {
	r       *rand.Rand
	cur     domain.Currency
	now     time.Time
	p       *domain.Plan
	events  []domain.Event
	decoded []domain.Event
	nextID  int64
	steps   []string
	// lastFold is the plan folded from scratch from decoded after the
	// last command that returned events.
	lastFold *domain.Plan

	lead           int             // the account's due reminder lead, days
	confirmedTotal int64           // sum of installment.confirmed amounts, minor units
	reported       map[int64]int64 // payments reported and not confirmed, by id
	confirmedIDs   []int64
	activated      bool

	// snap is a snapshot of the plan taken after snapAt decoded events
	// (see checkSnapshot).
	snap   []byte
	snapAt int
}

func newLedgerSim(r *rand.Rand) *ledgerSim {
	return &ledgerSim{r: r, p: &domain.Plan{}, nextID: 1, reported: map[int64]int64{}, lead: r.IntN(6)}
}

func (s *ledgerSim) id() int64 { s.nextID++; return s.nextID }

func (s *ledgerSim) today() domain.Date { return domain.DateOf(s.now) }

func (s *ledgerSim) fmtMinor(m int64) string { return domain.MoneyFromMinor(m, s.cur).String() }

func (s *ledgerSim) outstanding() int64 { return s.p.Ledger().Outstanding.Minor() }

func (s *ledgerSim) run() error {
	if err := s.create(); err != nil {
		return err
	}
	n := 6 + s.r.IntN(20)
	for step := 0; step < n; step++ {
		s.now = s.now.Add(time.Duration(s.r.IntN(3*24*60)) * time.Minute)
		var err error
		switch s.p.Status() {
		case domain.StatusPending:
			err = s.pendingStep()
		case domain.StatusActive:
			err = s.activeStep()
		case domain.StatusCompleted:
			return s.completedChecks()
		default: // cancelled, written off, abandoned
			if s.r.IntN(3) == 0 {
				err = s.report() // refused: the plan is closed
			} else {
				err = s.decide("reactivate", accepted, func(p *domain.Plan) ([]domain.Event, error) { return p.Reactivate(s.now) })
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *ledgerSim) create() error {
	currencies := []domain.Currency{usd, jpy, kwd}
	s.cur = currencies[s.r.IntN(len(currencies))]
	s.now = time.Date(2024+s.r.IntN(6), time.Month(1+s.r.IntN(12)), 1+s.r.IntN(31), s.r.IntN(24), s.r.IntN(60), 0, 0, time.UTC)
	// One or two intervals and durations keep the plan small, so folding
	// from scratch after every step stays cheap; now and then one long
	// schedule.
	all := []string{"weekly", "biweekly", "monthly"}
	intervals := []string{all[s.r.IntN(3)]}
	pool := []int{2, 3, 4, 5, 6, 12}
	durations := []int{pool[s.r.IntN(len(pool))]}
	switch s.r.IntN(40) {
	case 0:
		durations = []int{24 + s.r.IntN(73)} // up to 96
	case 1, 2, 3, 4, 5:
		intervals = append(intervals, all[s.r.IntN(3)])
	case 6, 7, 8, 9, 10:
		durations = append(durations, pool[s.r.IntN(len(pool))])
	}
	unit := pow10(s.cur.MinorUnits)
	var minor int64
	switch s.r.IntN(3) {
	case 0: // tiny: a few minor units per installment
		minor = int64(slices.Max(durations)) * (1 + s.r.Int64N(3))
	case 1:
		minor = s.r.Int64N(100_000 * unit)
	default:
		minor = s.r.Int64N(1_000_000_000 * unit)
	}
	minor = max(minor, unit, int64(slices.Max(durations)))
	cmd := domain.CreatePlan{
		PlanID: 1, AccountID: 1, CustomerID: 1, InvoiceID: 1, OptionIDs: ids(101), PortalToken: "tok", Now: s.now,
		CustomerName: "A", CustomerEmail: "a@example.com", Amount: s.fmtMinor(minor), Currency: s.cur.Code,
		Intervals: intervals, Durations: durations, FirstPaymentDate: s.today().AddDays(s.r.IntN(30)).String(),
	}
	return s.decide(fmt.Sprintf("create %s %s %v x %v", cmd.Amount, cmd.Currency, intervals, durations), accepted,
		func(p *domain.Plan) ([]domain.Event, error) { return p.CreatePlan(cmd) })
}

func (s *ledgerSim) pendingStep() error {
	switch k := s.r.IntN(10); {
	case k < 4:
		return s.selectOption()
	case k < 6:
		return s.propose()
	case k < 9:
		return s.answer()
	default:
		return s.tick()
	}
}

func (s *ledgerSim) activeStep() error {
	switch k := s.r.IntN(100); {
	case k < 18:
		return s.report()
	case k < 36:
		return s.confirm()
	case k < 54:
		return s.record()
	case k < 64:
		return s.extend()
	case k < 71:
		return s.deferInstallment()
	case k < 77:
		return s.propose()
	case k < 87:
		return s.answer()
	case k < 93:
		return s.tick()
	case k < 95:
		return s.selectOption() // loses: a schedule was chosen
	case k < 97:
		return s.notificationOutcome()
	case k < 98:
		return s.decide("cancel", accepted, func(p *domain.Plan) ([]domain.Event, error) { return p.Cancel("paused", s.now) })
	default:
		return s.decide("write off", accepted, func(p *domain.Plan) ([]domain.Event, error) { return p.WriteOff("", s.now) })
	}
}

// completedChecks: nothing is outstanding, and no payment command is
// accepted any more.
func (s *ledgerSim) completedChecks() error {
	if !s.p.Ledger().Outstanding.IsZero() {
		return fmt.Errorf("completed with %s outstanding", s.p.Ledger().Outstanding)
	}
	in := domain.PaymentInput{PaymentID: s.id(), Amount: s.fmtMinor(1), Method: "cash", Now: s.now}
	if err := s.decide("report after completion", rejectedState,
		func(p *domain.Plan) ([]domain.Event, error) { return p.ReportPayment(in) }); err != nil {
		return err
	}
	if err := s.decide("record after completion", rejectedState,
		func(p *domain.Plan) ([]domain.Event, error) { return p.RecordPayment(in) }); err != nil {
		return err
	}
	if ids := s.reportedIDs(); len(ids) > 0 {
		return s.decide("confirm after completion", rejectedState,
			func(p *domain.Plan) ([]domain.Event, error) { return p.ConfirmPayment(ids[0], "", s.now) })
	}
	return nil
}

// amount returns the text of a random amount of at most limit minor units
// and whether it is valid; about a fifth are not.
func (s *ledgerSim) amount(limit int64) (string, bool) {
	if s.r.IntN(5) == 0 || limit < 1 {
		return s.invalidAmount(limit), false
	}
	return s.amountText(1 + s.r.Int64N(limit)), true
}

// amountText writes m in one of the spellings a client may use.
func (s *ledgerSim) amountText(m int64) string {
	text := s.fmtMinor(m)
	switch s.r.IntN(6) {
	case 0:
		if s.cur.MinorUnits > 0 {
			return text + "0" // a trailing zero carries no value
		}
	case 1:
		return strconv.FormatInt(m, 10) + "e-" + strconv.Itoa(int(s.cur.MinorUnits))
	case 2:
		return " " + text + " "
	}
	return text
}

func (s *ledgerSim) invalidAmount(limit int64) string {
	switch s.r.IntN(6) {
	case 0:
		return "0"
	case 1:
		return "-" + s.fmtMinor(1+s.r.Int64N(1000))
	case 2:
		if s.cur.MinorUnits == 0 {
			return s.fmtMinor(1+s.r.Int64N(1000)) + ".5"
		}
		return s.fmtMinor(1+s.r.Int64N(1000)) + "5" // one decimal too many
	case 3:
		return "ten"
	case 4:
		return ""
	}
	return s.fmtMinor(limit + 1 + s.r.Int64N(1000))
}

func (s *ledgerSim) paymentInput(amount string, valid bool) (domain.PaymentInput, bool) {
	in := domain.PaymentInput{PaymentID: s.id(), Amount: amount, Now: s.now}
	methods := domain.PaymentMethods
	in.Method = string(methods[s.r.IntN(len(methods))])
	switch s.r.IntN(20) {
	case 0:
		in.PaidOn = s.today().AddDays(-s.r.IntN(60)).String()
	case 1:
		in.PaidOn = s.today().AddDays(1).String()
	case 2:
		in.PaidOn, valid = s.today().AddDays(2+s.r.IntN(10)).String(), false
	case 3:
		in.PaidOn, valid = "2025-02-29", false
	case 4:
		in.Method, valid = "wire", false
	case 5:
		in.Reference = "chk " + strconv.Itoa(s.r.IntN(10000))
	case 6:
		in.Reference, valid = "a\tb", false
	case 7:
		in.Reference, valid = strings.Repeat("r", 256), false
	}
	return in, valid
}

func (s *ledgerSim) report() error {
	// Reports awaiting confirmation count against what may be reported.
	text, valid := s.amount(max(0, s.outstanding()-s.p.Ledger().Reported.Minor()))
	in, valid := s.paymentInput(text, valid)
	want := rejectedInvalid
	switch {
	case s.p.Status() != domain.StatusActive:
		want = rejectedState
	case valid:
		want = accepted
	}
	return s.decide(fmt.Sprintf("report %d %q paid_on %q method %q", in.PaymentID, in.Amount, in.PaidOn, in.Method), want,
		func(p *domain.Plan) ([]domain.Event, error) { return p.ReportPayment(in) })
}

func (s *ledgerSim) confirm() error {
	outstanding := s.outstanding()
	var id int64
	want := accepted
	switch k := s.r.IntN(10); {
	case k < 7 && len(s.reported) > 0:
		ids := s.reportedIDs()
		id = ids[s.r.IntN(len(ids))]
	case k < 9 && len(s.confirmedIDs) > 0:
		id, want = s.confirmedIDs[s.r.IntN(len(s.confirmedIDs))], rejectedConflict
	default:
		id, want = 9999, rejectedNotFound
	}
	amount, valid := "", true
	if s.r.IntN(2) == 0 {
		amount, valid = s.amount(outstanding)
	}
	switch {
	case want != accepted:
	case strings.TrimSpace(amount) == "": // the reported amount
		if s.reported[id] > outstanding {
			want = rejectedConflict
		}
	case !valid:
		want = rejectedInvalid
	}
	return s.decide(fmt.Sprintf("confirm %d %q", id, amount), want,
		func(p *domain.Plan) ([]domain.Event, error) { return p.ConfirmPayment(id, amount, s.now) })
}

// reportedIDs returns the ids of the payments awaiting confirmation, in
// order (map order would make a run irreproducible).
func (s *ledgerSim) reportedIDs() []int64 {
	ids := make([]int64, 0, len(s.reported))
	for id := range s.reported {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// firstOpen returns the first installment in payment order that is not
// paid in full.
func (s *ledgerSim) firstOpen() domain.InstallmentState {
	for _, in := range s.p.Installments() {
		if !in.Outstanding.IsZero() {
			return in
		}
	}
	return domain.InstallmentState{}
}

func (s *ledgerSim) record() error {
	outstanding := s.outstanding()
	rem := s.firstOpen().Outstanding.Minor()
	var m int64
	kind := s.r.IntN(10)
	switch {
	case kind < 3 && rem > 1: // partial
		m = 1 + s.r.Int64N(rem-1)
	case kind < 5: // exactly the first open installment
		m = rem
	case kind < 8 && outstanding > rem: // more than one installment
		m = rem + 1 + s.r.Int64N(outstanding-rem)
	case kind < 9: // everything
		m = outstanding
	default:
		text := s.invalidAmount(outstanding)
		in, _ := s.paymentInput(text, false)
		return s.decide(fmt.Sprintf("record %d %q (invalid)", in.PaymentID, text), rejectedInvalid,
			func(p *domain.Plan) ([]domain.Event, error) { return p.RecordPayment(in) })
	}
	in, valid := s.paymentInput(s.amountText(m), true)
	want := accepted
	if !valid {
		want = rejectedInvalid
	}
	return s.decide(fmt.Sprintf("record %d %q of %s outstanding", in.PaymentID, in.Amount, s.fmtMinor(outstanding)), want,
		func(p *domain.Plan) ([]domain.Event, error) { return p.RecordPayment(in) })
}

// pickInstallment returns a random installment number and the expected
// outcome of changing its due date: not found for a number not on the
// schedule, a conflict for one paid in full.
func (s *ledgerSim) pickInstallment() (int, domain.InstallmentState, outcome) {
	ins := s.p.Installments()
	if s.r.IntN(10) == 0 {
		return len(ins) + 50, domain.InstallmentState{}, rejectedNotFound
	}
	in := ins[s.r.IntN(len(ins))]
	if in.Outstanding.IsZero() {
		return in.Number, in, rejectedConflict
	}
	return in.Number, in, accepted
}

func (s *ledgerSim) extend() error {
	n, in, want := s.pickInstallment()
	shift := s.r.IntN(2) == 0
	due := "2026-13-01"
	if !in.DueDate.IsZero() {
		days := 1 + s.r.IntN(366)
		switch s.r.IntN(8) {
		case 0:
			days = -s.r.IntN(30) // not after the current date
		case 1:
			days = 367 + s.r.IntN(30)
		}
		due = in.DueDate.AddDays(days).String()
		if (days < 1 || days > 366) && want == accepted {
			want = rejectedInvalid
		}
	}
	return s.decide(fmt.Sprintf("extend %d to %s shift %v", n, due, shift), want,
		func(p *domain.Plan) ([]domain.Event, error) { return p.ExtendInstallment(n, due, shift, s.now) })
}

func (s *ledgerSim) deferInstallment() error {
	n, _, want := s.pickInstallment()
	return s.decide(fmt.Sprintf("defer %d", n), want,
		func(p *domain.Plan) ([]domain.Event, error) { return p.DeferInstallment(n, s.now) })
}

// terms returns random terms for what is outstanding and whether they are
// valid.
func (s *ledgerSim) terms() (domain.TermsInput, bool) {
	outstanding := s.outstanding()
	in := domain.TermsInput{
		Installments:     strconv.FormatInt(1+s.r.Int64N(min(12, outstanding)), 10),
		Interval:         []string{"weekly", "biweekly", "monthly"}[s.r.IntN(3)],
		FirstPaymentDate: s.today().AddDays(s.r.IntN(366)).String(),
	}
	switch s.r.IntN(12) {
	case 0:
		in.Installments = "0"
	case 1:
		in.Installments = strconv.FormatInt(outstanding+1, 10) // more than minor units, or than 96
	case 2:
		in.Interval = "daily"
	case 3:
		in.FirstPaymentDate = s.today().AddDays(-1).String()
	case 4:
		in.FirstPaymentDate = s.today().AddDays(366).String()
	default:
		return in, true
	}
	return in, false
}

func (s *ledgerSim) propose() error {
	in, valid := s.terms()
	want := accepted
	if pr, open := s.p.OpenProposal(); open && pr.Status == domain.ProposalIsPending {
		want = rejectedConflict // an unanswered counter-offer is superseded instead
	} else if !valid {
		want = rejectedInvalid
	}
	id := s.id()
	consent := domain.Consent{At: s.now, IP: "192.0.2.1"}
	return s.decide(fmt.Sprintf("propose %d %+v", id, in), want,
		func(p *domain.Plan) ([]domain.Event, error) { return p.ProposeSchedule(id, in, consent) })
}

// answer answers the open proposal (or, with none open, tries to approve
// an answered or unknown one).
func (s *ledgerSim) answer() error {
	pr, open := s.p.OpenProposal()
	outstanding := s.outstanding()
	if !open {
		id, want := int64(9998), rejectedNotFound
		if all := s.p.Proposals(); len(all) > 0 {
			id, want = all[s.r.IntN(len(all))].ID, rejectedConflict
		}
		return s.decide(fmt.Sprintf("approve %d (not open)", id), want,
			func(p *domain.Plan) ([]domain.Event, error) { return p.ApproveProposal(id, s.now) })
	}
	// Terms are agreed only as they were made: first date not past, the
	// same amount outstanding, and enough of it for every installment.
	fits := func(t domain.Terms, amount domain.Money) outcome {
		if int64(t.Installments) > outstanding || t.FirstPaymentDate.Before(domain.DateOf(s.now)) || amount.Minor() != outstanding {
			return rejectedConflict
		}
		return accepted
	}
	if s.r.IntN(5) == 0 {
		return s.decide(fmt.Sprintf("decline %d", pr.ID), accepted,
			func(p *domain.Plan) ([]domain.Event, error) { return p.DeclineProposal(pr.ID, "no", s.now) })
	}
	if pr.Status == domain.ProposalIsCountered {
		if s.r.IntN(6) == 0 {
			return s.decide(fmt.Sprintf("approve countered %d", pr.ID), rejectedConflict,
				func(p *domain.Plan) ([]domain.Event, error) { return p.ApproveProposal(pr.ID, s.now) })
		}
		consent := domain.Consent{At: s.now, UserAgent: "UA"}
		return s.decide(fmt.Sprintf("accept counter %d %+v", pr.ID, *pr.Counter), fits(*pr.Counter, *pr.CounterAmount),
			func(p *domain.Plan) ([]domain.Event, error) { return p.AcceptCounter(pr.ID, consent) })
	}
	if s.r.IntN(3) == 0 {
		in, valid := s.terms()
		want := accepted
		if !valid {
			want = rejectedInvalid
		}
		return s.decide(fmt.Sprintf("counter %d %+v", pr.ID, in), want,
			func(p *domain.Plan) ([]domain.Event, error) { return p.CounterProposal(pr.ID, in, "", s.now) })
	}
	if s.r.IntN(8) == 0 {
		return s.decide(fmt.Sprintf("accept uncountered %d", pr.ID), rejectedConflict,
			func(p *domain.Plan) ([]domain.Event, error) { return p.AcceptCounter(pr.ID, domain.Consent{At: s.now}) })
	}
	return s.decide(fmt.Sprintf("approve %d %+v", pr.ID, pr.Terms), fits(pr.Terms, pr.Amount),
		func(p *domain.Plan) ([]domain.Event, error) { return p.ApproveProposal(pr.ID, s.now) })
}

func (s *ledgerSim) selectOption() error {
	opts := s.p.Options()
	id := opts[s.r.IntN(len(opts))].ID
	want := accepted
	switch {
	case s.p.Status() == domain.StatusActive:
		want = rejectedConflict
	case s.r.IntN(8) == 0:
		id, want = 1, rejectedNotFound
	}
	consent := domain.Consent{At: s.now, IP: "192.0.2.2", UserAgent: "UA"}
	return s.decide(fmt.Sprintf("select %d", id), want,
		func(p *domain.Plan) ([]domain.Event, error) {
			return p.SelectOption(domain.SelectOption{OptionID: id, Consent: consent})
		})
}

func (s *ledgerSim) tick() error {
	s.now = s.now.Add(time.Duration(s.r.IntN(20*24)) * time.Hour)
	evs := s.p.Tick(s.now, s.lead)
	s.steps = append(s.steps, fmt.Sprintf("tick %s lead %d: %d events", s.now.Format(time.RFC3339), s.lead, len(evs)))
	return s.apply(evs)
}

func (s *ledgerSim) notificationOutcome() error {
	for _, n := range s.p.Notices() {
		if n.Status == domain.EmailPending {
			k := n.NoticeKey
			return s.decide(fmt.Sprintf("notice sent %+v", k), accepted, func(p *domain.Plan) ([]domain.Event, error) {
				return p.RecordNotificationSent(k, "<m@x>", "a@example.com", s.now)
			})
		}
	}
	return nil
}

// decide runs cmd, checks its outcome is want (a failure returns no
// events, a success some), applies the events and checks the invariants.
func (s *ledgerSim) decide(desc string, want outcome, cmd decision) error {
	evs, err := cmd(s.p)
	got, known := outcomeOf(err)
	var types []string
	for _, e := range evs {
		types = append(types, e.EventType())
	}
	s.steps = append(s.steps, fmt.Sprintf("%s %s: %v %v", s.now.Format(time.RFC3339), desc, err, types))
	switch {
	case !known:
		return fmt.Errorf("%s: unexpected error %v (%T)", desc, err, err)
	case err != nil && len(evs) != 0:
		return fmt.Errorf("%s: error %v with %d events", desc, err, len(evs))
	case err == nil && len(evs) == 0:
		return fmt.Errorf("%s: accepted without events", desc)
	case got != want:
		return fmt.Errorf("%s: %v (%v), want %v", desc, got, err, want)
	}
	return s.apply(evs)
}

// apply checks each event against the plan before it, folds it, checks
// that it survives a JSON round trip, then checks the invariants and that
// a fold from scratch of the decoded events equals the plan.
func (s *ledgerSim) apply(evs []domain.Event) error {
	for i, e := range evs {
		if err := s.checkEvent(e, evs[i+1:]); err != nil {
			return fmt.Errorf("%s: %w", e.EventType(), err)
		}
		before := s.p.Installments()
		s.p.Apply(e)
		s.model(e)
		if c, ok := e.(domain.InstallmentConfirmed); ok {
			if err := checkPaidMoved(before, s.p.Installments(), c.Allocations); err != nil {
				return err
			}
		}
		typ, data, err := domain.MarshalEvent(e)
		if err != nil {
			return err
		}
		dec, err := domain.UnmarshalEvent(typ, data)
		if err != nil {
			return err
		}
		// plan.created is checked by the fold below (and by
		// TestEventRoundTrip); comparing it here would double the cost.
		if _, created := e.(domain.PlanCreated); !created && !reflect.DeepEqual(dec, e) {
			return fmt.Errorf("%s does not round-trip: %s", typ, data)
		}
		s.events = append(s.events, e)
		s.decoded = append(s.decoded, dec)
	}
	if err := s.checkInvariants(); err != nil {
		return err
	}
	if err := s.checkWake(); err != nil {
		return err
	}
	// With no new events the fold from scratch is the last one: comparing
	// with it still catches a command that changed the plan in place.
	replayed := s.lastFold
	if len(evs) > 0 || replayed == nil {
		replayed = fold(s.decoded)
		s.lastFold = replayed
	}
	if !domain.SameState(replayed, s.p) {
		return fmt.Errorf("folding the %d decoded events from scratch gives\n%+v\nwant\n%+v", len(s.decoded), replayed, s.p)
	}
	return s.checkSnapshot()
}

// model keeps the money as the events tell it.
func (s *ledgerSim) model(e domain.Event) {
	switch e := e.(type) {
	case domain.InstallmentPaid:
		s.reported[e.PaymentID] = e.Amount.Minor()
	case domain.InstallmentConfirmed:
		delete(s.reported, e.PaymentID)
		s.confirmedIDs = append(s.confirmedIDs, e.PaymentID)
		s.confirmedTotal += e.Amount.Minor()
	case domain.PlanActivated:
		s.activated = true
	}
}

// checkEvent checks e against the plan it is about to be folded into; rest
// are the events decided with it that come after it.
func (s *ledgerSim) checkEvent(e domain.Event, rest []domain.Event) error {
	p := s.p
	l := p.Ledger()
	switch e := e.(type) {
	case domain.InstallmentPaid:
		if e.Amount.Minor() <= 0 || e.Amount.Cmp(l.Outstanding) > 0 {
			return fmt.Errorf("amount %s with %s outstanding", e.Amount, l.Outstanding)
		}
		if slices.ContainsFunc(p.Payments(), func(pay domain.Payment) bool { return pay.ID == e.PaymentID }) {
			return fmt.Errorf("payment %d twice", e.PaymentID)
		}
		if first := s.firstOpen().Number; e.Installment != first {
			return fmt.Errorf("names installment %d, the first open one is %d", e.Installment, first)
		}
	case domain.InstallmentConfirmed:
		if _, ok := s.reported[e.PaymentID]; !ok {
			return fmt.Errorf("payment %d was not awaiting confirmation", e.PaymentID)
		}
		if e.Amount.Minor() <= 0 || e.Amount.Cmp(l.Outstanding) > 0 {
			return fmt.Errorf("amount %s with %s outstanding", e.Amount, l.Outstanding)
		}
		if err := checkAllocations(p.Installments(), e); err != nil {
			return err
		}
		paysOff := e.Amount.Cmp(l.Outstanding) == 0
		completes := len(rest) > 0 && reflect.TypeOf(rest[0]) == reflect.TypeOf(domain.PlanCompleted{})
		if paysOff != completes {
			return fmt.Errorf("pays off %v, followed by plan.completed %v", paysOff, completes)
		}
	case domain.PlanCompleted:
		if !l.Outstanding.IsZero() {
			return fmt.Errorf("with %s outstanding", l.Outstanding)
		}
	case domain.PlanActivated:
		if p.Status() != domain.StatusPending {
			return fmt.Errorf("plan is %s", p.Status())
		}
		if e.OptionID != 0 {
			for _, o := range p.Options() {
				if o.ID == e.OptionID && !reflect.DeepEqual(o.Schedule, e.Schedule) {
					return fmt.Errorf("schedule is not option %d's", o.ID)
				}
			}
		} else if err := checkReschedule(p, e.Schedule); err != nil && !sameSchedule(p, e.Schedule) {
			return err
		}
	case domain.ProposalApproved:
		return checkReschedule(p, e.Schedule)
	case domain.ProposalCounterAccepted:
		return checkReschedule(p, e.Schedule)
	case domain.InstallmentExtensionGranted:
		return checkExtension(p, e)
	case domain.InstallmentDeferred:
		last := e.From
		for _, in := range p.Installments() {
			if in.Number == e.Installment && (in.DueDate != e.From || in.Outstanding.IsZero()) {
				return fmt.Errorf("installment %d is due %s with %s outstanding", in.Number, in.DueDate, in.Outstanding)
			}
			if in.DueDate.After(last) {
				last = in.DueDate
			}
		}
		if want := p.Interval().DueDate(last, 1); e.To != want {
			return fmt.Errorf("deferred to %s, want one interval after %s: %s", e.To, last, want)
		}
	}
	return nil
}

// checkAllocations: the allocations sum to the amount and fill the open
// installments in payment order (due date, then number), each in full but
// the last.
func checkAllocations(before []domain.InstallmentState, e domain.InstallmentConfirmed) error {
	var open []domain.InstallmentState
	for _, in := range before {
		if !in.Outstanding.IsZero() {
			open = append(open, in)
		}
	}
	var sum int64
	for k, a := range e.Allocations {
		sum += a.Amount.Minor()
		if k >= len(open) || a.Installment != open[k].Number {
			return fmt.Errorf("allocation %d to installment %d, not the next open one in payment order", k, a.Installment)
		}
		rem := open[k].Outstanding.Minor()
		last := k == len(e.Allocations)-1
		if a.Amount.Minor() <= 0 || a.Amount.Minor() > rem || !last && a.Amount.Minor() != rem {
			return fmt.Errorf("allocation %s to installment %d with %s outstanding", a.Amount, a.Installment, open[k].Outstanding)
		}
	}
	if sum != e.Amount.Minor() {
		return fmt.Errorf("allocations sum to %d minor units, amount %s", sum, e.Amount)
	}
	return nil
}

// checkPaidMoved: folding a confirmation added exactly its allocations to
// the installments.
func checkPaidMoved(before, after []domain.InstallmentState, allocs []domain.Allocation) error {
	paid := map[int]int64{}
	for _, in := range before {
		paid[in.Number] = in.Paid.Minor()
	}
	for _, a := range allocs {
		paid[a.Installment] += a.Amount.Minor()
	}
	for _, in := range after {
		if in.Paid.Minor() != paid[in.Number] {
			return fmt.Errorf("installment %d paid %s after the confirmation, want %d minor units", in.Number, in.Paid, paid[in.Number])
		}
	}
	return nil
}

// checkReschedule: the installments with confirmed payments stay (amount
// = what was paid, same number and due date); the outstanding balance is
// split into new installments numbered after them.
func checkReschedule(p *domain.Plan, sched []domain.Installment) error {
	kept := map[int]domain.InstallmentState{}
	last := 0
	for _, in := range p.Installments() {
		if !in.Paid.IsZero() {
			kept[in.Number] = in
			last = max(last, in.Number)
		}
	}
	var fresh []int64
	seen := map[int]bool{}
	for _, in := range sched {
		if seen[in.Number] {
			return fmt.Errorf("installment number %d twice", in.Number)
		}
		seen[in.Number] = true
		if k, ok := kept[in.Number]; ok {
			if in.Amount != k.Paid || in.DueDate != k.DueDate {
				return fmt.Errorf("kept installment %d: %s due %s, want %s due %s", in.Number, in.Amount, in.DueDate, k.Paid, k.DueDate)
			}
			delete(kept, in.Number)
			continue
		}
		if in.Number <= last {
			return fmt.Errorf("new installment %d numbered before kept %d", in.Number, last)
		}
		fresh = append(fresh, in.Amount.Minor())
	}
	if len(kept) != 0 {
		return fmt.Errorf("paid installments dropped: %v", kept)
	}
	var sum int64
	for _, m := range fresh {
		sum += m
	}
	if len(fresh) == 0 || sum != p.Ledger().Outstanding.Minor() || slices.Max(fresh)-slices.Min(fresh) > 1 {
		return fmt.Errorf("new installments %v for %s outstanding", fresh, p.Ledger().Outstanding)
	}
	return nil
}

// sameSchedule reports whether sched is the plan's schedule already (the
// plan.activated after an approval or accepted counter in one decision).
func sameSchedule(p *domain.Plan, sched []domain.Installment) bool {
	cur := p.Installments()
	if len(cur) != len(sched) {
		return false
	}
	for _, in := range sched {
		if !slices.ContainsFunc(cur, func(c domain.InstallmentState) bool {
			return c.Number == in.Number && c.Amount == in.Amount && c.DueDate == in.DueDate
		}) {
			return false
		}
	}
	return true
}

// checkExtension: the installment moves later by at most 366 days; with
// ShiftFollowing exactly the open installments after it in payment order
// move, by the same number of days.
func checkExtension(p *domain.Plan, e domain.InstallmentExtensionGranted) error {
	ins := p.Installments()
	i := slices.IndexFunc(ins, func(in domain.InstallmentState) bool { return in.Number == e.Installment })
	if i < 0 || len(e.Changes) == 0 || e.Changes[0].Installment != e.Installment {
		return fmt.Errorf("changes %+v", e.Changes)
	}
	ext := ins[i]
	c := e.Changes[0]
	days := int(c.To.Time().Sub(c.From.Time()).Hours() / 24)
	if c.From != ext.DueDate || days < 1 || days > 366 || ext.Outstanding.IsZero() {
		return fmt.Errorf("installment %d due %s (%s outstanding) moved %s -> %s", ext.Number, ext.DueDate, ext.Outstanding, c.From, c.To)
	}
	var want []domain.DueDateChange
	if e.ShiftFollowing {
		for _, in := range ins {
			later := in.DueDate.After(ext.DueDate) || in.DueDate == ext.DueDate && in.Number > ext.Number
			if later && !in.Outstanding.IsZero() {
				want = append(want, domain.DueDateChange{Installment: in.Number, From: in.DueDate, To: in.DueDate.AddDays(days)})
			}
		}
	}
	if got := e.Changes[1:]; len(got) != len(want) || len(want) > 0 && !reflect.DeepEqual(got, want) {
		return fmt.Errorf("shifted %+v, want %+v", got, want)
	}
	return nil
}

// checkInvariants checks the ledger against the model and the schedule.
func (s *ledgerSim) checkInvariants() error {
	p := s.p
	l := p.Ledger()
	total := p.Invoice().Amount
	for name, m := range map[string]domain.Money{"total": l.Total, "paid": l.Paid, "reported": l.Reported, "outstanding": l.Outstanding} {
		if m.Scale() != s.cur.MinorUnits {
			return fmt.Errorf("ledger %s %s has scale %d", name, m, m.Scale())
		}
	}
	var reportedSum int64
	for _, m := range s.reported {
		reportedSum += m
	}
	switch {
	case l.Total != total:
		return fmt.Errorf("ledger total %s, invoice %s", l.Total, total)
	case l.Paid.Minor() != s.confirmedTotal:
		return fmt.Errorf("ledger paid %s, confirmed payments %d minor units", l.Paid, s.confirmedTotal)
	case l.Paid.Minor() < 0 || l.Paid.Cmp(total) > 0:
		return fmt.Errorf("ledger paid %s of %s", l.Paid, total)
	case l.Outstanding != total.Sub(l.Paid):
		return fmt.Errorf("ledger outstanding %s, total %s - paid %s", l.Outstanding, total, l.Paid)
	case l.Reported.Minor() != reportedSum:
		return fmt.Errorf("ledger reported %s, reported payments %d minor units", l.Reported, reportedSum)
	case (p.Status() == domain.StatusCompleted) != l.Outstanding.IsZero():
		return fmt.Errorf("status %s with %s outstanding", p.Status(), l.Outstanding)
	}
	var payConfirmed, payReported int64
	for _, pay := range p.Payments() {
		switch {
		case pay.Status == domain.PaymentReported && pay.ConfirmedAmount == nil:
			payReported += pay.Amount.Minor()
		case pay.Status == domain.PaymentConfirmed && pay.ConfirmedAmount != nil:
			payConfirmed += pay.ConfirmedAmount.Minor()
			var sum int64
			for _, a := range pay.Allocations {
				sum += a.Amount.Minor()
			}
			if sum != pay.ConfirmedAmount.Minor() {
				return fmt.Errorf("payment %d: allocations %d, confirmed %s", pay.ID, sum, pay.ConfirmedAmount)
			}
		default:
			return fmt.Errorf("payment %+v", pay)
		}
	}
	if payConfirmed != s.confirmedTotal || payReported != reportedSum {
		return fmt.Errorf("payments: confirmed %d reported %d, model %d %d", payConfirmed, payReported, s.confirmedTotal, reportedSum)
	}

	ins := p.Installments()
	if !s.activated {
		if ins != nil {
			return fmt.Errorf("installments before activation")
		}
		return nil
	}
	if len(ins) == 0 {
		return fmt.Errorf("no installments after activation")
	}
	var amounts, paid int64
	numbers := map[int]bool{}
	remainingReport := reportedSum
	for k, in := range ins {
		if numbers[in.Number] {
			return fmt.Errorf("installment number %d twice", in.Number)
		}
		numbers[in.Number] = true
		if k > 0 {
			prev := ins[k-1]
			if in.DueDate.Before(prev.DueDate) || in.DueDate == prev.DueDate && in.Number < prev.Number {
				return fmt.Errorf("installments out of payment order at %d", in.Number)
			}
		}
		for _, m := range []domain.Money{in.Amount, in.Paid, in.Outstanding} {
			if m.Scale() != s.cur.MinorUnits {
				return fmt.Errorf("installment %d: %s has scale %d", in.Number, m, m.Scale())
			}
		}
		if in.Amount.Minor() <= 0 || in.Paid.Minor() < 0 || in.Paid.Cmp(in.Amount) > 0 || in.Outstanding != in.Amount.Sub(in.Paid) {
			return fmt.Errorf("installment %d: amount %s paid %s outstanding %s", in.Number, in.Amount, in.Paid, in.Outstanding)
		}
		amounts += in.Amount.Minor()
		paid += in.Paid.Minor()
		// The status is derived: confirmed iff nothing is outstanding;
		// reported while reported payments cover installments in payment
		// order; partially paid; pending.
		var want domain.InstallmentStatus
		switch {
		case in.Outstanding.IsZero():
			want = domain.InstallmentIsConfirmed
		case remainingReport > 0:
			want = domain.InstallmentIsReported
			remainingReport = max(0, remainingReport-in.Outstanding.Minor())
		case !in.Paid.IsZero():
			want = domain.InstallmentIsPartiallyPaid
		default:
			want = domain.InstallmentIsPending
		}
		if in.Status != want {
			return fmt.Errorf("installment %d is %s, want %s", in.Number, in.Status, want)
		}
	}
	if amounts != total.Minor() || paid != l.Paid.Minor() {
		return fmt.Errorf("installments sum to %d paid %d, total %s paid %s", amounts, paid, total, l.Paid)
	}
	return nil
}

// checkWake: Tick decides nothing before the time Wake names (the earlier
// of wakeAt and the due reminder lead days before dueReminderOn) and
// something at it; with no such time, nothing ever.
func (s *ledgerSim) checkWake() error {
	wakeAt, dueOn := s.p.Wake()
	next := wakeAt
	if !dueOn.IsZero() && s.lead > 0 {
		if r := dueOn.AddDays(-s.lead).Time(); next.IsZero() || r.Before(next) {
			next = r
		}
	}
	if next.IsZero() {
		if evs := s.p.Tick(s.now.Add(1000*24*time.Hour), s.lead); len(evs) != 0 {
			return fmt.Errorf("Wake names no time, Tick decides %s", evs[0].EventType())
		}
		return nil
	}
	if evs := s.p.Tick(next.Add(-time.Nanosecond), s.lead); len(evs) != 0 {
		return fmt.Errorf("Tick just before %v (Wake %v, %s) decides %+v", next, wakeAt, dueOn, evs[0])
	}
	if evs := s.p.Tick(next, s.lead); len(evs) == 0 {
		return fmt.Errorf("Tick at %v (Wake %v, %s) decides nothing", next, wakeAt, dueOn)
	}
	return nil
}
