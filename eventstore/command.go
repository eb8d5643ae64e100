package eventstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"goodplan/domain"
)

// The command path, written once for every aggregate and every surface
// (JSON API, portal, scheduler, workers): load the stream (or start a new
// one), decide with pure domain code, append at the version loaded with the
// caller's command id, retry a bounded number of times on a version
// conflict, and return what was decided with the aggregate folded after it.
// A command id seen before returns the first outcome instead of deciding
// again. formancehq/ledger's logProcessor.forgeLog and wild-workouts'
// UpdateTraining are the models.

// ErrCommandReused: the command id was first used with another request (its
// request hash differs) or on another stream; nothing was written.
var ErrCommandReused = errors.New("command id already used for another request")

// commandAttempts bounds the reload-and-decide-again loop of Run.
const commandAttempts = 4

// Aggregate registers one kind of event-sourced aggregate with the command
// path: how its streams are named and how its state is folded from its
// records. A new aggregate declares one (see PlanAggregate).
type Aggregate[A any] struct {
	// Name names the aggregate in errors ("plan").
	Name string
	// Prefix is the start of its stream ids: stream Prefix+id holds
	// aggregate id ("plan-" -> "plan-42").
	Prefix string
	// New returns the state of an aggregate with no events.
	New func() A
	// Fold applies recs, in version order, to a and returns the result.
	Fold func(a A, recs []Record) (A, error)

	// Snapshots (optional, all four or none): the command path and
	// Current restore the aggregate from its stream's snapshot and fold
	// only the events after it, and record a new snapshot once
	// SnapshotEvery events were folded past the last one (see
	// snapshots.go). Snapshot encodes a state, Restore decodes one,
	// Version is a state's version, and SnapshotSchema versions the
	// encoding: a snapshot of another schema is ignored.
	Snapshot       func(A) ([]byte, error)
	Restore        func([]byte) (A, error)
	Version        func(A) int64
	SnapshotSchema int
}

// Stream is the stream id of aggregate id.
func (g Aggregate[A]) Stream(id int64) string { return g.Prefix + strconv.FormatInt(id, 10) }

// IDOf is the inverse of Stream: the aggregate id of one of its streams
// ("plan-42" -> 42), ok false for any other stream id.
func (g Aggregate[A]) IDOf(stream string) (int64, bool) {
	s, ok := strings.CutPrefix(stream, g.Prefix)
	id, err := strconv.ParseInt(s, 10, 64)
	if !ok || err != nil || id <= 0 || g.Stream(id) != stream {
		return 0, false
	}
	return id, true
}

// Load returns aggregate id folded from its records, with the records and
// the stream head. ErrNotFound if it has no events.
func (g Aggregate[A]) Load(ctx context.Context, log EventLog, id int64) (A, []Record, Head, error) {
	var zero A
	recs, head, err := log.Load(ctx, g.Stream(id))
	if err != nil {
		return zero, nil, Head{}, err
	}
	if len(recs) == 0 {
		return zero, nil, Head{}, fmt.Errorf("%s %d: %w", g.Name, id, ErrNotFound)
	}
	a, err := g.Fold(g.New(), recs)
	if err != nil {
		return zero, nil, Head{}, err
	}
	return a, recs, head, nil
}

// EventApplier is an aggregate that folds stored domain events one at a
// time, each with the time it was recorded, and refuses (with an error, never
// a panic) one that contradicts its state (domain.Plan.ApplyStored).
type EventApplier interface {
	ApplyStored(e domain.Event, recordedAt time.Time) error
}

// FoldEvents decodes recs and applies them to a in order: the Fold of an
// Aggregate whose state is an EventApplier.
func FoldEvents[A EventApplier](a A, recs []Record) (A, error) {
	for _, r := range recs {
		e, err := domain.UnmarshalEvent(r.Type, r.Data)
		if err != nil {
			return a, fmt.Errorf("fold %s version %d: %w", r.StreamID, r.Version, err)
		}
		if err := a.ApplyStored(e, r.RecordedAt); err != nil {
			return a, fmt.Errorf("fold %s version %d: %w", r.StreamID, r.Version, err)
		}
	}
	return a, nil
}

// EventLog is what the command path needs of the event store (*Store).
type EventLog interface {
	Load(ctx context.Context, stream string) ([]Record, Head, error)
	LoadSnapshot(ctx context.Context, stream string, schema int) (Snapshot, []Record, Head, error)
	SaveSnapshot(ctx context.Context, stream string, schema int, snap Snapshot) error
	LoadRange(ctx context.Context, stream string, from, to int64) ([]Record, error)
	Append(ctx context.Context, stream string, expected Head, events []NewEvent, meta Metadata, opts ...AppendOption) ([]Record, error)
	LookupCommand(ctx context.Context, id string) (Command, error)
}

