-- Events a consumer (or the relay) could not process, set aside so that
-- everything else keeps flowing. One row per event and consumer: recording
-- it again (a redelivery after a crash between the record and the ack)
-- keeps the row; a failed retry adds an attempt and replaces last_error.
-- resolved_at is set when a retry succeeds; resolved rows are kept for the
-- record (`goodplan deadletters list --all`).
CREATE TABLE dead_letters (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        uuid        NOT NULL,
    stream_id       text        NOT NULL,
    event_type      text        NOT NULL,
    consumer        text        NOT NULL,
    attempts        integer     NOT NULL,
    last_error      text        NOT NULL,
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    last_failed_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    CONSTRAINT dead_letters_event_consumer_key UNIQUE (event_id, consumer)
);

-- Reads of a plan and the health check look at the unresolved ones.
CREATE INDEX dead_letters_unresolved_stream_idx ON dead_letters (stream_id) WHERE resolved_at IS NULL;
