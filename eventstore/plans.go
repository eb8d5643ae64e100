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

	Snapshot:       (*domain.Plan).Snapshot,
	Restore:        domain.RestorePlan,
	Version:        (*domain.Plan).Version,
	SnapshotSchema: domain.PlanSnapshotSchema,
}

// PlanStream is the stream id of plan id.
func PlanStream(id int64) string { return PlanAggregate.Stream(id) }

// PlanIDOf is the inverse of PlanStream: the plan id of a plan stream
// ("plan-42" -> 42), ok false for any other stream id.
func PlanIDOf(stream string) (int64, bool) { return PlanAggregate.IDOf(stream) }

// Fold rebuilds a plan from its records.
func Fold(recs []Record) (*domain.Plan, error) { return FoldEvents(&domain.Plan{}, recs) }

// CurrentPlan returns plan id as it is now, restored from its snapshot and
// the events after it (see Aggregate.Current), and its stream head: what
// every command, page and worker reads. ErrNotFound if the plan does not
// exist.
func (s *Events) CurrentPlan(ctx context.Context, id int64) (*domain.Plan, Head, error) {
	return PlanAggregate.Current(ctx, s, id)
}

// LoadPlan returns plan id folded from every one of its events, with the
// records and the stream head, never from a snapshot: what replay and
// verify compare with. ErrNotFound if the plan does not exist.
func (s *Events) LoadPlan(ctx context.Context, id int64) (*domain.Plan, []Record, Head, error) {
	return PlanAggregate.Load(ctx, s, id)
}