// Cmd is one command against aggregate ID. Everything Decide needs (ids,
// the time, settings) is resolved before Run and captured as data: Decide
// is pure and may run more than once (once per attempt).
type Cmd[A any] struct {
	// ID is the aggregate the command acts on. For a command that starts
	// a stream, a replay answers with the aggregate the first run started.
	ID int64
	// Start says the command starts a new stream: the first attempt does
	// not load it (the aggregate is New()). Otherwise a stream without
	// events is ErrNotFound.
	Start bool
	// Meta is recorded with the events. A non-empty Meta.CommandID makes
	// the command replayable: a second Run with it returns the first
	// outcome.
	Meta Metadata
	// RequestHash identifies the request behind Meta.CommandID: a replay
	// with another hash is ErrCommandReused.
	RequestHash []byte
	// Options are passed to Append (WithPlanQuota, say).
	Options []AppendOption
	// Decide returns the events of the command on the aggregate as it is;
	// no events means nothing to append.
	Decide func(A) ([]domain.Event, error)
	// DryRun runs the command without recording anything: the aggregate is
	// loaded (unless Start) and Decide runs once, its events are encoded
	// and checked as Append checks them (ErrEventTooLarge), and Run returns
	// them with State as loaded and no Records. Nothing is
	// appended, the command id is neither looked up nor recorded, and
	// Options (a plan quota, say) are not applied. A preview of a command
	// (POST /api/v1/plans/quote) is the command itself run dry.
	DryRun bool
}

// Outcome is what a command did.
type Outcome[A any] struct {
	// State is the aggregate after the command; after a replay, as it is
	// now. The stream's history is not part of the outcome: it is read a
	// page at a time (Events.LoadPage), never folded whole by a command.
	State A
	// Events are what the command decided (for a replay, what it first
	// decided) and Records the same events as stored.
	Events  []domain.Event
	Records []Record
	// Replayed is true when the command id was applied before and nothing
	// was decided this time.
	Replayed bool
}

// Run runs c on log. It returns Decide's error as it is, ErrNotFound for
// an aggregate with no events (unless c.Start), ErrVersionConflict after
// commandAttempts lost races, ErrCommandReused for a command id first used
// with another request or stream, and Append's errors. When a command id
// was applied before, by an earlier request or a concurrent one that won
// the race (this one may then have been refused by Decide or Append), the
// first outcome is returned with Replayed set and a nil error. A dry run
// (c.DryRun) returns what the command would decide and writes nothing.
func (g Aggregate[A]) Run(ctx context.Context, log EventLog, c Cmd[A]) (Outcome[A], error) {
	stream := g.Stream(c.ID)
	if c.DryRun {
		return g.run(ctx, log, stream, c, nil)
	}
	if c.Meta.CommandID != "" {
		if out, found, err := g.replay(ctx, log, stream, c); found || err != nil {
			return out, err
		}
	}
	opts := c.Options
	if c.RequestHash != nil {
		opts = append(opts[:len(opts):len(opts)], WithRequestHash(c.RequestHash))
	}
	out, err := g.run(ctx, log, stream, c, opts)
	if err != nil && c.Meta.CommandID != "" {
		// A concurrent request with the same command id may have won: this
		// one's append was a duplicate, or it decided again after the
		// winner and was refused. Either way it is answered as a replay.
		replay, found, rerr := g.replay(ctx, log, stream, c)
		if found && (rerr == nil || errors.Is(rerr, ErrCommandReused)) {
			return replay, rerr
		}
	}
	return out, err
}

