-- The event store: the only source of truth. See DESIGN.md section 2 and
-- eventstore/hash.go for the hash-chain encoding.

CREATE TABLE streams (
    stream_id text PRIMARY KEY,
    version   bigint NOT NULL CHECK (version > 0),
    last_hash bytea  NOT NULL
);

CREATE TABLE events (
    global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx_id           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    stream_id       text        NOT NULL,
    version         bigint      NOT NULL CHECK (version > 0),
    event_id        uuid        NOT NULL,
    type            text        NOT NULL,
    data            bytea       NOT NULL, -- the exact bytes that were hashed (JSON)
    metadata        bytea       NOT NULL, -- the exact bytes that were hashed (JSON)
    recorded_at     timestamptz NOT NULL,
    hash            bytea       NOT NULL,
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
);

-- Every reader tails in (tx_id, global_position) order below the xmin horizon.
CREATE INDEX events_tx_position_idx ON events (tx_id, global_position);

-- Commands already decided: a replayed command id returns the first result.
CREATE TABLE commands (
    command_id    text PRIMARY KEY,
    stream_id     text        NOT NULL,
    first_version bigint      NOT NULL,
    last_version  bigint      NOT NULL,
    request_hash  bytea,
    recorded_at   timestamptz NOT NULL
);

CREATE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable: % on events is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER events_immutable_rows BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_immutable();
CREATE TRIGGER events_immutable_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_immutable();

-- Integer ids (plans, customers, invoices, options) are handed out in blocks
-- of 100 by each process (hi/lo), so creating a plan costs no extra round trip.
CREATE SEQUENCE entity_ids INCREMENT BY 100 START WITH 1;

CREATE TABLE accounts (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                  text        NOT NULL CHECK (name <> ''),
    plan_limit            bigint      CHECK (plan_limit >= 0), -- NULL: unlimited
    plans_created         bigint      NOT NULL DEFAULT 0,      -- counted only while plan_limit is set
    rate_limit_per_minute integer     NOT NULL DEFAULT 60 CHECK (rate_limit_per_minute >= 0), -- 0: unlimited
    rate_limit_burst      integer     NOT NULL DEFAULT 10 CHECK (rate_limit_burst >= 0),
    created_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_plan_quota_check CHECK (plan_limit IS NULL OR plans_created <= plan_limit)
);

CREATE TABLE api_keys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint      NOT NULL REFERENCES accounts (id),
    key_hash    bytea       NOT NULL,  -- SHA-256 of the whole key; the key itself is never stored
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);
