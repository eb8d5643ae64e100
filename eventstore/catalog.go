package eventstore

import (
	"context"
	"fmt"

	"goodplan/domain"
)

// Stream prefixes of the catalog's aggregates. Neither starts with
// PlanStreamPrefix ("plan-"), so nothing that reads payment plan streams by
// that prefix (PlanIDOf, ReadStreams, the plan projection, replay) ever
// sees one of them.
const (
	// CatalogPlanStreamPrefix starts the id of every catalog plan stream.
	CatalogPlanStreamPrefix = "catalogplan-"
	// PlanGroupStreamPrefix starts the id of every plan group stream.
	PlanGroupStreamPrefix = "plangroup-"
)

// CatalogPlanAggregate registers the catalog plan with the command path:
// streams "catalogplan-{id}" keyed by an internal id from NextID (a public
// id may be given to a new plan once its plan is deleted, so it cannot name
// a stream).
var CatalogPlanAggregate = Aggregate[*domain.CatalogPlan]{
	Name:   "catalog plan",
	Prefix: CatalogPlanStreamPrefix,
	New:    func() *domain.CatalogPlan { return &domain.CatalogPlan{} },
	Fold:   FoldEvents[*domain.CatalogPlan],
}

// PlanGroupAggregate registers the plan group with the command path:
// streams "plangroup-{id}" keyed by an internal id from NextID (the group's
// UUID is in its events).
var PlanGroupAggregate = Aggregate[*domain.PlanGroup]{
	Name:   "plan group",
	Prefix: PlanGroupStreamPrefix,
	New:    func() *domain.PlanGroup { return &domain.PlanGroup{} },
	Fold:   FoldEvents[*domain.PlanGroup],
}

// CatalogPlanIDOf returns the internal id of the catalog plan that publicID
// names in account: the plan not deleted that holds it, else the one that
// held it last (deleted plans stay readable by id until the id is reused).
// ErrNotFound if no plan of the account ever had it.
func (s *Events) CatalogPlanIDOf(ctx context.Context, account int64, publicID string) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT catalog_plan_id FROM catalog_plan_ids
		WHERE account_id = $1 AND public_id = $2
		ORDER BY released_at IS NULL DESC, reserved_at DESC, catalog_plan_id DESC LIMIT 1`,
		account, publicID).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("catalog plan %q: %w", publicID, interpretError(err))
	}
	return id, nil
}