// run is Run's decide-and-append loop.
func (g Aggregate[A]) run(ctx context.Context, log EventLog, stream string, c Cmd[A], opts []AppendOption) (Outcome[A], error) {
	for attempt := 1; ; attempt++ {
		var (
			out    = Outcome[A]{State: g.New()}
			head   Head
			snapAt int64
			err    error
		)
		if !c.Start || attempt > 1 {
			if out.State, head, snapAt, err = g.current(ctx, log, stream); err != nil {
				return Outcome[A]{}, err
			}
			if head.Version == 0 && !c.Start {
				return Outcome[A]{}, fmt.Errorf("%s %d: %w", g.Name, c.ID, ErrNotFound)
			}
		}
		events, err := c.Decide(out.State)
		if err != nil {
			return Outcome[A]{}, err
		}
		if len(events) == 0 {
			return out, nil
		}
		newEvents, err := Encode(events)
		if err != nil {
			return Outcome[A]{}, err
		}
		if c.DryRun {
			if _, err := checkAppend(stream, newEvents, c.Meta); err != nil {
				return Outcome[A]{}, err
			}
			out.Events = events
			return out, nil
		}
		recs, err := log.Append(ctx, stream, head, newEvents, c.Meta, opts...)
		if errors.Is(err, ErrVersionConflict) && attempt < commandAttempts {
			continue
		}
		if err != nil {
			return Outcome[A]{}, err
		}
		if out.State, err = g.foldDecided(out.State, events, recs); err != nil {
			return Outcome[A]{}, err
		}
		out.Events, out.Records = events, recs
		if !c.Start {
			g.maybeSnapshot(ctx, log, stream, out.State, recs[len(recs)-1].Head(), snapAt)
		}
		return out, nil
	}
}

// foldDecided applies the events a command just stored (recs, the same
// events encoded) to a. An aggregate that is an EventApplier gets the
// decided events as they are, with no JSON decode of what was just
// encoded (the events are plain values that encode and decode to the
// same); any other is folded from recs.
func (g Aggregate[A]) foldDecided(a A, events []domain.Event, recs []Record) (A, error) {
	ap, ok := any(a).(EventApplier)
	if !ok || len(events) != len(recs) {
		return g.Fold(a, recs)
	}
	for i, e := range events {
		if err := ap.ApplyStored(e, recs[i].RecordedAt); err != nil {
			return a, fmt.Errorf("fold %s version %d: %w", recs[i].StreamID, recs[i].Version, err)
		}
	}
	return a, nil
}

// replay returns the first outcome of c's command id, found false when the
// id is new.
func (g Aggregate[A]) replay(ctx context.Context, log EventLog, stream string, c Cmd[A]) (Outcome[A], bool, error) {
	first, err := log.LookupCommand(ctx, c.Meta.CommandID)
	if errors.Is(err, ErrNotFound) {
		return Outcome[A]{}, false, nil
	}
	if err != nil {
		return Outcome[A]{}, true, err
	}
	if c.Start {
		// The retry of a command that started a stream names a new id of
		// its own; the first one's stream is the answer.
		if _, ok := g.IDOf(first.StreamID); ok {
			stream = first.StreamID
		}
	}
	if first.StreamID != stream || !bytes.Equal(first.RequestHash, c.RequestHash) {
		return Outcome[A]{}, true, fmt.Errorf("command %s: %w", c.Meta.CommandID, ErrCommandReused)
	}
	if first.FirstVersion < 1 || first.LastVersion < first.FirstVersion {
		return Outcome[A]{}, true, fmt.Errorf("command %s: wrote %d..%d", c.Meta.CommandID, first.FirstVersion, first.LastVersion)
	}
	recs, err := log.LoadRange(ctx, stream, first.FirstVersion, first.LastVersion)
	if err != nil {
		return Outcome[A]{}, true, err
	}
	if int64(len(recs)) != first.LastVersion-first.FirstVersion+1 {
		return Outcome[A]{}, true, fmt.Errorf("command %s: stream %s has %d of the events %d..%d the command wrote",
			c.Meta.CommandID, stream, len(recs), first.FirstVersion, first.LastVersion)
	}
	out := Outcome[A]{Replayed: true, Records: recs}
	if out.State, _, _, err = g.current(ctx, log, stream); err != nil {
		return Outcome[A]{}, true, err
	}
	for _, r := range out.Records {
		e, err := domain.UnmarshalEvent(r.Type, r.Data)
		if err != nil {
			return Outcome[A]{}, true, fmt.Errorf("replay %s version %d: %w", stream, r.Version, err)
		}
		out.Events = append(out.Events, e)
	}
	return out, true, nil
}

// Encode turns domain events into events to append, each with a new
// time-ordered id.
func Encode(events []domain.Event) ([]NewEvent, error) {
	out := make([]NewEvent, len(events))
	for i, e := range events {
		typ, data, err := domain.MarshalEvent(e)
		if err != nil {
			return nil, fmt.Errorf("encode %T: %w", e, err)
		}
		out[i] = NewEvent{ID: uuid.Must(uuid.NewV7()), Type: typ, Data: data}
	}
	return out, nil
}
