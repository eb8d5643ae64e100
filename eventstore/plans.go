package eventstore

import (
	"context"
	"fmt"

	"goodplan/domain"
)

// PlanAggregate registers the payment plan with the command path: streams
// "plan-{id}", folded by Fold.
var PlanAggregate = Aggregate[*domain.Plan]{
	Name:   "plan",
	Prefix: "plan-",
	New:    func() *domain.Plan { return &domain.Plan{} },
	Fold:   foldPlan,
}

// PlanStream is the stream id of plan id.
func PlanStream(id int64) string { return PlanAggregate.Stream(id) }

// PlanIDOf is the inverse of PlanStream: the plan id of a plan stream
// ("plan-42" -> 42), ok false for any other stream id.
func PlanIDOf(stream string) (int64, bool) { return PlanAggregate.IDOf(stream) }

// Fold rebuilds a plan from its records.
func Fold(recs []Record) (*domain.Plan, error) { return foldPlan(&domain.Plan{}, recs) }

// foldPlan applies recs to p.
func foldPlan(p *domain.Plan, recs []Record) (*domain.Plan, error) {
	for _, r := range recs {
		e, err := domain.UnmarshalEvent(r.Type, r.Data)
		if err != nil {
			return nil, fmt.Errorf("fold %s version %d: %w", r.StreamID, r.Version, err)
		}
		p.ApplyAt(e, r.RecordedAt)
	}
	return p, nil
}

// LoadPlan returns plan id rebuilt from its events, with the records and the
// stream head. ErrNotFound if the plan does not exist.
func (s *Store) LoadPlan(ctx context.Context, id int64) (*domain.Plan, []Record, Head, error) {
	return PlanAggregate.Load(ctx, s, id)
}
