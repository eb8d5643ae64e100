-- The dashboard's plan page lists the webhook deliveries of one plan's
-- events (eventstore.Deliveries.PlanDeliveries): found by event id, which
-- the (endpoint_id, event_id) key cannot serve.
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);
