package eventstore

import "goodplan/domain"

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
