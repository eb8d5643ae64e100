package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"goodplan/domain"
)

// PlanStreamPrefix starts the id of every plan stream.
const PlanStreamPrefix = "plan-"

// PlanStream is the stream id of plan id.
func PlanStream(id int64) string { return PlanStreamPrefix + strconv.FormatInt(id, 10) }

// PlanIDOf is the inverse of PlanStream: the plan id of a plan stream
// ("plan-42" -> 42), ok false for any other stream id.
func PlanIDOf(stream string) (int64, bool) {
	s, ok := strings.CutPrefix(stream, PlanStreamPrefix)
	id, err := strconv.ParseInt(s, 10, 64)
	if !ok || err != nil || id <= 0 || PlanStream(id) != stream {
		return 0, false
	}
	return id, true
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

// Fold rebuilds a plan from its records.
func Fold(recs []Record) (*domain.Plan, error) {
	p := &domain.Plan{}
	for _, r := range recs {
		e, err := domain.UnmarshalEvent(r.Type, r.Data)
		if err != nil {
			return nil, fmt.Errorf("fold %s version %d: %w", r.StreamID, r.Version, err)
		}
		if err := p.ApplyStored(e, r.RecordedAt); err != nil {
			return nil, fmt.Errorf("fold %s version %d: %w", r.StreamID, r.Version, err)
		}
	}
	return p, nil
}

// LoadPlan returns plan id rebuilt from its events, with the records and the
// stream head. ErrNotFound if the plan does not exist.
func (s *Events) LoadPlan(ctx context.Context, id int64) (*domain.Plan, []Record, Head, error) {
	recs, head, err := s.Load(ctx, PlanStream(id))
	if err != nil {
		return nil, nil, Head{}, err
	}
	if len(recs) == 0 {
		return nil, nil, Head{}, fmt.Errorf("plan %d: %w", id, ErrNotFound)
	}
	p, err := Fold(recs)
	if err != nil {
		return nil, nil, Head{}, err
	}
	return p, recs, head, nil
}

// updateAttempts bounds the reload-and-retry loop of UpdatePlan.
const updateAttempts = 4

// UpdatePlan loads plan id, lets decide return new events, and appends them
// at the version it loaded. On a version conflict it reloads and decides
// again, a few times, then returns ErrVersionConflict. Errors from decide are
// returned as they are; no events means nothing to append (nil records).
func (s *Events) UpdatePlan(ctx context.Context, id int64, meta Metadata, decide func(*domain.Plan) ([]domain.Event, error), opts ...AppendOption) ([]Record, error) {
	for attempt := 1; ; attempt++ {
		p, _, head, err := s.LoadPlan(ctx, id)
		if err != nil {
			return nil, err
		}
		events, err := decide(p)
		if err != nil || len(events) == 0 {
			return nil, err
		}
		newEvents, err := Encode(events)
		if err != nil {
			return nil, err
		}
		recs, err := s.Append(ctx, PlanStream(id), head, newEvents, meta, opts...)
		if errors.Is(err, ErrVersionConflict) && attempt < updateAttempts {
			continue
		}
		return recs, err
	}
}
