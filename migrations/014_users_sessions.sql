-- Issue 12: merchant users, their dashboard sessions and their one-time
-- set-password links. Like accounts and API keys, these are configuration
-- rather than plan history, so they are plain tables; what a user does to
-- a plan is recorded in the events' metadata (eventstore.Metadata.User).
--
-- email is normalised (trimmed, lower case) and unique across the whole
-- installation: the login form has only an email and a password, so the
-- email alone must name one user. password_hash is an argon2id PHC string
-- ($argon2id$v=19$m=...,t=...,p=...$salt$hash), or '' for an invited user
-- who has not chosen a password yet (nothing signs in with it).
CREATE TABLE users (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    bigint      NOT NULL REFERENCES accounts (id),
    email         text        NOT NULL,
    name          text        NOT NULL DEFAULT '',
    password_hash text        NOT NULL,
    role          text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_role_check CHECK (role IN ('owner', 'member'))
);

CREATE INDEX users_account_idx ON users (account_id, id);

-- A dashboard session. Only the SHA-256 of the cookie's value is stored, so
-- a copy of this table opens no session. Expiry is decided by the reader
-- from created_at (absolute) and last_seen_at (idle), which is written at
-- most once a minute per session.
CREATE TABLE user_sessions (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   bytea       NOT NULL,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    CONSTRAINT user_sessions_token_key UNIQUE (token_hash)
);

CREATE INDEX user_sessions_user_idx ON user_sessions (user_id);

-- One-time links to set a password: a reset asked for by email, or the
-- invitation of a new user (whose password_hash is '' until they use it).
-- Only the SHA-256 of the link's token is stored; a link works once, until
-- expires_at (an hour after it was made).
CREATE TABLE user_tokens (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash bytea       NOT NULL,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CONSTRAINT user_tokens_token_key UNIQUE (token_hash),
    CONSTRAINT user_tokens_purpose_check CHECK (purpose IN ('reset', 'invite'))
);

CREATE INDEX user_tokens_user_idx ON user_tokens (user_id);
