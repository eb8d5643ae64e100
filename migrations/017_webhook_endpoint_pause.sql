-- Issue 12 (dashboard, Developers): a webhook endpoint can be paused by
-- its merchant. While paused_at is set, events are skipped for it (no
-- delivery is enqueued) and its pending deliveries are stopped (failed;
-- they can be resent once it is resumed). Resuming clears paused_at.
ALTER TABLE webhook_endpoints ADD COLUMN paused_at timestamptz;

-- The dashboard's delivery log pages an endpoint's deliveries newest first
-- by id (keyset paging: id < the last one shown).
CREATE INDEX webhook_deliveries_endpoint_id_idx ON webhook_deliveries (endpoint_id, id);
