package projections_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/projections"
)

// TestPlanGroupProjection: the row follows a group's events whatever order
// they arrive in (redelivery and an older record leave it alone), Get
// reads it by (account, uuid), List pages newest first, and a deleted
// group stays readable by Get and leaves lists.
func TestPlanGroupProjection(t *testing.T) {
	t.Parallel()
	store := eventstore.New(pgtest.NewPool(t))
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	pg := projections.NewPlanGroups(store)
	run := func(id int64, start bool, decide func(*domain.PlanGroup) ([]domain.Event, error)) eventstore.Record {
		t.Helper()
		out, err := eventstore.PlanGroupAggregate.Run(ctx, store, eventstore.Cmd[*domain.PlanGroup]{ID: id, Start: start,
			Meta: eventstore.Metadata{AccountID: 1, Actor: "test"}, Decide: decide})
		if err != nil {
			t.Fatal(err)
		}
		return out.Records[0]
	}
	ids := [3]uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	var recs []eventstore.Record
	for i, gid := range ids {
		recs = append(recs, run(int64(100+i), true, func(g *domain.PlanGroup) ([]domain.Event, error) {
			return g.Create(domain.CreatePlanGroup{PlanGroupID: int64(100 + i), AccountID: 1, ID: gid, Name: "G",
				Members: []domain.MemberInput{{Kind: "payment_plan", Ref: "7", ID: 7}}, Now: now})
		}))
	}
	update := run(100, false, func(g *domain.PlanGroup) ([]domain.Event, error) {
		return g.Update(domain.UpdatePlanGroup{Name: "Renamed", Now: now.Add(time.Minute)})
	})
	// The update arrives first, then the create, then the update again.
	for _, r := range []eventstore.Record{update, recs[0], update, recs[1], recs[2], recs[1]} {
		if err := pg.Apply(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := pg.Get(ctx, 1, ids[0])
	if err != nil || got.Name != "Renamed" || got.Version != 2 || len(got.Members) != 0 || got.DeletedAt != nil {
		t.Fatalf("row %+v, %v", got, err)
	}
	if _, err := pg.Get(ctx, 2, ids[0]); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("another account's group: %v", err)
	}
	if g, _ := pg.Get(ctx, 1, ids[1]); len(g.Members) != 1 || g.Members[0] != (domain.GroupMember{Kind: domain.PaymentPlanMember, ID: 7}) {
		t.Fatalf("members %+v", g.Members)
	}
	page, more, err := pg.List(ctx, 1, 2, uuid.Nil)
	if err != nil || !more || len(page) != 2 || page[0].PublicID != ids[2] || page[1].PublicID != ids[1] {
		t.Fatalf("first page %+v more %v %v", page, more, err)
	}
	page, more, err = pg.List(ctx, 1, 2, ids[1])
	if err != nil || more || len(page) != 1 || page[0].PublicID != ids[0] {
		t.Fatalf("second page %+v more %v %v", page, more, err)
	}
	if _, _, err := pg.List(ctx, 1, 2, uuid.New()); !errors.Is(err, projections.ErrUnknownGroupCursor) {
		t.Fatalf("unknown cursor: %v", err)
	}
	if _, _, err := pg.List(ctx, 1, 101, uuid.Nil); err == nil {
		t.Fatal("limit 101 accepted")
	}
	del := run(101, false, func(g *domain.PlanGroup) ([]domain.Event, error) {
		return g.Delete(domain.DeletePlanGroup{Now: now.Add(time.Hour)})
	})
	if err := pg.Apply(ctx, del); err != nil {
		t.Fatal(err)
	}
	if g, err := pg.Get(ctx, 1, ids[1]); err != nil || g.DeletedAt == nil || g.Version != 2 {
		t.Fatalf("deleted group %+v, %v", g, err)
	}
	if page, _, err := pg.List(ctx, 1, 10, uuid.Nil); err != nil || len(page) != 2 {
		t.Fatalf("list after delete %+v, %v", page, err)
	}
	// An older record after the delete leaves the row alone.
	if err := pg.Apply(ctx, recs[1]); err != nil {
		t.Fatal(err)
	}
	if g, _ := pg.Get(ctx, 1, ids[1]); g.DeletedAt == nil {
		t.Fatal("an older record undid the delete")
	}
}
