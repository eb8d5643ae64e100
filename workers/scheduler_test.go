package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/projections"
)

// createTestPlan appends the plan.created that cmd decides and returns its
// record. It allocates the ids and the portal token and defaults the
// invoice to 1200.00 USD (INV-2024-001), offered as 3, 6 and 12 monthly
// installments from 7 days after cmd.Now.
func createTestPlan(t testing.TB, store *eventstore.Store, cmd domain.CreatePlan) eventstore.Record {
	t.Helper()
	ctx := t.Context()
	nextID := func() int64 {
		id, err := store.NextID(ctx)
		if err != nil {
			t.Fatalf("next id: %v", err)
		}
		return id
	}
	cmd.PlanID, cmd.CustomerID, cmd.InvoiceID = nextID(), nextID(), nextID()
	cmd.PortalToken = fmt.Sprintf("secret-portal-token-%d", cmd.PlanID)
	if cmd.Amount == "" {
		cmd.Amount, cmd.Currency, cmd.InvoiceNumber = "1200.00", "USD", "INV-2024-001"
	}
	for range cmd.OptionCount() {
		cmd.OptionIDs = append(cmd.OptionIDs, nextID())
	}
	var p domain.Plan
	evs, err := p.CreatePlan(cmd)
	if err != nil {
		t.Fatalf("CreatePlan: %v", err)
	}
	newEvs, err := eventstore.Encode(evs)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := store.Append(ctx, eventstore.PlanStream(cmd.PlanID), eventstore.Head{}, newEvs,
		eventstore.Metadata{AccountID: cmd.AccountID, Actor: "test", CommandID: fmt.Sprintf("create-%d", cmd.PlanID)})
	if err != nil {
		t.Fatalf("append plan.created: %v", err)
	}
	return recs[0]
}

// planIDOf is the plan id of a plan record.
func planIDOf(t *testing.T, rec eventstore.Record) int64 {
	t.Helper()
	id, ok := eventstore.PlanIDOf(rec.StreamID)
	if !ok {
		t.Fatalf("stream %q is not a plan stream", rec.StreamID)
	}
	return id
}

// actOn appends what decide returns for plan id, as a customer or merchant
// would (actor "test"); it fails the test on any error.
func actOn(t *testing.T, store *eventstore.Store, id int64, decide func(*domain.Plan) ([]domain.Event, error)) {
	t.Helper()
	p, _, _, err := store.LoadPlan(t.Context(), id)
	if err != nil {
		t.Fatalf("load plan %d: %v", id, err)
	}
	if _, err := eventstore.PlanAggregate.Run(t.Context(), store, eventstore.Cmd[*domain.Plan]{ID: id, Meta: eventstore.Metadata{AccountID: p.AccountID(), Actor: "test"}, Decide: decide}); err != nil {
		t.Fatalf("plan %d: %v", id, err)
	}
}

// activate has the customer of plan id choose the first option (3 monthly
// installments of 400.00) at at.
func activate(t *testing.T, store *eventstore.Store, id int64, at time.Time) {
	t.Helper()
	actOn(t, store, id, func(p *domain.Plan) ([]domain.Event, error) {
		return p.SelectOption(domain.SelectOption{OptionID: p.Options()[0].ID, Consent: domain.Consent{At: at}})
	})
}

// project brings the read-model rows of plans ids up to date, as the
// projection consumer does.
func project(t *testing.T, store *eventstore.Store, ids ...int64) {
	t.Helper()
	plans := projections.NewPlans(store)
	for _, id := range ids {
		_, recs, _, err := store.LoadPlan(t.Context(), id)
		if err != nil {
			t.Fatalf("load plan %d: %v", id, err)
		}
		if err := plans.Apply(t.Context(), recs[len(recs)-1]); err != nil {
			t.Fatalf("project plan %d: %v", id, err)
		}
	}
}

