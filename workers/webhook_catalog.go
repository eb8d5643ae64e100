package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"goodplan/eventstore"
	"goodplan/projections"
)

// CatalogWebhookPayload is the body of a delivery of a catalog event
// (domain.CatalogWebhookEventTypes): the envelope of every delivery, with
// the catalog plan (projections.CatalogPlan) or the plan group
// (projections.PlanGroupView) as of the event for data, exactly as the
// native API shows it. A deleted catalog plan carries its deleted_at; a
// group shows its catalog plans as they are now, a deleted one left out.
type CatalogWebhookPayload struct {
	Event     string `json:"event"`
	Timestamp string `json:"timestamp"` // when the event was recorded, RFC 3339, UTC
	Data      any    `json:"data"`
}

// catalogPayload is the body of the deliveries of rec, an event of a
// catalog plan or plan group stream, folded from upTo (its stream up to
// rec). A fold error is not permanent (see payload).
func (f *WebhookFanout) catalogPayload(ctx context.Context, rec eventstore.Record, upTo []eventstore.Record) ([]byte, error) {
	var data any
	switch {
	case isStreamOf(eventstore.CatalogPlanAggregate, rec.StreamID):
		p, err := eventstore.CatalogPlanAggregate.Fold(eventstore.CatalogPlanAggregate.New(), upTo)
		if err != nil {
			return nil, fmt.Errorf("webhook fan-out: %w", err)
		}
		data = projections.CatalogPlanOf(p)
	case isStreamOf(eventstore.PlanGroupAggregate, rec.StreamID):
		g, err := eventstore.PlanGroupAggregate.Fold(eventstore.PlanGroupAggregate.New(), upTo)
		if err != nil {
			return nil, fmt.Errorf("webhook fan-out: %w", err)
		}
		views, err := projections.NewPlanGroups(f.Store).Render(ctx, g.AccountID(), []projections.PlanGroup{projections.PlanGroupOf(g)})
		if err != nil {
			return nil, fmt.Errorf("webhook fan-out: %w", err)
		}
		data = views[0]
	default:
		return nil, Permanent(fmt.Errorf("webhook fan-out: a %s event on stream %s, of no catalog aggregate", rec.Type, rec.StreamID))
	}
	return json.Marshal(CatalogWebhookPayload{
		Event:     rec.Type,
		Timestamp: rec.RecordedAt.UTC().Format(time.RFC3339Nano),
		Data:      data,
	})
}

// isStreamOf reports whether stream is one of agg's.
func isStreamOf[A any](agg eventstore.Aggregate[A], stream string) bool {
	_, ok := agg.IDOf(stream)
	return ok
}
