package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
)

var runNow = time.Date(2025, 11, 27, 1, 15, 30, 0, time.UTC)

// createCmd is a command that starts plan id (options 3, 6 and 12 monthly).
func createCmd(id int64, commandID string, hash []byte) eventstore.Cmd[*domain.Plan] {
	return eventstore.Cmd[*domain.Plan]{ID: id, Start: true, RequestHash: hash,
		Meta: eventstore.Metadata{AccountID: 1, Actor: "test", CommandID: commandID},
		Decide: func(p *domain.Plan) ([]domain.Event, error) {
			return p.CreatePlan(domain.CreatePlan{PlanID: id, AccountID: 1, CustomerID: id + 1, InvoiceID: id + 2,
				OptionIDs: []int64{id + 3, id + 4, id + 5}, PortalToken: "tok", Now: runNow,
				CustomerName: "Ann", CustomerEmail: "ann@example.com", Amount: "1200.00"})
		}}
}

// regenerate is a command that replaces plan id's portal link with token.
func regenerate(id int64, token string) eventstore.Cmd[*domain.Plan] {
	return eventstore.Cmd[*domain.Plan]{ID: id, Meta: eventstore.Metadata{AccountID: 1, Actor: "test"},
		Decide: func(p *domain.Plan) ([]domain.Event, error) { return p.RegeneratePortalLink(token, runNow) }}
}

