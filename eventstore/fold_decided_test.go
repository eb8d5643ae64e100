package eventstore_test

import (
	"context"
	"reflect"
	"testing"

	"goodplan/domain"
	"goodplan/eventstore"
)

// TestRunStateEqualsStoredFold: the state a command returns, folded from
// the events it decided (no decode of what it just encoded), is the state
// folded from the stored JSON of the stream's records,
// after a create and after a command on an existing plan. (A load reads
// recorded_at back in time.Local, so it is compared by value below.)
func TestRunStateEqualsStoredFold(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	for i, c := range []eventstore.Cmd[*domain.Plan]{createCmd(700, "", nil), regenerate(700, "tok-2")} {
		out, err := eventstore.PlanAggregate.Run(ctx, s, c)
		if err != nil {
			t.Fatal(err)
		}
		loaded, recs, _, err := s.LoadPlan(ctx, 700)
		if err != nil {
			t.Fatal(err)
		}
		for j := range recs {
			recs[j].RecordedAt = recs[j].RecordedAt.In(out.State.UpdatedAt().Location())
		}
		folded, err := eventstore.Fold(recs)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out.State, folded) {
			t.Fatalf("command %d: returned state\n%+v\nfolded from the stored records\n%+v", i, out.State, folded)
		}
		if !loaded.UpdatedAt().Equal(out.State.UpdatedAt()) || loaded.Version() != out.State.Version() {
			t.Fatalf("command %d: loaded plan at version %d, updated %s; returned %d, %s", i,
				loaded.Version(), loaded.UpdatedAt(), out.State.Version(), out.State.UpdatedAt())
		}
	}
}
