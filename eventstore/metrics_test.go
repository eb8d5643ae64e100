package eventstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"goodplan/eventstore"
)

// TestStoreMetrics: appends, their events and version conflicts are
// counted, the pool's statistics are exposed, and the relay backlog counts
// the events after the relay's checkpoint.
func TestStoreMetrics(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	if err := s.Instrument(reg); err != nil {
		t.Fatal(err)
	}
	meta := eventstore.Metadata{AccountID: 7, Actor: "test"}
	first, err := s.Append(ctx, "plan-1", eventstore.Head{}, events(2, "t.a"), meta)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "plan-1", eventstore.Head{}, events(1, "t.a"), meta); !errors.Is(err, eventstore.ErrVersionConflict) {
		t.Fatalf("stale append: %v, want a version conflict", err)
	}
	if _, err := s.Append(ctx, "plan-1", first[1].Head(), events(1, "t.b"), meta); err != nil {
		t.Fatal(err)
	}
	err = testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP goodplan_appends_total Appends that stored their events (one per command that changed a stream).
# TYPE goodplan_appends_total counter
goodplan_appends_total 2
# HELP goodplan_events_appended_total Events stored by appends.
# TYPE goodplan_events_appended_total counter
goodplan_events_appended_total 3
# HELP goodplan_append_version_conflicts_total Appends refused because another writer changed the stream first (retried by the command path).
# TYPE goodplan_append_version_conflicts_total counter
goodplan_append_version_conflicts_total 1
`), "goodplan_appends_total", "goodplan_events_appended_total", "goodplan_append_version_conflicts_total")
	if err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg, "goodplan_db_pool_max_connections", "goodplan_db_pool_acquires_total"); err != nil || n != 2 {
		t.Errorf("pool series: %d, %v", n, err)
	}

	if n, err := s.RelayBacklog(ctx, "relay", 1000); err != nil || n != 3 {
		t.Fatalf("backlog without a checkpoint: %d, %v; want 3", n, err)
	}
	if n, err := s.RelayBacklog(ctx, "relay", 2); err != nil || n != 2 {
		t.Fatalf("backlog capped at 2: %d, %v", n, err)
	}
	session, err := s.OpenRelaySession(ctx, "relay")
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	if err := session.SaveCheckpoint(ctx, first[1].Cursor()); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RelayBacklog(ctx, "relay", 1000); err != nil || n != 1 {
		t.Fatalf("backlog after a checkpoint at the second event: %d, %v; want 1", n, err)
	}
}
