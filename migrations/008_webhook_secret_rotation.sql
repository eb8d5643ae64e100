-- Issue 9: webhook endpoint secrets can be rotated. For 24 hours after a
-- rotation deliveries are signed with the new secret and the previous one.
ALTER TABLE webhook_endpoints
    ADD COLUMN previous_secret            text,
    ADD COLUMN previous_secret_expires_at timestamptz;

-- Attempts logged before errors were recorded as categories hold the raw
-- error, which can name internal addresses and resolvers: turn each into
-- its category (workers/webhook_errors.go), as merchants now see them.
UPDATE webhook_attempts SET error = CASE
        WHEN error LIKE '%not allowed for webhooks%' THEN 'refused address'
        WHEN error LIKE '%no such host%' OR error LIKE '%lookup %' THEN 'dns failure'
        WHEN error ILIKE '%timeout%' OR error LIKE '%deadline exceeded%' THEN 'timeout'
        WHEN error LIKE '%tls:%' OR error LIKE '%x509:%' THEN 'tls error'
        WHEN error LIKE '%connection refused%' THEN 'connection refused'
        WHEN error LIKE '%connection reset%' OR error LIKE '%broken pipe%' OR error LIKE '%EOF%' THEN 'connection reset'
        WHEN error LIKE 'bad endpoint url:%' THEN 'invalid url'
        ELSE 'error'
    END
WHERE error IS NOT NULL AND error <> '' AND error NOT IN ('connection refused', 'connection reset', 'dns failure',
    'refused address', 'timeout', 'tls error', 'invalid url', 'error')
    AND error NOT LIKE 'reading response: %';
-- A failed read of the response ("reading response: <raw>") keeps its
-- prefix; the raw part becomes a category too.
UPDATE webhook_attempts SET error = 'reading response: ' || CASE
        WHEN error ILIKE '%timeout%' OR error LIKE '%deadline exceeded%' THEN 'timeout'
        WHEN error LIKE '%connection reset%' OR error LIKE '%EOF%' THEN 'connection reset'
        ELSE 'error'
    END
WHERE error LIKE 'reading response: %' AND error NOT IN ('reading response: timeout', 'reading response: connection reset',
    'reading response: error', 'reading response: tls error', 'reading response: connection refused');
