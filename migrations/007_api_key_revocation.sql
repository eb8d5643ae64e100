-- Issue 9: API keys can be listed and revoked (revoked_at exists since 001).
-- prefix is the key's first 8 characters after "gp_", kept for display;
-- keys created before this migration have only their SHA-256 stored, so
-- their prefix is NULL (shown as "?"). last_used_at is updated at most once
-- a minute per key and process, not on every request.
ALTER TABLE api_keys
    ADD COLUMN prefix       text,
    ADD COLUMN last_used_at timestamptz;

CREATE INDEX api_keys_account_idx ON api_keys (account_id);
