-- The async pipeline: relay checkpoint, read models, webhooks.

-- Where the relay has published up to, written only after the PubAcks.
CREATE TABLE relay_checkpoints (
    name       text PRIMARY KEY,
    tx_id      xid8        NOT NULL,
    position   bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Read model of plans, fed by the projection consumer; rebuilt by replay.
-- version is the stream version folded in: the guard against redelivery.
CREATE TABLE plan_views (
    plan_id                 bigint PRIMARY KEY,
    account_id              bigint      NOT NULL,
    version                 bigint      NOT NULL,
    status                  text        NOT NULL,
    portal_token            text        NOT NULL,
    customer                jsonb       NOT NULL,
    invoice                 jsonb       NOT NULL,
    plan_options            jsonb       NOT NULL,
    selected_option_id      bigint,
    send_introduction_email boolean     NOT NULL,
    introduction_email      jsonb       NOT NULL,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL
);
CREATE INDEX plan_views_account_created_idx ON plan_views (account_id, created_at DESC, plan_id DESC);
CREATE INDEX plan_views_account_updated_idx ON plan_views (account_id, updated_at);
CREATE INDEX plan_views_portal_token_idx ON plan_views (portal_token);

-- Webhook endpoints are merchant configuration, not plan history.
CREATE TABLE webhook_endpoints (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      bigint      NOT NULL REFERENCES accounts (id),
    url             text        NOT NULL,
    events          text[]      NOT NULL, -- empty: every event type
    secret          text        NOT NULL, -- whsec_...
    created_at      timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz,
    disabled_reason text,
    deleted_at      timestamptz
);
CREATE INDEX webhook_endpoints_account_idx ON webhook_endpoints (account_id) WHERE deleted_at IS NULL;

-- One delivery per (endpoint, event): the fan-out is idempotent by event id.
-- payload holds the exact body, so every attempt sends the same bytes.
CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id     bigint      NOT NULL REFERENCES webhook_endpoints (id),
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    payload         bytea       NOT NULL,
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'succeeded', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_deliveries_endpoint_event_key UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';

-- The delivery log: one row per attempt.
CREATE TABLE webhook_attempts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id      bigint      NOT NULL REFERENCES webhook_deliveries (id),
    attempt          integer     NOT NULL,
    status_code      integer,
    latency_ms       integer     NOT NULL,
    response_excerpt text,
    error            text,
    attempted_at     timestamptz NOT NULL
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempt);
