package eventstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"goodplan/domain"
	"goodplan/eventstore"
)

// agePlan runs n portal link commands on plan id (created by createCmd).
func agePlan(t *testing.T, s *eventstore.Store, id int64, n int) {
	t.Helper()
	for i := range n {
		c := cancelOrReactivate(id, i)
		if _, err := eventstore.PlanAggregate.Run(context.Background(), s, c); err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
	}
}

// cancelOrReactivate is command i of a plan that is cancelled and
// reactivated in turn (its state stays the same size, its history grows).
func cancelOrReactivate(id int64, i int) eventstore.Cmd[*domain.Plan] {
	return eventstore.Cmd[*domain.Plan]{ID: id, Meta: eventstore.Metadata{AccountID: 1, Actor: "test"},
		Decide: func(p *domain.Plan) ([]domain.Event, error) {
			if p.Status() == domain.StatusCancelled {
				return p.Reactivate(runNow)
			}
			return p.Cancel(fmt.Sprintf("reason %d", i), runNow)
		}}
}

// sameAsFold fails unless the plan as the command path reads it is the
// plan folded from every event.
func sameAsFold(t *testing.T, s *eventstore.Store, id int64) *domain.Plan {
	t.Helper()
	ctx := context.Background()
	cur, head, err := s.CurrentPlan(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	full, _, fullHead, err := s.LoadPlan(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := cur.Snapshot()
	b, _ := full.Snapshot()
	if !bytes.Equal(a, b) || head.Version != fullHead.Version || !bytes.Equal(head.Hash, fullHead.Hash) {
		t.Fatalf("current plan at %d\n%s\nfolded at %d\n%s", head.Version, a, fullHead.Version, b)
	}
	return cur
}

func TestCommandsFoldFromTheSnapshot(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	if _, err := eventstore.PlanAggregate.Run(ctx, s, createCmd(100, "", nil)); err != nil {
		t.Fatal(err)
	}
	agePlan(t, s, 100, eventstore.SnapshotEvery-2) // one short of a snapshot
	if n := count(t, pool, `SELECT count(*) FROM snapshots`); n != 0 {
		t.Fatalf("%d snapshots after %d events", n, eventstore.SnapshotEvery-1)
	}
	agePlan(t, s, 100, 1)
	if v := count(t, pool, `SELECT version FROM snapshots WHERE stream_id = 'plan-100' AND schema = $1`,
		domain.PlanSnapshotSchema); v != eventstore.SnapshotEvery {
		t.Fatalf("snapshot at %d", v)
	}
	sameAsFold(t, s, 100)
	// The next commands fold from the snapshot, and the next snapshot
	// comes SnapshotEvery events later.
	agePlan(t, s, 100, eventstore.SnapshotEvery+3)
	if v := count(t, pool, `SELECT version FROM snapshots WHERE stream_id = 'plan-100'`); v != 2*eventstore.SnapshotEvery {
		t.Fatalf("snapshot at %d", v)
	}
	if p := sameAsFold(t, s, 100); p.Version() != 2*eventstore.SnapshotEvery+3 {
		t.Fatalf("version %d", p.Version())
	}
	// The snapshot is the state: a fold of every event gives the same.
	snap, recs, head, err := s.LoadSnapshot(ctx, "plan-100", domain.PlanSnapshotSchema)
	if err != nil || snap.Version != 2*eventstore.SnapshotEvery || len(recs) != 3 || head.Version != snap.Version+3 {
		t.Fatalf("load snapshot: v%d, %d records, head %d, %v", snap.Version, len(recs), head.Version, err)
	}
}

// A snapshot is a cache: one that does not decode, of another schema, or
// that disagrees with its row's version is passed over for a fold of every
// event, and commands go on.
func TestUnusableSnapshotsFallBackToTheEvents(t *testing.T) {
	t.Parallel()
	for name, update := range map[string]string{
		"garbage":        `UPDATE snapshots SET state = '\x7b2273'`,
		"another schema": `UPDATE snapshots SET schema = schema + 1`,
		"wrong version":  `UPDATE snapshots SET version = version - 1`,
		"stale state": `UPDATE snapshots SET state = convert_to(replace(convert_from(state, 'UTF8'),
			'"version":` + fmt.Sprint(eventstore.SnapshotEvery) + `', '"version":1'), 'UTF8')`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, pool := newStore(t)
			ctx := context.Background()
			if _, err := eventstore.PlanAggregate.Run(ctx, s, createCmd(100, "", nil)); err != nil {
				t.Fatal(err)
			}
			agePlan(t, s, 100, eventstore.SnapshotEvery+1)
			if _, err := pool.Exec(ctx, update); err != nil {
				t.Fatal(err)
			}
			sameAsFold(t, s, 100)
			agePlan(t, s, 100, 2)
			sameAsFold(t, s, 100)
		})
	}
}

// A command id replayed long after (past snapshots) still answers its
// first outcome: the records it wrote and the plan as it is now.
func TestReplayAfterSnapshots(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	if _, err := eventstore.PlanAggregate.Run(ctx, s, createCmd(100, "create", []byte("h"))); err != nil {
		t.Fatal(err)
	}
	c := regenerate(100, "tok-2")
	c.Meta.CommandID = "link"
	first, err := eventstore.PlanAggregate.Run(ctx, s, c)
	if err != nil {
		t.Fatal(err)
	}
	agePlan(t, s, 100, 2*eventstore.SnapshotEvery+1)
	again, err := eventstore.PlanAggregate.Run(ctx, s, c)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Replayed || len(again.Records) != 1 || again.Records[0].EventID != first.Records[0].EventID ||
		again.State.Version() != 2*eventstore.SnapshotEvery+3 {
		t.Fatalf("replayed: %+v", again)
	}
	created, err := eventstore.PlanAggregate.Run(ctx, s, createCmd(200, "create", []byte("h")))
	if err != nil || !created.Replayed || created.State.ID() != 100 || created.Records[0].Version != 1 {
		t.Fatalf("replayed create: %+v, %v", created, err)
	}
}

// At is the plan as of a version, whether the snapshot is before, at or
// after it: a fold of the events up to it.
func TestAtAnyVersion(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	if _, err := eventstore.PlanAggregate.Run(ctx, s, createCmd(100, "", nil)); err != nil {
		t.Fatal(err)
	}
	agePlan(t, s, 100, eventstore.SnapshotEvery+5) // a snapshot at SnapshotEvery
	recs, _, err := s.Load(ctx, "plan-100")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []int64{1, 7, eventstore.SnapshotEvery - 1, eventstore.SnapshotEvery, eventstore.SnapshotEvery + 3, int64(len(recs))} {
		got, err := eventstore.PlanAggregate.At(ctx, s, 100, v)
		if err != nil {
			t.Fatal(err)
		}
		want, err := eventstore.Fold(recs[:v])
		if err != nil {
			t.Fatal(err)
		}
		a, _ := got.Snapshot()
		b, _ := want.Snapshot()
		if !bytes.Equal(a, b) {
			t.Fatalf("at %d\n%s\nwant\n%s", v, a, b)
		}
	}
	if _, err := eventstore.PlanAggregate.At(ctx, s, 100, int64(len(recs))+1); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("past the head: %v", err)
	}
}