func TestRunStartsAndReplays(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	first, err := eventstore.PlanAggregate.Run(ctx, s, createCmd(100, "cmd-1", []byte("h1")))
	if err != nil {
		t.Fatal(err)
	}
	if first.Replayed || len(first.Events) != 1 || len(first.Records) != 1 ||
		first.State.ID() != 100 || first.State.Version() != 1 {
		t.Fatalf("first run: %+v", first)
	}
	// A retry names a new id of its own; the first outcome is the answer.
	again, err := eventstore.PlanAggregate.Run(ctx, s, createCmd(200, "cmd-1", []byte("h1")))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Replayed || again.State.ID() != 100 || len(again.Events) != 1 ||
		again.Events[0].(domain.PlanCreated).PlanID != 100 || again.Records[0].EventID != first.Records[0].EventID {
		t.Fatalf("replay: %+v", again)
	}
	_, err = eventstore.PlanAggregate.Run(ctx, s, createCmd(300, "cmd-1", []byte("other body")))
	if !errors.Is(err, eventstore.ErrCommandReused) {
		t.Fatalf("same command id, other request: %v, want ErrCommandReused", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM events`); n != 1 {
		t.Fatalf("%d events stored, want 1", n)
	}
}

func TestRunReplayOnAnotherStreamIsRefused(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	for _, id := range []int64{100, 200} {
		if _, err := eventstore.PlanAggregate.Run(ctx, s, createCmd(id, "", nil)); err != nil {
			t.Fatal(err)
		}
	}
	c := regenerate(100, "tok-2")
	c.Meta.CommandID = "cmd-2"
	if _, err := eventstore.PlanAggregate.Run(ctx, s, c); err != nil {
		t.Fatal(err)
	}
	out, err := eventstore.PlanAggregate.Run(ctx, s, c)
	if err != nil || !out.Replayed || out.State.Version() != 2 {
		t.Fatalf("replay on the same plan: %+v, %v", out, err)
	}
	c.ID = 200
	if _, err := eventstore.PlanAggregate.Run(ctx, s, c); !errors.Is(err, eventstore.ErrCommandReused) {
		t.Fatalf("command id of plan 100 on plan 200: %v, want ErrCommandReused", err)
	}
}

func TestRunRetriesAConflict(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	if _, err := eventstore.PlanAggregate.Run(ctx, s, createCmd(100, "", nil)); err != nil {
		t.Fatal(err)
	}
	// Another writer gets in between this command's load and its append,
	// once: the command decides again on the plan as it is now.
	calls := 0
	c := regenerate(100, "mine")
	inner := c.Decide
	c.Decide = func(p *domain.Plan) ([]domain.Event, error) {
		if calls++; calls == 1 {
			if _, err := eventstore.PlanAggregate.Run(ctx, s, regenerate(100, "theirs")); err != nil {
				t.Fatal(err)
			}
		}
		return inner(p)
	}
	out, err := eventstore.PlanAggregate.Run(ctx, s, c)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || out.State.Version() != 3 || out.Records[0].Version != 3 ||
		!out.State.PortalLinkWorks("mine", runNow) {
		t.Fatalf("after a conflict: %d decisions, %+v", calls, out)
	}

	// A writer that always gets in between: the runner gives up.
	calls = 0
	c = regenerate(100, "mine-again")
	inner = c.Decide
	c.Decide = func(p *domain.Plan) ([]domain.Event, error) {
		calls++
		if _, err := eventstore.PlanAggregate.Run(ctx, s, regenerate(100, fmt.Sprint("theirs-", calls))); err != nil {
			t.Fatal(err)
		}
		return inner(p)
	}
	if _, err := eventstore.PlanAggregate.Run(ctx, s, c); !errors.Is(err, eventstore.ErrVersionConflict) || calls != 4 {
		t.Fatalf("always beaten: %v after %d decisions, want ErrVersionConflict after 4", err, calls)
	}
}

func TestRunMissingAndNothingToDo(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	if _, err := eventstore.PlanAggregate.Run(ctx, s, regenerate(404, "x")); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("command on a missing plan: %v, want ErrNotFound", err)
	}
	if _, err := eventstore.PlanAggregate.Run(ctx, s, createCmd(100, "", nil)); err != nil {
		t.Fatal(err)
	}
	out, err := eventstore.PlanAggregate.Run(ctx, s, eventstore.Cmd[*domain.Plan]{ID: 100,
		Meta:   eventstore.Metadata{AccountID: 1, Actor: "test", CommandID: "idle"},
		Decide: func(*domain.Plan) ([]domain.Event, error) { return nil, nil }})
	if err != nil || out.State.Version() != 1 || len(out.Events) != 0 || out.Replayed {
		t.Fatalf("a command that decides nothing: %+v, %v", out, err)
	}
	refused := errors.New("refused")
	_, err = eventstore.PlanAggregate.Run(ctx, s, eventstore.Cmd[*domain.Plan]{ID: 100,
		Meta:   eventstore.Metadata{AccountID: 1, Actor: "test", CommandID: "no"},
		Decide: func(*domain.Plan) ([]domain.Event, error) { return nil, refused }})
	if !errors.Is(err, refused) {
		t.Fatalf("decide's error: %v", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM events`); n != 1 {
		t.Fatalf("%d events stored, want 1", n)
	}
}

// The same command run twice at once is applied once: the loser, refused
// by Append or by deciding again after the winner, answers the winner's
// outcome.
func TestRunConcurrentSameCommandID(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	if _, err := eventstore.PlanAggregate.Run(ctx, s, createCmd(100, "", nil)); err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		c := regenerate(100, fmt.Sprint("token-", round)) // a second decision is refused: same token
		c.Meta.CommandID = fmt.Sprint("same-", round)
		outs := make([]eventstore.Outcome[*domain.Plan], 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range outs {
			wg.Go(func() { outs[i], errs[i] = eventstore.PlanAggregate.Run(ctx, s, c) })
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil || outs[0].Replayed == outs[1].Replayed ||
			outs[0].Records[0].EventID != outs[1].Records[0].EventID {
			t.Fatalf("round %d: %v / %v, replayed %v / %v", round, errs[0], errs[1], outs[0].Replayed, outs[1].Replayed)
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM events`); n != 6 {
		t.Fatalf("%d events stored, want 6", n)
	}
}

// TestRunDryRun: a dry run decides as the command would, on the aggregate
// as loaded, and writes nothing: no event, no command id (a real run with
// the same id afterwards is not a replay), and it refuses what Append
// would refuse before writing (an event over the cap).
func TestRunDryRun(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	dry := createCmd(100, "cmd-dry", []byte("h"))
	dry.DryRun = true
	out, err := eventstore.PlanAggregate.Run(ctx, s, dry)
	if err != nil {
		t.Fatal(err)
	}
	if out.Replayed || len(out.Events) != 1 || len(out.Records) != 0 || out.State.Exists() {
		t.Fatalf("dry create: %+v", out)
	}
	if created, ok := out.Events[0].(domain.PlanCreated); !ok || created.PlanID != 100 || len(created.Options) != 3 {
		t.Fatalf("dry create decided %+v", out.Events[0])
	}
	if n := count(t, pool, `SELECT count(*) FROM events`) + count(t, pool, `SELECT count(*) FROM commands`); n != 0 {
		t.Fatalf("a dry run stored %d events and commands", n)
	}
	first, err := eventstore.PlanAggregate.Run(ctx, s, createCmd(100, "cmd-dry", []byte("h")))
	if err != nil || first.Replayed || len(first.Records) != 1 {
		t.Fatalf("the real create after a dry run: %+v, %v", first, err)
	}
	// The same command id again, dry: decided on the plan as it is, not
	// answered as a replay.
	again := regenerate(100, "new-token")
	again.DryRun, again.Meta.CommandID = true, "cmd-dry"
	out, err = eventstore.PlanAggregate.Run(ctx, s, again)
	if err != nil || out.Replayed || out.State.Version() != 1 || len(out.Events) != 1 {
		t.Fatalf("dry command on a plan: %+v, %v", out, err)
	}
	missing := regenerate(404, "x")
	missing.DryRun = true
	if _, err := eventstore.PlanAggregate.Run(ctx, s, missing); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("dry command on a missing plan: %v, want ErrNotFound", err)
	}
	huge := createCmd(200, "", nil)
	huge.DryRun = true
	decide := huge.Decide
	huge.Decide = func(p *domain.Plan) ([]domain.Event, error) {
		events, err := decide(p)
		if err != nil {
			return nil, err
		}
		created := events[0].(domain.PlanCreated)
		created.Invoice.Description = strings.Repeat("x", eventstore.MaxEventBytes)
		return []domain.Event{created}, nil
	}
	if _, err := eventstore.PlanAggregate.Run(ctx, s, huge); !errors.Is(err, eventstore.ErrEventTooLarge) {
		t.Fatalf("dry run of an event over the cap: %v, want ErrEventTooLarge", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM events`); n != 1 {
		t.Fatalf("%d events stored, want 1", n)
	}
}
