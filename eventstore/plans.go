package eventstore

import (
	"context"

	"goodplan/domain"
)

// PlanStreamPrefix starts the id of every plan stream.
const PlanStreamPrefix = "plan-"

// PlanAggregate registers the payment plan with the command path: streams
// "plan-{id}", each event folded by domain.Plan.ApplyStored.
var PlanAggregate = Aggregate[*domain.Plan]{
	Name:   "plan",
	Prefix: PlanStreamPrefix,
	New:    func() *domain.Plan { return &domain.Plan{} },
	Fold:   FoldEvents[*domain.Plan],
}

// PlanStream is the stream id of plan id.
func PlanStream(id int64) string { return PlanAggregate.Stream(id) }

// PlanIDOf is the inverse of PlanStream: the plan id of a plan stream
// ("plan-42" -> 42), ok false for any other stream id.
func PlanIDOf(stream string) (int64, bool) { return PlanAggregate.IDOf(stream) }

// Fold rebuilds a plan from its records.
func Fold(recs []Record) (*domain.Plan, error) { return FoldEvents(&domain.Plan{}, recs) }

// LoadPlan returns plan id rebuilt from its events, with the records and the
// stream head. ErrNotFound if the plan does not exist.
func (s *Events) LoadPlan(ctx context.Context, id int64) (*domain.Plan, []Record, Head, error) {
	return PlanAggregate.Load(ctx, s, id)
}
