-- Issue 9: webhook endpoint secrets can be rotated. For 24 hours after a
-- rotation deliveries are signed with the new secret and the previous one.
ALTER TABLE webhook_endpoints
    ADD COLUMN previous_secret            text,
    ADD COLUMN previous_secret_expires_at timestamptz;
