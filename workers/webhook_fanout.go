package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
)

// WebhookFanout turns each event of a webhook type into one delivery per
// subscribed endpoint of the event's account. It is a Handler, idempotent by
// event id (a delivery is unique per endpoint and event).
type WebhookFanout struct {
	Store     *eventstore.Store
	PublicURL string // base of the portal links in the data
	Log       *slog.Logger
	// Notify, if set, is called after new deliveries were stored (e.g. a
	// local WebhookDeliverer's Wake), so they go out without waiting for
	// the next poll.
	Notify func()
}

// WebhookPayload is the body of every delivery.
type WebhookPayload struct {
	Event     string `json:"event"`
	Timestamp string `json:"timestamp"` // when the event was recorded, RFC 3339, UTC
	// Data is the plan as of the event, in the create response's shape.
	// Events after plan.created add the plan's status and ledger, and the
	// event's own data as "change" (the payment, proposal or new dates).
	Data WebhookData `json:"data"`
}

// WebhookData is a delivery's data: exactly the create response for
// plan.created, with status, ledger and change for later events.
type WebhookData struct {
	projections.Summary
	Status *domain.Status  `json:"status,omitempty"`
	Ledger *domain.Ledger  `json:"ledger,omitempty"`
	Change json.RawMessage `json:"change,omitempty"`
}

// Handle enqueues rec's deliveries to the endpoints subscribed to its type
// (eventstore.WebhookEndpoint.Subscribes). Events of types no endpoint may
// subscribe to (domain.IsSubscribableEventType) are skipped. The data is
// the plan (or the catalog plan or plan group, see catalogPayload) folded
// from its stream up to and including rec's version, so a redelivered or
// late event still describes it as it was then.
func (f *WebhookFanout) Handle(ctx context.Context, rec eventstore.Record) error {
	if !domain.IsSubscribableEventType(rec.Type) {
		return nil
	}
	account, err := AccountOf(rec)
	if err != nil {
		return Permanent(err)
	}
	endpoints, err := f.Store.EndpointsFor(ctx, account, rec.Type)
	if err != nil || len(endpoints) == 0 {
		return err
	}
	body, err := f.payload(ctx, rec)
	if err != nil {
		return err
	}
	ds := make([]eventstore.NewDelivery, len(endpoints))
	for i, e := range endpoints {
		ds[i] = eventstore.NewDelivery{EndpointID: e.ID, EventID: rec.EventID, EventType: rec.Type, Payload: body}
	}
	n, err := f.Store.EnqueueDeliveries(ctx, ds)
	if err != nil {
		return err
	}
	if n > 0 {
		logWith(ctx, f.logger()).Info("webhook deliveries queued", "event_id", rec.EventID, "type", rec.Type, "deliveries", n)
	}
	if n > 0 && f.Notify != nil {
		f.Notify()
	}
	return nil
}

// payload is the body of rec's deliveries.
func (f *WebhookFanout) payload(ctx context.Context, rec eventstore.Record) ([]byte, error) {
	if !domain.IsWebhookEventType(rec.Type) {
		upTo, err := f.recordsUpTo(ctx, rec)
		if err != nil {
			return nil, err
		}
		return f.catalogPayload(ctx, rec, upTo)
	}
	id, ok := eventstore.PlanIDOf(rec.StreamID)
	if !ok {
		return nil, fmt.Errorf("webhook fan-out: %s event on stream %s", rec.Type, rec.StreamID)
	}
	// The plan as of rec (from its snapshot when that is not later), so
	// the cost does not grow with the plan's age. A fold error (an event
	// type this version cannot decode) or an event not visible yet is not
	// permanent: retried with backoff, maybe by a newer replica.
	plan, err := eventstore.PlanAggregate.At(ctx, f.Store, id, rec.Version)
	if err != nil {
		return nil, fmt.Errorf("webhook fan-out: %w", err)
	}
	data := WebhookData{Summary: projections.Summarize(plan, f.PublicURL)}
	if rec.Type != domain.EventPlanCreated {
		status, ledger := plan.Status(), plan.Ledger()
		data.Status, data.Ledger, data.Change = &status, &ledger, json.RawMessage(rec.Data)
	}
	return json.Marshal(WebhookPayload{
		Event:     rec.Type,
		Timestamp: rec.RecordedAt.UTC().Format(time.RFC3339Nano),
		Data:      data,
	})
}

// recordsUpTo loads rec's stream up to and including rec's version.
func (f *WebhookFanout) recordsUpTo(ctx context.Context, rec eventstore.Record) ([]eventstore.Record, error) {
	recs, _, err := f.Store.Load(ctx, rec.StreamID)
	if err != nil {
		return nil, err
	}
	upTo := recs[:0]
	for _, r := range recs {
		if r.Version <= rec.Version {
			upTo = append(upTo, r)
		}
	}
	if len(upTo) == 0 || upTo[len(upTo)-1].Version != rec.Version {
		// Not visible yet (or not this store): retried with backoff.
		return nil, fmt.Errorf("webhook fan-out: %s has no version %d", rec.StreamID, rec.Version)
	}
	return upTo, nil
}

func (f *WebhookFanout) logger() *slog.Logger {
	if f.Log != nil {
		return f.Log
	}
	return slog.Default()
}
