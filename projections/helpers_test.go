package projections_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"goodplan/projections"
)

func mustPlanID(t *testing.T, stream string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(strings.TrimPrefix(stream, "plan-"), 10, 64)
	if err != nil {
		t.Fatalf("stream %q: %v", stream, err)
	}
	return id
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func planIDs(items []projections.Detail) []int64 {
	out := make([]int64, len(items))
	for i, d := range items {
		out[i] = d.PlanID
	}
	return out
}

// wantFolded fails unless the read model's plan id (of account 1) is what
// folding its events gives, and returns it.
func wantFolded(t *testing.T, plans *projections.Plans, id int64) projections.Detail {
	t.Helper()
	ctx := context.Background()
	got, err := plans.Get(ctx, 1, id, publicURL)
	if err != nil {
		t.Fatal(err)
	}
	p, _, _, err := plans.Store.LoadPlan(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if want := projections.DetailOf(p, publicURL); mustJSON(t, got) != mustJSON(t, want) {
		t.Fatalf("plan %d read model\n%s\nfold\n%s", id, mustJSON(t, got), mustJSON(t, want))
	}
	return got
}
