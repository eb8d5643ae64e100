package domain

import (
	"reflect"
	"testing"
)

// TestPlanSnapshotCoversEveryField: a field added to Plan must be added to
// planState (Snapshot and RestorePlan copy it) and PlanSnapshotSchema
// bumped, or an old snapshot would restore a plan without it.
func TestPlanSnapshotCoversEveryField(t *testing.T) {
	t.Parallel()
	plan, state := reflect.TypeFor[Plan](), reflect.TypeFor[planState]()
	if plan.NumField() != planFields || state.NumField() != planFields+1 { // + Schema
		t.Fatalf("Plan has %d fields, planState %d (with its schema): copy the new field in Snapshot and RestorePlan, "+
			"compare it in SameState, and bump PlanSnapshotSchema", plan.NumField(), state.NumField())
	}
}
