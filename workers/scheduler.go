package workers

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
)

// DefaultSchedulerInterval is how often a Scheduler ticks unless told
// otherwise.
const DefaultSchedulerInterval = time.Minute

// defaultSchedulerBatch is how many due plans a tick reads at a time.
const defaultSchedulerBatch = 100

// schedulerActor is the metadata actor of the events the scheduler appends.
const schedulerActor = "scheduler"

// Scheduler appends what time alone makes due: plan.abandoned for a plan
// left pending too long, and notification.requested for the due reminders,
// check-ins and check-in reminders of active plans (domain.Plan.Tick). The
// EmailWorker sends the notices.
//
// The read model says which plans may have something to do
// (projections.Plans.Due); the plan's events decide. Each plan is ticked
// through the command path (eventstore.Aggregate.Run), which appends at the
// version it loaded and reloads on a conflict, and Tick requests each notice once per
// installment and due date. So any number of Schedulers may tick the same
// database at once, on one or many replicas: each event is decided exactly
// once, and a replica that loses a race finds nothing left to do. The read
// model lags the store, so a plan may be found due again before its row
// catches up; ticking it then decides nothing.
type Scheduler struct {
	Store *eventstore.Store
	Plans *projections.Plans
	// Now is the clock; default time.Now. Tests inject instants with it.
	Now func() time.Time
	// Interval is the time between ticks; default DefaultSchedulerInterval.
	Interval time.Duration
	Log      *slog.Logger // default slog.Default()
	// BatchSize is how many due plans are read at a time; default 100.
	BatchSize int
}

// Run ticks at once and then every Interval until ctx is done; it returns
// nil then. A failed tick is logged and the next one tries again.
func (s *Scheduler) Run(ctx context.Context) error {
	interval := s.Interval
	if interval <= 0 {
		interval = DefaultSchedulerInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := s.TickOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			s.logger().Error("scheduler tick", "appended", n, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// TickOnce ticks every plan the read model has due at Now, in plan id
// order, and returns how many events it appended. One plan's failure is
// logged and does not stop the others; TickOnce then returns an error
// naming how many failed and the first failure, with the count of what
// the others appended. It stops early, with ctx's error, when ctx is done.
func (s *Scheduler) TickOnce(ctx context.Context) (int, error) {
	now := s.now()
	batch := s.BatchSize
	if batch <= 0 {
		batch = defaultSchedulerBatch
	}
	var (
		appended, failed int
		firstErr         error
		after            int64
	)
	for {
		due, err := s.Plans.Due(ctx, now, after, batch)
		if err != nil {
			return appended, fmt.Errorf("scheduler: %w", err)
		}
		for _, d := range due {
			n, err := s.tick(ctx, d, now)
			appended += n
			if ctx.Err() != nil {
				return appended, fmt.Errorf("scheduler: %w", ctx.Err())
			}
			if err != nil {
				s.logger().Error("scheduler: tick plan", "plan_id", d.PlanID, "err", err)
				if failed++; firstErr == nil {
					firstErr = err
				}
			}
		}
		if len(due) < batch {
			break
		}
		after = due[len(due)-1].PlanID
	}
	if failed > 0 {
		return appended, fmt.Errorf("scheduler: %d plans failed; first: %w", failed, firstErr)
	}
	return appended, nil
}

// tick appends what is due at now on one plan and returns how many events
// that was.
func (s *Scheduler) tick(ctx context.Context, d projections.DuePlan, now time.Time) (int, error) {
	meta := eventstore.Metadata{AccountID: d.AccountID, Actor: schedulerActor}
	out, err := eventstore.PlanAggregate.Run(ctx, s.Store, eventstore.Cmd[*domain.Plan]{ID: d.PlanID, Meta: meta,
		Decide: func(p *domain.Plan) ([]domain.Event, error) { return p.Tick(now, d.ReminderDays), nil }})
	recs := out.Records
	if err != nil {
		return 0, fmt.Errorf("plan %d: %w", d.PlanID, err)
	}
	if len(recs) > 0 {
		types := make([]string, len(recs))
		for i, r := range recs {
			types[i] = r.Type
		}
		s.logger().Info("scheduled", "plan_id", d.PlanID, "events", types)
	}
	return len(recs), nil
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
