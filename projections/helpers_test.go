package projections_test

import (
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

func TestActorOf(t *testing.T) {
	t.Parallel()
	for meta, want := range map[string]string{
		`{"account_id":1,"actor":"merchant","command_id":""}`:      "merchant",
		`{"account_id":1, "actor": "customer"}`:                    "customer",
		`{"actor":"a\"b"}`:                                         `a"b`,
		`{"correlation_id":"actor","actor":"scheduler"}`:           "scheduler",
		`{"user_agent":"x \"actor\":\"evil\"","actor":"customer"}`: "customer",
		`{"account_id":1}`:                                         "",
		`{"actor":"email-worker","user_agent":"\"actor\":\"no\""}`: "email-worker",
	} {
		if got := projections.ActorOf([]byte(meta)); got != want {
			t.Errorf("actorOf(%s) = %q, want %q", meta, got, want)
		}
	}
}