// newScheduler is a Scheduler on store whose clock stands at at.
func newScheduler(store *eventstore.Store, at time.Time) *Scheduler {
	return &Scheduler{Store: store, Plans: projections.NewPlans(store), Now: func() time.Time { return at },
		BatchSize: 7, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// tickAt runs one tick at at, the read model being up to date for ids
// first, and returns how many events it appended.
func tickAt(t *testing.T, store *eventstore.Store, at time.Time, ids ...int64) int {
	t.Helper()
	project(t, store, ids...)
	n, err := newScheduler(store, at).TickOnce(t.Context())
	if err != nil {
		t.Fatalf("TickOnce at %s: %v", at.Format(time.RFC3339), err)
	}
	return n
}

// scheduled lists what the scheduler appended to plan id, in order: a
// notice as "kind installment due-date", any other event as its type. It
// checks each event's metadata and times against the tick that made it.
func scheduled(t *testing.T, store *eventstore.Store, id int64) []string {
	t.Helper()
	_, recs, _, err := store.LoadPlan(t.Context(), id)
	if err != nil {
		t.Fatalf("load plan %d: %v", id, err)
	}
	var out []string
	for _, r := range recs {
		var meta eventstore.Metadata
		if err := json.Unmarshal(r.Metadata, &meta); err != nil {
			t.Fatal(err)
		}
		if meta.Actor != "scheduler" {
			continue
		}
		if r.Type != domain.EventNotificationRequested {
			out = append(out, r.Type)
			continue
		}
		var e domain.NotificationRequested
		if err := json.Unmarshal(r.Data, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %d %s", e.Kind, e.Installment, e.DueDate))
	}
	return out
}

// at parses "2025-12-01" (midnight UTC) or an RFC 3339 time.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	if tm, err := time.Parse(time.DateOnly, s); err == nil {
		return tm
	}
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// schedEnv is a store on a fresh database with one account.
type schedEnv struct {
	store *eventstore.Store
	acct  eventstore.Account
}

func newSchedEnv(t *testing.T, reminderDays *int) *schedEnv {
	t.Helper()
	store := eventstore.New(pgtest.NewPool(t))
	acct, err := store.CreateAccount(t.Context(), eventstore.NewAccount{Name: "Acme Corp", ReminderDays: reminderDays})
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	return &schedEnv{store: store, acct: acct}
}

// plan creates a plan at created (first payment 7 days later) and returns
// its id.
func (env *schedEnv) plan(t *testing.T, created time.Time) int64 {
	t.Helper()
	rec := createTestPlan(t, env.store, domain.CreatePlan{AccountID: env.acct.ID, Now: created,
		CustomerName: "John Doe", CustomerEmail: "john@example.com"})
	return planIDOf(t, rec)
}

// step is one tick of a scenario and what it must append to the plan.
type step struct {
	at   string
	want []string
}

// run ticks the plan at each step in turn (the read model caught up
// before each) and checks what each appended.
func (env *schedEnv) run(t *testing.T, id int64, steps []step) {
	t.Helper()
	before := scheduled(t, env.store, id)
	for _, s := range steps {
		n := tickAt(t, env.store, at(t, s.at), id)
		after := scheduled(t, env.store, id)
		got := after[len(before):]
		if !slices.Equal(got, s.want) || n != len(s.want) {
			t.Fatalf("tick at %s appended %d events %q, want %q", s.at, n, got, s.want)
		}
		env.sendNotices(t, id, at(t, s.at))
		before = after
	}
}

// sendNotices records every requested notice of plan id as sent, as the
// email worker does: a check-in reminder follows only a check-in that went
// out.
func (env *schedEnv) sendNotices(t *testing.T, id int64, when time.Time) {
	t.Helper()
	_, err := eventstore.PlanAggregate.Run(context.Background(), env.store, eventstore.Cmd[*domain.Plan]{ID: id, Meta: eventstore.Metadata{AccountID: env.acct.ID, Actor: "email-worker"}, Decide: func(p *domain.Plan) ([]domain.Event, error) {
		var evs []domain.Event
		for _, n := range p.Notices() {
			if n.Status == domain.EmailPending {
				more, err := p.RecordNotificationSent(n.NoticeKey, "<test>", "john@example.com", when)
				if err != nil {
					return nil, err
				}
				evs = append(evs, more...)
			}
		}
		return evs, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
}

func intPtr(n int) *int { return &n }

func TestSchedulerNotices(t *testing.T) {
	t.Parallel()
	// A plan created 2025-11-27 with 3 monthly installments due 2025-12-04,
	// 2026-01-04 and 2026-02-04; the account keeps the default 3-day lead.
	env := newSchedEnv(t, nil)
	id := env.plan(t, fixedNow)
	activate(t, env.store, id, fixedNow.Add(time.Hour))
	env.run(t, id, []step{
		{"2025-11-30T23:59:59Z", nil},
		{"2025-12-01", []string{"due_reminder 1 2025-12-04"}},
		{"2025-12-01T12:00:00Z", nil},
		{"2025-12-03T23:59:59Z", nil},
		{"2025-12-04", []string{"checkin 1 2025-12-04"}},
		{"2025-12-06", nil}, // two days after the check-in
		{"2025-12-06T23:59:59Z", nil},
		{"2025-12-07", []string{"checkin_reminder 1 2025-12-04"}},
		{"2025-12-08", nil},
		{"2025-12-31T23:59:59Z", nil},
		{"2026-01-01", []string{"due_reminder 2 2026-01-04"}},
		// Nobody ticked for two months: the missed due reminder of
		// installment 3 is not sent late; both get their check-in.
		{"2026-03-01", []string{"checkin 2 2026-01-04", "checkin 3 2026-02-04"}},
		{"2026-03-04", []string{"checkin_reminder 2 2026-01-04", "checkin_reminder 3 2026-02-04"}},
		{"2026-03-05", nil},
		{"2027-01-01", nil},
	})

	// Each notice is requested once, with the installment's outstanding
	// amount and the tick's time, by the scheduler.
	_, recs, _, err := env.store.LoadPlan(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	req := recordsOfType(recs, domain.EventNotificationRequested)
	if len(req) != 8 {
		t.Fatalf("%d notification.requested events, want 8", len(req))
	}
	var first domain.NotificationRequested
	if err := json.Unmarshal(req[0].Data, &first); err != nil {
		t.Fatal(err)
	}
	if first.Amount.String() != "400.00" || !first.RequestedAt.Equal(at(t, "2025-12-01")) {
		t.Errorf("first notice = %+v, want 400.00 requested at 2025-12-01", first)
	}
	var meta eventstore.Metadata
	if err := json.Unmarshal(req[0].Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.AccountID != env.acct.ID || meta.Actor != "scheduler" {
		t.Errorf("metadata = %+v", meta)
	}
}

func TestSchedulerSkipsReportedInstallment(t *testing.T) {
	t.Parallel()
	env := newSchedEnv(t, nil)
	id := env.plan(t, fixedNow)
	activate(t, env.store, id, fixedNow.Add(time.Hour))
	env.run(t, id, []step{{"2025-12-01", []string{"due_reminder 1 2025-12-04"}}})
	// The customer reports paying installment 1 before it is due.
	actOn(t, env.store, id, func(p *domain.Plan) ([]domain.Event, error) {
		return p.ReportPayment(domain.PaymentInput{PaymentID: 1, Amount: "400.00", Method: "e_transfer", Now: at(t, "2025-12-02")})
	})
	env.run(t, id, []step{
		{"2025-12-04", nil},
		{"2025-12-07", nil},
		{"2025-12-20", nil},
		{"2026-01-01", []string{"due_reminder 2 2026-01-04"}},
	})
	// Moving installment 2 gives it notices for its new due date.
	actOn(t, env.store, id, func(p *domain.Plan) ([]domain.Event, error) {
		return p.ExtendInstallment(2, "2026-01-20", false, at(t, "2026-01-02"))
	})
	env.run(t, id, []step{
		{"2026-01-04", nil},
		{"2026-01-17", []string{"due_reminder 2 2026-01-20"}},
		{"2026-01-20", []string{"checkin 2 2026-01-20"}},
	})
}

func TestSchedulerReminderDays(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		days  int
		steps []step
	}{
		{0, []step{
			{"2025-12-01", nil},
			{"2025-12-03T23:59:59Z", nil},
			{"2025-12-04", []string{"checkin 1 2025-12-04"}},
			{"2025-12-07", []string{"checkin_reminder 1 2025-12-04"}},
			{"2026-01-01", nil},
			{"2026-01-03T23:59:59Z", nil},
			{"2026-01-04", []string{"checkin 2 2026-01-04"}},
		}},
		{7, []step{
			{"2025-11-27T12:00:00Z", []string{"due_reminder 1 2025-12-04"}},
			{"2025-12-04", []string{"checkin 1 2025-12-04"}},
			{"2025-12-07", []string{"checkin_reminder 1 2025-12-04"}},
			{"2025-12-27T23:59:59Z", nil},
			{"2025-12-28", []string{"due_reminder 2 2026-01-04"}},
			{"2026-01-01", nil},
		}},
	} {
		t.Run(fmt.Sprintf("%d days", tc.days), func(t *testing.T) {
			t.Parallel()
			env := newSchedEnv(t, intPtr(tc.days))
			if env.acct.ReminderDays != tc.days {
				t.Fatalf("account reminder_days = %d, want %d", env.acct.ReminderDays, tc.days)
			}
			id := env.plan(t, fixedNow)
			activate(t, env.store, id, fixedNow.Add(time.Hour))
			env.run(t, id, tc.steps)
		})
	}
}

func TestSchedulerAbandonsPendingPlans(t *testing.T) {
	t.Parallel()
	env := newSchedEnv(t, nil)
	created := fixedNow // 2025-11-27T10:00:00Z
	id := env.plan(t, created)
	env.run(t, id, []step{
		{"2025-12-27T09:59:59Z", nil}, // 30 days less a second
		{"2025-12-27T10:00:00Z", []string{domain.EventPlanAbandoned}},
		{"2025-12-28", nil},
	})
	p, recs, _, err := env.store.LoadPlan(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var e domain.PlanAbandoned
	if err := json.Unmarshal(recordsOfType(recs, domain.EventPlanAbandoned)[0].Data, &e); err != nil {
		t.Fatal(err)
	}
	if p.Status() != domain.StatusAbandoned || !e.PendingSince.Equal(created) || !e.AbandonedAt.Equal(at(t, "2025-12-27T10:00:00Z")) {
		t.Errorf("status %s, event %+v", p.Status(), e)
	}

	// Reactivated without a schedule, it is pending again with a fresh
	// clock: abandoned again 30 days after the reactivation.
	actOn(t, env.store, id, func(p *domain.Plan) ([]domain.Event, error) {
		return p.Reactivate(at(t, "2026-01-05T08:00:00Z"))
	})
	env.run(t, id, []step{
		{"2026-01-10", nil},
		{"2026-02-04T07:59:59Z", nil},
		{"2026-02-04T08:00:00Z", []string{domain.EventPlanAbandoned}},
		{"2026-06-01", nil},
	})

	// A pending plan with a proposal waiting for the merchant is not
	// abandoned, however long the merchant takes.
	proposed := env.plan(t, created)
	actOn(t, env.store, proposed, func(p *domain.Plan) ([]domain.Event, error) {
		return p.ProposeSchedule(1, domain.TermsInput{Installments: "4", Interval: "monthly", FirstPaymentDate: "2026-01-15"},
			domain.Consent{At: created.Add(24 * time.Hour)})
	})
	env.run(t, proposed, []step{
		{"2025-12-27T10:00:00Z", nil},
		{"2026-06-01", nil},
	})
}

// TestSchedulerReadModelLag ticks twice before the read model sees the
// first tick's events: the second tick finds the plan due and decides
// nothing.
func TestSchedulerReadModelLag(t *testing.T) {
	t.Parallel()
	env := newSchedEnv(t, nil)
	id := env.plan(t, fixedNow)
	activate(t, env.store, id, fixedNow.Add(time.Hour))
	if n := tickAt(t, env.store, at(t, "2025-12-01"), id); n != 1 {
		t.Fatalf("first tick appended %d events, want 1", n)
	}
	later := at(t, "2025-12-01T00:01:00Z")
	due, err := projections.NewPlans(env.store).Due(t.Context(), later, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].PlanID != id {
		t.Fatalf("Due before the projection caught up = %+v, want plan %d", due, id)
	}
	n, err := newScheduler(env.store, later).TickOnce(t.Context())
	if err != nil || n != 0 {
		t.Fatalf("tick on a lagging read model: %d events, %v; want 0, nil", n, err)
	}
	if got := scheduled(t, env.store, id); !slices.Equal(got, []string{"due_reminder 1 2025-12-04"}) {
		t.Errorf("scheduled %q", got)
	}
}

// TestSchedulerReplicas runs four schedulers, each with its own connection
// pool as on separate replicas, at the same instant over the same plans:
// every event is appended exactly once.
func TestSchedulerReplicas(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	openStore := func() *eventstore.Store {
		pool, err := pgxpool.New(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		return eventstore.New(pool)
	}
	store := openStore()
	acct, err := store.CreateAccount(t.Context(), eventstore.NewAccount{Name: "Acme Corp"})
	if err != nil {
		t.Fatal(err)
	}
	// At 2025-12-04: plans due that day get a check-in, plans due one or
	// two days later a due reminder, plans pending for 30 days or more are
	// abandoned.
	now := at(t, "2025-12-04T09:00:00Z")
	want := map[int64][]string{}
	var ids []int64
	for i := range 50 {
		var id int64
		if i%5 == 4 {
			id = planIDOf(t, createTestPlan(t, store, domain.CreatePlan{AccountID: acct.ID, Now: now.AddDate(0, 0, -30-i),
				CustomerName: "Pending", CustomerEmail: "p@example.com"}))
			want[id] = []string{domain.EventPlanAbandoned}
		} else {
			due := at(t, "2025-12-04").AddDate(0, 0, i%3)
			id = planIDOf(t, createTestPlan(t, store, domain.CreatePlan{AccountID: acct.ID, Now: fixedNow,
				FirstPaymentDate: due.Format(time.DateOnly), CustomerName: "Active", CustomerEmail: "a@example.com"}))
			activate(t, store, id, fixedNow.Add(time.Hour))
			kind := "due_reminder"
			if i%3 == 0 {
				kind = "checkin"
			}
			want[id] = []string{fmt.Sprintf("%s 1 %s", kind, due.Format(time.DateOnly))}
		}
		ids = append(ids, id)
	}
	project(t, store, ids...)

	replicas := make([]*Scheduler, 4)
	for i := range replicas {
		replicas[i] = newScheduler(openStore(), now)
	}
	tickAll := func() int {
		start := make(chan struct{})
		var wg sync.WaitGroup
		counts := make([]int, len(replicas))
		errs := make([]error, len(replicas))
		for i, s := range replicas {
			wg.Go(func() {
				<-start
				counts[i], errs[i] = s.TickOnce(t.Context())
			})
		}
		close(start)
		wg.Wait()
		total := 0
		for i := range replicas {
			if errs[i] != nil {
				t.Errorf("replica %d: %v", i, errs[i])
			}
			total += counts[i]
		}
		return total
	}
	if n := tickAll(); n != len(ids) {
		t.Errorf("replicas appended %d events together, want %d", n, len(ids))
	}
	// Again before and after the read model catches up: nothing new.
	if n := tickAll(); n != 0 {
		t.Errorf("second round on a lagging read model appended %d events", n)
	}
	project(t, store, ids...)
	if n := tickAll(); n != 0 {
		t.Errorf("third round appended %d events", n)
	}
	for _, id := range ids {
		if got := scheduled(t, store, id); !slices.Equal(got, want[id]) {
			t.Errorf("plan %d: scheduled %q, want %q", id, got, want[id])
		}
	}
}

// TestSchedulerRun checks that Run ticks on its own and returns when its
// context ends.
func TestSchedulerRun(t *testing.T) {
	t.Parallel()
	env := newSchedEnv(t, nil)
	id := env.plan(t, fixedNow)
	activate(t, env.store, id, fixedNow.Add(time.Hour))
	project(t, env.store, id)
	s := newScheduler(env.store, at(t, "2025-12-04"))
	s.Interval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	// The first tick is immediate; wait for its event (bounded only so a
	// broken Run fails instead of hanging).
	var got []string
	pgtest.WaitFor(t, time.Minute, "Run to append the first tick's event", func() bool {
		got = scheduled(t, env.store, id)
		return len(got) > 0
	})
	if !slices.Equal(got, []string{"checkin 1 2025-12-04"}) {
		t.Fatalf("scheduled %q", got)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v after cancel, want nil", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run did not return within a minute of its context ending")
	}
	if got := scheduled(t, env.store, id); len(got) != 1 {
		t.Errorf("repeated ticks appended more: %q", got)
	}
}

// TestSchedulerPlanErrorDoesNotStopOthers makes one due plan fail (its
// events unreadable by the domain) and checks the other plans are still
// ticked and the failure reported.
func TestSchedulerPlanErrorDoesNotStopOthers(t *testing.T) {
	t.Parallel()
	env := newSchedEnv(t, nil)
	var ids []int64
	for range 3 {
		id := env.plan(t, fixedNow)
		activate(t, env.store, id, fixedNow.Add(time.Hour))
		ids = append(ids, id)
	}
	project(t, env.store, ids...)
	// The middle plan gets an event of a type this version does not know,
	// appended after its row was written: loading it fails.
	bad := ids[1]
	_, _, head, err := env.store.LoadPlan(t.Context(), bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.store.Append(t.Context(), eventstore.PlanStream(bad), head,
		[]eventstore.NewEvent{{ID: uuid.Must(uuid.NewV7()), Type: "future.event", Data: []byte(`{}`)}},
		eventstore.Metadata{AccountID: env.acct.ID, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	s := newScheduler(env.store, at(t, "2025-12-04"))
	s.Log = slog.New(slog.NewTextHandler(&logs, nil))
	n, err := s.TickOnce(t.Context())
	if n != 2 || err == nil || !strings.Contains(err.Error(), "1 plans failed") || !strings.Contains(err.Error(), fmt.Sprint(bad)) {
		t.Fatalf("TickOnce = %d, %v; want 2 events and an error naming plan %d", n, err, bad)
	}
	for _, id := range []int64{ids[0], ids[2]} {
		if got := scheduled(t, env.store, id); !slices.Equal(got, []string{"checkin 1 2025-12-04"}) {
			t.Errorf("plan %d: scheduled %q", id, got)
		}
	}
	if !strings.Contains(logs.String(), fmt.Sprintf("plan_id=%d", bad)) {
		t.Errorf("the failure is not logged:\n%s", logs.String())
	}
}
